use super::*;
use ImageTagMutability::*;

#[test]
fn wildcards() {
    let table = [
        ("sha-*", "sha-4f2a9c1", true),
        ("sha-*", "staging", false),
        ("*", "anything", true),
        ("prod", "prod", true),
        ("prod", "production", false),
        ("release-*-rc", "release-1.2-rc", true),
        ("release-*-rc", "release-1.2", false),
        ("*-rc*", "v1-rc2", true),
        ("a*a", "a", false),
        ("a*a", "aa", true),
    ];
    for (pattern, tag, expected) in table {
        assert_eq!(
            wildcard_matches(pattern, tag),
            expected,
            "{pattern} ~ {tag}"
        );
    }
}

/// The usual set-up — `sha-*` immutable, `prod`/`staging` mutable — in either form.
#[test]
fn tags_move_as_ecr_says() {
    let filters = |list: &[&str]| list.iter().map(|f| f.to_string()).collect::<Vec<_>>();
    let table = [
        (None, filters(&[]), "staging", true),
        (Some(Mutable), filters(&[]), "staging", true),
        (Some(Immutable), filters(&[]), "staging", false),
        (
            Some(ImmutableWithExclusion),
            filters(&["prod", "staging"]),
            "staging",
            true,
        ),
        (
            Some(ImmutableWithExclusion),
            filters(&["prod", "staging"]),
            "sha-4f2a9c1",
            false,
        ),
        (
            Some(ImmutableWithExclusion),
            filters(&["buildcache-*"]),
            "staging",
            false,
        ),
        (
            Some(MutableWithExclusion),
            filters(&["sha-*"]),
            "staging",
            true,
        ),
        (
            Some(MutableWithExclusion),
            filters(&["sha-*"]),
            "sha-4f2a9c1",
            false,
        ),
        (Some(MutableWithExclusion), filters(&["*"]), "prod", false),
    ];
    for (mutability, exclusions, tag, expected) in table {
        assert_eq!(
            tag_can_move(mutability.as_ref(), &exclusions, tag),
            expected,
            "{mutability:?} {exclusions:?} {tag}"
        );
    }
}
