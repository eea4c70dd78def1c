//! The JSON Schema of `deploy.toml`, for editors (Taplo / Even Better TOML, IntelliJ) to complete
//! and check it: `deploy-action schema` prints it, and `deploy.schema.json` in the repository is
//! its committed copy (a test keeps them equal).
//!
//! Built from the input table itself (names and `--help` texts), so a new input is in the
//! schema without anyone remembering to add it. Hand-built JSON rather than a derive (schemars):
//! the file's keys are the inputs, which are not fields of one Rust struct.

use super::{CONTAINER_KEYS, NOT_IN_FILE};
use crate::inputs::InputArgs;
use serde_json::{Value, json};

/// Inputs that are `true`/`false`.
const FLAGS: &[&str] = &[
    "export-credentials",
    "allow-untrusted-trigger",
    "provenance",
    "setup-qemu",
    "verify-promoted-commit",
    "create-repository",
    "wait",
    "rollback-on-failure",
    "evidence-in-summary",
    "force-new-deployment",
    "wait-through-bake",
    "deregister-previous",
    "github-deployment",
    "wait-for-checks",
];

/// Inputs that are lists (one item a line): a TOML array.
const LISTS: &[&str] = &[
    "sentry-projects",
    "ecs-services",
    "extra-tags",
    "platforms",
    "container-names",
    "required-checks",
    "unset",
    "deployment-alarms",
];

/// Inputs of `NAME=value` lines: a TOML table.
const TABLES: &[&str] = &[
    "build-args",
    "labels",
    "build-secrets",
    "environment-variables",
    "secrets",
];

/// Inputs that are whole numbers.
const NUMBERS: &[&str] = &[
    "role-duration-seconds",
    "auth-max-attempts",
    "auth-max-seconds",
    "wait-timeout-minutes",
    "health-check-timeout-seconds",
    "checks-timeout-minutes",
    "pre-deploy-timeout-minutes",
    "bake-time-minutes",
    "canary-bake-minutes",
    "linear-step-bake-minutes",
];

/// Inputs that are percentages (multiples of 0.1): a TOML number.
pub(super) const PERCENTAGES: &[&str] = &["canary-percent", "linear-step-percent"];

/// The schema of one input's value (a string is always accepted: it is what the input takes).
fn value_schema(name: &str, help: &str) -> Value {
    let typed = if FLAGS.contains(&name) {
        json!({ "anyOf": [{ "type": "boolean" }, { "enum": ["true", "false"] }] })
    } else if LISTS.contains(&name) {
        json!({ "anyOf": [{ "type": "array", "items": { "type": "string" } }, { "type": "string" }] })
    } else if TABLES.contains(&name) {
        json!({ "anyOf": [
            { "type": "object", "additionalProperties": { "type": "string" } },
            { "type": "string" }
        ] })
    } else if NUMBERS.contains(&name) {
        json!({ "anyOf": [{ "type": "integer", "minimum": 0 }, { "type": "string", "pattern": "^[0-9]+$" }] })
    } else if PERCENTAGES.contains(&name) {
        json!({ "anyOf": [
            { "type": "number", "minimum": 0.1, "maximum": 100 },
            { "type": "string", "pattern": "^[0-9]+(\\.[0-9])?$" }
        ] })
    } else {
        json!({ "type": "string" })
    };
    let mut schema = typed;
    schema["description"] = json!(help);
    schema
}

/// Each input's name and its `--help` text.
fn documented_inputs() -> Vec<(String, String)> {
    let command = <InputArgs as clap::Args>::augment_args(clap::Command::new("deploy-action"));
    command
        .get_arguments()
        .filter_map(|argument| {
            let name = argument.get_long()?.to_string();
            let help = argument
                .get_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            Some((name, help))
        })
        .filter(|(name, _)| !NOT_IN_FILE.contains(&name.as_str()))
        .collect()
}

/// The schema, pretty-printed with a final newline (what `deploy.schema.json` holds).
pub fn render() -> String {
    let inputs: serde_json::Map<String, Value> = documented_inputs()
        .into_iter()
        .map(|(name, help)| {
            let schema = value_schema(&name, &help);
            (name, schema)
        })
        .collect();
    let container: serde_json::Map<String, Value> = CONTAINER_KEYS
        .iter()
        .map(|key| {
            let help = match *key {
                "environment-variables" => "Variables the new revision sets in this container.",
                "secrets" => "Secrets it sets by reference: NAME = \"Secrets Manager or SSM ARN, or SSM parameter name\".",
                _ => "Variable or secret names it removes from this container.",
            };
            ((*key).to_string(), value_schema(key, help))
        })
        .collect();
    let mut environment_properties = inputs.clone();
    environment_properties.insert(
        "branches".into(),
        json!({
            "type": "array",
            "items": { "type": "string" },
            "description": "Branch names or globs that deploy to this environment; globs starting with refs/ match whole refs. An exact name beats a glob; among globs the first one written in the file wins (as in branch-tags)."
        }),
    );
    environment_properties.insert(
        "tag".into(),
        json!({ "type": "string", "description": "The image tag of this environment [default: its name]." }),
    );
    environment_properties.insert(
        "containers".into(),
        json!({
            "type": "object",
            "description": "Per container: what the new revision changes besides the image.",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": false,
                "properties": container
            }
        }),
    );
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/operationcode/deploy-action/blob/main/deploy.schema.json",
        "title": "deploy-action configuration (.github/deploy.toml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "defaults": {
                "type": "object",
                "description": "Settings of every environment (any input of the action).",
                "additionalProperties": false,
                "properties": inputs
            },
            "environments": {
                "type": "object",
                "description": "One table per environment: which branches go to it, and its settings.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": environment_properties
                }
            }
        }
    });
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| schema.to_string());
    text.push('\n');
    text
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
