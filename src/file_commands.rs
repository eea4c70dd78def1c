//! The runner's file commands: `GITHUB_OUTPUT` (step outputs) and `GITHUB_ENV` (variables for
//! later steps) take the same `name=value` / `name<<DELIMITER` entries.

use anyhow::{Context, Result};
use rand::Rng;
use std::io::Write;
use std::path::Path;

/// `name=value` lines; a value with a newline as `name<<DELIM`…`DELIM` with a random
/// delimiter that does not occur in the value.
pub fn format_entries(entries: &[(&str, String)], rng: &mut impl Rng) -> String {
    let mut text = String::new();
    for (name, value) in entries {
        if value.contains('\n') || value.contains('\r') {
            let delimiter = loop {
                let candidate = format!("ghadelimiter_{:016x}", rng.random::<u64>());
                if !value.contains(&candidate) {
                    break candidate;
                }
            };
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    text
}

/// Append entries to a file command's file; `what` names it in errors (`GITHUB_OUTPUT`).
pub fn append(what: &str, path: &Path, entries: &[(&str, String)]) -> Result<()> {
    let text = format_entries(entries, &mut rand::rng());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {what} ({})", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {what} ({})", path.display()))
}

#[cfg(test)]
#[path = "file_commands_tests.rs"]
mod tests;
