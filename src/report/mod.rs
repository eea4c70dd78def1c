//! Stage 6, report: step outputs, the job summary, and the log's last word.

pub mod summary;

use crate::auth::AwsSession;
use crate::deploy::Rollout;
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
) -> Vec<(&'static str, String)> {
    let arns: Vec<&str> = rollouts
        .iter()
        .map(|r| r.task_definition.as_str())
        .collect();
    vec![
        ("environment", plan.environment.clone()),
        ("image", image.pinned_reference()),
        ("digest", image.digest.clone()),
        ("tags", image.tags.join("\n")),
        ("task-definition-arns", arns.join("\n")),
        ("aws-account-id", session.account_id.clone()),
    ]
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
