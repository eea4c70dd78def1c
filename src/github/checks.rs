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
    #[serde(default)]
    total_count: usize,
    check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
struct CombinedStatus {
    #[serde(default)]
    total_count: usize,
    statuses: Vec<CommitStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Pass,
    Waiting(Vec<String>),
    Failed(Vec<String>),
}

/// What the gate waits for.
#[derive(Debug, Clone)]
pub struct GateSpec<'a> {
    /// The commit whose checks count: a pull request's head commit, not the merge commit
    /// GitHub made for the run (checks report on the head).
    pub sha: &'a str,
    pub run_id: Option<&'a str>,
    /// `required-checks`: only these count, and each must report; empty = every check.
    pub required: &'a [String],
    pub timeout: Duration,
    pub poll: Duration,
}

/// Decide over what GitHub reports.
///
/// Unfinished check runs of this very workflow run (its run id in their `details_url`) are this
/// job and its siblings: waiting for them would wait for ourselves. Every other check run
/// counts — a name proves nothing, since any workflow can name a job `build` or `test`. An
/// unfinished job named like one of ours in another run (a second deploy of the commit) is
/// waited for too, and said to be one: two deploys of one commit would wait for each other until
/// the gate's timeout, which a `concurrency:` group on the workflow prevents. With nothing
/// reported yet the gate waits: CI may not have started.
pub fn assess(
    check_runs: &[CheckRun],
    statuses: &[CommitStatus],
    run_id: Option<&str>,
    required: &[String],
) -> Gate {
    let own_run = run_id.map(|id| format!("/actions/runs/{id}/"));
    let is_ours = |run: &CheckRun| {
        own_run.as_deref().is_some_and(|own| {
            run.details_url
                .as_deref()
                .is_some_and(|url| url.contains(own))
        })
    };
    let our_jobs: Vec<&str> = check_runs
        .iter()
        .filter(|run| is_ours(run))
        .map(|run| run.name.as_str())
        .collect();
    let counts = |name: &str| required.is_empty() || required.iter().any(|r| r == name);
    let mut failed = Vec::new();
    let mut pending = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for run in check_runs.iter().filter(|run| counts(&run.name)) {
        if run.status != "completed" {
            if !is_ours(run) {
                pending.push(if our_jobs.contains(&run.name.as_str()) {
                    format!(
                        "{} ({}, a job named like ours in another workflow run: if it is a second deploy of this \
                         commit, the two wait for each other — give the workflow a `concurrency:` group)",
                        run.name, run.status
                    )
                } else {
                    format!("{} ({})", run.name, run.status)
                });
                reported.push(&run.name);
            }
            continue;
        }
        reported.push(&run.name);
        match run.conclusion.as_deref() {
            Some("success" | "neutral" | "skipped") => {}
            other => failed.push(format!(
                "{} ({})",
                run.name,
                other.unwrap_or("no conclusion")
            )),
        }
    }
    for status in statuses.iter().filter(|status| counts(&status.context)) {
        reported.push(&status.context);
        match status.state.as_str() {
            "success" => {}
            "pending" => pending.push(format!("{} (pending)", status.context)),
            other => failed.push(format!("{} ({other})", status.context)),
        }
    }
    for name in required {
        if !reported.contains(&name.as_str()) {
            pending.push(format!("{name} (not reported yet)"));
        }
    }
    let others_reported = check_runs.iter().any(|run| !is_ours(run)) || !statuses.is_empty();
    if !failed.is_empty() {
        Gate::Failed(failed)
    } else if !pending.is_empty() {
        Gate::Waiting(pending)
    } else if required.is_empty() && !others_reported {
        Gate::Waiting(vec!["no check has reported on the commit yet".into()])
    } else {
        Gate::Pass
    }
}

/// Pages of at most this many items; the check-runs and status endpoints allow 100.
const PER_PAGE: usize = 100;
/// A commit with more than 1000 checks is not one we can judge in a poll.
const MAX_PAGES: usize = 10;

/// A 403 from a checks endpoint: the token lacks the permission that endpoint needs.
fn read_error(error: &octocrab::Error, what: &str, sha: &str, permission: &str) -> anyhow::Error {
    if super::status_of(error) == Some(403) {
        return Problem::new(format!(
            "reading the {what} of {sha} was refused (403): {}",
            describe(error)
        ))
        .hint(format!(
            "give the job `permissions: {permission}: read` (the gate reads check runs and commit statuses: \
             `checks: read` and `statuses: read`)"
        ))
        .into();
    }
    anyhow!("reading the {what} of {sha}: {}", describe(error))
}

/// One page of a list the API pages: its items and how many there are in all.
trait Page: serde::de::DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, usize);
}

impl Page for CheckRuns {
    type Item = CheckRun;
    fn into_parts(self) -> (Vec<CheckRun>, usize) {
        (self.check_runs, self.total_count)
    }
}

impl Page for CombinedStatus {
    type Item = CommitStatus;
    fn into_parts(self) -> (Vec<CommitStatus>, usize) {
        (self.statuses, self.total_count)
    }
}

/// Every item of `commits/{sha}/{list}`, page by page: check runs (the latest run of each
/// check: the API's default) or commit statuses (the latest of each context).
async fn all_pages<P: Page>(
    github: &GitHub,
    sha: &str,
    list: &str,
    (what, permission): (&str, &str),
) -> Result<Vec<P::Item>> {
    let per_page = PER_PAGE.to_string();
    let mut items = Vec::new();
    for page in 1..=MAX_PAGES {
        let page_number = page.to_string();
        let answer: P = github
            .client
            .get(
                github.route(&format!("commits/{sha}/{list}")),
                Some(&[
                    ("per_page", per_page.as_str()),
                    ("page", page_number.as_str()),
                ]),
            )
            .await
            .map_err(|error| read_error(&error, what, sha, permission))?;
        let (page_items, total) = answer.into_parts();
        let last = page_items.len() < PER_PAGE;
        items.extend(page_items);
        if last || items.len() >= total {
            break;
        }
    }
    Ok(items)
}

/// Wait until the checks on the commit passed; fail at the first failure or at the timeout.
pub async fn wait_for_checks(
    github: &GitHub,
    gate: &GateSpec<'_>,
    console: &Console,
) -> Result<()> {
    let sha = gate.sha;
    let started = Instant::now();
    let mut said: Option<Vec<String>> = None;
    loop {
        let runs: Vec<CheckRun> =
            all_pages::<CheckRuns>(github, sha, "check-runs", ("check runs", "checks")).await?;
        let statuses: Vec<CommitStatus> =
            all_pages::<CombinedStatus>(github, sha, "status", ("commit statuses", "statuses"))
                .await?;
        match assess(&runs, &statuses, gate.run_id, gate.required) {
            Gate::Pass => {
                console.line(&if gate.required.is_empty() {
                    format!("every other check on {sha} passed")
                } else {
                    format!(
                        "the required checks on {sha} passed: {}",
                        gate.required.join(", ")
                    )
                });
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
                crate::progress::detail(
                    "checks gate",
                    &format!(
                        "waiting for {}",
                        crate::console::clip(&pending.join(", "), 60)
                    ),
                );
                if said.as_ref() != Some(&pending) {
                    // Check names come from other apps and workflows: printed as untrusted text.
                    console.line(&crate::console::neutralise(&format!(
                        "waiting for checks: {}",
                        pending.join(", ")
                    )));
                    said = Some(pending.clone());
                }
                if started.elapsed() + gate.poll > gate.timeout {
                    return Err(Problem::new(format!(
                        "checks still running on {sha} after {} minutes: {}; nothing was pushed",
                        gate.timeout.as_secs() / 60,
                        pending.join(", ")
                    ))
                    .hint(
                        "raise checks-timeout-minutes, or re-run when they finish; a repository without CI \
                         reports no check: turn wait-for-checks off, or name the checks in required-checks",
                    )
                    .into());
                }
            }
        }
        tokio::time::sleep(gate.poll).await;
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
