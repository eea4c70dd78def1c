//! Is one commit in the history of another? The compare API (`GET /repos/{o}/{r}/compare/
//! {base}...{head}`) answers with `status`: `identical`, `ahead` (head has commits after base,
//! base none after the merge base: base is an ancestor), `behind` or `diverged` (base has commits
//! head does not). A 404 means GitHub does not know the commit in this repository's network.

use super::{GitHub, describe, status_of};
use crate::error::Problem;
use anyhow::Result;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ancestry {
    /// `base` is `head`, or in its history.
    Ancestor,
    /// It is not: `behind` or `diverged`, with the commits only `base` has.
    NotAncestor { status: String, only_in_base: u64 },
    /// GitHub does not know `base` here (a fork's commit never merged, a rewritten history).
    Unknown,
}

#[derive(Deserialize)]
struct Comparison {
    status: String,
    #[serde(default)]
    behind_by: u64,
}

/// Whether `base` is an ancestor of (or equal to) `head`.
pub async fn ancestry(github: &GitHub, base: &str, head: &str) -> Result<Ancestry> {
    // Only the status is needed: one commit a page keeps the answer small.
    let answer: Result<Comparison, _> = github
        .client
        .get(
            github.route(&format!("compare/{base}...{head}")),
            Some(&[("per_page", "1")]),
        )
        .await;
    match answer {
        Ok(comparison) => Ok(classify(&comparison.status, comparison.behind_by)),
        Err(error) if matches!(status_of(&error), Some(404 | 422)) => Ok(Ancestry::Unknown),
        Err(error) if status_of(&error) == Some(403) => Err(Problem::new(format!(
            "GitHub refused to compare {base} with {head}: {}",
            describe(&error)
        ))
        .hint("the token needs `contents: read` to check that the promoted commit is in this branch's history")
        .into()),
        Err(error) => Err(Problem::new(format!(
            "comparing {base} with {head} on GitHub failed: {}",
            describe(&error)
        ))
        .into()),
    }
}

fn classify(status: &str, behind_by: u64) -> Ancestry {
    match status {
        "identical" | "ahead" => Ancestry::Ancestor,
        other => Ancestry::NotAncestor {
            status: other.to_string(),
            only_in_base: behind_by,
        },
    }
}

#[cfg(test)]
#[path = "ancestry_tests.rs"]
mod tests;
