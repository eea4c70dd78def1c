//! The ECR repository: that it exists (or creating it when asked), whether its tags can move,
//! and what its tags point at (DescribeImages).

use crate::console::Console;
use crate::error::Problem;
use crate::plan::{ImagePlan, ImmutableTags};
use anyhow::{Result, anyhow};
use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ImageTagMutability};

/// What the push may do in this repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub created: bool,
    /// The tags to push: without the environment tag when it may not move.
    pub tags: Vec<String>,
}

/// Before building: the repository exists (or is created), and the planned tags can be pushed.
pub async fn prepare(
    ecr: &aws_sdk_ecr::Client,
    image: &ImagePlan,
    console: &Console,
) -> Result<Repository> {
    let name = &image.repository;
    let described = ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await;
    let (mutability, created) = match described {
        Ok(output) => {
            let repository = output
                .repositories()
                .first()
                .ok_or_else(|| anyhow!("ECR described no repository {name}"))?;
            (repository.image_tag_mutability().cloned(), false)
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
            create(ecr, image, console).await?;
            (Some(ImageTagMutability::Mutable), true)
        }
        Err(error) => {
            return Err(anyhow!(
                "ECR DescribeRepositories {name}: {}",
                DisplayErrorContext(&error)
            ));
        }
    };
    let immutable = matches!(
        mutability,
        Some(ImageTagMutability::Immutable) | Some(ImageTagMutability::ImmutableWithExclusion)
    );
    let environment_tag = image.environment_tag();
    let tags = match (immutable, image.immutable_tags) {
        (false, _) => image.tags.clone(),
        (true, ImmutableTags::Fail) => {
            return Err(Problem::new(format!(
                "the ECR repository {name} has IMMUTABLE tags, so `{environment_tag}` cannot move to a new image"
            ))
            .hint(format!(
                "set `immutable-tags: skip-moving` to push only the sha- tag and deploy by digest, or make the tags \
                 mutable: `aws ecr put-image-tag-mutability --repository-name {name} --image-tag-mutability MUTABLE`"
            ))
            .into());
        }
        (true, ImmutableTags::SkipMoving) => {
            console.line(&format!(
                "{name} has IMMUTABLE tags: pushing {} without `{environment_tag}`; the deploy uses the digest",
                image.tags[1..].join(", ")
            ));
            image.tags[1..].to_vec()
        }
    };
    Ok(Repository { created, tags })
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
            anyhow!(
                "ECR CreateRepository {name}: {}",
                DisplayErrorContext(&error)
            )
        })?;
    console.line(&format!("created the ECR repository {name} (scan on push)"));
    if let Some(policy) = &image.lifecycle_policy {
        ecr.put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(policy)
            .send()
            .await
            .map_err(|error| {
                anyhow!(
                    "ECR PutLifecyclePolicy on {name}: {}",
                    DisplayErrorContext(&error)
                )
            })?;
        console.line(&format!("set the lifecycle policy of {name}"));
    }
    Ok(())
}

/// The digest each tag points at, by DescribeImages.
pub async fn tag_digests(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tags: &[String],
) -> Result<Vec<(String, Option<String>)>> {
    let ids: Vec<ImageIdentifier> = tags
        .iter()
        .map(|tag| ImageIdentifier::builder().image_tag(tag).build())
        .collect();
    let described = ecr
        .describe_images()
        .repository_name(repository)
        .set_image_ids(Some(ids))
        .send()
        .await
        .map_err(|error| {
            anyhow!(
                "ECR DescribeImages in {repository}: {}",
                DisplayErrorContext(&error)
            )
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
