use super::*;

/// The committed copy is what `deploy-action schema` prints: regenerate it with
/// `cargo run -q -- schema > deploy.schema.json`.
#[test]
fn the_committed_schema_is_current() {
    // Byte for byte: README's regeneration command must give no diff (serde_json keeps
    // the key order as written: its preserve_order feature is on for every build).
    assert!(
        include_str!("../../deploy.schema.json") == render(),
        "deploy.schema.json is stale: run `cargo run -q -- schema > deploy.schema.json`"
    );
}

/// Every input the file may set is in the schema, with its type and help.
#[test]
fn every_settable_input_is_described() {
    let schema: Value = serde_json::from_str(&render()).unwrap();
    let defaults = &schema["properties"]["defaults"]["properties"];
    for name in InputArgs::NAMES.iter().filter(|n| !NOT_IN_FILE.contains(n)) {
        assert!(
            defaults[*name]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    assert!(defaults.get("github-token").is_none());
    assert_eq!(defaults["wait"]["anyOf"][0]["type"], "boolean");
    assert_eq!(defaults["ecs-services"]["anyOf"][0]["type"], "array");
    for listed in FLAGS.iter().chain(LISTS).chain(TABLES).chain(NUMBERS) {
        assert!(
            InputArgs::NAMES.contains(listed),
            "{listed} is not an input"
        );
    }
}
