//! Promote without rebuild: put the environment tag on an image that is already in the
//! repository — the same manifest under a new tag, zero bytes uploaded. Through ECR's API
//! (BatchGetImage → PutImage), or through the registry's HTTP API when `registry` overrides ECR.

use super::registry::{self, RegistryLogin};
use crate::console::Console;
use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{Image, ImageIdentifier, TagStatus};

/// The media types we accept, so ECR hands the manifest back exactly as it was pushed.
pub(super) const MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

pub(super) fn identifier(from: &str) -> ImageIdentifier {
    if from.starts_with("sha256:") {
        ImageIdentifier::builder().image_digest(from).build()
    } else {
        ImageIdentifier::builder().image_tag(from).build()
    }
}

/// What an ECR promotion did: the digest every tag now names (PutImage's answer says so, or
/// that the tag already named it), and the registry (account) it is in.
pub struct Promoted {
    pub digest: String,
    pub registry_id: String,
}

/// BatchGetImage of `repository:from` (a tag or a digest), its manifest as pushed.
pub async fn ecr_image(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    repository: &str,
    from: &str,
) -> Result<Option<Image>> {
    let found = ecr
        .batch_get_image()
        .set_registry_id(registry_id.map(str::to_string))
        .repository_name(repository)
        .image_ids(identifier(from))
        .set_accepted_media_types(Some(MEDIA_TYPES.iter().map(|t| t.to_string()).collect()))
        .send()
        .await
        .map_err(|error| {
            crate::error::aws_failure(format!("ECR BatchGetImage {repository}:{from}"), &error)
        })?;
    Ok(found.images().first().cloned())
}

/// Promote through ECR's API: `read` is the image when it was read already (the promotion
/// gate reads it first), else it is read here.
pub async fn with_ecr(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    repository: &str,
    from: &str,
    read: Option<&Image>,
    tags: &[String],
    console: &Console,
) -> Result<Promoted> {
    let fetched = match read {
        Some(_) => None,
        None => ecr_image(ecr, registry_id, repository, from).await?,
    };
    let Some(image) = read.or(fetched.as_ref()) else {
        let tags = ecr_tags(ecr, registry_id, repository).await;
        return Err(missing_source(repository, from, &tags));
    };
    let manifest = image
        .image_manifest()
        .context("ECR returned the image without its manifest")?;
    let digest = image
        .image_id()
        .and_then(|id| id.image_digest())
        .context("ECR returned the image without its digest")?
        .to_string();
    let image_registry = image
        .registry_id()
        .context("ECR returned the image without its registry")?
        .to_string();
    for tag in tags {
        let put = ecr
            .put_image()
            .set_registry_id(registry_id.map(str::to_string))
            .repository_name(repository)
            .image_manifest(manifest)
            .set_image_manifest_media_type(image.image_manifest_media_type().map(str::to_string))
            .image_tag(tag)
            .image_digest(&digest)
            .send()
            .await;
        match put {
            Ok(answer) => {
                let named = answer
                    .image()
                    .and_then(|image| image.image_id())
                    .and_then(|id| id.image_digest());
                if named != Some(digest.as_str()) {
                    return Err(anyhow!(
                        "ECR PutImage {repository}:{tag} answered {}, not {digest}",
                        named.unwrap_or("no digest")
                    ));
                }
                console.line(&format!("{repository}:{tag} → {digest}"));
            }
            Err(error) if error.code() == Some("ImageAlreadyExistsException") => {
                console.line(&format!("{repository}:{tag} already points at {digest}"));
            }
            Err(error) if error.code() == Some("ImageTagAlreadyExistsException") => {
                return Err(Problem::new(format!(
                    "{repository}:{tag} exists and the repository's tags are IMMUTABLE: it cannot move to {digest}"
                ))
                .hint("set `immutable-tags: skip-moving` and deploy by digest, or make the repository's tags mutable")
                .into());
            }
            Err(error) => {
                return Err(crate::error::aws_failure(
                    format!("ECR PutImage {repository}:{tag}"),
                    &error,
                ));
            }
        }
    }
    Ok(Promoted {
        digest,
        registry_id: image_registry,
    })
}

pub(super) async fn ecr_tags(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    repository: &str,
) -> Vec<String> {
    let listed = ecr
        .list_images()
        .set_registry_id(registry_id.map(str::to_string))
        .repository_name(repository)
        .filter(
            aws_sdk_ecr::types::ListImagesFilter::builder()
                .tag_status(TagStatus::Tagged)
                .build(),
        )
        .send()
        .await;
    listed
        .map(|output| {
            output
                .image_ids()
                .iter()
                .filter_map(|id| id.image_tag().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Promote through the registry's HTTP API; returns the promoted digest.
pub async fn with_registry(
    host: &str,
    login: &RegistryLogin,
    repository: &str,
    from: &str,
    tags: &[String],
    console: &Console,
) -> Result<String> {
    let Some(manifest) = registry::get_manifest(host, login, repository, from).await? else {
        let existing = registry::list_tags(host, login, repository).await;
        return Err(missing_source(repository, from, &existing));
    };
    for tag in tags {
        registry::put_manifest(host, login, repository, tag, &manifest).await?;
        console.line(&format!("{repository}:{tag} → {}", manifest.digest));
    }
    Ok(manifest.digest)
}

pub(super) fn missing_source(repository: &str, from: &str, tags: &[String]) -> anyhow::Error {
    let nearest = nearest(from, tags, 5);
    let hint = if nearest.is_empty() {
        format!("{repository} has no tags; build and push first (mode: build)")
    } else {
        format!("the nearest tags in {repository}: {}", nearest.join(", "))
    };
    Problem::new(format!("there is no {repository}:{from} to promote"))
        .hint(hint)
        .into()
}

/// The `count` tags most like `wanted`: the longest common prefix first, then the closest length.
pub fn nearest(wanted: &str, tags: &[String], count: usize) -> Vec<String> {
    let mut scored: Vec<(usize, usize, &String)> = tags
        .iter()
        .map(|tag| {
            let prefix = tag
                .chars()
                .zip(wanted.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (prefix, tag.len().abs_diff(wanted.len()), tag)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    scored
        .into_iter()
        .take(count)
        .map(|(_, _, tag)| tag.clone())
        .collect()
}

#[cfg(test)]
#[path = "promote_tests.rs"]
mod tests;
