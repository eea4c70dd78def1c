use super::*;
use crate::console::Mode;
use anyhow::anyhow;
use rand::SeedableRng;
use std::cell::Cell;

#[test]
fn delays_grow_are_jittered_and_capped() {
    let policy = RetryPolicy::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for attempt in 1..20 {
        let delay = policy.delay(attempt, &mut rng);
        let ceiling = (policy.first_delay * 2u32.pow((attempt - 1).min(10))).min(policy.max_delay);
        assert!(
            delay >= ceiling / 2 && delay <= ceiling,
            "attempt {attempt}: {delay:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_until_success() {
    let calls = Cell::new(0);
    let result = retry(
        &RetryPolicy::default(),
        "thing",
        &Console::new(Mode::Plain),
        || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                if n < 3 {
                    Err(AttemptFailure::Transient(anyhow!("503")))
                } else {
                    Ok(n)
                }
            }
        },
    )
    .await;
    assert_eq!(result.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn fatal_failures_are_not_retried() {
    let calls = Cell::new(0);
    let started = Instant::now();
    let result: Result<(), _> = retry(
        &RetryPolicy::default(),
        "thing",
        &Console::new(Mode::Plain),
        || {
            calls.set(calls.get() + 1);
            async { Err(AttemptFailure::Fatal(anyhow!("AccessDenied"))) }
        },
    )
    .await;
    assert_eq!(calls.get(), 1);
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(result.unwrap_err().to_string(), "AccessDenied");
}

#[tokio::test(start_paused = true)]
async fn attempts_and_total_time_are_bounded() {
    let policy = RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    };
    let calls = Cell::new(0);
    let error = retry(&policy, "thing", &Console::new(Mode::Plain), || {
        calls.set(calls.get() + 1);
        async { Err::<(), _>(AttemptFailure::Transient(anyhow!("throttled"))) }
    })
    .await
    .unwrap_err();
    assert_eq!(calls.get(), 4);
    assert!(format!("{error:#}").contains("failed 4 times"), "{error:#}");
    assert!(
        format!("{error:#}").ends_with("throttled"),
        "the last cause is kept: {error:#}"
    );

    let short = RetryPolicy {
        max_attempts: 100,
        max_total: Duration::from_secs(10),
        ..RetryPolicy::default()
    };
    let started = Instant::now();
    let _ = retry(&short, "thing", &Console::new(Mode::Plain), || async {
        Err::<(), _>(AttemptFailure::Transient(anyhow!("503")))
    })
    .await;
    assert!(started.elapsed() <= Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn default_policy_gives_up_within_its_bounds() {
    let policy = RetryPolicy::default();
    let started = Instant::now();
    let calls = Cell::new(0);
    let _ = retry(&policy, "thing", &Console::new(Mode::Plain), || {
        calls.set(calls.get() + 1);
        async { Err::<(), _>(AttemptFailure::Transient(anyhow!("IDPCommunicationError"))) }
    })
    .await;
    let elapsed = started.elapsed();
    // Figure for the docs: how long a failure that never passes is retried by default.
    eprintln!(
        "default retry policy: gave up after {} attempts and {:.1}s",
        calls.get(),
        elapsed.as_secs_f64()
    );
    assert_eq!(calls.get(), policy.max_attempts);
    assert!(
        elapsed >= Duration::from_millis(7_750) && elapsed <= Duration::from_secs(16),
        "{elapsed:?}"
    );
}
