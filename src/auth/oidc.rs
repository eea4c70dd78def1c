//! The GitHub OIDC token: one GET to the runner's token endpoint.

use crate::error::Problem;
use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

#[derive(serde::Deserialize)]
struct TokenResponse {
    value: String,
}

/// `GET {url}&audience={audience}` with the runner's bearer token; returns the JWT.
pub async fn request_token(
    url: &str,
    bearer: &SecretString,
    audience: &str,
) -> Result<SecretString> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let audience_query: String =
        url::form_urlencoded::byte_serialize(audience.as_bytes()).collect();
    let request_url = format!("{url}{separator}audience={audience_query}");
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .context("creating the HTTP client")?;
    let response = client
        .get(&request_url)
        .bearer_auth(bearer.expose_secret())
        .header("Accept", "application/json")
        .send()
        .await
        .with_context(|| format!("requesting the OIDC token from {}", redact_query(url)))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .context("reading the OIDC token response")?;
    if !status.is_success() {
        return Err(Problem::new(format!(
            "the OIDC token endpoint answered {status}: {}",
            truncate(&body, 500)
        ))
        .hint("check that the job has `permissions: id-token: write`")
        .into());
    }
    let token: TokenResponse = serde_json::from_str(&body).map_err(|error| {
        Problem::new(format!(
            "the OIDC token endpoint answered {status} without a token ({error})"
        ))
    })?;
    Ok(SecretString::from(token.value))
}

/// The token URL without its query string, which may carry identifiers of the run.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn truncate(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn appends_the_audience_and_sends_the_bearer_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/token"))
            .and(query_param("api-version", "2.0"))
            .and(query_param("audience", "sts.amazonaws.com"))
            .and(header("authorization", "Bearer request-token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"count": 1, "value": "a.b.c"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let url = format!("{}/token?api-version=2.0", server.uri());
        let token = request_token(
            &url,
            &SecretString::from("request-token"),
            "sts.amazonaws.com",
        )
        .await
        .unwrap();
        assert_eq!(token.expose_secret(), "a.b.c");
    }

    #[tokio::test]
    async fn a_refusal_carries_the_status_and_body_but_not_the_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(401).set_body_string("{\"message\":\"Bad credentials\"}"),
            )
            .mount(&server)
            .await;
        let error = request_token(
            &format!("{}/token", server.uri()),
            &SecretString::from("s3cr3t"),
            "aud",
        )
        .await
        .unwrap_err();
        let text = crate::error::one_line(&error);
        assert!(
            text.contains("401") && text.contains("Bad credentials"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"));
        assert!(
            crate::error::hint_of(&error)
                .unwrap()
                .contains("id-token: write")
        );
    }
}
