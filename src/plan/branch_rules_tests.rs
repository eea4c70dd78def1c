use super::*;

fn tag_for(rules: &str, git_ref: &str) -> Option<String> {
    let rules = parse_rules(rules).unwrap();
    environment_tag(
        &rules,
        git_ref,
        &RefKind::of(git_ref),
        PullRequestTag::CatchAll,
    )
}

#[test]
fn resolves_like_the_seed() {
    let table = [
        ("refs/heads/main", Some("prod")),
        ("refs/heads/feature/login", Some("staging")),
        ("refs/heads/mainline", Some("staging")),
        // Whatever its head branch is called (a fork's `main`): the catch-all's tag.
        ("refs/pull/12/merge", Some("staging")),
        ("refs/tags/v1.2.0", None),
        ("HEAD", None),
    ];
    for (git_ref, expected) in table {
        assert_eq!(
            tag_for(DEFAULT_RULES, git_ref).as_deref(),
            expected,
            "{git_ref}"
        );
    }
}

#[test]
fn an_exact_branch_beats_globs_and_refs_rules_match_tags() {
    // The same rule as deploy.toml's `branches`: `main` is exact, so order does not matter.
    assert_eq!(
        tag_for("*=staging\nmain=prod", "refs/heads/main").as_deref(),
        Some("prod")
    );
    let rules = "release/*=prod\nrefs/tags/v*=prod\n*=staging";
    assert_eq!(
        tag_for(rules, "refs/heads/release/1.0").as_deref(),
        Some("prod")
    );
    assert_eq!(tag_for(rules, "refs/tags/v2").as_deref(), Some("prod"));
    assert_eq!(tag_for(rules, "refs/heads/dev").as_deref(), Some("staging"));
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
    let rules = parse_rules("\n# production\nmain=prod\n   \n  # the rest\n*=staging\n").unwrap();
    assert_eq!(rules.len(), 2);
}

#[test]
fn pull_requests_never_match_a_branch_rule() {
    let rules = parse_rules("main=prod\nrelease/*=prod\n*=staging").unwrap();
    let tag = |git_ref: &str, how| environment_tag(&rules, git_ref, &RefKind::of(git_ref), how);
    assert_eq!(
        tag("refs/pull/7/merge", PullRequestTag::CatchAll).as_deref(),
        Some("staging")
    );
    assert_eq!(
        tag("refs/pull/7/merge", PullRequestTag::Number).as_deref(),
        Some("pr-7")
    );
    // Without a catch-all, no tag (an error names the rules), unless a refs/pull rule says.
    let strict = parse_rules("main=prod").unwrap();
    let kind = RefKind::of("refs/pull/7/merge");
    assert_eq!(
        environment_tag(
            &strict,
            "refs/pull/7/merge",
            &kind,
            PullRequestTag::CatchAll
        ),
        None
    );
    let explicit = parse_rules("main=prod\nrefs/pull/*=review").unwrap();
    assert_eq!(
        environment_tag(
            &explicit,
            "refs/pull/7/merge",
            &kind,
            PullRequestTag::CatchAll
        )
        .as_deref(),
        Some("review")
    );
}
