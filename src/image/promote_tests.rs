use super::*;

#[test]
fn nearest_tags_share_the_longest_prefix() {
    let tags: Vec<String> = [
        "prod",
        "staging",
        "sha-abc1234",
        "sha-abd0000",
        "buildcache-prod",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    assert_eq!(
        nearest("sha-abc1235", &tags, 2),
        vec!["sha-abc1234", "sha-abd0000"]
    );
    assert_eq!(nearest("stagin", &tags, 1), vec!["staging"]);
    assert!(nearest("x", &[], 3).is_empty());
}
