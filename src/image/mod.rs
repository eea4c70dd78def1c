//! Stage 4, image: log in to ECR, build the image for the planned platforms, push every tag,
//! and make sure each tag in the registry points at the digest we built.

pub mod build;
pub mod docker;
pub mod registry;

use crate::auth::AwsSession;
use crate::console::Console;
use crate::error::Problem;
use crate::plan::Plan;
use anyhow::{Context, Result};
use build::Builder;
use docker::Docker;
use std::time::{Duration, Instant};

/// An image that is in the registry under all its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// Registry host, e.g. `123456789012.dkr.ecr.us-east-2.amazonaws.com`.
    pub registry: String,
    pub repository: String,
    /// `sha256:…`
    pub digest: String,
    pub tags: Vec<String>,
    pub builder: Builder,
    pub build_time: Duration,
}

impl PushedImage {
    /// `registry/repository@sha256:…`: what task definitions are pinned to.
    pub fn pinned_reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repository, self.digest)
    }

    /// `registry/repository:tag`.
    pub fn tagged_reference(&self, tag: &str) -> String {
        format!("{}/{}:{tag}", self.registry, self.repository)
    }
}

pub async fn publish(plan: &Plan, session: &AwsSession, console: &Console) -> Result<PushedImage> {
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    let login = registry::ecr_login(&ecr).await?;
    console.mask(&login.password);
    let host = plan
        .image
        .registry_override
        .clone()
        .unwrap_or_else(|| login.ecr_host.clone());

    let docker = Docker::new()?;
    docker
        .login(&host, &login.username, &login.password)
        .await?;
    let builder = if docker.has_buildx().await {
        Builder::Buildx
    } else {
        Builder::EngineBuildKit
    };
    let build = &plan.image.build;
    let references: Vec<String> = plan
        .image
        .tags
        .iter()
        .map(|tag| format!("{host}/{}:{tag}", plan.image.repository))
        .collect();
    console.line(&format!(
        "building {} for {} with {builder:?}",
        references.join(", "),
        build.platforms.join(", ")
    ));

    let started = Instant::now();
    let digest = match builder {
        Builder::Buildx => build_with_buildx(&docker, plan, &references).await?,
        Builder::EngineBuildKit => build_with_engine(&docker, plan, &references).await?,
    };
    let build_time = started.elapsed();

    for tag in &plan.image.tags {
        let resolved = registry::resolve_tag(&host, &login, &plan.image.repository, tag).await?;
        if resolved != digest {
            return Err(Problem::new(format!(
                "{host}/{}:{tag} points at {resolved}, not at the {digest} we pushed",
                plan.image.repository
            ))
            .hint("another job pushed the same tag at the same time; use `concurrency:` in the workflow")
            .into());
        }
    }
    Ok(PushedImage {
        registry: host,
        repository: plan.image.repository.clone(),
        digest,
        tags: plan.image.tags.clone(),
        builder,
        build_time,
    })
}

async fn build_with_buildx(docker: &Docker, plan: &Plan, references: &[String]) -> Result<String> {
    let metadata_file = docker.config_dir().join("build-metadata.json");
    let args = build::buildx_args(
        &plan.image.build,
        references,
        &metadata_file.display().to_string(),
    );
    docker
        .run(&as_strs(&args), None, true)
        .await
        .context("building and pushing the image")?;
    let metadata =
        std::fs::read_to_string(&metadata_file).context("reading buildx's metadata file")?;
    build::digest_from_metadata(&metadata).context("buildx's metadata file has no image digest")
}

async fn build_with_engine(docker: &Docker, plan: &Plan, references: &[String]) -> Result<String> {
    if plan.image.build.platforms.len() > 1 {
        return Err(Problem::new(format!(
            "building for several platforms ({}) needs docker buildx, which this machine lacks",
            plan.image.build.platforms.join(", ")
        ))
        .hint("install the buildx plugin, or build one platform (`platforms: linux/arm64`)")
        .into());
    }
    let args = build::engine_build_args(&plan.image.build, references);
    docker
        .run(&as_strs(&args), None, true)
        .await
        .context("building the image")?;
    let mut digest: Option<String> = None;
    for reference in references {
        let output = docker
            .run(&["push", reference], None, true)
            .await
            .with_context(|| format!("pushing {reference}"))?;
        let pushed = build::digest_from_push_output(&output.stdout)
            .with_context(|| format!("`docker push {reference}` printed no digest"))?;
        match &digest {
            Some(first) if *first != pushed => {
                anyhow::bail!("{reference} was pushed as {pushed}, but the first tag as {first}")
            }
            _ => digest = Some(pushed),
        }
    }
    digest.context("no tag to push")
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
