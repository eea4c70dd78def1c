//! Resolving the image inputs: repository, tags, where the image comes from, build options.

use super::values;
use super::{
    BuildPath, BuildPlan, BuilderChoice, CacheMode, DockerCli, ImagePlan, ImmutableTags, Intent,
    PlanError, Work, parse_flag, required,
};
use crate::inputs::{InputArgs, RunContext};
use std::path::PathBuf;

/// The environment tag this run pushes, and every environment tag of the repository.
pub(super) struct EnvironmentTags<'a> {
    pub this: &'a str,
    pub all: &'a [String],
}

pub(super) fn resolve_image(
    args: &InputArgs,
    run: &RunContext,
    environments: &EnvironmentTags<'_>,
    sha: &str,
    intent: Intent,
) -> Result<(ImagePlan, Work), PlanError> {
    let environment = environments.this;
    let promote = matches!(intent, Intent::Promote | Intent::Operate);
    let repository = match &args.ecr_repository {
        // An operation on services pushes nothing: the repository only marks the app's
        // container, and without one no container is taken for it.
        None if intent == Intent::Operate => String::new(),
        named => required(
            named,
            "ecr-repository",
            "an ECR repository name such as `back-end`, as an input or in deploy.toml's [defaults]",
        )?,
    };
    if !repository.is_empty() {
        values::check_repository(&repository).map_err(|why| {
            PlanError::new(
                "ecr-repository",
                why,
                "an ECR repository name such as `back-end`",
            )
        })?;
    }
    let registry_override = args.registry.clone();
    // The registry gets the ECR login: only ECR itself, or a registry on this machine.
    let registry_id = match &registry_override {
        None => None,
        Some(host) if values::is_loopback_host(host) => None,
        Some(host) => match values::ecr_registry(host) {
            Some((account, _)) => Some(account),
            None => {
                return Err(PlanError::new(
                    "registry",
                    format!(
                        "`{host}` is not an ECR registry, and the ECR login (a 12-hour token for your \
                         account's images) would be sent to it"
                    ),
                    "an ECR host, `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (or its FIPS or dual-stack \
                     form), a registry on this machine (`127.0.0.1:5000`, `localhost:5000`), or leave \
                     it empty for the account's own registry",
                ));
            }
        },
    };
    let mut tags = vec![environment.to_string(), format!("sha-{}", &sha[..7])];
    for tag in key_lines(args.extra_tags.as_deref()) {
        values::check_docker_tag(tag).map_err(|why| {
            PlanError::new(
                "extra-tags",
                format!("`{tag}` {why}"),
                "one Docker tag a line, e.g. `v1.4.2`",
            )
        })?;
        check_extra_tag(tag, environments)?;
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    let mode_input = if promote {
        Some("promote")
    } else {
        args.mode.as_deref()
    };
    let work = match mode_input.unwrap_or("build") {
        "build" => Work::Build(Box::new(resolve_build(args, run)?)),
        "promote" => Work::Promote {
            from: resolve_promote_from(args, sha)?,
            verify: parse_flag(&args.verify_promoted_commit, "verify-promoted-commit", true)?,
        },
        "rollback" => Work::Rollback,
        other => {
            return Err(PlanError::new(
                "mode",
                format!("`{other}` is not a mode"),
                "`build` (build and push), `promote` (retag an image already pushed) or `rollback` (each \
                 service back on the revision the last deploy replaced)",
            ));
        }
    };
    if args.verify_promoted_commit.is_some() && !matches!(work, Work::Promote { .. }) {
        return Err(PlanError::new(
            "verify-promoted-commit",
            "is set but mode is not promote",
            "set `mode: promote`, or drop verify-promoted-commit",
        ));
    }
    if args.promote_from.is_some() && matches!(work, Work::Build(_)) {
        return Err(PlanError::new(
            "promote-from",
            "is set but mode is build",
            "set `mode: promote` to promote, or drop promote-from",
        ));
    }
    let uncommitted = match (&run.uncommitted, &work) {
        (Some(changes), Work::Build(_)) => Some(changes),
        _ => None,
    };
    if let Some(changes) = uncommitted {
        if !run.allow_uncommitted {
            return Err(PlanError::new(
                "--sha",
                format!(
                    "({}) is not what would be built: the checkout has uncommitted changes ({})",
                    &sha[..7],
                    changes_text(&changes.files)
                ),
                "commit (or stash) them; or pass --allow-dirty to push the build as dirty-<commit>-<fingerprint> only — no sha- tag and no commit label, so it is never taken for that commit (nor promoted as it)",
            ));
        }
        tags[1] = format!("dirty-{}-{}", &sha[..7], changes.fingerprint);
    }
    let lifecycle_policy = match &args.lifecycle_policy {
        None => None,
        Some(path) => Some(read_json_file(path, "lifecycle-policy")?),
    };
    let immutable_tags = match args.immutable_tags.as_deref().unwrap_or("fail") {
        "fail" => ImmutableTags::Fail,
        "skip-moving" => ImmutableTags::SkipMoving,
        other => {
            return Err(PlanError::new(
                "immutable-tags",
                format!("`{other}` is not an option"),
                "`fail` or `skip-moving`",
            ));
        }
    };
    let image = ImagePlan {
        repository,
        registry_override,
        registry_id,
        tags,
        create_repository: parse_flag(&args.create_repository, "create-repository", false)?,
        lifecycle_policy,
        immutable_tags,
        uncommitted: uncommitted.is_some(),
    };
    Ok((image, work))
}

/// `M src/app.py, ?? notes.txt` — the first few, and how many more.
fn changes_text(files: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = files
        .iter()
        .take(SHOWN)
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        text.push_str(&format!(" and {} more", files.len() - SHOWN));
    }
    text
}

/// An extra tag may not be a tag the action itself gives meaning to. With one role and one
/// repository for every branch (the seed's setup), a feature branch that could push `prod`, a
/// `sha-` tag (a promotion ships the image `sha-<7>` names) or a `buildcache-` tag (the cache
/// prod's build reads) would plant its own image in production.
fn check_extra_tag(tag: &str, environments: &EnvironmentTags<'_>) -> Result<(), PlanError> {
    let refused = |why: String| {
        Err(PlanError::new(
            "extra-tags",
            format!("`{tag}` {why}"),
            "a tag of your own, such as `v1.4.2` or `nightly`: not an environment's tag, `sha-…` or `buildcache-…`",
        ))
    };
    let lower = tag.to_ascii_lowercase();
    if lower.starts_with("sha-") {
        return refused(
            "is the kind of tag that names a commit's image (sha-<7>), which promotion trusts"
                .into(),
        );
    }
    if lower.starts_with("buildcache") {
        return refused("is the kind of tag the build cache lives under".into());
    }
    if tag != environments.this && environments.all.iter().any(|other| other == tag) {
        return refused(format!(
            "is another environment's tag: a run that pushes `{}` may not move it",
            environments.this
        ));
    }
    Ok(())
}

/// `promote-from`, by default the commit's own `sha-<7>` tag: the image built from exactly this
/// commit. A shared tag such as `staging` is written by every branch, so promoting it promotes
/// whatever branch pushed last.
fn resolve_promote_from(args: &InputArgs, sha: &str) -> Result<String, PlanError> {
    let from = args
        .promote_from
        .clone()
        .unwrap_or_else(|| format!("sha-{}", sha.get(..7).unwrap_or(sha)));
    let valid = match from.strip_prefix("sha256:") {
        Some(hex) => hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        None => values::check_docker_tag(&from).is_ok(),
    };
    if valid {
        Ok(from)
    } else {
        Err(PlanError::new(
            "promote-from",
            format!("`{from}` is neither a tag nor a sha256 digest"),
            "a tag such as `sha-abc1234` or `staging`, or `sha256:` and 64 hex digits",
        ))
    }
}

fn read_json_file(path: &str, input: &'static str) -> Result<String, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        PlanError::new(
            input,
            format!("`{path}` cannot be read ({error})"),
            "the path of a JSON file",
        )
    })?;
    serde_json::from_str::<serde_json::Value>(&text).map_err(|error| {
        PlanError::new(
            input,
            format!("`{path}` is not JSON ({error})"),
            "a JSON document",
        )
    })?;
    Ok(text)
}

/// Non-empty, trimmed lines.
fn key_lines(text: Option<&str>) -> impl Iterator<Item = &str> {
    text.unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
}

/// `KEY=VALUE` lines; `KEY` of letters, digits, `_`, `.`, `-` (label keys have dots).
fn key_values(
    text: Option<&str>,
    input: &'static str,
    key_chars: &str,
) -> Result<Vec<(String, String)>, PlanError> {
    let mut pairs = Vec::new();
    for line in text
        .unwrap_or("")
        .lines()
        .filter(|line| !line.trim().is_empty())
    {
        let pair = line.split_once('=').filter(|(key, _)| {
            let key = key.trim();
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || key_chars.contains(c))
        });
        let Some((key, value)) = pair else {
            return Err(PlanError::new(
                input,
                format!("`{line}` is not KEY=VALUE"),
                "one KEY=VALUE a line",
            ));
        };
        pairs.push((key.trim().to_string(), value.to_string()));
    }
    Ok(pairs)
}

pub(super) fn resolve_build(args: &InputArgs, run: &RunContext) -> Result<BuildPlan, PlanError> {
    let context = PathBuf::from(args.context.as_deref().unwrap_or("."));
    if !context.is_dir() {
        return Err(PlanError::new(
            "context",
            format!("`{}` is not a directory", context.display()),
            "the build context directory, relative to the workspace",
        ));
    }
    let dockerfile = args
        .dockerfile
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(|| context.join("Dockerfile"));
    if !dockerfile.is_file() {
        // The default Dockerfile is the context's: a context without one is that input's mistake.
        return Err(match args.dockerfile {
            Some(_) => PlanError::new(
                "dockerfile",
                format!("`{}` does not exist", dockerfile.display()),
                "the path of the Dockerfile relative to the workspace (default `<context>/Dockerfile`)",
            ),
            None => PlanError::new(
                "context",
                format!("`{}` has no Dockerfile", context.display()),
                "the directory that holds the Dockerfile, or name it with `dockerfile`",
            ),
        });
    }
    let platforms = values::split_list(args.platforms.as_deref().unwrap_or("linux/arm64"));
    if platforms.is_empty() {
        return Err(PlanError::new(
            "platforms",
            "is empty",
            "e.g. `linux/arm64`",
        ));
    }
    for platform in &platforms {
        values::check_platform(platform).map_err(|why| {
            PlanError::new(
                "platforms",
                why,
                format!("one or more of {}", values::KNOWN_PLATFORMS.join(", ")),
            )
        })?;
    }
    let target = args.target.clone();
    if let Some(stage) = &target
        && (stage.is_empty()
            || !stage
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)))
    {
        return Err(PlanError::new(
            "target",
            format!("`{stage}` is not a stage name"),
            "a build stage name",
        ));
    }
    let secrets = key_values(args.build_secrets.as_deref(), "build-secrets", "_-.")?
        .into_iter()
        .map(|(id, variable)| {
            let variable = variable.trim().to_string();
            if variable.is_empty() || !variable.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Err(PlanError::new(
                    "build-secrets",
                    format!("`{id}={variable}` does not name an environment variable"),
                    "one `id=ENV_VAR` a line; the step's `env:` gives the variable, e.g. `npm_token=NPM_TOKEN`",
                ))
            } else {
                Ok((id, variable))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cache = match args.cache.as_deref().unwrap_or("auto") {
        "auto" => CacheMode::Auto,
        "gha" => CacheMode::Gha,
        "registry" => CacheMode::Registry,
        "none" => CacheMode::None,
        other => {
            return Err(PlanError::new(
                "cache",
                format!("`{other}` is not a cache mode"),
                "auto, gha, registry or none",
            ));
        }
    };
    let builder = match args.builder.as_deref() {
        None => None,
        Some(endpoint) if endpoint.contains("://") => {
            let scheme = endpoint.split("://").next().unwrap_or_default();
            if !matches!(
                scheme,
                "tcp" | "docker-container" | "kube-pod" | "unix" | "ssh"
            ) {
                return Err(PlanError::new(
                    "builder",
                    format!("`{endpoint}` is not a BuildKit endpoint"),
                    "a buildx builder name, or tcp://HOST:PORT, docker-container://NAME, unix://PATH",
                ));
            }
            check_endpoint_tls(endpoint, run.buildkit_tls.is_some())?;
            Some(BuilderChoice::Endpoint(endpoint.to_string()))
        }
        Some(name)
            if name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) =>
        {
            Some(BuilderChoice::Named(name.to_string()))
        }
        Some(other) => {
            return Err(PlanError::new(
                "builder",
                format!("`{other}` is not a builder name"),
                "a buildx builder name or a BuildKit endpoint",
            ));
        }
    };
    Ok(BuildPlan {
        context,
        dockerfile,
        target,
        platforms,
        build_args: with_source_date_epoch(
            key_values(args.build_args.as_deref(), "build-args", "_")?,
            run.commit_time.as_deref(),
        ),
        labels: user_labels(args)?,
        secrets,
        provenance: parse_flag(&args.provenance, "provenance", false)?,
        cache,
        gha_cache: run.gha_cache,
        builder,
        path: resolve_build_path(run.build_path.as_deref())?,
        docker: docker_cli(run),
        setup_qemu: parse_flag(&args.setup_qemu, "setup-qemu", true)?,
        buildkit_tls: run.buildkit_tls.clone(),
        builder_name: builder_name(run),
    })
}

/// `SOURCE_DATE_EPOCH` (the commit's time, in seconds) after the user's build args, unless they
/// set it: BuildKit's Dockerfile frontend takes it as a special build arg for the `created` time
/// of the image config and its history (moby/buildkit docs/build-repro.md, BuildKit ≥ 0.11), so
/// a rebuild of one commit gives the same image where the Dockerfile allows it.
pub fn with_source_date_epoch(
    mut build_args: Vec<(String, String)>,
    commit_time: Option<&str>,
) -> Vec<(String, String)> {
    if let Some(epoch) = commit_time.and_then(epoch_seconds)
        && !build_args.iter().any(|(key, _)| key == "SOURCE_DATE_EPOCH")
    {
        build_args.push(("SOURCE_DATE_EPOCH".to_string(), epoch.to_string()));
    }
    build_args
}

/// An RFC 3339 time in Unix seconds. The SDK's parser (already here) takes UTC only, so an
/// offset (`+01:00`, as git and GitHub write commit times) is taken off first.
fn epoch_seconds(time: &str) -> Option<i64> {
    let (utc, offset) = match time.len().checked_sub(6).map(|at| time.split_at(at)) {
        Some((rest, zone)) if zone.starts_with(['+', '-']) && zone.as_bytes()[3] == b':' => {
            let hours: i64 = zone[1..3].parse().ok()?;
            let minutes: i64 = zone[4..].parse().ok()?;
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            (format!("{rest}Z"), sign * (hours * 3600 + minutes * 60))
        }
        _ => (time.to_string(), 0),
    };
    let parsed =
        aws_smithy_types::DateTime::from_str(&utc, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    Some(parsed.secs() - offset)
}

/// `docker` from `PATH`; outside a runner `DEPLOY_ACTION_DOCKER` may name another CLI. Inside
/// one, neither that variable nor `$HOME/.docker/cli-plugins` chooses what runs: an earlier
/// step could set or write either.
fn docker_cli(run: &RunContext) -> DockerCli {
    match (&run.docker_program, run.in_actions) {
        (Some(program), false) => DockerCli {
            program: PathBuf::from(program),
            user_plugins: true,
        },
        (_, in_actions) => DockerCli {
            program: PathBuf::from("docker"),
            user_plugins: !in_actions,
        },
    }
}

/// `deploy-action-<run id>-<attempt>-<random>`: the process id is 1 in every action container.
fn builder_name(run: &RunContext) -> String {
    let part = |value: Option<&str>, default: &str| -> String {
        let kept: String = value
            .unwrap_or(default)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect();
        if kept.is_empty() {
            default.to_string()
        } else {
            kept
        }
    };
    format!(
        "deploy-action-{}-{}-{:08x}",
        part(run.run_id.as_deref(), "local"),
        part(run.run_attempt.as_deref(), "1"),
        rand::random::<u32>()
    )
}

/// A `tcp://` BuildKit off this machine gets the build's secrets, its context and the registry
/// login: only over mutual TLS.
fn check_endpoint_tls(endpoint: &str, tls: bool) -> Result<(), PlanError> {
    let Some(address) = endpoint.strip_prefix("tcp://") else {
        return Ok(());
    };
    let host = address.split('/').next().unwrap_or_default();
    if tls || values::is_loopback_host(host) {
        return Ok(());
    }
    Err(PlanError::new(
        "builder",
        format!(
            "`{endpoint}` is a BuildKit on another machine, and no TLS is configured: build secrets, the \
             sources and the registry login would cross the network in clear"
        ),
        "set BUILDKIT_TLS_CA, BUILDKIT_TLS_CERT and BUILDKIT_TLS_KEY (PEM, from secrets) in the step's env",
    ))
}

/// `DEPLOY_ACTION_BUILD_PATH`: which of the two build paths to take, for tests and diagnosis.
fn resolve_build_path(value: Option<&str>) -> Result<BuildPath, PlanError> {
    match value {
        None => Ok(BuildPath::Auto),
        Some("buildx") => Ok(BuildPath::Buildx),
        Some("engine") => Ok(BuildPath::Engine),
        Some(other) => Err(PlanError::new(
            "DEPLOY_ACTION_BUILD_PATH",
            format!("`{other}` is not a build path"),
            "`buildx` or `engine`, or unset to choose by what the machine offers",
        )),
    }
}

/// `labels`, without the ones the action sets: `org.opencontainers.image.revision` is the commit
/// a promotion trusts, and a branch must not forge it (nor the other standard ones).
fn user_labels(args: &InputArgs) -> Result<Vec<(String, String)>, PlanError> {
    let labels = key_values(args.labels.as_deref(), "labels", "_.-/")?;
    if let Some((key, _)) = labels
        .iter()
        .find(|(key, _)| key.starts_with("org.opencontainers.image."))
    {
        return Err(PlanError::new(
            "labels",
            format!(
                "`{key}` is a label the action sets (the image's commit, source, ref and time)"
            ),
            "labels of your own namespace, e.g. `com.example.team=backend`",
        ));
    }
    Ok(labels)
}
