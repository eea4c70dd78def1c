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
#[path = "retry_tests.rs"]
mod tests;
