//! The Markdown job summary (`GITHUB_STEP_SUMMARY`), rendered from the run's [`Release`].

use super::markdown::{code, code_cell, fenced_block, html, link_target, prose, prose_cell, text};
use super::release::{DryRun, Release, Stage, origin_text, outcome_text, sentry_deploy_text};
use crate::deploy::{Outcome, revision_of};
use std::fmt::Write;

/// The runner refuses a step's summary file over 1 MiB, all appends together.
pub const LIMIT: usize = 1024 * 1024;

/// The summary of any run: a dry run, a success, or a failure at any stage together with what
/// was done before it (the pushed image, the services it reached).
pub fn render(release: &Release) -> String {
    match &release.dry_run {
        Some(dry_run) => render_dry_run(release, dry_run),
        None => render_run(release),
    }
}

fn render_run(release: &Release) -> String {
    let mut md = String::new();
    let environment = release.environment.as_deref().unwrap_or("?");
    let heading = match &release.failure {
        Some(failure) if failure.stage == Stage::Deploy => "❌ deploy-action: rollout failed",
        Some(_) => "❌ deploy-action failed",
        None => "🚀 deploy-action",
    };
    let _ = writeln!(md, "## {heading} ({})\n", code(environment));
    if let (Some(commit), Some(git_ref)) = (&release.commit, &release.git_ref) {
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| environment | {} |", code_cell(environment));
        let _ = writeln!(md, "| commit | {} ({}) |", code_cell(commit), text(git_ref));
    }
    if let Some(settings) = &release.settings {
        let _ = writeln!(
            md,
            "| settings | {}, environment {} |",
            code_cell(&settings.file),
            code_cell(&settings.environment)
        );
    }
    if let Some(done) = &release.pre_deploy {
        let _ = writeln!(
            md,
            "| pre-deploy | {} in {}: exit {} after {:.1}s{} |",
            code_cell(done.task_arn.rsplit('/').next().unwrap_or(&done.task_arn)),
            code_cell(&done.container),
            done.exit_code
                .map_or_else(|| "none".to_string(), |code| code.to_string()),
            done.duration.as_secs_f64(),
            done.stopped_reason
                .as_deref()
                .filter(|_| !done.succeeded())
                .map(|reason| format!(" ({})", text(reason)))
                .unwrap_or_default()
        );
    }
    if let Some(image) = &release.image {
        let _ = writeln!(md, "| image | {} |", code_cell(&image.pinned_reference()));
        let tags: Vec<String> = image.tags.iter().map(|tag| code_cell(tag)).collect();
        let _ = writeln!(md, "| tags | {} |", tags.join(" "));
        let _ = writeln!(md, "| how | {} |", prose_cell(&origin_text(image)));
    }
    if let Some(sentry) = &release.sentry {
        let _ = writeln!(
            md,
            "| sentry | [{}]({}) · {} |",
            text(&sentry.version),
            link_target(&sentry.link),
            text(&sentry_deploy_text(sentry))
        );
    }
    if let Some(failure) = &release.failure {
        let _ = writeln!(md, "\n**Stopped at {}:**\n", failure.stage);
        let _ = writeln!(md, "{}", fenced_block(&failure.message));
        if let Some(hint) = &failure.hint {
            let _ = writeln!(md, "\n**What to do:** {}", prose(hint));
        }
    }
    if !release.services.is_empty() && release.image.is_some() {
        let _ = writeln!(md, "\n### ECS services\n");
        let _ = writeln!(
            md,
            "| service | previous | new | result | time |\n|---|---|---|---|---|"
        );
        for service in &release.services {
            let _ = match &service.rollout {
                Some(rollout) => writeln!(
                    md,
                    "| {} | {} | {} | {} | {:.0}s |",
                    text(&service.service),
                    code_cell(revision_of(&rollout.previous_task_definition)),
                    code_cell(revision_of(&rollout.task_definition)),
                    outcome_cell(&rollout.outcome),
                    rollout.duration.as_secs_f64()
                ),
                None => writeln!(md, "| {} | | | not touched | |", text(&service.service)),
            };
        }
    }
    if let Some(settings) = &release.settings {
        let _ = writeln!(
            md,
            "\n<details><summary>Where each setting came from</summary>\n"
        );
        for (input, origin) in &settings.origins {
            let _ = writeln!(md, "- {}: {}", code(input), text(origin));
        }
        let _ = writeln!(md, "\n</details>");
    }
    for rollout in release.rollouts() {
        if let Some(evidence) = rollout.outcome.failure().and_then(|f| f.evidence.as_ref()) {
            let _ = writeln!(
                md,
                "\n<details><summary>Why {} failed</summary>\n\n{}\n</details>",
                html(&rollout.service),
                fenced_block(evidence)
            );
        }
        if let Some(lines) = rollout.outcome.failure().and_then(|f| f.log_lines.as_ref()) {
            let _ = writeln!(
                md,
                "\n<details><summary>Last log lines of {}'s crashed containers</summary>\n\n{}\n</details>",
                html(&rollout.service),
                fenced_block(lines)
            );
        }
        if !rollout.events.is_empty() {
            let last: Vec<&String> = rollout.events.iter().rev().take(10).collect();
            let _ = writeln!(
                md,
                "\n<details><summary>Last events of {}</summary>\n",
                html(&rollout.service)
            );
            for event in last.into_iter().rev() {
                let _ = writeln!(md, "- {}", text(event));
            }
            let _ = writeln!(md, "</details>");
        }
    }
    cap(md)
}

fn render_dry_run(release: &Release, dry_run: &DryRun) -> String {
    let environment = release.environment.as_deref().unwrap_or("?");
    let mut md = format!(
        "## 🔍 deploy-action dry run ({})\n\nNothing was changed.\n\n{}\n",
        code(environment),
        fenced_block(&dry_run.plan)
    );
    if !dry_run.changes.is_empty() {
        let _ = write!(
            md,
            "\n### What would change\n\n{}\n",
            fenced_block(&dry_run.changes)
        );
    }
    cap(md)
}

fn outcome_cell(outcome: &Outcome) -> String {
    let mark = match outcome {
        Outcome::Completed { .. } | Outcome::AlreadyCurrent | Outcome::Baking { .. } => "✅",
        Outcome::Started => "▶️",
        Outcome::Failed(_) => "❌",
    };
    format!("{mark} {}", text(&outcome_text(outcome)))
}

fn cap(md: String) -> String {
    fit(md, LIMIT)
}

/// `md` cut to at most `budget` bytes (what the summary file has room for), saying so.
pub fn fit(mut md: String, budget: usize) -> String {
    const NOTE: &str = "\n\n… (cut to stay under GitHub's 1 MiB limit)\n";
    if md.len() <= budget {
        return md;
    }
    if budget < NOTE.len() + 16 {
        return String::new();
    }
    let mut cut = budget - NOTE.len();
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    md.truncate(cut);
    md.push_str(NOTE);
    md
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
