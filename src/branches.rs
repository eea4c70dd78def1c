//! Which environment a ref goes to — one rule for `branch-tags` and for deploy.toml's
//! `branches`, so the same rules written in either place give the same environment:
//!
//! 1. a rule that names the branch exactly (no glob characters; or a `refs/…` rule naming the
//!    whole ref) beats every glob;
//! 2. otherwise the first glob in the order written wins;
//! 3. a pull request matches only `*` or a `refs/…` glob (such as `refs/pull/*`) — never by its
//!    head branch, which whoever opened it named.
//!
//! Also what makes a Docker tag, since an environment is the tag it pushes.

use globset::{Glob, GlobMatcher};

/// What a workflow run was started for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    Branch(String),
    Tag(String),
    /// `refs/pull/<number>/merge` (or `/head`).
    PullRequest(String),
    /// Anything else we cannot name a branch for (a detached head).
    Other(String),
}

impl RefKind {
    /// Classify `GITHUB_REF`.
    pub fn of(git_ref: &str) -> Self {
        if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
            RefKind::Branch(branch.to_string())
        } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
            RefKind::Tag(tag.to_string())
        } else if let Some(number) = git_ref
            .strip_prefix("refs/pull/")
            .and_then(|rest| rest.split('/').next())
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        {
            RefKind::PullRequest(number.to_string())
        } else {
            RefKind::Other(git_ref.to_string())
        }
    }
}

/// One branch glob of a rule (`main`, `release/*`, `refs/tags/v*`).
#[derive(Debug, Clone)]
pub struct BranchPattern {
    pattern: String,
    matcher: GlobMatcher,
}

impl BranchPattern {
    /// The glob, or why it is not one (globset's words).
    pub fn new(pattern: &str) -> Result<Self, String> {
        let matcher = Glob::new(pattern)
            .map_err(|error| error.kind().to_string())?
            .compile_matcher();
        Ok(Self {
            pattern: pattern.to_string(),
            matcher,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern names this very ref, without a glob.
    fn names_exactly(&self, git_ref: &str, kind: &RefKind) -> bool {
        if self.pattern.contains(['*', '?', '[', '{']) {
            return false;
        }
        match kind {
            _ if self.pattern.starts_with("refs/") => self.pattern == git_ref,
            RefKind::Branch(branch) => &self.pattern == branch,
            _ => false,
        }
    }

    fn matches(&self, git_ref: &str, kind: &RefKind) -> bool {
        if self.pattern.starts_with("refs/") {
            return self.matcher.is_match(git_ref);
        }
        match kind {
            RefKind::Branch(branch) => self.matcher.is_match(branch),
            RefKind::PullRequest(_) => self.pattern == "*",
            RefKind::Tag(_) | RefKind::Other(_) => false,
        }
    }
}

/// The value of the rule `git_ref` goes to (see the module's rule), from rules in the order
/// written: each a pattern and what it leads to.
pub fn choose<T: Copy>(rules: &[(&BranchPattern, T)], git_ref: &str) -> Option<T> {
    let kind = RefKind::of(git_ref);
    let exact = rules
        .iter()
        .find(|(pattern, _)| pattern.names_exactly(git_ref, &kind));
    exact
        .or_else(|| {
            rules
                .iter()
                .find(|(pattern, _)| pattern.matches(git_ref, &kind))
        })
        .map(|(_, value)| *value)
}

/// Docker tags: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_docker_tag(tag: &str) -> Result<(), String> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && tag.len() <= 128 && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        Ok(())
    } else {
        Err("is not a valid Docker tag (letters, digits, `_`, `.`, `-`; not starting with `.` or `-`; at most 128)".into())
    }
}

#[cfg(test)]
#[path = "branches_tests.rs"]
mod tests;
