//! Stage 6, report: the run's one ending. Whatever happened, the pipeline hands over a
//! [`Release`] and [`finish`] writes it once — step outputs, the job summary, the GitHub
//! deployment status, and the record on stdout for a person or a script.

#[cfg(test)]
mod fixtures;
mod markdown;
pub mod release;
pub mod summary;

use crate::console::{Console, Mode};
use crate::file_commands;
use crate::github::deployments::Tracked;
use crate::plan::{OutputFormat, ReportPlan};
use anyhow::{Context, Result};
pub use release::{Release, RolloutResult, Stage, StageFailure};
use std::io::Write;
use std::path::Path;

/// Write everything the record has values for. The GitHub deployment is settled here too, so
/// a run that fails at any stage after it was created still marks it failed.
pub async fn finish(
    destination: &ReportPlan,
    release: &Release,
    deployment: Option<&Tracked>,
    console: &Console,
) -> Result<()> {
    let _group = (console.mode == Mode::Actions).then(|| console.group("report"));
    if let Some(deployment) = deployment {
        let deployed = release
            .image
            .as_ref()
            .map(|image| format!("{} deployed", image.pinned_reference()))
            .unwrap_or_default();
        let failure = release.failure.as_ref().map(|f| f.message.as_str());
        deployment.finish(failure, &deployed, console).await;
    }
    let outputs = release.outputs();
    if let Some(path) = &destination.output_file {
        file_commands::append("GITHUB_OUTPUT", path, &outputs)?;
    }
    if let Some(path) = &destination.summary_file {
        append_summary(path, &summary::render(release))?;
    }
    match destination.format {
        OutputFormat::Json => print(&release.to_json()),
        // In a runner the log has said it all; a person at a terminal gets the report.
        // A run stopped at its plan did nothing to report: the error (printed next) says it all.
        OutputFormat::Text if console.mode == Mode::Plain && !release.stopped_at_plan() => {
            print(&release.to_string());
        }
        OutputFormat::Text => {}
    }
    Ok(())
}

/// The record goes to stdout on its own (logs are on stderr then), so a script can read it.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end());
    let _ = out.flush();
}

/// Append to the step's summary within the runner's 1 MiB for the whole file: what is there
/// already (an earlier append) counts.
fn append_summary(path: &Path, markdown: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening GITHUB_STEP_SUMMARY ({})", path.display()))?;
    let present = file
        .metadata()
        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
    let markdown = summary::fit(markdown.to_string(), summary::LIMIT.saturating_sub(present));
    file.write_all(markdown.as_bytes())
        .with_context(|| format!("writing GITHUB_STEP_SUMMARY ({})", path.display()))
}

#[cfg(test)]
mod tests;
