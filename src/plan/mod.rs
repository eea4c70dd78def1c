//! Stage 2, plan: turn raw inputs into a validated, fully resolved `Plan`.
//!
//! Everything a user can get wrong is caught here, before any network call: each error names
//! the input and says what was expected. After this point no required value is optional.

pub mod branch_rules;
pub mod values;

use crate::inputs::{InputArgs, Inputs};
use branch_rules::RefKind;
use secrecy::SecretString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A mistake in the inputs: which input, what is wrong with it, what would be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input `{input}` {problem}")]
pub struct PlanError {
    pub input: &'static str,
    pub problem: String,
    pub expected: String,
}

impl PlanError {
    pub fn new(
        input: &'static str,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self {
            input,
            problem: problem.into(),
            expected: expected.into(),
        }
    }
}

/// What this run will do, fully resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub region: String,
    pub auth: AuthPlan,
    pub source: Source,
    /// The environment tag, e.g. `prod` or `staging`.
    pub environment: String,
    pub image: ImagePlan,
    pub rollout: Option<RolloutPlan>,
    pub dry_run: bool,
    /// `export-credentials`: the `GITHUB_ENV` file to write the credentials to.
    pub export_credentials_to: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum AuthPlan {
    /// The default credential chain: environment, profile, instance role.
    Ambient,
    WebIdentity(WebIdentity),
}

/// Assume a role with the run's GitHub OIDC token.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub role_arn: String,
    pub audience: String,
    pub session_name: String,
    pub duration_seconds: i32,
    pub token_url: String,
    pub token_request_token: SecretString,
    /// Attempts at a transient failure (throttling, 5xx, IDPCommunicationError).
    pub max_attempts: u32,
    /// No retry starts after this much time.
    pub max_retry_time: Duration,
}

/// The commit being released.
#[derive(Debug, Clone)]
pub struct Source {
    pub git_ref: String,
    pub sha: String,
    pub repository: Option<String>,
    /// Link to the workflow run, when there is one.
    pub run_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub repository: String,
    /// Registry host to push to instead of the account's ECR registry.
    pub registry_override: Option<String>,
    /// The environment tag first, then `sha-<7>`.
    pub tags: Vec<String>,
    pub build: BuildPlan,
}

#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub platforms: Vec<String>,
    pub build_args: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct RolloutPlan {
    pub cluster: String,
    pub services: Vec<String>,
    /// Empty: every container whose image is in the ECR repository.
    pub container_names: Vec<String>,
    /// `None`: do not wait for the rollout.
    pub wait_timeout: Option<Duration>,
    /// Render from this file instead of the revision each service runs.
    pub task_definition_file: Option<PathBuf>,
    pub rollback_on_failure: bool,
    pub force_new_deployment: bool,
    pub deregister_previous: bool,
    pub health_check: Option<HealthCheck>,
}

/// GET `url` after the rollout until it answers 2xx (with `expect` in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub url: String,
    pub expect: Option<String>,
    pub timeout: Duration,
}

const DEFAULT_WAIT_MINUTES: &str = "30";
const MAX_WAIT_MINUTES: u64 = 24 * 60;

/// Validate and resolve the inputs. No network, no side effects.
pub fn resolve(inputs: &Inputs) -> Result<Plan, PlanError> {
    let args = &inputs.args;
    let run = &inputs.run;

    let region = required(
        &args.aws_region,
        "aws-region",
        "an AWS region such as `us-east-2`",
    )?;
    values::check_region(&region)
        .map_err(|why| PlanError::new("aws-region", why, "an AWS region such as `us-east-2`"))?;

    let source = resolve_source(inputs)?;
    let environment = resolve_environment(args, &source.git_ref, run.head_ref.as_deref())?;
    let auth = resolve_auth(inputs, &region)?;
    let image = resolve_image(args, &environment, &source.sha)?;
    let rollout = resolve_rollout(args)?;
    let dry_run = parse_flag(&args.dry_run, "dry-run", false)?;
    let export_credentials_to =
        if parse_flag(&args.export_credentials, "export-credentials", false)? {
            let env_file = run.env_file.clone().ok_or_else(|| {
                PlanError::new(
                    "export-credentials",
                    "is true, but there is no GITHUB_ENV to export to",
                    "use it inside a workflow run, or set it to `false`",
                )
            })?;
            Some(PathBuf::from(env_file))
        } else {
            None
        };

    Ok(Plan {
        region,
        auth,
        source,
        environment,
        image,
        rollout,
        dry_run,
        export_credentials_to,
    })
}

fn required(
    value: &Option<String>,
    input: &'static str,
    expected: &str,
) -> Result<String, PlanError> {
    value
        .clone()
        .ok_or_else(|| PlanError::new(input, "is required but was not given", expected))
}

fn parse_flag(
    value: &Option<String>,
    input: &'static str,
    default: bool,
) -> Result<bool, PlanError> {
    match value {
        None => Ok(default),
        Some(text) => {
            values::parse_bool(text).map_err(|why| PlanError::new(input, why, "`true` or `false`"))
        }
    }
}

fn resolve_source(inputs: &Inputs) -> Result<Source, PlanError> {
    let run = &inputs.run;
    let git_ref = run.git_ref.clone().ok_or_else(|| {
        PlanError::new(
            "GITHUB_REF",
            "is not set",
            "run inside a workflow, or pass `--ref refs/heads/BRANCH` (the CLI reads it from git when it can)",
        )
    })?;
    let sha = run.sha.clone().unwrap_or_default();
    if sha.len() < 7 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PlanError::new(
            "GITHUB_SHA",
            format!("`{sha}` is not a commit SHA"),
            "the full hex commit id (run inside a workflow, or pass `--sha`)",
        ));
    }
    let run_url = match (&run.server_url, &run.repository, &run.run_id) {
        (Some(server), Some(repository), Some(run_id)) => {
            Some(format!("{server}/{repository}/actions/runs/{run_id}"))
        }
        _ => None,
    };
    Ok(Source {
        git_ref,
        sha: sha.to_ascii_lowercase(),
        repository: run.repository.clone(),
        run_url,
    })
}

fn resolve_environment(
    args: &InputArgs,
    git_ref: &str,
    head_ref: Option<&str>,
) -> Result<String, PlanError> {
    let rules_text = args
        .branch_tags
        .as_deref()
        .unwrap_or(branch_rules::DEFAULT_RULES);
    let rules = branch_rules::parse_rules(rules_text)?;
    let kind = RefKind::of(git_ref, head_ref);
    branch_rules::environment_tag(&rules, git_ref, &kind).ok_or_else(|| {
        let (what, example) = match &kind {
            RefKind::Tag(tag) => (format!("the tag `{tag}`"), "refs/tags/v*=prod".to_string()),
            RefKind::Branch(branch) => (
                format!("the branch `{branch}`"),
                format!("{branch}=staging"),
            ),
            RefKind::Other(other) => (
                format!("`{other}` (not a branch)"),
                format!("{other}=staging"),
            ),
        };
        PlanError::new(
            "branch-tags",
            format!("has no rule for {what}"),
            format!("a rule that matches it, e.g. `{example}`, or run on a branch"),
        )
    })
}

fn resolve_auth(inputs: &Inputs, region: &str) -> Result<AuthPlan, PlanError> {
    let args = &inputs.args;
    let Some(role_arn) = args.role_to_assume.clone() else {
        return Ok(AuthPlan::Ambient);
    };
    values::check_role_arn(&role_arn).map_err(|why| {
        PlanError::new(
            "role-to-assume",
            why,
            "a role ARN such as `arn:aws:iam::123456789012:role/GitHubActions-Deploy`",
        )
    })?;
    let default_audience = if region.starts_with("cn-") {
        "sts.amazonaws.com.cn"
    } else {
        "sts.amazonaws.com"
    };
    let audience = args
        .audience
        .clone()
        .unwrap_or_else(|| default_audience.into());
    let session_name =
        values::sanitise_session_name(&args.role_session_name.clone().unwrap_or_else(|| {
            format!(
                "deploy-action-{}",
                inputs.run.run_id.as_deref().unwrap_or("local")
            )
        }));
    let duration_seconds = match &args.role_duration_seconds {
        None => 3600,
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|seconds| (900..=43200).contains(seconds))
            .ok_or_else(|| {
                PlanError::new(
                    "role-duration-seconds",
                    format!("`{text}` is not a session length STS accepts"),
                    "whole seconds from 900 to 43200",
                )
            })?,
    };
    let max_attempts = parse_count(&args.auth_max_attempts, "auth-max-attempts", 6, 1..=20)?;
    let max_retry_seconds = parse_count(&args.auth_max_seconds, "auth-max-seconds", 90, 1..=3600)?;
    let (Some(token_url), Some(token_request_token)) = (
        inputs.run.oidc_request_url.clone(),
        inputs.run.oidc_request_token.clone(),
    ) else {
        return Err(PlanError::new(
            "role-to-assume",
            "is set, but the runner gave this job no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN are missing)",
            "add `permissions: id-token: write` to the job or workflow; pull requests from forks never get a token, \
             so run the deploy on `push`, or leave role-to-assume empty to use ambient credentials",
        ));
    };
    Ok(AuthPlan::WebIdentity(WebIdentity {
        role_arn,
        audience,
        session_name,
        duration_seconds,
        token_url,
        token_request_token,
        max_attempts,
        max_retry_time: Duration::from_secs(max_retry_seconds.into()),
    }))
}

fn parse_count(
    value: &Option<String>,
    input: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, PlanError> {
    let Some(text) = value else {
        return Ok(default);
    };
    text.parse::<u32>()
        .ok()
        .filter(|count| range.contains(count))
        .ok_or_else(|| {
            PlanError::new(
                input,
                format!(
                    "`{text}` is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
                format!("a whole number from {} to {}", range.start(), range.end()),
            )
        })
}

fn resolve_image(args: &InputArgs, environment: &str, sha: &str) -> Result<ImagePlan, PlanError> {
    let repository = required(
        &args.ecr_repository,
        "ecr-repository",
        "an ECR repository name such as `back-end`",
    )?;
    values::check_repository(&repository).map_err(|why| {
        PlanError::new(
            "ecr-repository",
            why,
            "an ECR repository name such as `back-end`",
        )
    })?;
    let registry_override = args.registry.clone();
    if let Some(registry) = &registry_override
        && (registry.contains('/') || registry.contains(char::is_whitespace))
    {
        return Err(PlanError::new(
            "registry",
            format!("`{registry}` is not a registry host"),
            "a host with an optional port, e.g. `123456789012.dkr.ecr.us-east-2.amazonaws.com`",
        ));
    }
    let tags = vec![environment.to_string(), format!("sha-{}", &sha[..7])];
    Ok(ImagePlan {
        repository,
        registry_override,
        tags,
        build: resolve_build(args)?,
    })
}

fn resolve_build(args: &InputArgs) -> Result<BuildPlan, PlanError> {
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
        return Err(PlanError::new(
            "dockerfile",
            format!("`{}` does not exist", dockerfile.display()),
            "the path of the Dockerfile relative to the workspace (default `<context>/Dockerfile`)",
        ));
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
    let mut build_args = Vec::new();
    for line in args.build_args.as_deref().unwrap_or("").lines() {
        if line.trim().is_empty() {
            continue;
        }
        let pair = line.split_once('=').filter(|(key, _)| {
            let key = key.trim();
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let Some((key, value)) = pair else {
            return Err(PlanError::new(
                "build-args",
                format!("`{line}` is not KEY=VALUE"),
                "one KEY=VALUE a line, KEY made of letters, digits and `_`",
            ));
        };
        build_args.push((key.trim().to_string(), value.to_string()));
    }
    Ok(BuildPlan {
        context,
        dockerfile,
        platforms,
        build_args,
    })
}

fn resolve_rollout(args: &InputArgs) -> Result<Option<RolloutPlan>, PlanError> {
    let services = values::split_list(args.ecs_services.as_deref().unwrap_or(""));
    let cluster = args.ecs_cluster.clone();
    let cluster = match (cluster, services.is_empty()) {
        (None, true) => return Ok(None),
        (Some(cluster), false) => cluster,
        (Some(_), true) => {
            return Err(PlanError::new(
                "ecs-services",
                "is empty but ecs-cluster is set",
                "the services to roll, one a line or comma-separated (or leave ecs-cluster empty to only build and push)",
            ));
        }
        (None, false) => {
            return Err(PlanError::new(
                "ecs-cluster",
                "is empty but ecs-services is set",
                "the name or ARN of the services' cluster",
            ));
        }
    };
    for name in std::iter::once(&cluster).chain(&services) {
        let plain = name.starts_with("arn:")
            || name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain || name.len() > 255 {
            let input = if *name == cluster {
                "ecs-cluster"
            } else {
                "ecs-services"
            };
            return Err(PlanError::new(
                input,
                format!("`{name}` is not an ECS name"),
                "names of letters, digits, `-` and `_` (up to 255), or ARNs",
            ));
        }
    }
    let wait = parse_flag(&args.wait, "wait", true)?;
    let minutes = args
        .wait_timeout_minutes
        .as_deref()
        .unwrap_or(DEFAULT_WAIT_MINUTES);
    let timeout = values::parse_minutes(minutes, 1..=MAX_WAIT_MINUTES).map_err(|why| {
        PlanError::new(
            "wait-timeout-minutes",
            why,
            format!("whole minutes from 1 to {MAX_WAIT_MINUTES}"),
        )
    })?;
    let health_check = match &args.health_check_url {
        None => None,
        Some(url) => {
            let parsed = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            if parsed.is_none() {
                return Err(PlanError::new(
                    "health-check-url",
                    format!("`{url}` is not an http(s) URL"),
                    "e.g. https://staging.example.org/health",
                ));
            }
            if !wait {
                return Err(PlanError::new(
                    "health-check-url",
                    "is set but wait is false",
                    "a health check runs after the rollout completes: set wait to true, or drop the URL",
                ));
            }
            let seconds = parse_count(
                &args.health_check_timeout_seconds,
                "health-check-timeout-seconds",
                120,
                1..=3600,
            )?;
            Some(HealthCheck {
                url: url.clone(),
                expect: args.health_check_expect.clone(),
                timeout: Duration::from_secs(seconds.into()),
            })
        }
    };
    let task_definition_file = match &args.task_definition {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                PlanError::new(
                    "task-definition",
                    format!("`{path}` cannot be read ({error})"),
                    "the path of a JSON file as `aws ecs describe-task-definition` prints it",
                )
            })?;
            values::task_definition_document(&text).map_err(|why| {
                PlanError::new(
                    "task-definition",
                    format!("`{path}` {why}"),
                    "the JSON `aws ecs describe-task-definition` prints, with or without the taskDefinition wrapper",
                )
            })?;
            Some(PathBuf::from(path))
        }
    };
    Ok(Some(RolloutPlan {
        cluster,
        services,
        task_definition_file,
        container_names: values::split_list(args.container_names.as_deref().unwrap_or("")),
        wait_timeout: wait.then_some(timeout),
        rollback_on_failure: parse_flag(&args.rollback_on_failure, "rollback-on-failure", true)?,
        force_new_deployment: parse_flag(
            &args.force_new_deployment,
            "force-new-deployment",
            false,
        )?,
        deregister_previous: parse_flag(&args.deregister_previous, "deregister-previous", false)?,
        health_check,
    }))
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "environment:  {}", self.environment)?;
        writeln!(
            f,
            "commit:       {} ({})",
            self.source.sha, self.source.git_ref
        )?;
        writeln!(f, "region:       {}", self.region)?;
        match &self.auth {
            AuthPlan::Ambient => writeln!(f, "credentials:  ambient (default credential chain)")?,
            AuthPlan::WebIdentity(identity) => writeln!(
                f,
                "credentials:  assume {} with the GitHub OIDC token (audience {}, session {}, {} s, renewed before expiry)",
                identity.role_arn,
                identity.audience,
                identity.session_name,
                identity.duration_seconds
            )?,
        }
        if self.export_credentials_to.is_some() {
            writeln!(
                f,
                "export:       AWS credentials to GITHUB_ENV for later steps"
            )?;
        }
        let registry = self
            .image
            .registry_override
            .as_deref()
            .unwrap_or("<account's ECR registry>");
        for tag in &self.image.tags {
            writeln!(
                f,
                "push:         {registry}/{}:{tag}",
                self.image.repository
            )?;
        }
        writeln!(
            f,
            "build:        {} (dockerfile {}) for {}",
            self.image.build.context.display(),
            self.image.build.dockerfile.display(),
            self.image.build.platforms.join(", ")
        )?;
        match &self.rollout {
            None => writeln!(f, "deploy:       none (no ecs-cluster given)")?,
            Some(rollout) => {
                let containers = if rollout.container_names.is_empty() {
                    format!("containers using {}", self.image.repository)
                } else {
                    rollout.container_names.join(", ")
                };
                writeln!(
                    f,
                    "deploy:       {} in cluster {} ({containers}), pinned by digest",
                    rollout.services.join(", "),
                    rollout.cluster
                )?;
                match rollout.wait_timeout {
                    Some(timeout) => {
                        writeln!(f, "wait:         up to {} minutes", timeout.as_secs() / 60)?
                    }
                    None => writeln!(f, "wait:         no")?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
