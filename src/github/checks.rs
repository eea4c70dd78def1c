//! The checks gate: before a release is pushed, every other check run and commit status on the
//! commit has finished successfully — the seed's "main pushes :prod after CI checks pass".

use super::{GitHub, describe};
use crate::console::Console;
use crate::error::Problem;
use anyhow::{Result, anyhow};
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CheckRun {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub details_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CommitStatus {
    pub context: String,
    pub state: String,
}

#[derive(Debug, Deserialize)]
struct CheckRuns {
    check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
struct CombinedStatus {
    statuses: Vec<CommitStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Pass,
    Waiting(Vec<String>),
    Failed(Vec<String>),
}

/// Decide over what GitHub reports. Check runs of this workflow run that have not finished
/// are this job and its siblings: waiting for them would wait for ourselves.
pub fn assess(check_runs: &[CheckRun], statuses: &[CommitStatus], run_id: Option<&str>) -> Gate {
    let own_run = run_id.map(|id| format!("/actions/runs/{id}/"));
    let mut failed = Vec::new();
    let mut pending = Vec::new();
    for run in check_runs {
        let ours = own_run.as_deref().is_some_and(|own| {
            run.details_url
                .as_deref()
                .is_some_and(|url| url.contains(own))
        });
        if run.status != "completed" {
            if !ours {
                pending.push(format!("{} ({})", run.name, run.status));
            }
            continue;
        }
        match run.conclusion.as_deref() {
            Some("success" | "neutral" | "skipped") => {}
            other => failed.push(format!(
                "{} ({})",
                run.name,
                other.unwrap_or("no conclusion")
            )),
        }
    }
    for status in statuses {
        match status.state.as_str() {
            "success" => {}
            "pending" => pending.push(format!("{} (pending)", status.context)),
            other => failed.push(format!("{} ({other})", status.context)),
        }
    }
    if !failed.is_empty() {
        Gate::Failed(failed)
    } else if !pending.is_empty() {
        Gate::Waiting(pending)
    } else {
        Gate::Pass
    }
}

/// Wait until every other check on `sha` passed; fail at the first failure or at `timeout`.
pub async fn wait_for_checks(
    github: &GitHub,
    sha: &str,
    run_id: Option<&str>,
    timeout: Duration,
    poll: Duration,
    console: &Console,
) -> Result<()> {
    let started = Instant::now();
    let mut said: Option<Vec<String>> = None;
    loop {
        let runs: CheckRuns = github
            .client
            .get(
                github.route(&format!("commits/{sha}/check-runs")),
                Some(&[("per_page", "100")]),
            )
            .await
            .map_err(|error| anyhow!("listing the check runs of {sha}: {}", describe(&error)))?;
        let combined: CombinedStatus = github
            .client
            .get(github.route(&format!("commits/{sha}/status")), None::<&()>)
            .await
            .map_err(|error| {
                anyhow!("reading the commit statuses of {sha}: {}", describe(&error))
            })?;
        match assess(&runs.check_runs, &combined.statuses, run_id) {
            Gate::Pass => {
                console.line(&format!("every other check on {sha} passed"));
                return Ok(());
            }
            Gate::Failed(failed) => {
                return Err(Problem::new(format!(
                    "checks failed on {sha}: {}; nothing was pushed",
                    failed.join(", ")
                ))
                .hint("fix the failing checks and re-run; the gate is `wait-for-checks`")
                .into());
            }
            Gate::Waiting(pending) => {
                if said.as_ref() != Some(&pending) {
                    console.line(&format!("waiting for checks: {}", pending.join(", ")));
                    said = Some(pending.clone());
                }
                if started.elapsed() + poll > timeout {
                    return Err(Problem::new(format!(
                        "checks still running on {sha} after {} minutes: {}; nothing was pushed",
                        timeout.as_secs() / 60,
                        pending.join(", ")
                    ))
                    .hint("raise checks-timeout-minutes, or re-run when they finish")
                    .into());
                }
            }
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, status: &str, conclusion: Option<&str>, run_id: &str) -> CheckRun {
        CheckRun {
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
            details_url: Some(format!(
                "https://github.com/o/r/actions/runs/{run_id}/job/1"
            )),
        }
    }

    #[test]
    fn decisions() {
        let ok = run("test", "completed", Some("success"), "1");
        let skipped = run("lint", "completed", Some("skipped"), "1");
        let failed = run("test", "completed", Some("failure"), "1");
        let pending = run("test", "in_progress", None, "1");
        let ourselves = run("deploy", "in_progress", None, "42");
        let status = |state: &str| CommitStatus {
            context: "ci/legacy".into(),
            state: state.into(),
        };
        let own = Some("42");
        assert_eq!(
            assess(
                &[ok.clone(), skipped.clone(), ourselves.clone()],
                &[status("success")],
                own
            ),
            Gate::Pass
        );
        assert_eq!(
            assess(&[ok.clone(), failed], &[], own),
            Gate::Failed(vec!["test (failure)".into()])
        );
        assert_eq!(
            assess(&[pending, ourselves.clone()], &[], own),
            Gate::Waiting(vec!["test (in_progress)".into()])
        );
        assert_eq!(
            assess(std::slice::from_ref(&ok), &[status("pending")], own),
            Gate::Waiting(vec!["ci/legacy (pending)".into()])
        );
        assert_eq!(
            assess(&[ok], &[status("error")], own),
            Gate::Failed(vec!["ci/legacy (error)".into()])
        );
        // Without the run id, an unfinished run is someone else's.
        assert!(matches!(assess(&[ourselves], &[], None), Gate::Waiting(_)));
    }
}
