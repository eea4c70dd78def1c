use super::*;

fn rules(patterns: &[&str]) -> Vec<BranchPattern> {
    patterns
        .iter()
        .map(|p| BranchPattern::new(p).unwrap())
        .collect()
}

fn chosen(patterns: &[&str], git_ref: &str) -> Option<usize> {
    let rules = rules(patterns);
    let rules: Vec<(&BranchPattern, usize)> = rules.iter().zip(0..).collect();
    choose(&rules, git_ref)
}

#[test]
fn an_exact_name_beats_globs_then_the_first_glob_wins() {
    let written = ["*", "release/*", "main", "release/1.0", "refs/tags/v*"];
    let table = [
        ("refs/heads/main", Some(2)),
        ("refs/heads/release/1.0", Some(3)),
        ("refs/heads/release/2.0", Some(0)),
        ("refs/heads/mainline", Some(0)),
        ("refs/tags/v2", Some(4)),
        ("refs/tags/nightly", None),
        // A pull request only by `*` (or a refs/ glob), whatever its head branch is called.
        ("refs/pull/7/merge", Some(0)),
        ("HEAD", None),
    ];
    for (git_ref, expected) in table {
        assert_eq!(chosen(&written, git_ref), expected, "{git_ref}");
    }
    assert_eq!(
        chosen(&["main", "refs/pull/*"], "refs/pull/7/merge"),
        Some(1)
    );
    assert_eq!(chosen(&["main"], "refs/pull/7/merge"), None);
    assert_eq!(
        chosen(&["refs/heads/*", "refs/heads/main"], "refs/heads/main"),
        Some(1),
        "a refs/ rule naming the whole ref is exact"
    );
}

#[test]
fn bad_globs_say_why() {
    assert!(BranchPattern::new("[").unwrap_err().contains("unclosed"));
}
