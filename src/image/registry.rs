//! The registry side: ECR's login for it, and what its tags point at.

use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
use aws_sdk_ecr::error::DisplayErrorContext;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Credentials for one registry host, as GetAuthorizationToken hands them out.
pub struct RegistryLogin {
    /// ECR's registry host, e.g. `123456789012.dkr.ecr.us-east-2.amazonaws.com`.
    pub ecr_host: String,
    pub username: String,
    pub password: SecretString,
}

/// ECR GetAuthorizationToken: `base64("AWS:<password>")` and the registry's endpoint.
pub async fn ecr_login(ecr: &aws_sdk_ecr::Client) -> Result<RegistryLogin> {
    let response = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|error| {
            anyhow!(
                Problem::new(format!(
                    "ECR GetAuthorizationToken failed: {}",
                    DisplayErrorContext(&error)
                ))
                .hint("the role needs `ecr:GetAuthorizationToken` on resource `*`")
            )
        })?;
    let data = response
        .authorization_data()
        .first()
        .context("ECR returned no authorization data")?;
    let token = data
        .authorization_token()
        .context("ECR returned no token")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .context("ECR's token is not base64")?;
    let decoded =
        SecretString::from(String::from_utf8(decoded).context("ECR's token is not UTF-8")?);
    let (username, password) = decoded
        .expose_secret()
        .split_once(':')
        .context("ECR's token is not USER:PASSWORD")?;
    let endpoint = data.proxy_endpoint().unwrap_or_default();
    Ok(RegistryLogin {
        ecr_host: host_of_endpoint(endpoint).to_string(),
        username: username.to_string(),
        password: SecretString::from(password.to_string()),
    })
}

/// `https://123.dkr.ecr.us-east-2.amazonaws.com` → `123.dkr.ecr.us-east-2.amazonaws.com`.
pub fn host_of_endpoint(endpoint: &str) -> &str {
    let without_scheme = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint);
    without_scheme.trim_end_matches('/')
}

/// Loopback registries speak plain HTTP (as Docker allows); every other one HTTPS.
fn base_url(host: &str) -> String {
    let loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = if loopback { "http" } else { "https" };
    format!("{scheme}://{host}")
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// The digest `repository:tag` resolves to in the registry (HEAD on the manifest).
pub async fn resolve_tag(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    tag: &str,
) -> Result<String> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = format!("{}/v2/{repository}/manifests/{tag}", base_url(host));
    let response = client
        .head(&url)
        .basic_auth(&login.username, Some(login.password.expose_secret()))
        .header("Accept", MANIFEST_TYPES)
        .send()
        .await
        .with_context(|| format!("asking {host} for {repository}:{tag}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(
            Problem::new(format!("{host} answered {status} for {repository}:{tag}")).into(),
        );
    }
    response
        .headers()
        .get("Docker-Content-Digest")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .with_context(|| format!("{host} gave no digest for {repository}:{tag}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_schemes() {
        assert_eq!(
            host_of_endpoint("https://123456789012.dkr.ecr.us-east-2.amazonaws.com"),
            "123456789012.dkr.ecr.us-east-2.amazonaws.com"
        );
        assert_eq!(base_url("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(
            base_url("123456789012.dkr.ecr.us-east-2.amazonaws.com"),
            "https://123456789012.dkr.ecr.us-east-2.amazonaws.com"
        );
    }
}
