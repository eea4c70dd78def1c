//! Stage 6, report: step outputs, the job summary, and the log's last word.

pub mod summary;

use crate::auth::AwsSession;
use crate::deploy::{Outcome, Rollout};
use crate::file_commands;
use crate::image::PushedImage;
use crate::inputs::RunContext;
use crate::plan::Plan;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// The outputs of a finished run, in the order action.yml lists them.
pub fn output_values(
    plan: &Plan,
    session: &AwsSession,
    image: &PushedImage,
    rollouts: &[Rollout],
    github_deployment_id: Option<u64>,
) -> Vec<(&'static str, String)> {
    let arns: Vec<&str> = rollouts
        .iter()
        .map(|r| r.task_definition.as_str())
        .collect();
    let previous: Vec<&str> = rollouts
        .iter()
        .map(|r| r.previous_task_definition.as_str())
        .collect();
    vec![
        ("environment", plan.environment.clone()),
        ("image", image.pinned_reference()),
        ("digest", image.digest.clone()),
        ("tags", image.tags.join("\n")),
        ("task-definition-arns", arns.join("\n")),
        ("aws-account-id", session.account_id.clone()),
        ("rollout-result", rollout_result(plan, rollouts).to_string()),
        ("previous-task-definition-arns", previous.join("\n")),
        (
            "github-deployment-id",
            github_deployment_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ),
    ]
}

/// `success`, `failure`, `started` (not waited for) or `skipped` (nothing to roll).
pub fn rollout_result(plan: &Plan, rollouts: &[Rollout]) -> &'static str {
    if plan.rollout.is_none() {
        "skipped"
    } else if rollouts.iter().any(|r| r.outcome.failure().is_some()) {
        "failure"
    } else if rollouts
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Started))
    {
        "started"
    } else {
        "success"
    }
}

/// Write outputs and summary where the runner asked for them; outside a runner, print the
/// outputs instead.
pub fn publish(run: &RunContext, outputs: &[(&str, String)], summary_markdown: &str) -> Result<()> {
    match &run.output_file {
        Some(path) => file_commands::append("GITHUB_OUTPUT", Path::new(path), outputs)?,
        None => {
            for (name, value) in outputs {
                println!("{name}: {}", value.replace('\n', ", "));
            }
        }
    }
    append_summary(run, summary_markdown)
}

pub fn append_summary(run: &RunContext, markdown: &str) -> Result<()> {
    let Some(path) = &run.summary_file else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening GITHUB_STEP_SUMMARY ({path})"))?;
    file.write_all(markdown.as_bytes())
        .with_context(|| format!("writing GITHUB_STEP_SUMMARY ({path})"))
}
