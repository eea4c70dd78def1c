//! `branch-tags`: which environment tag a push to a given ref produces.
//!
//! One `glob=tag` rule a line, first match wins. A glob that starts with `refs/` is matched
//! against the full ref (so tags can have rules: `refs/tags/v*=prod`); any other glob is
//! matched against the branch name, where `*` also matches `/` (`feature/login`).

use super::PlanError;
use super::values::check_docker_tag;
use globset::{Glob, GlobMatcher};

pub const DEFAULT_RULES: &str = "main=prod\n*=staging";

#[derive(Debug, Clone)]
pub struct BranchRule {
    pub pattern: String,
    matcher: GlobMatcher,
    pub tag: String,
}

/// What a workflow run was started for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    Branch(String),
    Tag(String),
    /// Anything else we cannot name a branch for (a detached head, `refs/pull/…` without a
    /// head branch).
    Other(String),
}

impl RefKind {
    /// Classify `GITHUB_REF`; a pull request's merge ref counts as its head branch.
    pub fn of(git_ref: &str, head_ref: Option<&str>) -> Self {
        if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
            RefKind::Branch(branch.to_string())
        } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
            RefKind::Tag(tag.to_string())
        } else if let (true, Some(head)) = (git_ref.starts_with("refs/pull/"), head_ref) {
            RefKind::Branch(head.to_string())
        } else {
            RefKind::Other(git_ref.to_string())
        }
    }
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
        let matcher = Glob::new(pattern)
            .map_err(|error| bad(format!("glob `{pattern}` is invalid: {}", error.kind())))?
            .compile_matcher();
        rules.push(BranchRule {
            pattern: pattern.to_string(),
            matcher,
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

/// The environment tag for `git_ref`: the first rule that matches.
pub fn environment_tag(rules: &[BranchRule], git_ref: &str, kind: &RefKind) -> Option<String> {
    rules
        .iter()
        .find(|rule| {
            if rule.pattern.starts_with("refs/") {
                rule.matcher.is_match(git_ref)
            } else {
                matches!(kind, RefKind::Branch(branch) if rule.matcher.is_match(branch))
            }
        })
        .map(|rule| rule.tag.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_for(rules: &str, git_ref: &str, head: Option<&str>) -> Option<String> {
        let rules = parse_rules(rules).unwrap();
        environment_tag(&rules, git_ref, &RefKind::of(git_ref, head))
    }

    #[test]
    fn resolves_like_the_seed() {
        let table = [
            ("refs/heads/main", None, Some("prod")),
            ("refs/heads/feature/login", None, Some("staging")),
            ("refs/heads/mainline", None, Some("staging")),
            ("refs/pull/12/merge", Some("fix-bug"), Some("staging")),
            ("refs/pull/12/merge", Some("main"), Some("prod")),
            ("refs/tags/v1.2.0", None, None),
            ("HEAD", None, None),
        ];
        for (git_ref, head, expected) in table {
            assert_eq!(
                tag_for(DEFAULT_RULES, git_ref, head).as_deref(),
                expected,
                "{git_ref}"
            );
        }
    }

    #[test]
    fn first_match_wins_and_refs_rules_match_tags() {
        let rules = "release/*=prod\nrefs/tags/v*=prod\n*=staging";
        assert_eq!(
            tag_for(rules, "refs/heads/release/1.0", None).as_deref(),
            Some("prod")
        );
        assert_eq!(
            tag_for(rules, "refs/tags/v2", None).as_deref(),
            Some("prod")
        );
        assert_eq!(
            tag_for(rules, "refs/heads/dev", None).as_deref(),
            Some("staging")
        );
    }

    #[test]
    fn rejects_malformed_rules() {
        for text in [
            "main",
            "=prod",
            "main=",
            "main=pr od",
            "[=prod",
            "  \n# only a comment",
        ] {
            let error = parse_rules(text).unwrap_err();
            assert_eq!(error.input, "branch-tags", "{text}");
        }
    }

    #[test]
    fn blank_lines_and_comments_are_not_rules() {
        let rules =
            parse_rules("\n# production\nmain=prod\n   \n  # the rest\n*=staging\n").unwrap();
        assert_eq!(rules.len(), 2);
    }
}
