//! The command line: the same inputs as the action, as flags, plus subcommands for people.

use crate::inputs::{self, InputArgs, Inputs};
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
DEPLOY_ACTION_DOCKER names the docker CLI to use; DEPLOY_ACTION_AWS_READ_TIMEOUT_SECONDS how long an \
AWS call may wait for an answer (default 60)."
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
    IamPolicy(crate::iam_policy::PolicyRequest),
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The git ref being released [default: GITHUB_REF, else the checkout's branch].
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// The commit being released [default: GITHUB_SHA, else the checkout's HEAD].
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
}

/// Inputs for a run from the command line: flags first, then `INPUT_*`, then git.
pub fn local_inputs(args: DeployArgs, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
    let mut inputs = inputs::collect(args.inputs, env);
    inputs.run.git_ref = args
        .git_ref
        .or(inputs.run.git_ref)
        .or_else(|| git(&["symbolic-ref", "-q", "HEAD"]));
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

fn git(args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}
