//! The shape of the code, checked: which top-level module may use which. A module imports only
//! from modules in a lower layer — the pipeline's later stages sit above its earlier ones, and
//! leaf modules at the bottom — so there is no cycle, and no stage reaches into a later one.
//! `lib.rs` (the composition root, which alone knows the order) is above everything.
//!
//! `cargo test --lib architecture -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};

/// Bottom first. A new top-level module must be placed here (the test fails until it is).
const LAYERS: &[&[&str]] = &[
    // Leaves: used by every stage, using none.
    &["error", "json", "file_commands", "branches", "progress"],
    &["console", "aws"],
    // The pipeline, in order.
    &["inputs"],
    &["config"],
    &["plan"],
    &["auth", "github", "logging"],
    &["image"],
    &["promotion", "deploy"],
    &["sentry"],
    &["report"],
    // What runs the pipeline, or stands beside it.
    &["cancel", "iam_policy"],
    &["operator"],
    &["cli"],
];

/// The top-level module of a source file (`deploy/service.rs` → `deploy`); `None` for the root.
fn module_of(relative: &str) -> Option<String> {
    let first = relative.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The top-level modules `code` names through `crate::` (`use crate::{a, b::c}` included),
/// outside comments.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let identifier = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item_start = true;
                for (index, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        _ if item_start && !c.is_whitespace() => {
                            found.insert(identifier(&group[index..]));
                            item_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                found.insert(identifier(rest));
            }
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

/// Every product source file under `src/` (test files left out): its path relative to `src/`
/// and its text.
fn product_files() -> Vec<(String, String)> {
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut pending = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        if relative.ends_with(".rs") && !relative.ends_with("tests.rs") {
            files.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files
}

/// The code of a file above its `#[cfg(test)]` declaration.
fn code_of(text: &str) -> &str {
    text.split("#[cfg(test)]").next().unwrap_or_default()
}

/// Every edge `module → module it uses`, from the product's sources (test files left out, and
/// an inline `#[cfg(test)]` module at the end of a file).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in product_files() {
        let Some(module) = module_of(&relative) else {
            continue;
        };
        let uses = graph.entry(module.clone()).or_default();
        for used in crate_references(code_of(&text)) {
            // The root's items (`crate::Request`, `crate::run`) are the composition root's.
            let is_module = root.join(format!("{used}.rs")).exists() || root.join(&used).is_dir();
            if used != module && is_module {
                uses.insert(used);
            }
        }
        uses.remove(&module);
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

#[test]
fn the_reference_reader_sees_every_form() {
    let code = "use crate::console::Console;\n// crate::commented\nlet x = crate::plan::resolve();\nuse crate::{error::Problem, json, aws::{Ecs, ecs}};\n";
    let found: Vec<String> = crate_references(code).into_iter().collect();
    assert_eq!(found, ["aws", "console", "error", "json", "plan"]);
}

#[test]
fn modules_use_only_lower_layers_so_there_is_no_cycle() {
    let graph = module_graph();
    let mut wrong = Vec::new();
    for (module, uses) in &graph {
        eprintln!(
            "{module} → {}",
            uses.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        let Some(layer) = layer_of(module) else {
            wrong.push(format!("{module} is in no layer of LAYERS: place it"));
            continue;
        };
        for used in uses {
            match layer_of(used) {
                Some(below) if below < layer => {}
                _ => wrong.push(format!(
                    "{module} uses {used}, which is not below it (LAYERS in src/architecture_tests.rs)"
                )),
            }
        }
    }
    assert!(graph.contains_key("deploy") && graph["deploy"].contains("aws"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every ECS call goes through the adapter: no other module of the product holds an ECS client
/// (test files build mock clients and wrap them in `aws::Ecs`).
#[test]
fn only_the_ecs_adapter_holds_an_ecs_client() {
    let outside: Vec<String> = product_files()
        .into_iter()
        .filter(|(relative, text)| {
            relative != "aws/ecs.rs" && code_of(text).contains("aws_sdk_ecs::Client")
        })
        .map(|(relative, _)| relative)
        .collect();
    assert!(
        outside.is_empty(),
        "ECS calls belong in src/aws/ecs.rs; these files hold an ECS client: {outside:?}"
    );
}

/// CONTRIBUTING's "Layout" names every top-level module of `src/`, and only files that exist:
/// the map a newcomer reads first cannot drift from the code.
#[test]
fn contributing_lays_out_every_module_and_only_real_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = include_str!("../CONTRIBUTING.md");
    let layout = text
        .split("\n## Layout\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_default();
    let named: BTreeSet<String> = layout
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| quoted.starts_with("src/"))
        .map(|path| path.trim_end_matches('/').to_string())
        .collect();
    assert!(!named.is_empty(), "CONTRIBUTING.md has no layout section");
    let missing: Vec<&String> = named
        .iter()
        .filter(|path| !root.join(path).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "CONTRIBUTING's layout names what does not exist: {missing:?}"
    );
    let mut unnamed = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let module = name.strip_suffix(".rs").unwrap_or(&name);
        let listed =
            named.contains(&format!("src/{name}")) || named.contains(&format!("src/{module}"));
        if !listed && !name.ends_with("tests.rs") {
            unnamed.push(name);
        }
    }
    assert!(
        unnamed.is_empty(),
        "CONTRIBUTING's layout leaves out: {unnamed:?}"
    );
}

/// One placement for unit tests (CONTRIBUTING, "Tests"): a file of their own beside the code —
/// `<name>_tests.rs` for `<name>.rs`, `tests.rs` for a folder's `mod.rs` — never inline.
#[test]
fn unit_tests_live_in_files_of_their_own() {
    let mut inline = Vec::new();
    for (relative, text) in product_files() {
        let lines: Vec<&str> = text.lines().collect();
        let declares_inline = lines.windows(3).any(|pair| {
            pair[0] == "#[cfg(test)]"
                && [pair[1], pair[2]]
                    .iter()
                    .any(|line| line.starts_with("mod ") && line.ends_with('{'))
        });
        if declares_inline {
            inline.push(relative);
        }
    }
    assert!(inline.is_empty(), "inline test modules: {inline:?}");
}
