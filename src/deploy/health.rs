//! The post-deploy check: the new revision answers on its URL (and says what we expect, e.g.
//! the deployed commit) — the seed's "validate staging", automated.

use crate::plan::HealthCheck;
use std::time::Duration;
use tokio::time::Instant;

/// Poll `check.url` every 2 s until it answers 2xx (with `check.expect` in the body, when set),
/// or until `check.timeout`. `Err` carries what the last answer was.
pub async fn wait_until_healthy(check: &HealthCheck) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| error.to_string())?;
    let started = Instant::now();
    loop {
        let last;
        match client.get(&check.url).send().await {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let expected = check
                    .expect
                    .as_deref()
                    .is_none_or(|text| body.contains(text));
                if status.is_success() && expected {
                    return Ok(());
                }
                last = if status.is_success() {
                    format!(
                        "answered {status} without `{}` in its body",
                        check.expect.as_deref().unwrap_or_default()
                    )
                } else {
                    format!("answered {status}")
                };
            }
            Err(error) => last = format!("did not answer ({})", error.without_url()),
        }
        if started.elapsed() + Duration::from_secs(2) > check.timeout {
            return Err(format!(
                "{} {last}, still after {} s",
                check.url,
                check.timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
