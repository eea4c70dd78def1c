//! The command line: the same inputs as the action, as flags, plus subcommands for people.
//! It turns arguments into an [`Invocation`]; the pipeline does the rest.

use crate::Request;
use crate::console::{Console, Mode};
use crate::error;
use crate::iam_policy::PolicyRequest;
use crate::inputs::{self, InputArgs, Inputs};
use crate::plan::{Intent, OutputFormat};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "deploy-action",
    version,
    about = "Build an arm64 image, push it to ECR with a branch-dependent tag, and roll ECS services to it.",
    long_about = "Build an arm64 image, push it to ECR with a branch-dependent tag (main → :prod, other \
branches → :staging, plus an immutable sha-<7> tag), and roll ECS services to it, pinned by digest.\n\n\
Inside a GitHub Actions runner (GITHUB_ACTIONS=true) with no subcommand it runs as the action and reads \
its inputs from INPUT_* variables. Endpoints can be redirected with the standard AWS_ENDPOINT_URL variables; \
DEPLOY_ACTION_DOCKER names the docker CLI to use (outside a runner only); DEPLOY_ACTION_AWS_READ_TIMEOUT_SECONDS how long an \
AWS call may wait for an answer (default 60); DEPLOY_ACTION_BUILD_PATH=buildx|engine forces a build path."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, push and roll out, with the action's inputs as flags.
    Deploy(DeployArgs),
    /// Print what `deploy` would do and change nothing.
    Plan(DeployArgs),
    /// Put the environment tag on an image already pushed (`--promote-from`), no rebuild, then roll out.
    Promote(DeployArgs),
    /// Print the IAM trust policy and least-privilege permissions policy for a repository.
    IamPolicy(PolicyRequest),
    /// Print the JSON Schema of the config file (.github/deploy.toml), for editors.
    Schema,
    /// Show what each service runs: revision, image (digest and tags), deployments, last events.
    Status(ServiceArgs),
    /// Print the services' containers' CloudWatch log lines (found from the task definition).
    Logs(LogsArgs),
    /// Put each service back on the revision it ran before the last deploy, and wait for it.
    Rollback(RollbackArgs),
    /// Continue each service's deployment paused at a PAUSE lifecycle hook (or roll it back with
    /// --rollback), as ContinueServiceDeployment does.
    Continue(ContinueArgs),
    /// Run a one-off task of the revision the service runs now: `run --env staging -- python manage.py shell`.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub services: ServiceArgs,
    /// The container to run it in [default: the one whose image is in --ecr-repository, else
    /// the first].
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// Stop the task after this many minutes.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=240))]
    pub timeout_minutes: u64,
    /// The command, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub services: ServiceArgs,
    /// The revision to go back to (FAMILY:N or an ARN) [default: the one the running revision's
    /// deploy-action:replaces tag names].
    #[arg(long, value_name = "REVISION")]
    pub to: Option<String>,
    /// Give up waiting for the services after this many minutes [default: 30].
    #[arg(long, value_name = "MINUTES")]
    pub wait_timeout_minutes: Option<String>,
    /// Tell this Sentry organization which release runs again (token from SENTRY_AUTH_TOKEN)
    /// [default: the config file's sentry-org].
    #[arg(long, value_name = "SLUG")]
    pub sentry_org: Option<String>,
    /// The Sentry projects of that release, comma-separated.
    #[arg(long, value_name = "SLUGS")]
    pub sentry_projects: Option<String>,
    /// Sentry's address, for self-hosted Sentry [default: https://sentry.io/].
    #[arg(long, value_name = "URL")]
    pub sentry_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ContinueArgs {
    #[command(flatten)]
    pub services: ServiceArgs,
    /// Roll the paused deployment back to the revision it replaces instead of continuing it.
    #[arg(long)]
    pub rollback: bool,
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub services: ServiceArgs,
    /// Keep printing new lines, like `aws logs tail --follow` (with --output json: one JSON
    /// object a line).
    #[arg(long)]
    pub follow: bool,
    /// How far back to start: 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_parser = crate::operator::logs::parse_since)]
    pub since: std::time::Duration,
}

/// What `status`, `logs`, `rollback`, `continue` and `run` act on: services, named by the
/// config file's environment or by flags. They build nothing, so they take no build flags, and
/// they run with the person's own AWS credentials.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// The config file (TOML) [default: .github/deploy.toml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// The config file's environment, by name [default: the one the ref's branch rules pick].
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// The git ref whose branch picks the config file's environment [default: the checkout's
    /// branch].
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// AWS region, e.g. us-east-2 [default: the config file's].
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,
    /// The ECS cluster [default: the config file's].
    #[arg(long, value_name = "CLUSTER")]
    pub ecs_cluster: Option<String>,
    /// The services, comma-separated [default: the config file's].
    #[arg(long, value_name = "SERVICES")]
    pub ecs_services: Option<String>,
    /// The ECR repository of the app's image: marks which container is the app's (for the
    /// tags `status` shows and the container `run` uses) [default: the config file's].
    #[arg(long, value_name = "NAME")]
    pub ecr_repository: Option<String>,
    /// The registry host of that repository, when it is another account's ECR registry.
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,
    /// Log verbosity: error, warn, info, debug or trace [default: info].
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// `text`: lines for people; `json`: a record on stdout (the lines on stderr), for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

impl ServiceArgs {
    /// The inputs these flags stand for; the rest of an operation's settings come from the
    /// config file.
    fn input_args(&self) -> InputArgs {
        InputArgs {
            config: self.config.clone(),
            aws_region: self.aws_region.clone(),
            ecs_cluster: self.ecs_cluster.clone(),
            ecs_services: self.ecs_services.clone(),
            ecr_repository: self.ecr_repository.clone(),
            registry: self.registry.clone(),
            log_level: self.log_level.clone(),
            ..InputArgs::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The git ref being released [default: GITHUB_REF, else the checkout's branch].
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// The commit being released, as its full id (`git rev-parse HEAD`) [default: GITHUB_SHA,
    /// else the checkout's HEAD].
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
    /// The config file's environment to release to, by name [default: the one the ref's branch
    /// rules pick].
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Build a checkout with uncommitted changes anyway: pushed as dirty-<commit>-<fingerprint>
    /// only, with no sha- tag and no commit label (without it, such a build is refused).
    #[arg(long)]
    pub allow_dirty: bool,
    /// `text`: the report for people; `json`: the run's record on stdout (logs on stderr), for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// What one start of the binary does: one variant a command, each with what it needs.
#[derive(Debug)]
pub enum Invocation {
    /// The action, `deploy`, `promote` or `plan`.
    Pipeline {
        request: Box<Request>,
        console: Console,
    },
    IamPolicy(Box<PolicyRequest>),
    Schema,
    /// `status`, `logs`, `rollback` and `run`: at a terminal, with the person's credentials.
    Status(Box<Request>),
    Logs {
        request: Box<Request>,
        since: std::time::Duration,
        follow: bool,
    },
    Rollback {
        request: Box<Request>,
        to: Option<String>,
    },
    Continue {
        request: Box<Request>,
        rollback: bool,
    },
    Run {
        request: Box<Request>,
        command: Vec<String>,
        container: Option<String>,
        timeout: std::time::Duration,
    },
}

/// The process environment, lossy, so a value that is not UTF-8 reaches `plan` (which names
/// the input) instead of silently counting as unset.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var_os(key).map(|value| value.to_string_lossy().into_owned())
}

impl Cli {
    /// `None`: no subcommand outside a runner (print the help).
    pub fn invocation(self, env: &dyn Fn(&str) -> Option<String>) -> Option<Invocation> {
        let in_actions = env("GITHUB_ACTIONS").as_deref() == Some("true");
        let pipeline = |args: DeployArgs, intent| {
            let console = console_for(in_actions, args.output);
            Invocation::Pipeline {
                request: Box::new(local_request(args, intent, env)),
                console,
            }
        };
        let operation =
            |args: &ServiceArgs, extra: InputArgs| Box::new(operation_request(args, extra, env));
        Some(match self.command {
            None if in_actions => Invocation::Pipeline {
                request: Box::new(Request {
                    inputs: inputs::collect(InputArgs::default(), env),
                    intent: Intent::AsGiven,
                    format: OutputFormat::Text,
                    config_environment: None,
                }),
                console: Console::new(Mode::Actions),
            },
            None => return None,
            Some(Command::Deploy(args)) => pipeline(args, Intent::AsGiven),
            Some(Command::Promote(args)) => pipeline(args, Intent::Promote),
            Some(Command::Plan(args)) => pipeline(args, Intent::DryRun),
            Some(Command::IamPolicy(request)) => Invocation::IamPolicy(Box::new(request)),
            Some(Command::Schema) => Invocation::Schema,
            Some(Command::Status(args)) => {
                Invocation::Status(operation(&args, InputArgs::default()))
            }
            Some(Command::Logs(args)) => Invocation::Logs {
                since: args.since,
                follow: args.follow,
                request: operation(&args.services, InputArgs::default()),
            },
            Some(Command::Rollback(args)) => Invocation::Rollback {
                request: operation(
                    &args.services,
                    InputArgs {
                        wait_timeout_minutes: args.wait_timeout_minutes,
                        sentry_org: args.sentry_org,
                        sentry_projects: args.sentry_projects,
                        sentry_url: args.sentry_url,
                        ..InputArgs::default()
                    },
                ),
                to: args.to,
            },
            Some(Command::Continue(args)) => Invocation::Continue {
                rollback: args.rollback,
                request: operation(&args.services, InputArgs::default()),
            },
            Some(Command::Run(args)) => Invocation::Run {
                request: operation(&args.services, InputArgs::default()),
                command: args.command,
                container: args.container,
                timeout: std::time::Duration::from_secs(args.timeout_minutes * 60),
            },
        })
    }
}

impl Invocation {
    pub fn console(&self) -> Console {
        match self {
            Invocation::Pipeline { console, .. } => *console,
            // Inside a runner an operation's output is a step's log like the pipeline's: its
            // credentials masked, outside text neutralised, RUST_LOG kept to our own lines.
            _ => match self.request() {
                Some(request) => console_for(request.inputs.run.in_actions, request.format),
                None => Console::new(Mode::Plain),
            },
        }
    }

    fn request(&self) -> Option<&Request> {
        match self {
            Invocation::Pipeline { request, .. }
            | Invocation::Status(request)
            | Invocation::Logs { request, .. }
            | Invocation::Rollback { request, .. }
            | Invocation::Continue { request, .. }
            | Invocation::Run { request, .. } => Some(request),
            Invocation::IamPolicy(_) | Invocation::Schema => None,
        }
    }

    pub fn log_level(&self) -> Option<&str> {
        self.request()?.inputs.args.log_level.as_deref()
    }

    /// Logs go to stderr when stdout carries the record.
    pub fn logs_on_stderr(&self) -> bool {
        self.request()
            .is_some_and(|request| request.format == OutputFormat::Json)
    }

    pub fn run(&self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let console = &self.console();
        match self {
            Invocation::Schema => {
                print!("{}", crate::config::schema::render());
                Ok(())
            }
            Invocation::IamPolicy(request) => {
                let mut request = request.as_ref().clone();
                crate::iam_policy::check_arguments(&request)?;
                // With services named, least privilege comes from what they run.
                let read = runtime.block_on(crate::iam_policy::from_services::fill(&mut request));
                let document = crate::iam_policy::render(&request).inspect_err(|_| {
                    // Why the roles are not known, before the error that asks for them.
                    if let Some(note) = &read {
                        eprintln!("{note}");
                    }
                })?;
                println!("{document}");
                for note in crate::iam_policy::notes(&request).into_iter().chain(read) {
                    eprintln!("{note}");
                }
                Ok(())
            }
            Invocation::Pipeline { request, .. } => runtime.block_on(crate::run(request, console)),
            Invocation::Status(request) => emit(
                request,
                &runtime.block_on(crate::operator::status::run(request, console))?,
            ),
            Invocation::Logs {
                request,
                since,
                follow,
            } => emit(
                request,
                &runtime.block_on(crate::operator::logs::run(
                    request, *since, *follow, console,
                ))?,
            ),
            Invocation::Rollback { request, to } => emit(
                request,
                &runtime.block_on(crate::operator::rollback::run(
                    request,
                    to.as_deref(),
                    console,
                ))?,
            ),
            Invocation::Continue { request, rollback } => emit(
                request,
                &runtime.block_on(crate::operator::resume::run(request, *rollback, console))?,
            ),
            Invocation::Run {
                request,
                command,
                container,
                timeout,
            } => {
                let record = runtime.block_on(crate::operator::run::run(
                    request,
                    command,
                    container.as_deref(),
                    *timeout,
                    console,
                ))?;
                // The record whatever the exit code: a script reads why it failed.
                emit(request, &record)?;
                record.ending()
            }
        }
    }

    /// The exit code of a failure: 2 for a usage mistake in `iam-policy`, 1 for a failed run,
    /// the task's own code for `run`.
    pub fn failure_code(&self, failure: &anyhow::Error) -> u8 {
        if let Some(crate::operator::run::TaskExit(code)) = failure.downcast_ref() {
            return u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1);
        }
        match self {
            Invocation::IamPolicy(_) | Invocation::Schema => 2,
            _ => 1,
        }
    }

    /// Show a failure once, with its hint.
    pub fn report_failure(&self, failure: &anyhow::Error) {
        let message = error::one_line(failure);
        let text = match error::hint_of(failure) {
            Some(hint) => format!("{message}\nhint: {hint}"),
            None => message,
        };
        self.console().error("deploy-action failed", &text);
    }
}

/// The console of a run: workflow commands inside a runner, plain lines elsewhere; everything on
/// stderr when stdout carries the JSON record.
fn console_for(in_actions: bool, format: OutputFormat) -> Console {
    let console = Console::new(if in_actions {
        Mode::Actions
    } else {
        Mode::Plain
    });
    match format {
        OutputFormat::Json => console.on_stderr(),
        OutputFormat::Text => console,
    }
}

/// With `--output json`, an operation's record on stdout (its lines went to stderr).
fn emit(request: &Request, record: &impl serde::Serialize) -> Result<()> {
    if request.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(record)?);
    }
    Ok(())
}

/// A request from the command line (`--env`, `--output`, the inputs as flags).
fn local_request(
    args: DeployArgs,
    intent: Intent,
    env: &dyn Fn(&str) -> Option<String>,
) -> Request {
    Request {
        format: args.output,
        config_environment: args.env.clone(),
        inputs: local_inputs(args, env),
        intent,
    }
}

/// A request of `status`, `logs`, `rollback`, `continue` or `run`: services, not a commit, so no
/// commit is read and no checkout needs to be clean; the ref (a flag, else the checkout's branch)
/// only picks the config file's environment when `--env` does not.
fn operation_request(
    args: &ServiceArgs,
    extra: InputArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Request {
    let mut inputs = inputs::collect(args.input_args().or(extra), env);
    inputs.run.git_ref = flag_env_or_checkout(args.git_ref.clone(), inputs.run.git_ref);
    inputs.run.sha = None;
    inputs.run.commit_time = None;
    Request {
        format: args.output,
        config_environment: args.env.clone(),
        inputs,
        intent: Intent::Operate,
    }
}

/// Inputs for a run from the command line: flags first, then `INPUT_*`, then git.
pub fn local_inputs(args: DeployArgs, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
    let mut inputs = inputs::collect(args.inputs, env);
    inputs.run.allow_uncommitted = args.allow_dirty;
    inputs.run.uncommitted = uncommitted();
    inputs.run.git_ref = flag_env_or_checkout(args.git_ref, inputs.run.git_ref);
    inputs.run.sha = args
        .sha
        .or(inputs.run.sha)
        .or_else(|| git(&["rev-parse", "HEAD"]));
    if inputs.run.commit_time.is_none()
        && let Some(sha) = &inputs.run.sha
    {
        inputs.run.commit_time = git(&["show", "-s", "--format=%cI", sha]);
    }
    inputs
}

/// The ref: `--ref`, else `GITHUB_REF`, else the checkout's branch.
fn flag_env_or_checkout(flag: Option<String>, from_env: Option<String>) -> Option<String> {
    flag.or(from_env)
        .or_else(|| git(&["symbolic-ref", "-q", "HEAD"]))
}

/// The checkout's uncommitted changes, tracked and untracked (`None`: none, or not a checkout).
fn uncommitted() -> Option<inputs::Uncommitted> {
    use sha2::{Digest, Sha256};
    let status = git_output(&["status", "--porcelain=v1", "--untracked-files=all"])?;
    let files: Vec<String> = status
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect();
    if files.is_empty() {
        return None;
    }
    let root = git(&["rev-parse", "--show-toplevel"]).unwrap_or_else(|| ".".into());
    let mut hasher = Sha256::new();
    hasher.update(git_output(&["diff", "HEAD", "--binary"]).unwrap_or_default());
    for path in files.iter().filter_map(|line| line.strip_prefix("?? ")) {
        hasher.update(path.as_bytes());
        hasher.update(std::fs::read(std::path::Path::new(&root).join(path)).unwrap_or_default());
    }
    let fingerprint = hasher.finalize()[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Some(inputs::Uncommitted { files, fingerprint })
}

/// `git …`'s stdout as it is (porcelain lines start with a space that trimming would lose).
fn git_output(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

fn git(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
