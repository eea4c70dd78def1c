//! The image a promotion would release, read before any tag moves: its digest (every later step
//! uses the digest, so a tag moved meanwhile cannot swap the image) and the commit it was built
//! from — the `org.opencontainers.image.revision` label in its config, which our builds set.
//!
//! The config is a blob: through ECR's API BatchGetImage gives the manifests and
//! GetDownloadUrlForLayer a short-lived URL for the blob (sent without our credentials) — the
//! way ECR users read labels, as ECR's DescribeImages has none (aws/containers-roadmap#178;
//! prowler-cloud/prowler#12123 reads configs so); through a registry's HTTP API it is
//! `GET /v2/<name>/blobs/<digest>`. Either way the bytes must hash to the digest the manifest
//! names, and at most [`registry::BLOB_LIMIT`] bytes are read.

use super::promote::{ecr_image, ecr_tags, missing_source};
use super::registry::{self, RegistryLogin};
use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REVISION_LABEL: &str = "org.opencontainers.image.revision";

/// The image a promotion releases.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceImage {
    /// What `promote-from` named when it was read.
    pub digest: String,
    /// The commit it was built from, when its config says so.
    pub revision: Option<String>,
    /// Through ECR's API: what BatchGetImage answered, for PutImage to reuse.
    pub ecr_image: Option<aws_sdk_ecr::types::Image>,
    /// Why the image's config could not be read, when the caller could do without it
    /// ([`ConfigNeed::Optional`]): then `revision` is `None` for that reason.
    pub config_error: Option<String>,
}

/// Whether the commit in the image's config is needed: a promotion that verifies it cannot go
/// on without it; one with `verify-promoted-commit: false` can, with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigNeed {
    Required,
    Optional,
}

/// The commit from a config read, or — when it is optional — none, with why.
fn revision_read(
    need: ConfigNeed,
    read: Result<Option<String>>,
) -> Result<(Option<String>, Option<String>)> {
    match (read, need) {
        (Ok(revision), _) => Ok((revision, None)),
        (Err(error), ConfigNeed::Optional) => Ok((None, Some(crate::error::one_line(&error)))),
        (Err(error), ConfigNeed::Required) => Err(error),
    }
}

/// One manifest's bytes and digest.
struct Fetched {
    bytes: Vec<u8>,
    digest: String,
}

/// Read `repository:from` through ECR's API.
pub async fn with_ecr(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    repository: &str,
    from: &str,
    need: ConfigNeed,
) -> Result<SourceImage> {
    let Some(found) = ecr_image(ecr, registry_id, repository, from).await? else {
        let tags = ecr_tags(ecr, registry_id, repository).await;
        return Err(missing_source(repository, from, &tags));
    };
    let top = fetched(&found)?;
    let image = match platform_manifest(&top.bytes)? {
        Some(child) => {
            let child_image = ecr_image(ecr, registry_id, repository, &child)
                .await?
                .with_context(|| {
                    format!("ECR lists {child} in {repository}:{from} but has no such manifest")
                })?;
            fetched(&child_image)?.bytes
        }
        None => top.bytes.clone(),
    };
    let read = async {
        let config_digest = config_digest(&image)?;
        let url = ecr
            .get_download_url_for_layer()
            .set_registry_id(registry_id.map(str::to_string))
            .repository_name(repository)
            .layer_digest(&config_digest)
            .send()
            .await
            .map_err(|error| {
                anyhow!(Problem::new(format!(
                    "ECR GetDownloadUrlForLayer {repository}@{config_digest} (the image's config): {}",
                    crate::error::aws_error(&error)
                ))
                .hint("the role needs `ecr:GetDownloadUrlForLayer` on the repository to read which commit the image holds"))
            })?
            .download_url
            .context("ECR returned no download URL for the image's config")?;
        // A presigned URL: it carries its own authorisation, and ours must not go to S3.
        let response = registry::http()?
            .get(&url)
            .send()
            .await
            .context("downloading the image's config")?;
        let status = response.status();
        if !status.is_success() {
            return Err(anyhow!("downloading the image's config answered {status}"));
        }
        let config = registry::read_capped(response, registry::BLOB_LIMIT).await?;
        revision(checked(&config, &config_digest)?)
    };
    let (revision, config_error) = revision_read(need, read.await)?;
    Ok(SourceImage {
        digest: top.digest,
        revision,
        ecr_image: Some(found),
        config_error,
    })
}

/// Read `repository:from` through a registry's HTTP API.
pub async fn with_registry(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    from: &str,
    need: ConfigNeed,
) -> Result<SourceImage> {
    let Some(top) = registry::get_manifest(host, login, repository, from).await? else {
        let existing = registry::list_tags(host, login, repository).await;
        return Err(missing_source(repository, from, &existing));
    };
    let image = match platform_manifest(&top.bytes)? {
        Some(child) => {
            registry::get_manifest(host, login, repository, &child)
                .await?
                .with_context(|| {
                    format!("{host} lists {child} in {repository}:{from} but has no such manifest")
                })?
                .bytes
        }
        None => top.bytes.clone(),
    };
    let read = async {
        let config_digest = config_digest(&image)?;
        let config = registry::get_blob(host, login, repository, &config_digest).await?;
        revision(checked(&config, &config_digest)?)
    };
    let (revision, config_error) = revision_read(need, read.await)?;
    Ok(SourceImage {
        digest: top.digest,
        revision,
        ecr_image: None,
        config_error,
    })
}

/// The manifest bytes and digest of what BatchGetImage answered.
fn fetched(image: &aws_sdk_ecr::types::Image) -> Result<Fetched> {
    Ok(Fetched {
        bytes: image
            .image_manifest()
            .context("ECR returned the image without its manifest")?
            .as_bytes()
            .to_vec(),
        digest: image
            .image_id()
            .and_then(|id| id.image_digest())
            .context("ECR returned the image without its digest")?
            .to_string(),
    })
}

/// For an index (a multi-platform image), the digest of the image manifest to read: linux/arm64
/// when there is one, else the first real platform. Attestation manifests (`unknown/unknown`,
/// BuildKit's provenance and SBOM) hold no image config. `None` for a single-platform manifest.
pub fn platform_manifest(manifest: &[u8]) -> Result<Option<String>> {
    let manifest: Value = serde_json::from_slice(manifest).context("the manifest is not JSON")?;
    let Some(entries) = manifest["manifests"].as_array() else {
        return Ok(None);
    };
    let platform = |entry: &Value| {
        (
            entry["platform"]["os"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            entry["platform"]["architecture"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
        )
    };
    let images: Vec<&Value> = entries
        .iter()
        .filter(|entry| platform(entry).0 != "unknown")
        .collect();
    let chosen = images
        .iter()
        .find(|entry| platform(entry) == ("linux".to_string(), "arm64".to_string()))
        .or_else(|| images.first())
        .context("the image index lists no platform image")?;
    chosen["digest"]
        .as_str()
        .map(|digest| Some(digest.to_string()))
        .context("an entry of the image index has no digest")
}

/// The digest of an image manifest's config blob.
pub fn config_digest(manifest: &[u8]) -> Result<String> {
    let manifest: Value = serde_json::from_slice(manifest).context("the manifest is not JSON")?;
    manifest["config"]["digest"]
        .as_str()
        .map(str::to_string)
        .context("the image manifest names no config")
}

/// The bytes, if they hash to `digest` (`sha256:<hex>`).
fn checked<'a>(bytes: &'a [u8], digest: &str) -> Result<&'a [u8]> {
    let actual = format!("sha256:{:x}", Sha256::digest(bytes));
    if actual == digest {
        Ok(bytes)
    } else {
        Err(anyhow!(
            "the image's config does not match its digest (expected {digest}, got {actual})"
        ))
    }
}

/// The commit label of an image config (`config.Labels`), when it holds a commit SHA. Anything
/// else counts as no label: the value goes into GitHub API paths, a Sentry release and a
/// deployment's ref, and whoever pushed the image chose it.
pub fn revision(config: &[u8]) -> Result<Option<String>> {
    let config: Value = serde_json::from_slice(config).context("the image's config is not JSON")?;
    Ok(config["config"]["Labels"][REVISION_LABEL]
        .as_str()
        .filter(|revision| is_commit_sha(revision))
        .map(str::to_string))
}

/// A git commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn is_commit_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
