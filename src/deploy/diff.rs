//! What a new revision changes, in words: for dry runs and the job summary.
//!
//! SDK types have no serde, but their derived `Debug` prints every field; the fields are
//! compared on that text, which is also what a person reading the diff sees.

use super::task_definition::COPIED;
use crate::console::clip;
use aws_sdk_ecs::types::TaskDefinition;

/// One changed field: its name, the value before, the value after (shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields RegisterTaskDefinition takes that differ between two task definitions; a
/// container whose image changed is named with its two images.
pub fn changes(before: &TaskDefinition, after: &TaskDefinition) -> Vec<Change> {
    let old = debug_fields(&format!("{before:?}"));
    let new = debug_fields(&format!("{after:?}"));
    let mut changes = Vec::new();
    for field in COPIED {
        let (was, is) = (old.get(*field), new.get(*field));
        if was == is {
            continue;
        }
        if *field == "container_definitions" {
            changes.extend(container_changes(before, after));
            continue;
        }
        changes.push(Change {
            field: field.to_string(),
            before: shorten(was.map(String::as_str).unwrap_or("None")),
            after: shorten(is.map(String::as_str).unwrap_or("None")),
        });
    }
    changes
}

fn container_changes(before: &TaskDefinition, after: &TaskDefinition) -> Vec<Change> {
    let mut changes = Vec::new();
    for new in after.container_definitions() {
        let name = new.name().unwrap_or("?");
        let old = before
            .container_definitions()
            .iter()
            .find(|c| c.name() == new.name());
        match old {
            None => changes.push(Change {
                field: format!("container {name}"),
                before: "(none)".into(),
                after: "added".into(),
            }),
            Some(old) => {
                if old.image() != new.image() {
                    changes.push(Change {
                        field: format!("container {name} image"),
                        before: old.image().unwrap_or_default().to_string(),
                        after: new.image().unwrap_or_default().to_string(),
                    });
                }
                changes.extend(variable_changes(name, old, new));
                let mut old_rest = old.clone();
                old_rest.image = new.image.clone();
                old_rest.environment = new.environment.clone();
                old_rest.secrets = new.secrets.clone();
                if &old_rest != new {
                    changes.push(Change {
                        field: format!("container {name}"),
                        before: "…".into(),
                        after: "other settings changed".into(),
                    });
                }
            }
        }
    }
    for old in before.container_definitions() {
        if !after
            .container_definitions()
            .iter()
            .any(|c| c.name() == old.name())
        {
            changes.push(Change {
                field: format!("container {}", old.name().unwrap_or("?")),
                before: "present".into(),
                after: "removed".into(),
            });
        }
    }
    changes
}

/// Variables set or removed (names only: a value may be sensitive) and secrets set or removed
/// (with their `valueFrom`, a reference; a secret's value is never read).
fn variable_changes(
    name: &str,
    old: &aws_sdk_ecs::types::ContainerDefinition,
    new: &aws_sdk_ecs::types::ContainerDefinition,
) -> Vec<Change> {
    let mut changes = Vec::new();
    let value_of = |list: &[aws_sdk_ecs::types::KeyValuePair], key: &str| {
        list.iter()
            .find(|p| p.name() == Some(key))
            .map(|p| p.value().unwrap_or_default().to_string())
    };
    let (was, is) = (old.environment(), new.environment());
    let set: Vec<&str> = is
        .iter()
        .filter_map(|p| p.name())
        .filter(|key| value_of(was, key) != value_of(is, key))
        .collect();
    let removed: Vec<&str> = was
        .iter()
        .filter_map(|p| p.name())
        .filter(|key| value_of(is, key).is_none())
        .collect();
    if !set.is_empty() || !removed.is_empty() {
        changes.push(Change {
            field: format!("container {name} environment"),
            before: if removed.is_empty() {
                "…".into()
            } else {
                format!("{} removed", removed.join(", "))
            },
            after: if set.is_empty() {
                "…".into()
            } else {
                format!("{} set", set.join(", "))
            },
        });
    }
    let from = |list: &[aws_sdk_ecs::types::Secret], key: &str| {
        list.iter()
            .find(|s| s.name() == key)
            .map(|s| s.value_from().to_string())
    };
    let (was, is) = (old.secrets(), new.secrets());
    for secret in is {
        if from(was, secret.name()).as_deref() != Some(secret.value_from()) {
            changes.push(Change {
                field: format!("container {name} secret {}", secret.name()),
                before: from(was, secret.name()).unwrap_or_else(|| "(none)".into()),
                after: secret.value_from().to_string(),
            });
        }
    }
    for secret in was {
        if from(is, secret.name()).is_none() {
            changes.push(Change {
                field: format!("container {name} secret {}", secret.name()),
                before: secret.value_from().to_string(),
                after: "removed".into(),
            });
        }
    }
    changes
}

fn shorten(text: &str) -> String {
    let clipped = clip(text, 120);
    if clipped.len() < text.len() {
        format!("{clipped}…")
    } else {
        text.to_string()
    }
}

/// The top-level `name: value` pairs of a derived `Debug` (SDK types print every field).
pub fn debug_fields(debug: &str) -> std::collections::BTreeMap<String, String> {
    let (Some(open), Some(close)) = (debug.find('{'), debug.rfind('}')) else {
        return std::collections::BTreeMap::new();
    };
    let body = &debug[open + 1..close];
    let (mut fields, mut depth, mut quoted, mut start) =
        (std::collections::BTreeMap::new(), 0i32, false, 0);
    let mut push = |part: &str| {
        if let Some((name, value)) = part.split_once(':') {
            fields.insert(name.trim().to_string(), value.trim().to_string());
        }
    };
    let bytes = body.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            b'"' if index == 0 || bytes[index - 1] != b'\\' => quoted = !quoted,
            b'(' | b'[' | b'{' if !quoted => depth += 1,
            b')' | b']' | b'}' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                push(&body[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    push(&body[start..]);
    fields
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
