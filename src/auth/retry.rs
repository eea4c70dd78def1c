//! Retrying what may succeed on a second try, and only that.
//!
//! Every attempt's failure is classified by the caller: `Transient` (throttling, 5xx, timeouts,
//! STS's IDPCommunicationError) is retried with jittered exponential backoff, bounded by a number
//! of attempts and a total time; `Fatal` (AccessDenied, a bad token, a missing provider) ends the
//! loop at once, so a trust-policy mistake fails in a second instead of after a minute of retries.

use crate::console::Console;
use anyhow::Error;
use rand::Rng;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// No retry starts after this much time has passed since the first attempt.
    pub max_total: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_total: Duration::from_secs(90),
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// "Full jitter": a random delay up to `first_delay × 2^(attempt-1)`, capped, but never
    /// under half of it so two retries are not back to back.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exponential = self
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exponential / 2;
        half + exponential
            .saturating_sub(half)
            .mul_f64(rng.random::<f64>())
    }
}

/// How one attempt failed.
#[derive(Debug)]
pub enum AttemptFailure {
    Transient(Error),
    Fatal(Error),
}

/// Run `attempt` until it succeeds, fails fatally, or the policy is used up; each retry is
/// logged with its cause. The error returned is the last cause.
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    what: &str,
    console: &Console,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AttemptFailure>>,
{
    let started = Instant::now();
    let mut number = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(AttemptFailure::Fatal(error)) => return Err(error),
            Err(AttemptFailure::Transient(error)) => {
                // A thread-local generator is not Send: take it only for this one draw.
                let delay = policy.delay(number, &mut rand::rng());
                let out_of_time = started.elapsed() + delay > policy.max_total;
                if number >= policy.max_attempts || out_of_time {
                    return Err(error.context(format!(
                        "{what} failed {number} time{} over {:.1}s; giving up",
                        if number == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    )));
                }
                console.warning(
                    &format!("{what}: retrying"),
                    &format!(
                        "attempt {number} of {} failed: {}; retrying in {:.1}s",
                        policy.max_attempts,
                        crate::error::one_line(&error),
                        delay.as_secs_f64()
                    ),
                );
                tokio::time::sleep(delay).await;
                number += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
            let ceiling =
                (policy.first_delay * 2u32.pow((attempt - 1).min(10))).min(policy.max_delay);
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
}
