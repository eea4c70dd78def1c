//! `branch-tags`: which environment tag a push to a given ref produces.
//!
//! One `glob=tag` rule a line, matched by [`crate::branches`]'s one rule (the same as
//! deploy.toml's `branches`): a rule naming the branch exactly beats every glob, then the first
//! glob written wins. A glob that starts with `refs/` is matched against the full ref (so tags
//! can have rules: `refs/tags/v*=prod`); any other glob is matched against the branch name,
//! where `*` also matches `/` (`feature/login`).
//!
//! A pull request never matches a branch rule: its head branch is named by whoever opened it
//! (a fork's PR from its own `main` must not deploy to prod). It takes the catch-all `*`
//! rule's tag, a `refs/pull/…` rule's, or `pr-<number>` when asked ([`PullRequestTag`]).

use super::PlanError;
pub use crate::branches::RefKind;
use crate::branches::{BranchPattern, check_docker_tag};

pub const DEFAULT_RULES: &str = "main=prod\n*=staging";

#[derive(Debug, Clone)]
pub struct BranchRule {
    pub pattern: BranchPattern,
    pub tag: String,
}

/// `pull-request-tag`: the environment tag of a pull request's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRequestTag {
    /// The catch-all `*` rule's tag (`staging` with the default rules), or a `refs/pull/…` rule's.
    CatchAll,
    /// `pr-<number>`: each pull request its own tag.
    Number,
}

pub fn parse_rules(text: &str) -> Result<Vec<BranchRule>, PlanError> {
    let mut rules = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |problem: String| {
            PlanError::new(
                "branch-tags",
                format!("line {}: {problem}", index + 1),
                "one `branch-glob=tag` rule a line, e.g. `main=prod` and `*=staging`",
            )
        };
        let Some((pattern, tag)) = line.split_once('=') else {
            return Err(bad(format!("`{line}` has no `=`")));
        };
        let (pattern, tag) = (pattern.trim(), tag.trim());
        if pattern.is_empty() {
            return Err(bad(format!("`{line}` has no branch glob before `=`")));
        }
        check_docker_tag(tag).map_err(|why| bad(format!("tag `{tag}` {why}")))?;
        rules.push(BranchRule {
            pattern: BranchPattern::new(pattern)
                .map_err(|why| bad(format!("glob `{pattern}` is invalid: {why}")))?,
            tag: tag.to_string(),
        });
    }
    if rules.is_empty() {
        return Err(PlanError::new(
            "branch-tags",
            "holds no rule",
            "at least one `branch-glob=tag` rule, e.g. `*=staging`",
        ));
    }
    Ok(rules)
}

/// The environment tag for `git_ref`: the rule [`crate::branches::choose`] picks.
pub fn environment_tag(
    rules: &[BranchRule],
    git_ref: &str,
    kind: &RefKind,
    pull_requests: PullRequestTag,
) -> Option<String> {
    if let (RefKind::PullRequest(number), PullRequestTag::Number) = (kind, pull_requests) {
        return Some(format!("pr-{number}"));
    }
    let rules: Vec<_> = rules
        .iter()
        .map(|rule| (&rule.pattern, rule.tag.as_str()))
        .collect();
    crate::branches::choose(&rules, git_ref).map(str::to_string)
}

#[cfg(test)]
#[path = "branch_rules_tests.rs"]
mod tests;
