//! Stage 1, inputs: the raw values a user gave, exactly as they arrived.
//!
//! A container action receives its inputs as `INPUT_<NAME>` environment variables with the
//! hyphens of the name kept (`INPUT_AWS-REGION`): that is the only spelling the runner sets
//! (actions/runner `Handler.AddInputsToEnvironment`) and the only one `@actions/core`
//! `getInput` reads. An underscore twin (`INPUT_AWS_REGION`) can only come from an earlier
//! step's `GITHUB_ENV` line — code that is not the workflow author's — so it is never read.
//! The CLI takes the same names as `--flags`. Nothing is validated here: that is `plan`'s
//! job, so every mistake is reported in one place.

use secrecy::SecretString;

/// Declares the action's inputs once: the CLI flags, the `INPUT_*` reader and the list of
/// names all come from this table, so they cannot drift apart.
macro_rules! action_inputs {
    ($( $(#[$meta:meta])* $field:ident => $name:literal ),* $(,)?) => {
        /// The action's inputs, as flags (`--aws-region`) or as `INPUT_AWS-REGION`.
        #[derive(clap::Args, Debug, Default, Clone, PartialEq, Eq)]
        pub struct InputArgs {
            $( $(#[$meta])* #[arg(long = $name, value_name = "VALUE")] pub $field: Option<String>, )*
        }

        impl InputArgs {
            /// Every input name, as action.yml spells it.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// Read the inputs the way the runner passes them to a container action.
            pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
                Self { $( $field: read_input(env, $name), )* }
            }

            /// Every input with its value, in declaration order.
            pub fn values(&self) -> Vec<(&'static str, Option<&str>)> {
                vec![$( ($name, self.$field.as_deref()), )*]
            }

            /// Fill what `self` leaves unset from `fallback` (flags win over `INPUT_*`).
            pub fn or(self, fallback: InputArgs) -> Self {
                Self { $( $field: self.$field.or(fallback.$field), )* }
            }
        }
    };
}

action_inputs! {
    /// The config file (TOML) [default: .github/deploy.toml when it exists].
    config => "config",
    /// AWS region, e.g. us-east-2 (required: as an input or in the config file).
    aws_region => "aws-region",
    /// IAM role ARN to assume with the GitHub OIDC token; empty uses ambient credentials.
    role_to_assume => "role-to-assume",
    /// OIDC audience [default: sts.amazonaws.com].
    audience => "audience",
    /// STS session name [default: deploy-action-<run id>].
    role_session_name => "role-session-name",
    /// Session length in seconds [default: 3600].
    role_duration_seconds => "role-duration-seconds",
    /// Attempts at getting credentials when failures are transient [default: 6].
    auth_max_attempts => "auth-max-attempts",
    /// Stop retrying transient auth failures after this many seconds [default: 90].
    auth_max_seconds => "auth-max-seconds",
    /// Write the AWS credentials to GITHUB_ENV for later steps: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    export_credentials => "export-credentials",
    /// ECR repository name, e.g. back-end (required: as an input or in the config file).
    ecr_repository => "ecr-repository",
    /// Registry host override [default: the ECR registry of the account].
    registry => "registry",
    /// Branch glob → environment tag, one `glob=tag` a line; an exact branch name beats globs, then the first glob wins [default: main=prod, *=staging].
    branch_tags => "branch-tags",
    /// A pull request's tag: `catch-all` (default: the `*` rule's) or `number` (pr-<number>).
    pull_request_tag => "pull-request-tag",
    /// Run on pull_request_target, workflow_run or issue_comment: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    allow_untrusted_trigger => "allow-untrusted-trigger",
    /// Build context [default: .].
    context => "context",
    /// Dockerfile path [default: <context>/Dockerfile].
    dockerfile => "dockerfile",
    /// Target platforms, comma-separated [default: linux/arm64].
    platforms => "platforms",
    /// Build arguments, one KEY=VALUE a line.
    build_args => "build-args",
    /// `build` (default) or `promote`: retag an image already pushed instead of building.
    mode => "mode",
    /// With mode promote: the tag (e.g. sha-abc1234, staging) or digest to promote.
    promote_from => "promote-from",
    /// With mode promote: the image's commit (its revision label) must be in this ref's history: true or false [default: true].
    verify_promoted_commit => "verify-promoted-commit",
    /// More tags to push, one a line (not another environment's tag, sha-… or buildcache-…).
    extra_tags => "extra-tags",
    /// Build stage to stop at (`--target`).
    target => "target",
    /// Image labels, one KEY=VALUE a line (OCI source/revision/created/ref.name are added; org.opencontainers.image.* keys are refused).
    labels => "labels",
    /// Build secrets, one `id=ENV_VAR` a line, for `RUN --mount=type=secret,id=…`.
    build_secrets => "build-secrets",
    /// Register qemu (one privileged container, pinned by digest) when the builder cannot run a
    /// target platform: true or false [default: true].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    setup_qemu => "setup-qemu",
    /// Build attestations (they turn the image into an index): true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    provenance => "provenance",
    /// Build cache: auto, gha, registry or none [default: auto].
    cache => "cache",
    /// An existing buildx builder, or a BuildKit endpoint (tcp://…, docker-container://…).
    builder => "builder",
    /// Create the ECR repository when it is missing: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    create_repository => "create-repository",
    /// JSON file with the lifecycle policy of a repository we create.
    lifecycle_policy => "lifecycle-policy",
    /// With IMMUTABLE tags: `fail` (default) or `skip-moving` (push only sha- and extra tags).
    immutable_tags => "immutable-tags",
    /// ECS cluster; empty means build and push only.
    ecs_cluster => "ecs-cluster",
    /// ECS services to roll, one a line or comma-separated.
    ecs_services => "ecs-services",
    /// Containers to point at the new image [default: those whose image is in ecr-repository].
    container_names => "container-names",
    /// JSON file to render the new revision from instead of the one each service runs.
    task_definition => "task-definition",
    /// Wait until the new revision serves: true or false [default: true].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    wait => "wait",
    /// Give up waiting after this many minutes [default: 30].
    wait_timeout_minutes => "wait-timeout-minutes",
    /// Put the previous revision back when the rollout fails: true or false [default: true].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    rollback_on_failure => "rollback-on-failure",
    /// A command run once as a one-off task of the new revision before any service moves to it,
    /// e.g. `python manage.py migrate` (or a JSON array); a failure stops the deploy.
    pre_deploy_command => "pre-deploy-command",
    /// The container that runs it [default: the first container the rollout updates].
    pre_deploy_container => "pre-deploy-container",
    /// How long it may take, in minutes (1 to 240) [default: 15].
    pre_deploy_timeout_minutes => "pre-deploy-timeout-minutes",
    /// Variables the new revision sets in every container it updates, one NAME=value a line.
    environment_variables => "environment-variables",
    /// Secrets it sets there by reference, one NAME=valueFrom a line (Secrets Manager or SSM ARN).
    secrets => "secrets",
    /// Variable or secret names it removes there (a list).
    unset => "unset",
    /// Put crashed containers' last log lines in the job summary too: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    evidence_in_summary => "evidence-in-summary",
    /// Start a new deployment even when the service already runs this image [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    force_new_deployment => "force-new-deployment",
    /// Under ECS's own blue/green, linear or canary strategy: wait until the bake ends and the
    /// deployment is SUCCESSFUL, not only until production traffic is on the new revision: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    wait_through_bake => "wait-through-bake",
    /// ECS's deployment strategy for the services: rolling, blue-green, linear or canary, set on
    /// each service with its update (its other deployment settings kept) [default: the service's own].
    deployment_strategy => "deployment-strategy",
    /// Under blue-green, linear or canary: minutes ECS keeps the previous revision running after
    /// production traffic moved, rolling back on an alarm (0 to 1440) [default: the service's].
    bake_time_minutes => "bake-time-minutes",
    /// Under canary: the share of production traffic moved first, in percent (0.1 to 100) [ECS default: 5].
    canary_percent => "canary-percent",
    /// Under canary: minutes the first share bakes before the rest moves (0 to 1440) [ECS default: 10].
    canary_bake_minutes => "canary-bake-minutes",
    /// Under linear: the share of production traffic each step moves, in percent (3 to 100) [ECS default: 10].
    linear_step_percent => "linear-step-percent",
    /// Under linear: minutes each step bakes before the next (0 to 1440) [ECS default: 6].
    linear_step_bake_minutes => "linear-step-bake-minutes",
    /// CloudWatch alarms that make ECS roll the deployment back, one a line (added to the
    /// service's own alarms, which are kept).
    deployment_alarms => "deployment-alarms",
    /// Deregister the replaced revision after a successful rollout (a rollback registers it again) [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    deregister_previous => "deregister-previous",
    /// After the rollout, GET this URL until it answers 2xx.
    health_check_url => "health-check-url",
    /// Text the health check's body must contain, e.g. the deployed commit.
    health_check_expect => "health-check-expect",
    /// Give the health check this many seconds [default: 120].
    health_check_timeout_seconds => "health-check-timeout-seconds",
    /// Under blue-green, canary or linear with a PAUSE hook before production traffic: at the
    /// pause, GET this URL (the new revision through the test listener) until it answers 2xx
    /// (and health-check-expect), then continue the deployment; failing that, roll it back.
    test_traffic_url => "test-traffic-url",
    /// Token for the GitHub API [action default: the job's github.token].
    github_token => "github-token",
    /// Create a GitHub deployment with statuses: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    github_deployment => "github-deployment",
    /// The GitHub environment name [default: production for prod, else the environment tag].
    github_environment => "github-environment",
    /// The environment's URL, shown on the deployment.
    environment_url => "environment-url",
    /// Before pushing, wait until every other check on the commit passed: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    wait_for_checks => "wait-for-checks",
    /// Checks gate: only these checks (names, one a line) must pass, each once it reports.
    required_checks => "required-checks",
    /// Give up waiting for checks after this many minutes [default: 30].
    checks_timeout_minutes => "checks-timeout-minutes",
    /// Sentry organization slug: turns on the Sentry release and deploy (token from SENTRY_AUTH_TOKEN).
    sentry_org => "sentry-org",
    /// Sentry project slugs the release belongs to, one a line.
    sentry_projects => "sentry-projects",
    /// Sentry's address, for self-hosted Sentry [default: https://sentry.io/].
    sentry_url => "sentry-url",
    /// The Sentry release version [default: the full commit SHA the image was built from].
    sentry_version => "sentry-version",
    /// The Sentry environment of the deploy [default: the GitHub environment name].
    sentry_environment => "sentry-environment",
    /// Log verbosity: error, warn, info, debug or trace [default: info].
    log_level => "log-level",
    /// Print the plan and change nothing: true or false [default: false].
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    dry_run => "dry-run",
}

/// `INPUT_AWS-REGION` (upper case, spaces as `_`, hyphens kept, as the runner spells it); an
/// empty value counts as unset, as it does for an input the workflow did not give (every
/// action.yml input has `default: ""`).
fn read_input(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    let key = format!("INPUT_{}", name.to_uppercase().replace(' ', "_"));
    env(&key).filter(|value| !value.is_empty())
}

/// The GitHub Actions cache service a step can use. A container action gets
/// `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_RESULTS_URL` and — where the v1 service exists —
/// `ACTIONS_CACHE_URL`, but never `ACTIONS_CACHE_SERVICE_V2` (actions/runner
/// `ContainerActionHandler`), so buildx cannot tell the version itself: github.com serves only
/// v2 since April 2025 (found through `ACTIONS_RESULTS_URL`), GitHub Enterprise Server only v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GhaCache {
    V1,
    V2,
}

impl GhaCache {
    pub fn offered(token: bool, results_url: bool, cache_url: bool) -> Option<Self> {
        match (token, results_url, cache_url) {
            (true, true, _) => Some(GhaCache::V2),
            (true, false, true) => Some(GhaCache::V1),
            _ => None,
        }
    }

    /// buildx's `version=` attribute.
    pub fn version(self) -> u8 {
        match self {
            GhaCache::V1 => 1,
            GhaCache::V2 => 2,
        }
    }
}

/// What the runner tells a step about the run it belongs to.
/// A checkout's changes that no commit holds: a build of it is not the commit it sits on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Uncommitted {
    /// `git status --porcelain` lines (`M src/app.py`, `?? notes.txt`).
    pub files: Vec<String>,
    /// 8 hex digits of a SHA-256 over the changes: one tag per content.
    pub fingerprint: String,
}

#[derive(Debug, Default, Clone)]
pub struct RunContext {
    /// `GITHUB_ACTIONS=true`: we are a step of a workflow run.
    pub in_actions: bool,
    pub git_ref: Option<String>,
    /// The branch of a pull request (`GITHUB_HEAD_REF`); `GITHUB_REF` is then `refs/pull/N/merge`.
    pub head_ref: Option<String>,
    pub sha: Option<String>,
    pub repository: Option<String>,
    pub run_id: Option<String>,
    pub server_url: Option<String>,
    pub output_file: Option<String>,
    pub env_file: Option<String>,
    pub summary_file: Option<String>,
    pub oidc_request_url: Option<String>,
    pub oidc_request_token: Option<SecretString>,
    /// `GITHUB_WORKSPACE`: paths in the inputs must stay inside it.
    pub workspace: Option<String>,
    /// `GITHUB_API_URL` (GitHub Enterprise Server has its own).
    pub api_url: Option<String>,
    /// The GitHub Actions cache service the runner gave this step, if any (see [`GhaCache`]).
    pub gha_cache: Option<GhaCache>,
    /// When the commit was made (RFC 3339), for the image's `created` label: a label that
    /// changed with every build would give every rebuild of one commit a new digest.
    pub commit_time: Option<String>,
    /// `DEPLOY_ACTION_BUILD_PATH`: `buildx` or `engine` instead of choosing by what is there.
    pub build_path: Option<String>,
    /// `DEPLOY_ACTION_DOCKER`: the docker CLI to run (honoured outside a runner only).
    pub docker_program: Option<String>,
    /// Outside a runner: the checkout's uncommitted changes (`git status`), when it has any.
    pub uncommitted: Option<Uncommitted>,
    /// `--allow-dirty`: build them anyway, under a tag of their own.
    pub allow_uncommitted: bool,
    /// `GITHUB_RUN_ATTEMPT`: a re-run of the same run id.
    pub run_attempt: Option<String>,
    /// `GITHUB_EVENT_NAME`: what started the run.
    pub event_name: Option<String>,
    /// TLS for a remote BuildKit (`builder: tcp://…`): PEM text of the CA, the client
    /// certificate and its key, from `BUILDKIT_TLS_CA`, `BUILDKIT_TLS_CERT`, `BUILDKIT_TLS_KEY`
    /// (a step's `env:` from secrets).
    pub buildkit_tls: Option<BuildkitTls>,
    /// A pull request event's head commit (`pull_request.head.sha` of the payload): checks
    /// report on it, while `GITHUB_SHA` is the merge commit GitHub made for the run.
    pub pull_request_head_sha: Option<String>,
}

impl RunContext {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let get = |key: &str| env(key).filter(|value| !value.is_empty());
        Self {
            in_actions: get("GITHUB_ACTIONS").as_deref() == Some("true"),
            git_ref: get("GITHUB_REF"),
            head_ref: get("GITHUB_HEAD_REF"),
            sha: get("GITHUB_SHA"),
            repository: get("GITHUB_REPOSITORY"),
            run_id: get("GITHUB_RUN_ID"),
            server_url: get("GITHUB_SERVER_URL"),
            output_file: get("GITHUB_OUTPUT"),
            env_file: get("GITHUB_ENV"),
            summary_file: get("GITHUB_STEP_SUMMARY"),
            oidc_request_url: get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            oidc_request_token: get("ACTIONS_ID_TOKEN_REQUEST_TOKEN").map(SecretString::from),
            gha_cache: GhaCache::offered(
                get("ACTIONS_RUNTIME_TOKEN").is_some(),
                get("ACTIONS_RESULTS_URL").is_some(),
                get("ACTIONS_CACHE_URL").is_some(),
            ),
            api_url: get("GITHUB_API_URL"),
            workspace: get("GITHUB_WORKSPACE"),
            commit_time: get("GITHUB_EVENT_PATH").and_then(|path| commit_time_of_event(&path)),
            build_path: get("DEPLOY_ACTION_BUILD_PATH"),
            docker_program: get("DEPLOY_ACTION_DOCKER"),
            // The CLI reads the checkout (cli::local_inputs); a runner's workspace is the job's.
            uncommitted: None,
            allow_uncommitted: false,
            run_attempt: get("GITHUB_RUN_ATTEMPT"),
            event_name: get("GITHUB_EVENT_NAME"),
            buildkit_tls: match (
                get("BUILDKIT_TLS_CA"),
                get("BUILDKIT_TLS_CERT"),
                get("BUILDKIT_TLS_KEY"),
            ) {
                (Some(ca), Some(cert), Some(key)) => Some(BuildkitTls {
                    ca,
                    cert,
                    key: SecretString::from(key),
                }),
                _ => None,
            },
            pull_request_head_sha: get("GITHUB_EVENT_PATH")
                .and_then(|path| event_field(&path, &["pull_request", "head", "sha"])),
        }
    }
}

/// `head_commit.timestamp` of a push event's payload.
fn commit_time_of_event(path: &str) -> Option<String> {
    event_field(path, &["head_commit", "timestamp"])
}

/// A string field of the event payload at `path`.
fn event_field(path: &str, keys: &[&str]) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    keys.iter()
        .try_fold(&event, |value, key| value.get(key))?
        .as_str()
        .map(str::to_string)
}

/// Mutual TLS to a remote BuildKit (`BUILDKIT_TLS_*` from the step's `env:`): build secrets and the registry login travel to it.
#[derive(Debug, Clone)]
pub struct BuildkitTls {
    pub ca: String,
    pub cert: String,
    pub key: secrecy::SecretString,
}

/// Everything the `plan` stage needs: the user's inputs and the run they belong to.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub args: InputArgs,
    pub run: RunContext,
    /// `github-token`, taken out of `args` at once so no `Debug` of the inputs can show it.
    pub github_token: Option<SecretString>,
    /// `SENTRY_AUTH_TOKEN` from the step's `env:` (as getsentry/action-release reads it).
    pub sentry_token: Option<SecretString>,
}

/// Collect the inputs: explicit flags first, then `INPUT_*` variables, plus the run context.
pub fn collect(flags: InputArgs, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
    let mut args = flags.or(InputArgs::from_env(env));
    let github_token = args.github_token.take().map(SecretString::from);
    let sentry_token = env("SENTRY_AUTH_TOKEN")
        .filter(|token| !token.trim().is_empty())
        .map(SecretString::from);
    Inputs {
        args,
        run: RunContext::from_env(env),
        github_token,
        sentry_token,
    }
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
