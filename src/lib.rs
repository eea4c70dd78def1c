//! deploy-action: the whole release in one step.
//!
//! The pipeline is the architecture: `inputs → plan → auth → image → deploy → report`. Each
//! stage is a module whose entry function takes the previous stages' typed output; only
//! [`run`] knows the order. Every run, however it ends, fills one [`report::Release`] and
//! reports it once.

pub mod auth;
mod cancel;
pub mod cli;
pub mod config;
pub mod console;
pub mod deploy;
pub mod error;
pub mod file_commands;
pub mod github;
pub mod iam_policy;
pub mod image;
pub mod inputs;
pub mod json;
pub mod logging;
pub mod operator;
pub mod plan;
pub mod progress;
pub mod promotion;
pub mod report;
pub mod sentry;

use anyhow::Result;
use console::Console;
use error::Problem;
use github::GitHub;
use github::deployments::Tracked;
use inputs::Inputs;
use plan::{Intent, OutputFormat, Plan, ReportPlan};
use report::{Release, Stage, StageFailure};
use std::time::Duration;

/// One run of the pipeline as the action or a subcommand asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub inputs: Inputs,
    pub intent: Intent,
    pub format: OutputFormat,
    /// `--env`: the config file's environment by name, not by the ref.
    pub environment: Option<String>,
}

/// Run the pipeline, then report what became of it — once, whatever the ending — and return
/// the failure, if any, for `main` to show.
pub async fn run(request: &Request, console: &Console) -> Result<()> {
    let mut release = Release::default();
    let mut deployment = None;
    let journal = deploy::Journal::default();
    // Installed before anything runs: as PID 1 of the action's container, a signal without a
    // handler is ignored, and a cancelled step would go on deploying until killed.
    let mut signals = cancel::Signals::install();
    let ending = tokio::select! {
        result = execute(request, console, &mut release, &mut deployment, &journal) => {
            result.err().map(Ending::Stopped)
        }
        signal = signals.received() => Some(Ending::Cancelled(signal)),
    };
    let cancelled = matches!(ending, Some(Ending::Cancelled(_)));
    let mut stopped = ending.map(|ending| match ending {
        Ending::Stopped(stopped) => stopped,
        // The pipeline was dropped where it stood: no new call starts, waiting stops, the docker
        // child is killed and the private docker config removed (kill_on_drop, TempDir).
        Ending::Cancelled(signal) => cancel::stopped_by(signal, &release, &journal),
    });
    if let Some(stopped) = &mut stopped {
        let mut failure = StageFailure::new(stopped.stage, &stopped.error);
        if failure.hint.is_none()
            && failure.message.contains("is not authorized to perform")
            && let Some(hint) = access_denied_hint(request, &release)
        {
            failure.hint = Some(hint.clone());
            stopped.error = Problem::new(failure.message.clone()).hint(hint).into();
        }
        release.failure = Some(failure);
    }
    let destination = ReportPlan::of(&request.inputs.run, request.format);
    let finishing = report::finish(&destination, &release, deployment.as_ref(), console);
    let reported = if cancelled {
        // The runner kills the step a few seconds after its signal: report within them.
        tokio::time::timeout(Duration::from_secs(5), finishing)
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reporting took too long after the cancel")))
    } else {
        finishing.await
    };
    match (stopped, reported) {
        (Some(stopped), Err(report_error)) => {
            console.warning("report", &error::one_line(&report_error));
            Err(stopped.error)
        }
        (Some(stopped), Ok(())) => Err(stopped.error),
        (None, reported) => reported,
    }
}

/// An AWS call the role may not make: the command that prints the policy this run needs.
fn access_denied_hint(request: &Request, release: &Release) -> Option<String> {
    let plan = plan::resolve_in(
        &request.inputs,
        request.intent,
        request.environment.as_deref(),
    )
    .ok()?;
    let account = release.aws_account_id.as_deref().unwrap_or("ACCOUNT");
    Some(format!(
        "the role's permissions policy does not allow that call; `{}` prints one that allows every call this run makes",
        iam_policy::command_for(&plan, account)
    ))
}

/// The run stopped in `stage` with `error`.
pub(crate) struct Stopped {
    stage: Stage,
    error: anyhow::Error,
}

/// How a run that did not succeed ended.
enum Ending {
    Stopped(Stopped),
    Cancelled(&'static str),
}

/// `.at(Stage::Auth)`: the stage a failure stops the run in.
trait AtStage<T> {
    fn at(self, stage: Stage) -> Result<T, Stopped>;
}

impl<T, E: Into<anyhow::Error>> AtStage<T> for Result<T, E> {
    fn at(self, stage: Stage) -> Result<T, Stopped> {
        self.map_err(|error| Stopped {
            stage,
            error: error.into(),
        })
    }
}

async fn execute(
    request: &Request,
    console: &Console,
    release: &mut Release,
    deployment: &mut Option<Tracked>,
    journal: &deploy::Journal,
) -> Result<(), Stopped> {
    release.reached = Some(Stage::Plan);
    for token in [&request.inputs.github_token, &request.inputs.sentry_token]
        .into_iter()
        .flatten()
    {
        console.mask(token);
    }
    // A multi-line PEM: the runner masks a secret's lines only if told each (console::mask does).
    if let Some(tls) = &request.inputs.run.buildkit_tls {
        console.mask(&tls.key);
    }
    let plan = {
        let _group = console.group("plan");
        let plan = plan::resolve_in(
            &request.inputs,
            request.intent,
            request.environment.as_deref(),
        )
        .at(Stage::Plan)?;
        for line in plan.to_string().lines() {
            console.line(line);
        }
        for (input, warning) in &plan.warnings {
            console.warning(input, warning);
        }
        plan
    };
    *release = Release {
        reached: Some(Stage::Plan),
        ..Release::planned(&plan)
    };
    if plan.dry_run {
        return dry_run(&plan, console, release).await;
    }
    release.reached = Some(Stage::ChecksGate);
    let github = plan
        .github
        .as_ref()
        .map(GitHub::new)
        .transpose()
        .at(Stage::ChecksGate)?;
    // A promotion's checks are the promoted commit's: known once the image is read.
    let promoting = matches!(plan.image.mode, plan::ImageMode::Promote { .. });
    if !promoting {
        let sha = plan
            .github
            .as_ref()
            .and_then(|g| g.checks_commit.as_deref());
        checks_gate(
            &plan,
            github.as_ref(),
            sha.unwrap_or(&plan.source.sha),
            console,
        )
        .await?;
    }

    release.reached = Some(Stage::Auth);
    let session = {
        let _group = console.group("auth");
        let session = auth::authenticate(&plan, console).await.at(Stage::Auth)?;
        console.line(&format!(
            "acting as {} (account {})",
            session.identity_arn, session.account_id
        ));
        session
    };
    release.aws_account_id = Some(session.account_id.clone());
    if let (plan::ImageMode::Rollback, Some(rollout)) = (&plan.image.mode, &plan.rollout) {
        release.reached = Some(Stage::Deploy);
        let ecs = aws_sdk_ecs::Client::new(&session.config);
        let started = std::time::SystemTime::now();
        let rollouts = {
            let _group = console.group("rollback");
            operator::rollback::roll_back(&ecs, rollout, None, console)
                .await
                .at(Stage::Deploy)?
        };
        release.rolled(rollouts);
        if let Some(sentry) = sentry::Sentry::new(plan.sentry.as_ref(), console) {
            operator::rollback::tell_sentry(&sentry, &ecs, release, started, &plan, console).await;
        }
        return Ok(());
    }
    release.reached = Some(Stage::Preflight);
    let targets = if plan.rollout.is_some() {
        let _group = console.group("preflight");
        let targets = deploy::preflight(&plan, &session)
            .await
            .at(Stage::Preflight)?;
        console.line("every service exists and has the containers to update");
        targets
    } else {
        Vec::new()
    };
    release.reached = Some(Stage::Repository);
    let repository = {
        let _group = console.group("repository");
        image::prepare(&plan, &session, console)
            .await
            .at(Stage::Repository)?
    };
    release.reached = Some(Stage::Image);
    let source = if promoting {
        Some(promoted_image(&plan, &session, github.as_ref(), console).await?)
    } else {
        None
    };
    let image = {
        let _group = console.group("image");
        let image = image::publish(&plan, &session, &repository, source.as_ref(), console)
            .await
            .at(Stage::Image)?;
        console.line(&format!("pushed {}", image.pinned_reference()));
        image
    };
    release.image = Some(image.clone());
    let sentry = sentry::Sentry::new(plan.sentry.as_ref(), console);
    if let Some(sentry) = &sentry {
        let _group = console.group("sentry release");
        // The release is the commit the image holds (a promotion's may be older than the run's).
        let commit = image.revision.as_deref().unwrap_or(&plan.source.sha);
        release.sentry = sentry.create_release(commit, console).await;
    }

    if let (Some(github), Some(wanted)) = (
        &github,
        plan.github.as_ref().and_then(|g| g.deployment.as_ref()),
    ) {
        let log_url = plan.source.run_url.as_deref();
        let run_id = plan.github.as_ref().and_then(|g| g.run_id.as_deref());
        // The deployment is of the commit the image holds (a promotion's differs from the run's).
        let sha = image.revision.as_deref().unwrap_or(&plan.source.sha);
        *deployment =
            github::deployments::start(github, wanted, sha, run_id, log_url, console).await;
        release.github_deployment_id = deployment.as_ref().map(|d| d.id);
    }
    release.reached = Some(Stage::Deploy);
    let deploy_started = std::time::SystemTime::now();
    let rollouts = {
        let _group = console.group("deploy");
        let rolled = deploy::roll_out(
            &plan,
            &session,
            &image,
            targets,
            journal,
            &mut release.pre_deploy,
            console,
        )
        .await;
        rolled.at(Stage::Deploy)?
    };
    release.rolled(rollouts);
    if let Some(sentry) = &sentry {
        let run_url = plan.source.run_url.as_deref();
        sentry
            .after_rollout(release, deploy_started, run_url, true, console)
            .await;
    }
    let failed = release.rollout_failures();
    if !failed.is_empty() {
        return Err(Problem::new(format!("rollout failed: {}", failed.join("\n")))
            .hint("the service events and stopped tasks above say why; the image is pushed, re-run to retry the rollout"))
            .at(Stage::Deploy);
    }
    Ok(())
}

/// Before a promotion moves a tag: the image by digest and its commit, which must be in the
/// history of the run's commit and, with `wait-for-checks`, have passed its checks.
async fn promoted_image(
    plan: &Plan,
    session: &auth::AwsSession,
    github: Option<&GitHub>,
    console: &Console,
) -> Result<image::source::SourceImage, Stopped> {
    let source = {
        let _group = console.group("promoted image");
        let source = image::read_source(plan, session, console)
            .await
            .at(Stage::Image)?;
        promotion::verify(plan, github, &source, console)
            .await
            .at(Stage::Image)?;
        source
    };
    let sha = source.revision.as_deref().unwrap_or(&plan.source.sha);
    checks_gate(plan, github, sha, console).await?;
    Ok(source)
}

/// `wait-for-checks`: wait until every check (or the required ones) on `sha` passed.
async fn checks_gate(
    plan: &Plan,
    github: Option<&GitHub>,
    sha: &str,
    console: &Console,
) -> Result<(), Stopped> {
    let (Some(github), Some(wanted)) = (github, &plan.github) else {
        return Ok(());
    };
    let Some(timeout) = wanted.checks_timeout else {
        return Ok(());
    };
    let _group = console.group("checks gate");
    let gate = github::checks::GateSpec {
        sha,
        run_id: wanted.run_id.as_deref(),
        required: &wanted.required_checks,
        timeout,
        poll: Duration::from_secs(10),
    };
    github::checks::wait_for_checks(github, &gate, console)
        .await
        .at(Stage::ChecksGate)
}

/// Plan, and — when services are to be rolled — authenticate and describe them (read-only) to
/// show what would change. Nothing is built, pushed, registered or updated.
async fn dry_run(plan: &Plan, console: &Console, release: &mut Release) -> Result<(), Stopped> {
    let mut changes = String::new();
    let rollback = matches!(plan.image.mode, plan::ImageMode::Rollback);
    if plan.rollout.is_some() && !rollback {
        let session = {
            let _group = console.group("auth (dry run)");
            auth::authenticate(plan, console).await.at(Stage::Auth)?
        };
        release.aws_account_id = Some(session.account_id.clone());
        let _group = console.group("what would change (dry run)");
        let targets = deploy::preflight(plan, &session)
            .await
            .at(Stage::Preflight)?;
        changes = deploy::dry_run(plan, &targets).at(Stage::Preflight)?;
        for line in changes.lines() {
            console.line(line);
        }
    }
    if let Some(github) = &plan.github {
        let mut actions = Vec::new();
        if let Some(timeout) = github.checks_timeout {
            actions.push(format!(
                "would wait up to {} minutes for every other check on {} to pass before pushing",
                timeout.as_secs() / 60,
                plan.source.sha
            ));
        }
        if let Some(deployment) = &github.deployment {
            actions.push(format!(
                "would create a GitHub deployment of {} to `{}` (in_progress, then success or failure)",
                plan.source.sha, deployment.environment
            ));
        }
        for action in actions {
            console.line(&action);
            changes.push_str(&format!("github: {action}\n"));
        }
    }
    console.line("dry run: nothing was changed");
    release.dry_run = Some(report::release::DryRun {
        plan: plan.to_string(),
        changes,
    });
    Ok(())
}
