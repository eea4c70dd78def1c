//! The registry side: ECR's login for it, and what its tags point at.

use crate::console::Console;
use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
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

/// ECR GetAuthorizationToken: `base64("AWS:<password>")` and the registry's endpoint (of
/// `registry_id`'s registry when given). The token and the password are masked before anything
/// else is done with them.
pub async fn ecr_login(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    console: &Console,
) -> Result<RegistryLogin> {
    #[allow(deprecated)] // registryIds still selects the registry the token is for.
    let request = ecr
        .get_authorization_token()
        .set_registry_ids(registry_id.map(|id| vec![id.to_string()]));
    let response = request.send().await.map_err(|error| {
        anyhow!(
            Problem::new(format!(
                "ECR GetAuthorizationToken failed: {}",
                crate::error::aws_error(&error)
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
    console.mask(&SecretString::from(token.to_string()));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .context("ECR's token is not base64")?;
    let decoded =
        SecretString::from(String::from_utf8(decoded).context("ECR's token is not UTF-8")?);
    let (username, password) = decoded
        .expose_secret()
        .split_once(':')
        .context("ECR's token is not USER:PASSWORD")?;
    console.mask(&SecretString::from(password.to_string()));
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
    let scheme = if crate::plan::values::is_loopback_host(host) {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{host}")
}

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

pub(super) fn http() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// A manifest exactly as the registry stores it: its bytes, media type and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: String,
}

/// GET `repository:reference`; `None` when the registry has no such tag or digest.
pub async fn get_manifest(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    reference: &str,
) -> Result<Option<Manifest>> {
    let url = format!("{}/v2/{repository}/manifests/{reference}", base_url(host));
    let response = http()?
        .get(&url)
        .basic_auth(&login.username, Some(login.password.expose_secret()))
        .header("Accept", MANIFEST_TYPES)
        .send()
        .await
        .with_context(|| format!("asking {host} for {repository}:{reference}"))?;
    let status = response.status();
    if status.as_u16() == 404 {
        return Ok(None);
    }
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(Problem::new(format!(
            "{host} answered {status} for {repository}:{reference}: {body}"
        ))
        .into());
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let media_type =
        header("Content-Type").context("the registry sent a manifest without Content-Type")?;
    let digest = header("Docker-Content-Digest")
        .context("the registry sent a manifest without its digest")?;
    let bytes = response.bytes().await?.to_vec();
    Ok(Some(Manifest {
        bytes,
        media_type,
        digest,
    }))
}

/// PUT the manifest under `tag`: a retag without uploading a byte of any layer.
pub async fn put_manifest(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    tag: &str,
    manifest: &Manifest,
) -> Result<()> {
    let url = format!("{}/v2/{repository}/manifests/{tag}", base_url(host));
    let response = http()?
        .put(&url)
        .basic_auth(&login.username, Some(login.password.expose_secret()))
        .header("Content-Type", &manifest.media_type)
        .body(manifest.bytes.clone())
        .send()
        .await
        .with_context(|| format!("tagging {repository}:{tag} on {host}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(Problem::new(format!(
            "{host} refused {repository}:{tag} ({status}): {body}"
        ))
        .into());
    }
    Ok(())
}

/// GET a blob (an image's config): the registry may redirect to storage elsewhere, and reqwest
/// drops the Authorization header on a redirect to another host.
pub async fn get_blob(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    digest: &str,
) -> Result<Vec<u8>> {
    let url = format!("{}/v2/{repository}/blobs/{digest}", base_url(host));
    let response = http()?
        .get(&url)
        .basic_auth(&login.username, Some(login.password.expose_secret()))
        .send()
        .await
        .with_context(|| format!("asking {host} for {repository}@{digest}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(Problem::new(format!(
            "{host} answered {status} for the blob {repository}@{digest}: {}",
            crate::console::clip(&body, 300)
        ))
        .into());
    }
    read_capped(response, BLOB_LIMIT).await
}

/// An image config is kilobytes; a registry that sends more is not sending one.
pub const BLOB_LIMIT: usize = 8 * 1024 * 1024;

/// The body, or an error once it passes `limit` bytes (never buffered beyond that).
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(anyhow!(
                "{} sent more than {} MiB for an image config",
                response.url().host_str().unwrap_or("the registry"),
                limit / (1024 * 1024)
            ));
        }
    }
    Ok(body)
}

/// The repository's tags (empty when it has none or they cannot be listed).
pub async fn list_tags(host: &str, login: &RegistryLogin, repository: &str) -> Vec<String> {
    let url = format!("{}/v2/{repository}/tags/list", base_url(host));
    let Ok(client) = http() else {
        return Vec::new();
    };
    let Ok(response) = client
        .get(&url)
        .basic_auth(&login.username, Some(login.password.expose_secret()))
        .send()
        .await
    else {
        return Vec::new();
    };
    let list: serde_json::Value = response.json().await.unwrap_or_default();
    list["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The digest `repository:tag` resolves to in the registry (HEAD on the manifest).
pub async fn resolve_tag(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    tag: &str,
) -> Result<String> {
    match get_manifest(host, login, repository, tag).await? {
        Some(manifest) => Ok(manifest.digest),
        None => Err(Problem::new(format!("{host} has no {repository}:{tag}")).into()),
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
