//! deploy-action: the whole release in one step.
//!
//! The pipeline is the architecture: `inputs → plan → auth → image → deploy → report`. Each
//! stage is a module whose entry function takes the previous stages' typed output; only
//! [`run`] knows the order.

pub mod auth;
pub mod cli;
pub mod console;
pub mod deploy;
pub mod error;
pub mod file_commands;
pub mod github;
pub mod iam_policy;
pub mod image;
pub mod inputs;
pub mod plan;
pub mod report;

use anyhow::Result;
use console::Console;
use error::Problem;
use github::GitHub;
use inputs::Inputs;
use plan::Plan;
use std::time::Duration;

/// Run the pipeline. On failure the job summary says what went wrong before the error is
/// returned for `main` to annotate.
pub async fn run(inputs: &Inputs, console: &Console) -> Result<()> {
    let mut plan_made = None;
    let result = execute(inputs, console, &mut plan_made).await;
    if let Err(error) = &result {
        let summary = report::summary::failure(
            plan_made.as_ref(),
            &error::one_line(error),
            error::hint_of(error),
        );
        if let Err(summary_error) = report::append_summary(&inputs.run, &summary) {
            console.warning("job summary", &error::one_line(&summary_error));
        }
    }
    result
}

async fn execute(inputs: &Inputs, console: &Console, plan_made: &mut Option<Plan>) -> Result<()> {
    if let Some(token) = &inputs.github_token {
        console.mask(token);
    }
    let plan = {
        let _group = console.group("plan");
        let plan = plan::resolve(inputs)?;
        for line in plan.to_string().lines() {
            console.line(line);
        }
        plan
    };
    let plan = plan_made.insert(plan);
    if plan.dry_run {
        return dry_run(inputs, plan, console).await;
    }
    let github = plan.github.as_ref().map(GitHub::new).transpose()?;
    if let (Some(github), Some(wanted)) = (&github, &plan.github)
        && let Some(timeout) = wanted.checks_timeout
    {
        let _group = console.group("checks gate");
        github::checks::wait_for_checks(
            github,
            &plan.source.sha,
            wanted.run_id.as_deref(),
            timeout,
            Duration::from_secs(10),
            console,
        )
        .await?;
    }

    let session = {
        let _group = console.group("auth");
        let session = auth::authenticate(plan, console).await?;
        console.line(&format!(
            "acting as {} (account {})",
            session.identity_arn, session.account_id
        ));
        session
    };
    let targets = if plan.rollout.is_some() {
        let _group = console.group("preflight");
        let targets = deploy::preflight(plan, &session).await?;
        console.line("every service exists and has the containers to update");
        targets
    } else {
        Vec::new()
    };
    let repository = {
        let _group = console.group("repository");
        image::prepare(plan, &session, console).await?
    };
    let image = {
        let _group = console.group("image");
        let image = image::publish(plan, &session, &repository, console).await?;
        console.line(&format!("pushed {}", image.pinned_reference()));
        image
    };

    let deployment = match (
        &github,
        plan.github.as_ref().and_then(|g| g.deployment.as_ref()),
    ) {
        (Some(github), Some(wanted)) => {
            let log_url = plan.source.run_url.as_deref();
            github::deployments::start(github, wanted, &plan.source.sha, log_url, console).await
        }
        _ => None,
    };
    let rolled = {
        let _group = console.group("deploy");
        deploy::roll_out(plan, &session, &image, targets, console).await
    };
    let failed: Vec<String> = match &rolled {
        Ok(rollouts) => rollouts
            .iter()
            .filter_map(deploy::Rollout::failure_text)
            .collect(),
        Err(error) => vec![error::one_line(error)],
    };
    if let Some(deployment) = &deployment {
        let deployed = format!("{} deployed", image.pinned_reference());
        deployment.finish(&failed, &deployed, console).await;
    }
    let rollouts = rolled?;
    {
        let _group = console.group("report");
        let deployment_id = deployment.as_ref().map(|d| d.id);
        let outputs = report::output_values(plan, &session, &image, &rollouts, deployment_id);
        report::publish(
            &inputs.run,
            &outputs,
            &report::summary::success(plan, &image, &rollouts),
        )?;
    }
    if !failed.is_empty() {
        return Err(Problem::new(format!("rollout failed: {}", failed.join("\n")))
            .hint("the service events and stopped tasks above say why; the image is pushed, re-run to retry the rollout")
            .into());
    }
    Ok(())
}

/// Plan, and — when services are to be rolled — authenticate and describe them (read-only) to
/// show what would change. Nothing is built, pushed, registered or updated.
async fn dry_run(inputs: &Inputs, plan: &Plan, console: &Console) -> Result<()> {
    let mut changes = String::new();
    if plan.rollout.is_some() {
        let session = {
            let _group = console.group("auth (dry run)");
            auth::authenticate(plan, console).await?
        };
        let _group = console.group("what would change (dry run)");
        let targets = deploy::preflight(plan, &session).await?;
        changes = deploy::dry_run(plan, &targets)?;
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
    report::append_summary(&inputs.run, &report::summary::dry_run(plan, &changes))
}
