//! The GitHub OIDC token: one GET to the runner's token endpoint.

use super::retry::AttemptFailure;
use crate::console::clip;
use crate::error::Problem;
use anyhow::anyhow;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

#[derive(serde::Deserialize)]
struct TokenResponse {
    value: String,
}

/// `GET {url}&audience={audience}` with the runner's bearer token; returns the JWT.
/// 429, 5xx and network failures may pass on a second try; any other refusal will not.
pub async fn request_token(
    url: &str,
    bearer: &SecretString,
    audience: &str,
) -> Result<SecretString, AttemptFailure> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let audience_query: String =
        url::form_urlencoded::byte_serialize(audience.as_bytes()).collect();
    let request_url = format!("{url}{separator}audience={audience_query}");
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| {
            AttemptFailure::Fatal(anyhow!(error).context("creating the HTTP client"))
        })?;
    let endpoint = redact_query(url);
    tracing::debug!(endpoint, audience, "requesting the OIDC token");
    let response = client
        .get(&request_url)
        .bearer_auth(bearer.expose_secret())
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|error| {
            AttemptFailure::Transient(anyhow!(
                "requesting the OIDC token from {endpoint}: {}",
                without_url(error)
            ))
        })?;
    let status = response.status();
    let body = response.text().await.map_err(|error| {
        AttemptFailure::Transient(anyhow!(
            "reading the OIDC token response: {}",
            without_url(error)
        ))
    })?;
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(AttemptFailure::Transient(anyhow!(
            "the OIDC token endpoint {endpoint} answered {status}: {}",
            clip(&body, 500)
        )));
    }
    if !status.is_success() {
        return Err(AttemptFailure::Fatal(
            Problem::new(format!(
                "the OIDC token endpoint {endpoint} refused the request ({status}): {}",
                clip(&body, 500)
            ))
            .hint(
                "the job needs `permissions: id-token: write`, and the request token is only valid during the job \
                 that received it",
            )
            .into(),
        ));
    }
    let token: TokenResponse = serde_json::from_str(&body).map_err(|error| {
        AttemptFailure::Fatal(anyhow!(
            "the OIDC token endpoint answered {status} without a token ({error})"
        ))
    })?;
    Ok(SecretString::from(token.value))
}

/// reqwest's errors name the URL, whose query may identify the run: keep only the cause.
fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The token URL without its query string, which may carry identifiers of the run.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
