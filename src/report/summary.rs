//! The Markdown job summary (`GITHUB_STEP_SUMMARY`).

use crate::deploy::{Outcome, Rollout, revision_of};
use crate::image::build::Builder;
use crate::image::{Origin, PushedImage};
use crate::plan::ImageMode;
use crate::plan::Plan;
use std::fmt::Write;

/// The runner refuses summaries over 1 MiB.
const LIMIT: usize = 1024 * 1024;

pub fn success(plan: &Plan, image: &PushedImage, rollouts: &[Rollout]) -> String {
    let mut md = String::new();
    let failed = rollouts.iter().any(|r| r.outcome.failure().is_some());
    let heading = if failed {
        "❌ deploy-action: rollout failed"
    } else {
        "🚀 deploy-action"
    };
    let _ = writeln!(md, "## {heading} (`{}`)\n", plan.environment);
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| environment | `{}` |", plan.environment);
    let _ = writeln!(
        md,
        "| commit | `{}` ({}) |",
        plan.source.sha, plan.source.git_ref
    );
    let _ = writeln!(md, "| image | `{}` |", image.pinned_reference());
    let tags: Vec<String> = image.tags.iter().map(|tag| format!("`{tag}`")).collect();
    let _ = writeln!(md, "| tags | {} |", tags.join(" "));
    match (&image.origin, &plan.image.mode) {
        (Origin::Built { builder, cache }, ImageMode::Build(build)) => {
            let _ = writeln!(
                md,
                "| build | {} for {} in {:.1}s |",
                match builder {
                    Builder::Buildx => "buildx",
                    Builder::EngineBuildKit => "BuildKit (docker build)",
                },
                build.platforms.join(", "),
                image.build_time.as_secs_f64()
            );
            let _ = writeln!(md, "| cache | {} |", crate::image::describe_cache(cache));
        }
        (Origin::Promoted { from }, _) => {
            let _ = writeln!(
                md,
                "| promoted | from `{from}` in {:.1}s, no rebuild |",
                image.build_time.as_secs_f64()
            );
        }
        _ => {}
    }
    if !rollouts.is_empty() {
        let _ = writeln!(md, "\n### ECS services\n");
        let _ = writeln!(
            md,
            "| service | previous | new | result | time |\n|---|---|---|---|---|"
        );
        for rollout in rollouts {
            let _ = writeln!(
                md,
                "| {} | `{}` | `{}` | {} | {:.0}s |",
                rollout.service,
                revision_of(&rollout.previous_task_definition),
                revision_of(&rollout.task_definition),
                outcome_text(&rollout.outcome),
                rollout.duration.as_secs_f64()
            );
        }
    }
    for rollout in rollouts {
        if let Some(evidence) = rollout.outcome.failure().and_then(|f| f.evidence.as_ref()) {
            let _ = writeln!(
                md,
                "\n<details><summary>Why {} failed</summary>\n\n```text\n{}\n```\n</details>",
                rollout.service,
                evidence.replace("```", "'''")
            );
        }
        if !rollout.events.is_empty() {
            let last: Vec<&String> = rollout.events.iter().rev().take(10).collect();
            let _ = writeln!(
                md,
                "\n<details><summary>Last events of {}</summary>\n",
                rollout.service
            );
            for event in last.into_iter().rev() {
                let _ = writeln!(md, "- {event}");
            }
            let _ = writeln!(md, "</details>");
        }
    }
    cap(md)
}

pub fn failure(plan: Option<&Plan>, message: &str, hint: Option<&str>) -> String {
    let mut md = String::new();
    let environment = plan.map(|p| p.environment.as_str()).unwrap_or("?");
    let _ = writeln!(md, "## ❌ deploy-action failed (`{environment}`)\n");
    let _ = writeln!(md, "```text\n{}\n```", message.replace("```", "'''"));
    if let Some(hint) = hint {
        let _ = writeln!(md, "\n**What to do:** {hint}");
    }
    cap(md)
}

pub fn dry_run(plan: &Plan, changes: &str) -> String {
    let mut md = format!(
        "## 🔍 deploy-action dry run (`{}`)\n\nNothing was changed.\n\n```text\n{plan}```\n",
        plan.environment
    );
    if !changes.is_empty() {
        md.push_str(&format!(
            "\n### What would change\n\n```text\n{}```\n",
            changes.replace("```", "'''")
        ));
    }
    cap(md)
}

fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed { running, desired } => {
            format!("✅ completed ({running}/{desired} running)")
        }
        Outcome::Started => "▶️ started (not waited for)".into(),
        Outcome::AlreadyCurrent => "✅ already running this image".into(),
        Outcome::Failed(failure) => format!(
            "❌ {} — now on `{}`{}",
            failure.reason.replace('|', "\\|"),
            revision_of(&failure.left_on),
            if failure.rolled_back {
                " (rolled back)"
            } else {
                ""
            }
        ),
    }
}

fn cap(mut md: String) -> String {
    if md.len() > LIMIT {
        let mut cut = LIMIT - 64;
        while !md.is_char_boundary(cut) {
            cut -= 1;
        }
        md.truncate(cut);
        md.push_str("\n\n… (cut to stay under GitHub's 1 MiB limit)\n");
    }
    md
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
