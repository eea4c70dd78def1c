//! The ECR repository: that it exists (or creating it when asked), whether its tags can move,
//! and what its tags point at (DescribeImages).

use crate::console::Console;
use crate::error::Problem;
use crate::plan::{ImagePlan, ImmutableTags};
use anyhow::{Result, anyhow};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ImageTagMutability};

/// What the push may do in this repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub created: bool,
    /// The tags to push: without the environment tag when it may not move.
    pub tags: Vec<String>,
    /// The `sha-` tag is immutable here (IMMUTABLE, or excluded from mutability): once it names
    /// a build of the commit, a rebuild cannot take it.
    pub sha_tag_fixed: bool,
}

/// Before building: the repository exists (or is created), and the planned tags can be pushed.
pub async fn prepare(
    ecr: &aws_sdk_ecr::Client,
    image: &ImagePlan,
    account: &str,
    console: &Console,
) -> Result<Repository> {
    let name = &image.repository;
    let described = ecr
        .describe_repositories()
        .set_registry_id(image.registry_id.clone())
        .repository_names(name)
        .send()
        .await;
    let (mutability, exclusions, created) = match described {
        Ok(output) => {
            let repository = output
                .repositories()
                .first()
                .ok_or_else(|| anyhow!("ECR described no repository {name}"))?;
            let exclusions: Vec<String> = repository
                .image_tag_mutability_exclusion_filters()
                .iter()
                .map(|filter| filter.filter().to_string())
                .collect();
            (
                repository.image_tag_mutability().cloned(),
                exclusions,
                false,
            )
        }
        Err(error) if error.code() == Some("RepositoryNotFoundException") => {
            if !image.create_repository {
                return Err(Problem::new(format!("the ECR repository {name} does not exist (ECR does not create repositories on push)"))
                    .hint(format!(
                        "create it once: `aws ecr create-repository --repository-name {name} --image-scanning-configuration scanOnPush=true`, \
                         or set `create-repository: true`"
                    ))
                    .into());
            }
            if let Some(other) = image.registry_id.as_deref().filter(|id| *id != account) {
                return Err(Problem::new(format!(
                    "the ECR repository {name} does not exist in account {other}'s registry, and \
                     create-repository creates repositories only in this account ({account})"
                ))
                .hint(format!(
                    "create it in account {other} (`aws ecr create-repository --repository-name {name}` \
                     with that account's credentials), or push to this account's registry"
                ))
                .into());
            }
            create(ecr, image, console).await?;
            (Some(ImageTagMutability::Mutable), Vec::new(), true)
        }
        Err(error) => {
            return Err(crate::error::aws_failure(
                format!("ECR DescribeRepositories {name}"),
                &error,
            ));
        }
    };
    // The sha- tag names one commit; where it cannot move, a rebuild of the commit (a re-run,
    // the merge to main, a cold cache) leaves it on the first build (see `image::publish`).
    let sha_tag = image.sha_tag();
    let sha_tag_fixed = !tag_can_move(mutability.as_ref(), &exclusions, sha_tag);
    let setting = mutability
        .as_ref()
        .map_or("MUTABLE", ImageTagMutability::as_str);
    let fixed: Vec<&str> = image
        .tags
        .iter()
        .map(String::as_str)
        .filter(|tag| *tag != sha_tag && !tag_can_move(mutability.as_ref(), &exclusions, tag))
        .collect();
    let tags = match (fixed.is_empty(), image.immutable_tags) {
        (true, _) => image.tags.clone(),
        (false, ImmutableTags::Fail) => {
            return Err(Problem::new(format!(
                "the ECR repository {name} has {setting} tags, so {} cannot move to a new image",
                quoted(&fixed)
            ))
            .hint(format!(
                "set `immutable-tags: skip-moving` to push only the tags that can move and deploy by digest, or let \
                 them move: `aws ecr put-image-tag-mutability --repository-name {name} --image-tag-mutability \
                 IMMUTABLE_WITH_EXCLUSION --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter={}`",
                fixed[0]
            ))
            .into());
        }
        (false, ImmutableTags::SkipMoving) => {
            let kept: Vec<String> = image
                .tags
                .iter()
                .filter(|tag| !fixed.contains(&tag.as_str()))
                .cloned()
                .collect();
            console.line(&format!(
                "{name} has {setting} tags: pushing {} without {}; the deploy uses the digest",
                kept.join(", "),
                quoted(&fixed)
            ));
            kept
        }
    };
    Ok(Repository {
        created,
        tags,
        sha_tag_fixed,
    })
}

fn quoted(tags: &[&str]) -> String {
    let quoted: Vec<String> = tags.iter().map(|tag| format!("`{tag}`")).collect();
    quoted.join(", ")
}

/// Whether ECR lets `tag` move to a new image in a repository with this mutability setting and
/// these exclusion filters: `IMMUTABLE_WITH_EXCLUSION` makes the filtered tags mutable,
/// `MUTABLE_WITH_EXCLUSION` makes them immutable (ECR API reference, ImageTagMutability and
/// ImageTagMutabilityExclusionFilter: WILDCARD filters over `[0-9a-zA-Z._*-]`).
pub fn tag_can_move(
    mutability: Option<&ImageTagMutability>,
    exclusions: &[String],
    tag: &str,
) -> bool {
    let excluded = exclusions
        .iter()
        .any(|filter| wildcard_matches(filter, tag));
    match mutability {
        Some(ImageTagMutability::Immutable) => false,
        Some(ImageTagMutability::ImmutableWithExclusion) => excluded,
        Some(ImageTagMutability::MutableWithExclusion) => !excluded,
        _ => true,
    }
}

/// `*` matches any run of characters (none included); every other character itself.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

async fn create(ecr: &aws_sdk_ecr::Client, image: &ImagePlan, console: &Console) -> Result<()> {
    let name = &image.repository;
    ecr.create_repository()
        .repository_name(name)
        .image_tag_mutability(ImageTagMutability::Mutable)
        .image_scanning_configuration(
            ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .map_err(|error| {
            crate::error::aws_failure(format!("ECR CreateRepository {name}"), &error)
        })?;
    console.line(&format!("created the ECR repository {name} (scan on push)"));
    if let Some(policy) = &image.lifecycle_policy {
        ecr.put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy)
            .send()
            .await
            .map_err(|error| {
                crate::error::aws_failure(format!("ECR PutLifecyclePolicy on {name}"), &error)
            })?;
        console.line(&format!("set the lifecycle policy of {name}"));
    }
    Ok(())
}

/// The digest each tag points at, by DescribeImages.
pub async fn tag_digests(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    repository: &str,
    tags: &[String],
) -> Result<Vec<(String, Option<String>)>> {
    let ids: Vec<ImageIdentifier> = tags
        .iter()
        .map(|tag| ImageIdentifier::builder().image_tag(tag).build())
        .collect();
    let described = ecr
        .describe_images()
        .set_registry_id(registry_id.map(str::to_string))
        .repository_name(repository)
        .set_image_ids(Some(ids))
        .send()
        .await
        .map_err(|error| {
            crate::error::aws_failure(format!("ECR DescribeImages in {repository}"), &error)
        })?;
    Ok(tags
        .iter()
        .map(|tag| {
            let digest = described
                .image_details()
                .iter()
                .find(|detail| detail.image_tags().iter().any(|t| t == tag))
                .and_then(|detail| detail.image_digest())
                .map(str::to_string);
            (tag.clone(), digest)
        })
        .collect())
}

#[cfg(test)]
#[path = "repository_tests.rs"]
mod tests;
