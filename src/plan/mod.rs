//! Stage 2, plan: turn raw inputs into a validated, fully resolved `Plan`.
//!
//! Everything a user can get wrong is caught here, before any network call: each error names
//! the input and says what was expected. After this point no required value is optional.

mod auth;
pub mod branch_rules;
pub mod containers;
mod display;
mod github;
mod guards;
mod image;
mod rollout;
mod sentry;
pub mod strategy;
pub mod values;

use crate::inputs::{InputArgs, Inputs, RunContext};
use branch_rules::{PullRequestTag, RefKind};
pub use github::{DeploymentPlan, GitHubPlan, LOG_LEVELS};
use secrecy::SecretString;
pub use sentry::SentryPlan;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::error::PlanError;
pub use rollout::{OVERRIDES_LIMIT, overrides_length};

/// What the command line asked for beyond the inputs: a typed value, never written back into
/// the raw inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Intent {
    /// As the inputs say (`mode`, `dry-run`): the action, and `deploy-action deploy`.
    #[default]
    AsGiven,
    /// `deploy-action promote`: promote, whatever `mode` says.
    Promote,
    /// `deploy-action plan`: a dry run, whatever `dry-run` says.
    DryRun,
    /// `status`, `logs`, `rollback`, `run`: an operation on the services; nothing is built, so
    /// no build context needs to be there.
    Operate,
}

/// How the record of the run is shown where there is no runner to read the file commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The report for people, on stdout.
    #[default]
    Text,
    /// The record as JSON on stdout, the log on stderr: for scripts.
    Json,
}

/// Where the report goes: the runner's file commands (when there is a runner) and the format of
/// the record on stdout. Known before the inputs are checked, so a run that fails at the plan
/// still reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportPlan {
    /// `GITHUB_OUTPUT`.
    pub output_file: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY`.
    pub summary_file: Option<PathBuf>,
    pub format: OutputFormat,
}

impl ReportPlan {
    pub fn of(run: &RunContext, format: OutputFormat) -> Self {
        Self {
            output_file: run.output_file.as_ref().map(PathBuf::from),
            summary_file: run.summary_file.as_ref().map(PathBuf::from),
            format,
        }
    }
}

/// What this run will do, fully resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    pub region: String,
    pub auth: AuthPlan,
    pub source: Source,
    /// The environment tag the branch pushes, e.g. `prod` or `staging` (not the config file's
    /// environment table, nor the GitHub environment: see the glossary in CONTRIBUTING).
    pub environment_tag: String,
    /// The repository and its tags.
    pub image: ImagePlan,
    /// Build, promote or roll back.
    pub work: Work,
    pub rollout: Option<RolloutPlan>,
    pub dry_run: bool,
    /// `export-credentials`: the `GITHUB_ENV` file to write the credentials to.
    pub export_credentials_to: Option<PathBuf>,
    pub github: Option<GitHubPlan>,
    /// The Sentry release and deploy, when `sentry-org` is set.
    pub sentry: Option<SentryPlan>,
    /// What is allowed but probably a mistake: `(input, what to do instead)`, shown as warnings.
    pub warnings: Vec<(&'static str, String)>,
    /// The config file this plan read, when there was one.
    pub config: Option<ConfigUse>,
}

impl Plan {
    /// The commit whose checks the checks gate waits for when building: a pull request's head,
    /// else the run's commit. (A promotion's is the promoted image's commit, known later.)
    pub fn checks_commit(&self) -> &str {
        self.github
            .as_ref()
            .and_then(|g| g.checks_commit.as_deref())
            .unwrap_or(&self.source.sha)
    }
}

/// What the config file contributed: its path, the environment it chose, and where each
/// setting came from (`(input, "deploy.toml [environments.prod] line 9" or "input")`).
#[derive(Debug, Clone)]
pub struct ConfigUse {
    pub path: PathBuf,
    pub environment: String,
    pub origins: Vec<(&'static str, String)>,
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
    /// `https://github.com/ORG/REPO`, when known.
    pub repository_url: Option<String>,
    /// When the commit was made, when known.
    pub commit_time: Option<String>,
    /// Link to the workflow run, when there is one.
    pub run_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub repository: String,
    /// Registry host to push to instead of the account's ECR registry.
    pub registry_override: Option<String>,
    /// The account of an ECR registry named in `registry` (maybe another account's): every ECR
    /// call about the repository passes it as `registryId`.
    pub registry_id: Option<String>,
    /// The environment tag first, then `sha-<7>`, then `extra-tags`.
    pub tags: Vec<String>,
    /// `create-repository`: create the ECR repository when it is missing.
    pub create_repository: bool,
    /// `lifecycle-policy`: the JSON policy text for a repository we create.
    pub lifecycle_policy: Option<String>,
    pub immutable_tags: ImmutableTags,
    /// Built from a checkout with uncommitted changes (`--allow-dirty`): `tags[1]` is
    /// `dirty-<7>-<fingerprint>`, and the image carries no commit label.
    pub uncommitted: bool,
}

impl ImagePlan {
    /// The tag that moves from build to build (`prod`, `staging`).
    pub fn environment_tag(&self) -> &str {
        &self.tags[0]
    }

    /// Whether the repository is reached through ECR's API (the account's registry, or an ECR
    /// host in `registry`); otherwise it is a registry on this machine, spoken to over its HTTP API.
    pub fn through_ecr(&self) -> bool {
        self.registry_override.is_none() || self.registry_id.is_some()
    }

    /// `sha-<7>`: the tag that names the commit and never moves (`dirty-<7>-<fingerprint>` for
    /// a build of uncommitted changes, which no commit names).
    pub fn sha_tag(&self) -> &str {
        &self.tags[1]
    }
}

/// What the run does (`mode`): release an image — built here, or one already pushed — or put
/// the services back.
#[derive(Debug, Clone)]
pub enum Work {
    /// Build and push the image, then roll it out.
    Build(Box<BuildPlan>),
    /// Retag an image already in the repository (a tag such as `sha-abc1234`, or a digest),
    /// then roll it out.
    Promote {
        from: String,
        /// `verify-promoted-commit`: the image's revision label must be in this ref's history.
        verify: bool,
    },
    /// `mode: rollback`: no image at all; each service goes back to the revision its current
    /// one replaced (the `deploy-action:replaces` tag).
    Rollback,
}

/// What to do when the repository's tags are IMMUTABLE, so `staging`/`prod` cannot move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImmutableTags {
    Fail,
    /// Push only the `sha-` tag (and extra tags) and deploy by digest.
    SkipMoving,
}

#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub target: Option<String>,
    pub platforms: Vec<String>,
    pub build_args: Vec<(String, String)>,
    /// User labels; the OCI labels are added when building.
    pub labels: Vec<(String, String)>,
    /// `(secret id, environment variable holding it)`.
    pub secrets: Vec<(String, String)>,
    pub provenance: bool,
    pub cache: CacheMode,
    /// The runner passed the cache service's URL and token (`type=gha` can work).
    pub gha_cache: Option<crate::inputs::GhaCache>,
    pub builder: Option<BuilderChoice>,
    pub path: BuildPath,
    pub docker: DockerCli,
    /// `setup-qemu`: may register qemu (a privileged container) when the builder lacks a platform.
    pub setup_qemu: bool,
    /// TLS for `builder: tcp://…`, required when the endpoint is not on this machine.
    pub buildkit_tls: Option<BuildkitTls>,
    /// The name of a buildx builder this run creates: unique per run, attempt and process, so
    /// jobs sharing a self-hosted runner's daemon never share (or remove) each other's.
    pub builder_name: String,
}

pub use crate::inputs::BuildkitTls;

/// Which docker CLI runs, and whether it may load the user's CLI plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerCli {
    pub program: PathBuf,
    /// Plugins from `$HOME/.docker/cli-plugins`. Never in a runner: an earlier step of the job
    /// can write there (the container's `HOME` is the runner's `_github_home`), and a plugin
    /// named `docker-buildx` would run with our registry login.
    pub user_plugins: bool,
}

/// Which build path to take: buildx when the machine has it (GitHub's runners, the action's
/// image), else BuildKit through the engine; `DEPLOY_ACTION_BUILD_PATH` forces one, so every
/// machine can test both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildPath {
    Auto,
    Buildx,
    Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// gha inside a runner that offers it, else registry.
    Auto,
    Gha,
    Registry,
    None,
}

/// `builder`: build somewhere else than on the runner's engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderChoice {
    /// An existing buildx builder.
    Named(String),
    /// A BuildKit endpoint (`tcp://…`, `docker-container://…`): a remote-driver builder is
    /// created for the run and removed afterwards.
    Endpoint(String),
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
    /// Crashed containers' log lines in the summary too (they are application output: in a
    /// public repository the summary is world-readable).
    pub evidence_in_summary: bool,
    pub force_new_deployment: bool,
    /// Under ECS's own strategies: wait out the bake too.
    pub wait_through_bake: bool,
    pub deregister_previous: bool,
    pub health_check: Option<HealthCheck>,
    /// `test-traffic-url`: checked at a pause hook before production traffic.
    pub test_traffic_check: Option<HealthCheck>,
    /// What the new revision changes in containers besides the image.
    pub edits: containers::ContainerEdits,
    /// `pre-deploy-command`: run once on the new revision before any service is updated.
    pub pre_deploy: Option<PreDeploy>,
    /// `deployment-strategy` and its settings: set on each service with its update.
    pub strategy: Option<strategy::StrategyChange>,
}

/// A one-off command before the rollout (migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreDeploy {
    /// Exec form: the words of the command.
    pub command: Vec<String>,
    /// The command as the user wrote it, when it was one string (not a JSON array): what a
    /// shell `-c` entryPoint gets, exactly.
    pub text: Option<String>,
    /// `None`: the first container the rollout points at the image.
    pub container: Option<String>,
    pub timeout: Duration,
}

/// GET `url` after the rollout until it answers 2xx (with `expect` in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub url: String,
    pub expect: Option<String>,
    pub timeout: Duration,
}

/// Validate and resolve the inputs, after the config file (if any). No network, no side
/// effects. A bad value the file set says where in the file it is.
pub fn resolve(inputs: &Inputs, intent: Intent) -> Result<Plan, PlanError> {
    resolve_in(inputs, intent, None)
}

/// [`resolve`] with the environment chosen by name (`--env`) instead of by the ref.
pub fn resolve_in(
    inputs: &Inputs,
    intent: Intent,
    environment: Option<&str>,
) -> Result<Plan, PlanError> {
    guards::check_encoding_and_size(&inputs.args)?;
    let applied = crate::config::apply(inputs, environment)?;
    resolve_applied(&applied, intent).map_err(|mut error| {
        if let Some(at) = crate::config::locate(&applied, error.input) {
            error.problem.push_str(&at);
        }
        error
    })
}

fn resolve_applied(applied: &crate::config::Applied, intent: Intent) -> Result<Plan, PlanError> {
    let inputs = &applied.inputs;
    let args = &inputs.args;
    let run = &inputs.run;
    if let Some(workspace) = &run.workspace {
        guards::check_paths_inside(args, workspace)?;
    }

    let region = required(
        &args.aws_region,
        "aws-region",
        "an AWS region such as `us-east-2`, as an input or in deploy.toml's [defaults]",
    )?;
    values::check_region(&region)
        .map_err(|why| PlanError::new("aws-region", why, "an AWS region such as `us-east-2`"))?;

    guards::check_trigger(
        run.event_name.as_deref(),
        parse_flag(
            &args.allow_untrusted_trigger,
            "allow-untrusted-trigger",
            false,
        )?,
    )?;
    let source = resolve_source(inputs, intent)?;
    let environment = match &applied.environment {
        Some((_, tag)) => tag.clone(),
        // An operation without a ref names its services itself; no environment tag is used.
        None if source.git_ref.is_empty() => "none".to_string(),
        None => resolve_environment(args, &source.git_ref)?,
    };
    let auth = match intent {
        // Operations are a person's, at a terminal, with their own credentials: the role the
        // config file names trusts the workflow's OIDC token, which a terminal does not have.
        Intent::Operate => AuthPlan::Ambient,
        _ => auth::resolve_auth(inputs, &region)?,
    };
    let (image, work) = image::resolve_image(
        args,
        run,
        &image::EnvironmentTags {
            this: &environment,
            all: &environment_tags(args, applied)?,
        },
        &source.sha,
        intent,
    )?;
    let rollout = rollout::resolve_rollout(args, &applied.containers)?;
    if matches!(work, Work::Rollback) && rollout.is_none() {
        return Err(PlanError::new(
            "mode",
            "is rollback, but no service is named",
            "ecs-cluster and ecs-services: the services to put back on their previous revision",
        ));
    }
    let dry_run = parse_flag(&args.dry_run, "dry-run", false)? || intent == Intent::DryRun;
    // A dry run changes nothing, and hands no credentials to later steps either.
    let export_credentials_to =
        if parse_flag(&args.export_credentials, "export-credentials", false)? && !dry_run {
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

    let compare_commits = matches!(work, Work::Promote { verify: true, .. });
    let github = github::resolve_github(inputs, &environment, compare_commits)?;
    let sentry = sentry::resolve_sentry(inputs, &environment)?;
    let mut warnings = warnings_about(&work);
    warnings.extend(secret_looking_variables(rollout.as_ref()));
    warnings.extend(sentry::missing_token(inputs));
    github::check_log_level(inputs)?;
    Ok(Plan {
        region,
        auth,
        source,
        environment_tag: environment,
        image,
        work,
        rollout,
        dry_run,
        export_credentials_to,
        github,
        sentry,
        warnings,
        config: config_use(applied),
    })
}

fn config_use(applied: &crate::config::Applied) -> Option<ConfigUse> {
    let path = applied.path.clone()?;
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Some(ConfigUse {
        environment: applied
            .environment
            .as_ref()
            .map(|(name, _)| name.clone())
            .unwrap_or_default(),
        origins: applied
            .origins
            .iter()
            .map(|(input, origin)| {
                let said = match origin {
                    crate::config::SettingOrigin::Input => "input".to_string(),
                    crate::config::SettingOrigin::File { table, line } => {
                        format!("{file} [{table}] line {line}")
                    }
                };
                (*input, said)
            })
            .collect(),
        path,
    })
}

/// Build args whose names look secret: they land in the image's history and in `ps`.
fn warnings_about(work: &Work) -> Vec<(&'static str, String)> {
    let Work::Build(build) = work else {
        return Vec::new();
    };
    build
        .build_args
        .iter()
        .filter(|(name, _)| values::looks_secret(name))
        .map(|(name, _)| {
            (
                "build-args",
                format!(
                    "`{name}` looks like a secret: build args stay in the image's history and show in `ps`; \
                     pass it with `build-secrets: {}={name}` and `RUN --mount=type=secret,id={}` instead",
                    name.to_lowercase(),
                    name.to_lowercase()
                ),
            )
        })
        .collect()
}

/// Literal environment variables whose names look secret: anyone who can read the task
/// definition reads their values.
fn secret_looking_variables(rollout: Option<&RolloutPlan>) -> Vec<(&'static str, String)> {
    let Some(rollout) = rollout else {
        return Vec::new();
    };
    let edits = &rollout.edits;
    std::iter::once(&edits.selected)
        .chain(edits.named.iter().map(|(_, changes)| changes))
        .flat_map(|changes| changes.environment.iter())
        .filter(|(name, _)| values::looks_secret(name))
        .map(|(name, _)| {
            (
                "environment-variables",
                format!(
                    "`{name}` looks like a secret: a literal variable is readable by anyone who can describe the \
                     task definition; store it in Secrets Manager or SSM and set it with `secrets: {name}=ARN`"
                ),
            )
        })
        .collect()
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

/// The commit an operation stands for when it names no commit: status, logs, rollback and run
/// act on services, not on a commit.
const NO_COMMIT: &str = "0000000000000000000000000000000000000000";

fn resolve_source(inputs: &Inputs, intent: Intent) -> Result<Source, PlanError> {
    let run = &inputs.run;
    // A rollback at 3 a.m. is run from wherever the person is: an operation on named services
    // (`--env`, or `--ecs-cluster`/`--ecs-services`) needs no checkout, no ref and no commit.
    let operation = intent == Intent::Operate;
    // At a terminal the commit is a flag (or the checkout's HEAD): name what a person types.
    let sha_input = if run.in_actions {
        "GITHUB_SHA"
    } else {
        "--sha"
    };
    let git_ref = match run.git_ref.clone() {
        Some(git_ref) => git_ref,
        None if operation => String::new(),
        None if run.in_actions => {
            return Err(PlanError::new(
                "GITHUB_REF",
                "is not set",
                "the runner sets it for every job; set it yourself only outside a workflow",
            ));
        }
        None => {
            return Err(PlanError::new(
                "--ref",
                "is not given, and this is not a git checkout on a branch to read it from",
                "`--ref refs/heads/BRANCH` (or run inside the checkout, on a branch)",
            ));
        }
    };
    let sha = match run.sha.clone() {
        None if operation => NO_COMMIT.to_string(),
        None if !run.in_actions => {
            return Err(PlanError::new(
                sha_input,
                "is not given, and this is not a git checkout to read HEAD from",
                "the full commit id, `--sha $(git rev-parse HEAD)` (or run inside the checkout)",
            ));
        }
        sha => sha.unwrap_or_default(),
    };
    // The full id, always: it is the commit label promotion checks, and `sha-<7>` is cut from it.
    if !matches!(sha.len(), 40 | 64) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PlanError::new(
            sha_input,
            format!("`{sha}` is not a full commit id"),
            "the full hex commit id, 40 characters (`git rev-parse HEAD`), not a short one",
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
        commit_time: run.commit_time.clone(),
        repository_url: match (&run.server_url, &run.repository) {
            (Some(server), Some(repository)) => Some(format!("{server}/{repository}")),
            _ => None,
        },
        run_url,
    })
}

/// Every environment tag a run of this repository can push: the `branch-tags` rules' and the
/// config file's environments'.
fn environment_tags(
    args: &InputArgs,
    applied: &crate::config::Applied,
) -> Result<Vec<String>, PlanError> {
    let rules_text = args
        .branch_tags
        .as_deref()
        .unwrap_or(branch_rules::DEFAULT_RULES);
    let mut tags: Vec<String> = branch_rules::parse_rules(rules_text)?
        .into_iter()
        .map(|rule| rule.tag)
        .collect();
    tags.extend(applied.environment_tags.iter().cloned());
    Ok(tags)
}

fn resolve_environment(args: &InputArgs, git_ref: &str) -> Result<String, PlanError> {
    let rules_text = args
        .branch_tags
        .as_deref()
        .unwrap_or(branch_rules::DEFAULT_RULES);
    let rules = branch_rules::parse_rules(rules_text)?;
    let pull_requests = match args.pull_request_tag.as_deref() {
        None | Some("catch-all") => PullRequestTag::CatchAll,
        Some("number") => PullRequestTag::Number,
        Some(other) => {
            return Err(PlanError::new(
                "pull-request-tag",
                format!("`{other}` is not a choice"),
                "`catch-all` (the `*` rule's tag) or `number` (pr-<number>)",
            ));
        }
    };
    let kind = RefKind::of(git_ref);
    branch_rules::environment_tag(&rules, git_ref, &kind, pull_requests).ok_or_else(|| {
        let (what, example) = match &kind {
            RefKind::Tag(tag) => (format!("the tag `{tag}`"), "refs/tags/v*=prod".to_string()),
            RefKind::Branch(branch) => (
                format!("the branch `{branch}`"),
                format!("{branch}=staging"),
            ),
            RefKind::PullRequest(number) => (
                format!("pull request #{number} (pull requests never match a branch rule)"),
                "*=staging".to_string(),
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz_tests;
