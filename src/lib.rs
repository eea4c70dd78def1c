//! deploy-action: the whole release in one step.
//!
//! The pipeline is the architecture: `inputs → plan → auth → image → deploy → report`. Each
//! stage is a module whose entry function takes the previous stages' typed output; only
//! [`run`] knows the order. Every run, however it ends, fills one [`report::Release`] and
//! reports it once.

pub mod auth;
pub mod aws;
pub mod branches;
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

#[cfg(test)]
mod architecture_tests;

use anyhow::Result;
use console::Console;
use error::Problem;
use github::GitHub;
use github::deployments::Tracked;
use inputs::Inputs;
use plan::{Intent, OutputFormat, Plan, ReportPlan, Work};
use report::{Release, Stage, StageFailure};
use std::time::Duration;

/// One run of the pipeline as the action or a subcommand asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub inputs: Inputs,
    pub intent: Intent,
    pub format: OutputFormat,
    /// `--env`: the config file's environment table by name, not by the ref.
    pub config_environment: Option<String>,
}

/// Run the pipeline, then report what became of it — once, whatever the ending — and return
/// the failure, if any, for `main` to show.
pub async fn run(request: &Request, console: &Console) -> Result<()> {
    let mut release = Release::default();
    let mut deployment = None;
    let journal = deploy::Journal::default();
    let mut planned = None;
    let reached = std::cell::Cell::new(None);
    let stages = Stages {
        reached: &reached,
        console,
    };
    // Installed before anything runs: as PID 1 of the action's container, a signal without a
    // handler is ignored, and a cancelled step would go on deploying until killed.
    let mut signals = cancel::Signals::install();
    let ending = tokio::select! {
        result = execute(request, stages, &mut release, &mut deployment, &journal, &mut planned) => {
            result.err().map(Ending::Stopped)
        }
        signal = signals.received() => Some(Ending::Cancelled(signal)),
    };
    release.reached = reached.get();
    let cancelled = matches!(ending, Some(Ending::Cancelled(_)));
    let mut stopped = match ending {
        None => None,
        Some(Ending::Stopped(stopped)) => Some(stopped),
        // The pipeline was dropped where it stood: no new call starts, waiting stops, the docker
        // child is killed and the private docker config removed (kill_on_drop, TempDir). A task
        // it had started in ECS is stopped here.
        Some(Ending::Cancelled(signal)) => {
            let task = cancel::stop_running_task(&journal, signal).await;
            Some(cancel::stopped_by(signal, &release, &journal, task))
        }
    };
    if let Some(stopped) = &mut stopped {
        let mut failure = StageFailure::new(stopped.stage, &stopped.error);
        // An identity policy's denial ("… is not authorized to perform: ACTION on resource …"):
        // the command that prints the policy for exactly this run says more than any hint the
        // failed call carries. (A trust policy's denial reads "Not authorized to perform
        // sts:AssumeRoleWithWebIdentity" and keeps its hint: the token's claims.)
        if failure.message.contains("is not authorized to perform")
            && let Some(plan) = &planned
        {
            let hint = access_denied_hint(plan, &release);
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
fn access_denied_hint(plan: &Plan, release: &Release) -> String {
    let account = release.aws_account_id.as_deref().unwrap_or("ACCOUNT");
    format!(
        "the role's permissions policy does not allow that call; `{}` prints one that allows every call this run makes",
        iam_policy::command_for(plan, account)
    )
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

/// The bookkeeping around each stage, in one place: the stage the run has reached (a failure
/// or a cancel is reported against it), and a console group with its duration around the
/// stage's work.
#[derive(Clone, Copy)]
struct Stages<'a> {
    reached: &'a std::cell::Cell<Option<Stage>>,
    console: &'a Console,
}

impl Stages<'_> {
    /// The run is in `stage` now.
    fn enter(self, stage: Stage) {
        self.reached.set(Some(stage));
    }

    /// `work` as `stage`, in a console group titled `group`.
    async fn run<T, E: Into<anyhow::Error>>(
        self,
        stage: Stage,
        group: &str,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, Stopped> {
        self.enter(stage);
        let _group = self.console.group(group);
        work.await.at(stage)
    }
}

/// The pipeline, top to bottom: plan → checks gate → auth → preflight → repository → image →
/// Sentry release and GitHub deployment → deploy. `release` learns what each stage did.
async fn execute(
    request: &Request,
    stages: Stages<'_>,
    release: &mut Release,
    deployment: &mut Option<Tracked>,
    journal: &deploy::Journal,
    planned: &mut Option<Plan>,
) -> Result<(), Stopped> {
    let console = stages.console;
    mask_secrets(request, console);
    let plan = stages
        .run(Stage::Plan, "plan", async {
            resolved_plan(request, console)
        })
        .await?;
    *release = Release::planned(&plan);
    let plan: &Plan = planned.insert(plan);
    if plan.dry_run {
        return dry_run(plan, console, release, request.format).await;
    }
    stages.enter(Stage::ChecksGate);
    let github = plan.github.as_ref().map(GitHub::new).transpose();
    let github = github.at(Stage::ChecksGate)?;
    // A promotion's checks are the promoted commit's: known once the image is read.
    let promoting = matches!(plan.work, Work::Promote { .. });
    if !promoting {
        checks_gate(plan, github.as_ref(), plan.checks_commit(), console).await?;
    }
    let session = stages
        .run(Stage::Auth, "auth", authenticated(plan, console))
        .await?;
    release.aws_account_id = Some(session.account_id.clone());
    let work = match &plan.work {
        Work::Rollback => return roll_back(plan, &session, journal, release, stages).await,
        Work::Build(build) => ImageWork::Build(build),
        Work::Promote { from, .. } => ImageWork::Promote(from),
    };
    let targets = preflight(plan, &session, stages).await?;
    let repository = stages
        .run(
            Stage::Repository,
            "repository",
            image::prepare(plan, &session, console),
        )
        .await?;
    let image = publish(plan, &session, &repository, work, github.as_ref(), stages).await?;
    release.image = Some(image.clone());
    let sentry = sentry::Sentry::new(plan.sentry.as_ref(), console);
    if let Some(sentry) = &sentry {
        let _group = console.group("sentry release");
        // The release is the commit the image holds (a promotion's may be older than the run's).
        release.sentry = sentry
            .create_release(image_commit(plan, &image), console)
            .await;
    }
    *deployment = start_github_deployment(plan, github.as_ref(), &image, console).await;
    release.github_deployment_id = deployment.as_ref().map(|d| d.id);
    let deploy_started = std::time::SystemTime::now();
    // A build-only run has no deploy stage to show.
    if plan.rollout.is_some() {
        let rolled = deploy::roll_out(
            plan,
            &session,
            &image,
            targets,
            journal,
            &mut release.pre_deploy,
            console,
        );
        let rollouts = stages.run(Stage::Deploy, "deploy", rolled).await?;
        release.rolled(rollouts);
    }
    if let Some(sentry) = &sentry {
        let run_url = plan.source.run_url.as_deref();
        release
            .tell_sentry(sentry, deploy_started, run_url, true, console)
            .await;
    }
    rollout_result(release)
}

/// The commit the pushed image holds: a promotion's may be older than the run's.
fn image_commit<'a>(plan: &'a Plan, image: &'a image::PushedImage) -> &'a str {
    image.revision.as_deref().unwrap_or(&plan.source.sha)
}

/// Every service the plan names exists and has the containers to update (read-only; nothing
/// to check without services).
async fn preflight(
    plan: &Plan,
    session: &auth::AwsSession,
    stages: Stages<'_>,
) -> Result<Vec<deploy::Target>, Stopped> {
    stages.enter(Stage::Preflight);
    if plan.rollout.is_none() {
        return Ok(Vec::new());
    }
    let targets = stages
        .run(
            Stage::Preflight,
            "preflight",
            deploy::preflight(plan, session),
        )
        .await?;
    let console = stages.console;
    console.line("every service exists and has the containers to update");
    if let Some(runs) = deploy::pre_deploy_invocation(plan, &targets) {
        console.line(&runs);
    }
    Ok(targets)
}

/// What the image stage does.
#[derive(Clone, Copy)]
enum ImageWork<'a> {
    Build(&'a plan::BuildPlan),
    /// Promote the image this tag or digest names.
    Promote(&'a str),
}

/// The image stage: build and push, or — for a promotion — read the promoted image, gate it
/// on its commit, and move the tags to it.
async fn publish(
    plan: &Plan,
    session: &auth::AwsSession,
    repository: &image::Repository,
    work: ImageWork<'_>,
    github: Option<&GitHub>,
    stages: Stages<'_>,
) -> Result<image::PushedImage, Stopped> {
    let console = stages.console;
    stages.enter(Stage::Image);
    let source;
    let how = match work {
        ImageWork::Build(build) => image::Publishing::Build(build),
        ImageWork::Promote(from) => {
            source = promoted_image(plan, session, from, github, console).await?;
            image::Publishing::Promote {
                from,
                source: &source,
            }
        }
    };
    stages
        .run(Stage::Image, "image", async {
            let image = image::publish(plan, session, repository, how, console).await?;
            console.line(&format!("pushed {}", image.pinned_reference()));
            anyhow::Ok(image)
        })
        .await
}

/// A run whose services did not all roll out failed, after everything was reported.
fn rollout_result(release: &Release) -> Result<(), Stopped> {
    let failed = release.rollout_failures();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Problem::new(format!("rollout failed: {}", failed.join("\n")))
        .hint("the service events and stopped tasks above say why; the image is pushed, re-run to retry the rollout"))
        .at(Stage::Deploy)
}

/// The secrets the run holds, masked before anything could print them.
fn mask_secrets(request: &Request, console: &Console) {
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
}

/// The plan, printed with its warnings.
fn resolved_plan(request: &Request, console: &Console) -> Result<Plan, plan::PlanError> {
    let plan = plan::resolve_in(
        &request.inputs,
        request.intent,
        request.config_environment.as_deref(),
    )?;
    for line in plan.to_string().lines() {
        console.line(line);
    }
    for (input, warning) in &plan.warnings {
        console.warning(input, warning);
    }
    Ok(plan)
}

/// Credentials for the plan's role, and who they say we are.
async fn authenticated(plan: &Plan, console: &Console) -> Result<auth::AwsSession> {
    let session = auth::authenticate(plan, console).await?;
    console.line(&format!(
        "acting as {} (account {})",
        session.identity_arn, session.account_id
    ));
    Ok(session)
}

/// `mode: rollback`: every service back on the revision its current one replaced; nothing is
/// built. Sentry learns which release runs again.
async fn roll_back(
    plan: &Plan,
    session: &auth::AwsSession,
    journal: &deploy::Journal,
    release: &mut Release,
    stages: Stages<'_>,
) -> Result<(), Stopped> {
    let console = stages.console;
    stages.enter(Stage::Deploy);
    // The plan refuses `mode: rollback` without services; said again rather than assumed.
    let rollout = operator::rollout(plan).at(Stage::Deploy)?;
    let ecs = aws::Ecs::new(&session.config);
    let started = std::time::SystemTime::now();
    let back = deploy::rollback::roll_back(&ecs, rollout, None, journal, console);
    let rollouts = stages.run(Stage::Deploy, "rollback", back).await?;
    release.rolled(rollouts);
    if let Some(sentry) = sentry::Sentry::new(plan.sentry.as_ref(), console) {
        operator::rollback::tell_sentry(&sentry, &ecs, release, started, plan, console).await;
    }
    Ok(())
}

/// The GitHub deployment of the commit the image holds (a promotion's differs from the run's),
/// when `github-deployment` asks for one.
async fn start_github_deployment(
    plan: &Plan,
    github: Option<&GitHub>,
    image: &image::PushedImage,
    console: &Console,
) -> Option<Tracked> {
    let wanted = plan.github.as_ref()?;
    let (github, deployment) = (github?, wanted.deployment.as_ref()?);
    let sha = image.revision.as_deref().unwrap_or(&plan.source.sha);
    let log_url = plan.source.run_url.as_deref();
    github::deployments::start(
        github,
        deployment,
        sha,
        wanted.run_id.as_deref(),
        log_url,
        console,
    )
    .await
}

/// Before a promotion moves a tag: the image by digest and its commit, which must be in the
/// history of the run's commit and, with `wait-for-checks`, have passed its checks.
async fn promoted_image(
    plan: &Plan,
    session: &auth::AwsSession,
    from: &str,
    github: Option<&GitHub>,
    console: &Console,
) -> Result<image::source::SourceImage, Stopped> {
    let source = {
        let _group = console.group("promoted image");
        let source = image::read_source(plan, session, from, console)
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
async fn dry_run(
    plan: &Plan,
    console: &Console,
    release: &mut Release,
    format: OutputFormat,
) -> Result<(), Stopped> {
    let mut changes = String::new();
    let rollback = matches!(plan.work, Work::Rollback);
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
                plan.source.sha, deployment.github_environment
            ));
        }
        for action in actions {
            console.line(&action);
            changes.push_str(&format!("github: {action}\n"));
        }
    }
    // At a terminal the report says so next; in a runner or beside a JSON record the log is all
    // a person reads.
    if !(console.mode == console::Mode::Plain && format == OutputFormat::Text) {
        console.line("dry run: nothing was changed");
    }
    release.dry_run = Some(report::release::DryRun {
        plan: plan.to_string(),
        changes,
    });
    Ok(())
}
