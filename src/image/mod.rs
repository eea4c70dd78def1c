//! Stage 4, image: make sure the ECR repository can take the push, then either build the image
//! for the planned platforms and push every tag, or promote an image already pushed — and in
//! both cases check that each tag in the registry points at the digest that will be deployed.

pub mod build;
pub mod buildx;
pub mod cache;
pub mod docker;
pub mod platform;
pub mod promote;
pub mod registry;
pub mod repository;
pub mod source;

use crate::auth::AwsSession;
use crate::console::Console;
use crate::error::Problem;
use crate::plan::{BuildPath, BuildPlan, BuilderChoice, Plan};
use anyhow::{Context, Result};
use build::{BuildRequest, Builder, Cache};
use docker::Docker;
use registry::RegistryLogin;
use secrecy::{ExposeSecret, SecretString};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

pub use repository::Repository;

/// An image that is in the registry under all its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// Registry host, e.g. `123456789012.dkr.ecr.us-east-2.amazonaws.com`.
    pub registry: String,
    pub repository: String,
    /// `sha256:…`
    pub digest: String,
    pub tags: Vec<String>,
    pub origin: Origin,
    /// The commit the image was built from: this run's for a build, the image's
    /// `org.opencontainers.image.revision` label for a promotion (`None` when it has none).
    pub revision: Option<String>,
    /// Time spent building and pushing, or promoting.
    pub build_time: Duration,
}

/// How the image got there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "how", rename_all = "kebab-case")]
pub enum Origin {
    Built {
        builder: Builder,
        cache: Cache,
        /// Why the cache is not the one asked for (or the usual one), for the summary.
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_note: Option<String>,
        platforms: Vec<String>,
    },
    Promoted {
        from: String,
    },
    /// The commit's build that its immutable `sha-` tag names, deployed without building: no
    /// other tag could move in the repository.
    Reused {
        tag: String,
    },
}

impl PushedImage {
    /// `registry/repository@sha256:…`: what task definitions are pinned to.
    pub fn pinned_reference(&self) -> String {
        format!("{}/{}@{}", self.registry, self.repository, self.digest)
    }
}

/// The pinned reference first (what a script wants), then the parts.
impl serde::Serialize for PushedImage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut image = serializer.serialize_struct("PushedImage", 8)?;
        image.serialize_field("reference", &self.pinned_reference())?;
        image.serialize_field("registry", &self.registry)?;
        image.serialize_field("repository", &self.repository)?;
        image.serialize_field("digest", &self.digest)?;
        image.serialize_field("tags", &self.tags)?;
        image.serialize_field("origin", &self.origin)?;
        image.serialize_field("revision", &self.revision)?;
        image.serialize_field("seconds", &crate::json::rounded_seconds(self.build_time))?;
        image.end()
    }
}

/// Before building: the repository exists (or is created when asked) and the tags can move.
pub async fn prepare(plan: &Plan, session: &AwsSession, console: &Console) -> Result<Repository> {
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    repository::prepare(&ecr, &plan.image, &session.account_id, console).await
}

/// Before a promotion moves any tag: the image `promote-from` names, by digest, and the commit it
/// was built from.
pub async fn read_source(
    plan: &Plan,
    session: &AwsSession,
    from: &str,
    console: &Console,
) -> Result<source::SourceImage> {
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    let name = &plan.image.repository;
    let registry_id = plan.image.registry_id.as_deref();
    let need = if matches!(plan.work, crate::plan::Work::Promote { verify: false, .. }) {
        source::ConfigNeed::Optional
    } else {
        source::ConfigNeed::Required
    };
    if plan.image.through_ecr() {
        return source::with_ecr(&ecr, registry_id, name, from, need).await;
    }
    let login = registry::ecr_login(&ecr, registry_id, console).await?;
    source::with_registry(&registry_host(plan, &login), &login, name, from, need).await
}

/// The registry the image goes to: `registry` when it overrides ECR, else the login's ECR host.
fn registry_host(plan: &Plan, login: &RegistryLogin) -> String {
    plan.image
        .registry_override
        .clone()
        .unwrap_or_else(|| login.ecr_host.clone())
}

/// Where the pushed image comes from.
#[derive(Debug, Clone, Copy)]
pub enum Publishing<'a> {
    /// Built here from the plan's context.
    Build(&'a BuildPlan),
    /// `from` (a tag or digest), as [`read_source`] read it: the tags move to its digest, so a
    /// tag moved since cannot change what is released.
    Promote {
        from: &'a str,
        source: &'a source::SourceImage,
    },
}

/// Build and push, or promote an image already pushed.
pub async fn publish(
    plan: &Plan,
    session: &AwsSession,
    repository: &Repository,
    how: Publishing<'_>,
    console: &Console,
) -> Result<PushedImage> {
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    let name = &plan.image.repository;
    let started = Instant::now();
    // The sha- tag names the commit that was built; promotion moves the others.
    let sha_tag = plan.image.sha_tag();
    let moving: Vec<String> = repository
        .tags
        .iter()
        .filter(|t| t.as_str() != sha_tag)
        .cloned()
        .collect();
    let through_ecr = plan.image.through_ecr();
    let registry_id = plan.image.registry_id.as_deref();
    let (host, digest, tags, origin) = match (how, through_ecr) {
        // ECR's own API: no registry login, and PutImage's answer is the digest's truth.
        (Publishing::Promote { from, source }, true) => {
            let (lookup, read) = (source.digest.as_str(), source.ecr_image.as_ref());
            let promoted =
                promote::with_ecr(&ecr, registry_id, name, lookup, read, &moving, console).await?;
            let host = plan
                .image
                .registry_override
                .clone()
                .unwrap_or_else(|| ecr_host(&promoted.registry_id, &plan.region));
            let origin = Origin::Promoted {
                from: from.to_string(),
            };
            (host, promoted.digest, moving, origin)
        }
        (how, _) => {
            let login = registry::ecr_login(&ecr, registry_id, console).await?;
            let host = registry_host(plan, &login);
            let (digest, tags, origin) = match how {
                Publishing::Build(build) => {
                    let context = (plan, &ecr, host.as_str(), &login);
                    build_this_commit(context, build, repository, &moving, console).await?
                }
                Publishing::Promote { from, source } => {
                    let lookup = source.digest.as_str();
                    let digest =
                        promote::with_registry(&host, &login, name, lookup, &moving, console)
                            .await?;
                    let origin = Origin::Promoted {
                        from: from.to_string(),
                    };
                    (digest, moving, origin)
                }
            };
            verify_tags(&ecr, plan, &host, &login, &tags, &digest).await?;
            (host, digest, tags, origin)
        }
    };
    let build_time = started.elapsed();
    let revision = match how {
        Publishing::Promote { source, .. } => source.revision.clone(),
        Publishing::Build(_) => (!plan.image.uncommitted).then(|| plan.source.sha.clone()),
    };
    Ok(PushedImage {
        registry: host,
        repository: name.clone(),
        digest,
        tags,
        origin,
        revision,
        build_time,
    })
}

/// Build and push the commit. Where its `sha-` tag is immutable and names a build already (a
/// re-run, the merge to main after the branch, a cold cache), that tag is never pushed again —
/// ECR refuses it (TAG_INVALID) even for the very same image (moby/buildkit#3776) — and stays on
/// the first build: the new one goes out under the moving tags and is deployed by digest; with
/// no tag that could move, the first build is deployed as it is, without building.
async fn build_this_commit(
    (plan, ecr, host, login): (&Plan, &aws_sdk_ecr::Client, &str, &RegistryLogin),
    build: &BuildPlan,
    repository: &Repository,
    moving: &[String],
    console: &Console,
) -> Result<(String, Vec<String>, Origin)> {
    let sha_tag = plan.image.sha_tag();
    let name = &plan.image.repository;
    let kept = match repository.sha_tag_fixed {
        true => existing_digest(ecr, plan, host, login, sha_tag).await?,
        false => None,
    };
    let Some(first) = kept else {
        let (digest, origin) =
            build_and_push(plan, build, host, login, &repository.tags, console).await?;
        return Ok((digest, repository.tags.clone(), origin));
    };
    if moving.is_empty() {
        console.notice(
            "image",
            &format!(
                "{sha_tag} is immutable in {name} and names {first}, a build of this commit; no other tag may move \
                 here, so that build is deployed as it is, without building"
            ),
        );
        let origin = Origin::Reused {
            tag: sha_tag.to_string(),
        };
        return Ok((first, vec![sha_tag.to_string()], origin));
    }
    let (digest, origin) = build_and_push(plan, build, host, login, moving, console).await?;
    if first == digest {
        console.line(&format!(
            "{sha_tag} already names this very image (the build is reproducible)"
        ));
        return Ok((digest, repository.tags.clone(), origin));
    }
    console.notice(
        "image",
        &format!(
            "{sha_tag} is immutable in {name} and already names {first}, an earlier build of this commit (a re-run, \
             another branch's build, or a cold cache); it stays there. This build is {digest}, pushed as {} and \
             deployed by digest",
            moving.join(", ")
        ),
    );
    Ok((digest, moving.to_vec(), origin))
}

/// The digest `tag` names in the repository now, if any: BatchGetImage through ECR's API, the
/// registry's own API for a registry that overrides ECR.
async fn existing_digest(
    ecr: &aws_sdk_ecr::Client,
    plan: &Plan,
    host: &str,
    login: &RegistryLogin,
    tag: &str,
) -> Result<Option<String>> {
    let repository = &plan.image.repository;
    if plan.image.through_ecr() {
        let registry_id = plan.image.registry_id.as_deref();
        let found = promote::ecr_image(ecr, registry_id, repository, tag).await?;
        return Ok(found.and_then(|image| {
            image
                .image_id()
                .and_then(|id| id.image_digest())
                .map(str::to_string)
        }));
    }
    Ok(registry::get_manifest(host, login, repository, tag)
        .await?
        .map(|manifest| manifest.digest))
}

/// The ECR registry host of an account in a region (`.amazonaws.com.cn` in China).
pub fn ecr_host(account: &str, region: &str) -> String {
    let suffix = crate::plan::values::dns_suffix(region);
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// Digest truth: every tag points at the digest that will be deployed — by DescribeImages,
/// or the registry's API for a registry on this machine.
async fn verify_tags(
    ecr: &aws_sdk_ecr::Client,
    plan: &Plan,
    host: &str,
    login: &RegistryLogin,
    tags: &[String],
    digest: &str,
) -> Result<()> {
    let repository = &plan.image.repository;
    let resolved: Vec<(String, Option<String>)> = match plan.image.through_ecr() {
        false => {
            let mut resolved = Vec::new();
            for tag in tags {
                resolved.push((
                    tag.clone(),
                    Some(registry::resolve_tag(host, login, repository, tag).await?),
                ));
            }
            resolved
        }
        true => {
            let registry_id = plan.image.registry_id.as_deref();
            repository::tag_digests(ecr, registry_id, repository, tags).await?
        }
    };
    for (tag, found) in resolved {
        if found.as_deref() != Some(digest) {
            return Err(Problem::new(format!(
                "{host}/{repository}:{tag} points at {}, not at {digest}",
                found.as_deref().unwrap_or("nothing")
            ))
            .hint("another job pushed the same tag at the same time; use `concurrency:` in the workflow")
            .into());
        }
    }
    Ok(())
}

async fn build_and_push(
    plan: &Plan,
    build: &BuildPlan,
    host: &str,
    login: &RegistryLogin,
    tags: &[String],
    console: &Console,
) -> Result<(String, Origin)> {
    let mut docker = Docker::new(&build.docker)?;
    docker.login(host, &login.username, &login.password).await?;
    let buildx_version = match build.path {
        BuildPath::Engine => None,
        BuildPath::Auto | BuildPath::Buildx => docker.buildx_version().await,
    };
    let builder = match (build.path, &buildx_version) {
        (BuildPath::Engine, _) | (BuildPath::Auto, None) => Builder::EngineBuildKit,
        (BuildPath::Auto | BuildPath::Buildx, Some(_)) => Builder::Buildx,
        (BuildPath::Buildx, None) => {
            return Err(Problem::new(
                "DEPLOY_ACTION_BUILD_PATH is buildx, but `docker buildx version` fails here",
            )
            .hint("install the buildx plugin, or unset DEPLOY_ACTION_BUILD_PATH")
            .into());
        }
    };
    let repository_reference = format!("{host}/{}", plan.image.repository);
    let context = cache::CacheContext {
        builder,
        gha: build.gha_cache,
        buildx_reads_v2: buildx_version
            .as_deref()
            .is_some_and(cache::buildx_reads_gha_v2),
        remote_builder: matches!(&build.builder, Some(BuilderChoice::Endpoint(endpoint)) if endpoint.starts_with("tcp://")),
    };
    let (cache, note) = cache::resolve(
        build.cache,
        context,
        &repository_reference,
        plan.image.environment_tag(),
    );
    if let Some(note) = &note {
        console.warning("cache", note);
    }
    // The runner's cache URLs and token go to the docker CLI only for the gha cache.
    docker.pass_actions_cache(matches!(cache, Cache::Gha { .. }));
    let request = BuildRequest {
        build,
        references: tags
            .iter()
            .map(|tag| format!("{repository_reference}:{tag}"))
            .collect(),
        labels: labels(plan, build),
        secret_files: write_secrets(&docker, build, console)?,
        cache: cache.clone(),
        builder_name: None,
    };
    console.line(&format!(
        "building {} for {} with {} ({})",
        request.references.join(", "),
        build.platforms.join(", "),
        match builder {
            Builder::Buildx => "buildx",
            Builder::EngineBuildKit => "BuildKit through the engine",
        },
        describe_cache(&cache)
    ));
    let digest = match builder {
        Builder::Buildx => {
            // A docker-container builder has its own network namespace: to reach a registry on
            // this machine it needs the host's (BuildKit speaks plain HTTP to loopback hosts).
            let host_network = crate::plan::values::is_loopback_host(host);
            let chosen = buildx::prepare(&docker, build, &cache, host_network, console).await?;
            let leftover = buildx::Leftover::of(
                &docker,
                &chosen,
                matches!(build.builder, Some(BuilderChoice::Endpoint(_))),
            );
            let host = platform::BuildHost::Buildx(chosen.name.as_deref());
            platform::ensure_emulation(&docker, &build.platforms, host, build.setup_qemu, console)
                .await;
            let request = BuildRequest {
                builder_name: chosen.name.clone(),
                ..request
            };
            let result = build_with_buildx(&docker, &request).await;
            chosen.remove(&docker, console).await;
            leftover.disarm();
            result?
        }
        Builder::EngineBuildKit => {
            let host = platform::BuildHost::Engine;
            platform::ensure_emulation(&docker, &build.platforms, host, build.setup_qemu, console)
                .await;
            build_with_engine(&docker, &request).await?
        }
    };
    Ok((
        digest,
        Origin::Built {
            builder,
            cache,
            cache_note: note,
            platforms: build.platforms.clone(),
        },
    ))
}

pub fn describe_cache(cache: &Cache) -> String {
    match cache {
        Cache::None => "no cache".into(),
        Cache::Gha { scope, version } => format!("GitHub Actions cache v{version}, scope {scope}"),
        Cache::Registry { reference } => format!("registry cache {reference}"),
        Cache::Inline { from } => format!("inline cache from {from}"),
    }
}

/// The plan's labels after the standard OCI ones, so a user's label wins.
fn labels(plan: &Plan, build: &BuildPlan) -> Vec<(String, String)> {
    let source = &plan.source;
    let ref_name = source
        .git_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(&source.git_ref);
    let mut labels = Vec::new();
    if let Some(url) = &source.repository_url {
        labels.push(("org.opencontainers.image.source".to_string(), url.clone()));
    }
    // A build of uncommitted changes is not the commit: no label may say it is (promotion
    // trusts this one).
    let commit = !plan.image.uncommitted;
    if commit {
        labels.push((
            "org.opencontainers.image.revision".to_string(),
            source.sha.clone(),
        ));
    }
    labels.push((
        "org.opencontainers.image.ref.name".to_string(),
        ref_name.to_string(),
    ));
    // The commit's time, not the build's: a rebuild of one commit must give the same image.
    if let Some(created) = source.commit_time.as_ref().filter(|_| commit) {
        labels.push((
            "org.opencontainers.image.created".to_string(),
            created.clone(),
        ));
    }
    labels.extend(build.labels.iter().cloned());
    labels
}

/// Each build secret into its own 0600 file in the private config directory (removed with it);
/// the value is masked first and never reaches a command line.
fn write_secrets(
    docker: &Docker,
    build: &BuildPlan,
    console: &Console,
) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut files = Vec::new();
    for (id, variable) in &build.secrets {
        let value = std::env::var(variable)
            .map(SecretString::from)
            .map_err(|why| {
                Problem::new(format!(
                    "build-secrets: `{id}` comes from {variable}: {why}"
                ))
                .hint(format!(
                    "pass it to the step: `env: {{ {variable}: ${{{{ secrets.{variable} }}}} }}`"
                ))
            })?;
        console.mask(&value);
        let path = docker.config_dir().join(format!("secret-{id}"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing build secret {id}"))?;
        file.write_all(value.expose_secret().as_bytes())?;
        files.push((id.clone(), path));
    }
    Ok(files)
}

async fn build_with_buildx(docker: &Docker, request: &BuildRequest<'_>) -> Result<String> {
    let metadata_file = docker.config_dir().join("build-metadata.json");
    let args = build::buildx_args(request, &metadata_file.display().to_string());
    docker
        .run(&as_strs(&args), None, true)
        .await
        .context("building and pushing the image")?;
    let metadata =
        std::fs::read_to_string(&metadata_file).context("reading buildx's metadata file")?;
    build::digest_from_metadata(&metadata).context("buildx's metadata file has no image digest")
}

async fn build_with_engine(docker: &Docker, request: &BuildRequest<'_>) -> Result<String> {
    if request.build.platforms.len() > 1 {
        return Err(Problem::new(format!(
            "building for several platforms ({}) needs docker buildx, which this machine lacks",
            request.build.platforms.join(", ")
        ))
        .hint("install the buildx plugin, or build one platform (`platforms: linux/arm64`)")
        .into());
    }
    let args = build::engine_build_args(request);
    docker
        .run(&as_strs(&args), None, true)
        .await
        .context("building the image")?;
    let mut digest: Option<String> = None;
    for reference in &request.references {
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
