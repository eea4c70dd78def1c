//! `.github/deploy.toml`: one file for every environment — which branches go where, and the
//! inputs each environment runs with — read by the action and by the local CLI alike.
//!
//! ```toml
//! [defaults]
//! aws-region = "us-east-2"
//! ecr-repository = "back-end"
//!
//! [environments.prod]
//! branches = ["main"]
//! ecs-cluster = "back-end-production"
//! ecs-services = ["back-end-production"]
//!
//! [environments.staging]
//! branches = ["*"]
//! ecs-cluster = "back-end-staging"
//! ```
//!
//! Keys are the action's input names. An explicitly given input beats the environment's table,
//! which beats `[defaults]`, which beats the built-in default. The environment is chosen by the
//! run's ref: an exact branch name beats a glob; among globs the first environment in the file
//! wins; a pull request never matches by its head branch (only `*` or a `refs/pull/…` glob).
//! Every mistake is reported with the file, line and column, before any network call.

use crate::branches::BranchPattern;
use crate::error::PlanError;
use crate::inputs::{InputArgs, Inputs};
use std::path::{Path, PathBuf};

/// Where the file is looked for when `config` does not say (a missing default file is fine).
pub const DEFAULT_PATH: &str = ".github/deploy.toml";

/// Inputs the file cannot set: the token is a secret, `config` names the file itself, a dry run
/// is a decision of the one who runs it — and the guards. The file comes from the checked-out
/// workspace, i.e. from whatever branch or pull request was checked out (under
/// `pull_request_target` the PR head runs with the base branch's ref), so a key that weakens a
/// protection or chooses where a credential is sent is a workflow input only ([`GUARDS`]).
const NOT_IN_FILE: &[&str] = &[
    "github-token",
    "config",
    "dry-run",
    "branch-tags",
    "allow-untrusted-trigger",
    "verify-promoted-commit",
    "export-credentials",
    "registry",
    "builder",
    "sentry-url",
];

/// The guards among [`NOT_IN_FILE`], each with what a branch's file could do with it.
pub const GUARDS: &[(&str, &str)] = &[
    (
        "branch-tags",
        "it decides which branch pushes `prod`; each environment's `branches = [...]` says which branches go to it",
    ),
    (
        "allow-untrusted-trigger",
        "a pull request's own file would let `pull_request_target` deploy its code with the base branch's credentials",
    ),
    (
        "verify-promoted-commit",
        "it switches off the check that a promoted image was built from this branch's history",
    ),
    (
        "export-credentials",
        "it hands the AWS credentials to every later step of the job",
    ),
    (
        "registry",
        "the registry login (the ECR password) is sent to this host",
    ),
    (
        "builder",
        "a remote BuildKit receives the registry login and the build secrets",
    ),
    ("sentry-url", "SENTRY_AUTH_TOKEN is sent to this server"),
];

/// Keys of an environment's table that are not inputs.
const ENVIRONMENT_KEYS: &[&str] = &["branches", "tag", "containers"];

/// Keys of a `[environments.NAME.containers.CONTAINER]` table: what the new revision changes in
/// that container besides its image.
pub const CONTAINER_KEYS: &[&str] = &["environment-variables", "secrets", "unset"];

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingOrigin {
    /// An input (or flag) given explicitly.
    Input,
    /// A table of the file: `deploy.toml [environments.prod]` with its line.
    File { table: String, line: usize },
}

/// One value in the file, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Setting {
    value: String,
    line: usize,
    column: usize,
}

#[derive(Debug, Clone)]
struct Environment {
    name: String,
    tag: String,
    branches: Vec<BranchPattern>,
    settings: Vec<(String, Setting)>,
    containers: Vec<ContainerTable>,
}

/// `[environments.NAME.containers.CONTAINER]`: settings of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerTable {
    pub container: String,
    /// `(key, input text)` for the keys in [`CONTAINER_KEYS`].
    pub settings: Vec<(String, String)>,
    /// Where the table is: `deploy.toml [environments.prod.containers.app] line 12`.
    pub location: String,
}

/// The file, read and checked.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    defaults: Vec<(String, Setting)>,
    environments: Vec<Environment>,
}

/// The inputs after the file: what the plan resolves.
#[derive(Debug, Clone)]
pub struct Applied {
    pub inputs: Inputs,
    /// The environment the file chose, and the tag it gives.
    pub environment: Option<(String, String)>,
    /// For each input that has a value: where it came from.
    pub origins: Vec<(&'static str, SettingOrigin)>,
    /// The file, when one was read.
    pub path: Option<PathBuf>,
    /// The chosen environment's container tables.
    pub containers: Vec<ContainerTable>,
    /// The tag of every environment of the file: tags another environment's run must not write.
    pub environment_tags: Vec<String>,
}

/// Read the file `config` names (or the default one) and merge it under the given inputs.
/// `environment` is an explicit choice (`--env`); otherwise the run's ref chooses.
pub fn apply(inputs: &Inputs, environment: Option<&str>) -> Result<Applied, PlanError> {
    let explicit = inputs.args.config.clone();
    let base = inputs
        .run
        .workspace
        .as_deref()
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let path = match &explicit {
        Some(path) => base.join(path),
        None => base.join(DEFAULT_PATH),
    };
    let given_origins = || -> Vec<(&'static str, SettingOrigin)> {
        inputs
            .args
            .values()
            .into_iter()
            .filter(|(_, value)| value.is_some())
            .map(|(name, _)| (name, SettingOrigin::Input))
            .collect()
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if explicit.is_none() && error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(name) = environment {
                return Err(PlanError::new(
                    "config",
                    format!(
                        "--env {name} needs a config file, and {} does not exist",
                        path.display()
                    ),
                    format!("write {DEFAULT_PATH}, or point `config` at yours"),
                ));
            }
            return Ok(Applied {
                inputs: inputs.clone(),
                environment: None,
                origins: given_origins(),
                path: None,
                containers: Vec::new(),
                environment_tags: Vec::new(),
            });
        }
        Err(error) => {
            return Err(PlanError::new(
                "config",
                format!("{} cannot be read: {error}", path.display()),
                format!("a TOML file such as {DEFAULT_PATH}"),
            ));
        }
    };
    let file = parse(&path, &text)?;
    let git_ref = inputs.run.git_ref.clone().unwrap_or_default();
    let chosen = match environment {
        Some(name) => file
            .environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                PlanError::new(
                    "config",
                    format!("{} has no environment `{name}`", path.display()),
                    format!("one of: {}", file.environment_names().join(", ")),
                )
            })?,
        None => file.environment_for(&git_ref)?,
    };

    let lookup = |name: &str| -> Option<(&Setting, String)> {
        let from_env = chosen
            .settings
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, s)| (s, format!("environments.{}", chosen.name)));
        from_env.or_else(|| {
            file.defaults
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, s)| (s, "defaults".to_string()))
        })
    };
    let from_file = InputArgs::from_env(&|key: &str| {
        let name = key.strip_prefix("INPUT_")?.to_ascii_lowercase();
        lookup(&name).map(|(setting, _)| setting.value.clone())
    });
    let mut origins = Vec::new();
    for (name, value) in inputs.args.values() {
        if value.is_some() {
            origins.push((name, SettingOrigin::Input));
        } else if let Some((setting, table)) = lookup(name) {
            origins.push((
                name,
                SettingOrigin::File {
                    table,
                    line: setting.line,
                },
            ));
        }
    }
    let mut merged = inputs.clone();
    merged.args = inputs.args.clone().or(from_file);
    Ok(Applied {
        inputs: merged,
        environment: Some((chosen.name.clone(), chosen.tag.clone())),
        origins,
        containers: chosen.containers.clone(),
        path: Some(path),
        environment_tags: file.environments.iter().map(|e| e.tag.clone()).collect(),
    })
}

/// Where a plan error about `input` points, when the file set it: ` (set in FILE line L, column C)`.
pub fn locate(applied: &Applied, input: &str) -> Option<String> {
    let path = applied.path.as_ref()?;
    applied
        .origins
        .iter()
        .find_map(|(name, origin)| match origin {
            SettingOrigin::File { table, line } if *name == input => Some(format!(
                " (set in {} [{table}], line {line})",
                path.display()
            )),
            _ => None,
        })
}

fn parse(path: &Path, text: &str) -> Result<ConfigFile, PlanError> {
    let at = |span: Option<std::ops::Range<usize>>| line_column(text, span.map_or(0, |s| s.start));
    let bad = |(line, column): (usize, usize), problem: String, expected: String| {
        PlanError::new(
            "config",
            format!("{}:{line}:{column}: {problem}", path.display()),
            expected,
        )
    };
    let document = toml_edit::Document::parse(text.to_string()).map_err(|error| {
        bad(
            at(error.span()),
            format!("is not valid TOML: {}", error.message()),
            "TOML: `key = \"value\"` lines under `[defaults]` and `[environments.NAME]`".into(),
        )
    })?;
    let root = document.as_table();
    for (key, _) in root.iter() {
        if !["defaults", "environments"].contains(&key) {
            return Err(bad(
                at(root.key(key).and_then(toml_edit::Key::span)),
                format!(
                    "unknown table `{key}`{}",
                    did_you_mean(key, &["defaults", "environments"])
                ),
                "`[defaults]` and `[environments.NAME]`".into(),
            ));
        }
    }
    let defaults = match root.get("defaults") {
        None => Vec::new(),
        Some(item) => {
            let table = item.as_table_like().ok_or_else(|| {
                bad(
                    at(item.span()),
                    "`defaults` is not a table".into(),
                    "`[defaults]`".into(),
                )
            })?;
            settings(table, "defaults", &[], text, path)?
        }
    };
    let mut environments = Vec::new();
    if let Some(item) = root.get("environments") {
        let table = item.as_table_like().ok_or_else(|| {
            bad(
                at(item.span()),
                "`environments` is not a table".into(),
                "`[environments.NAME]` tables".into(),
            )
        })?;
        for (name, item) in table.iter() {
            let env_table = item.as_table_like().ok_or_else(|| {
                bad(
                    at(item.span()),
                    format!("`environments.{name}` is not a table"),
                    format!("`[environments.{name}]` with `branches = [...]`"),
                )
            })?;
            let position = at(item.span());
            let settings = settings(
                env_table,
                &format!("environments.{name}"),
                ENVIRONMENT_KEYS,
                text,
                path,
            )?;
            let branches = match env_table.get("branches") {
                None => Vec::new(),
                Some(branches) => string_list(branches).ok_or_else(|| {
                    bad(
                        at(branches.span()),
                        format!("`environments.{name}.branches` is not a list of branch globs"),
                        "e.g. `branches = [\"main\"]` or `branches = [\"*\"]`".into(),
                    )
                })?,
            };
            let branches = branches
                .iter()
                .map(|glob| {
                    BranchPattern::new(glob).map_err(|why| {
                        bad(
                            position,
                            format!(
                                "`environments.{name}.branches`: `{glob}` is not a glob ({why})"
                            ),
                            "a branch name or glob such as `release/*`".into(),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let tag = match env_table.get("tag") {
                None => name.to_string(),
                Some(tag) => tag.as_str().map(str::to_string).ok_or_else(|| {
                    bad(
                        at(tag.span()),
                        format!("`environments.{name}.tag` is not a string"),
                        "an image tag such as `prod`".into(),
                    )
                })?,
            };
            crate::branches::check_docker_tag(&tag).map_err(|why| {
                bad(
                    position,
                    format!("environment `{name}`: `{tag}` cannot be an image tag: {why}"),
                    "set `tag = \"…\"` to a valid tag".into(),
                )
            })?;
            let containers = match env_table.get("containers") {
                None => Vec::new(),
                Some(item) => container_tables(item, name, text, path)?,
            };
            environments.push(Environment {
                name: name.to_string(),
                tag,
                branches,
                settings,
                containers,
            });
        }
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        defaults,
        environments,
    })
}

/// `[environments.NAME.containers.*]`.
fn container_tables(
    item: &toml_edit::Item,
    environment: &str,
    text: &str,
    path: &Path,
) -> Result<Vec<ContainerTable>, PlanError> {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let at = |span: Option<std::ops::Range<usize>>| line_column(text, span.map_or(0, |s| s.start));
    let bad = |(line, column): (usize, usize), problem: String, expected: &str| {
        PlanError::new(
            "config",
            format!(
                "{}:{line}:{column}: [environments.{environment}.containers] {problem}",
                path.display()
            ),
            expected,
        )
    };
    let table = item.as_table_like().ok_or_else(|| {
        bad(
            at(item.span()),
            "is not a table".into(),
            "`[environments.NAME.containers.CONTAINER]` tables",
        )
    })?;
    let mut found = Vec::new();
    for (container, item) in table.iter() {
        let settings_table = item.as_table_like().ok_or_else(|| {
            bad(
                at(item.span()),
                format!("`{container}` is not a table"),
                "`[environments.NAME.containers.CONTAINER]` with environment-variables, secrets, unset",
            )
        })?;
        let (line, _) = at(table.key(container).and_then(toml_edit::Key::span));
        let mut settings = Vec::new();
        for (key, value) in settings_table.iter() {
            let position = at(settings_table.key(key).and_then(toml_edit::Key::span));
            if !CONTAINER_KEYS.contains(&key) {
                return Err(bad(
                    position,
                    format!(
                        "`{container}`: unknown key `{key}`{}",
                        did_you_mean(key, CONTAINER_KEYS)
                    ),
                    "environment-variables, secrets, unset",
                ));
            }
            let text = input_text(key, value).ok_or_else(|| {
                bad(
                    position,
                    format!("`{container}.{key}` has a type it cannot take"),
                    "a table of strings (NAME = \"value\"), or for unset a list of names",
                )
            })?;
            settings.push((key.to_string(), text));
        }
        found.push(ContainerTable {
            container: container.to_string(),
            settings,
            location: format!(
                "{file} [environments.{environment}.containers.{container}] line {line}"
            ),
        });
    }
    Ok(found)
}

/// The input settings of one table; `extra` are its keys that are not inputs.
fn settings(
    table: &dyn toml_edit::TableLike,
    table_name: &str,
    extra: &[&str],
    text: &str,
    path: &Path,
) -> Result<Vec<(String, Setting)>, PlanError> {
    let mut found = Vec::new();
    for (key, item) in table.iter() {
        if extra.contains(&key) {
            continue;
        }
        let key_span = table.key(key).and_then(toml_edit::Key::span);
        let (line, column) = line_column(text, key_span.map_or(0, |s| s.start));
        let bad = |problem: String, expected: String| {
            PlanError::new(
                "config",
                format!(
                    "{}:{line}:{column}: [{table_name}] {problem}",
                    path.display()
                ),
                expected,
            )
        };
        let settable: Vec<&str> = InputArgs::NAMES
            .iter()
            .copied()
            .filter(|name| !NOT_IN_FILE.contains(name))
            .chain(extra.iter().copied())
            .collect();
        if NOT_IN_FILE.contains(&key) {
            return Err(bad(
                format!("`{key}` cannot be set in the file"),
                match (key, GUARDS.iter().find(|(name, _)| *name == key)) {
                    ("github-token", _) => {
                        "the token stays in the workflow: `github-token: ${{ github.token }}`"
                            .into()
                    }
                    (_, Some((_, why))) => format!(
                        "a guard is a workflow input only, never read from a branch's file ({why}): give `{key}` in the step's `with:` (or as `--{key}`)"
                    ),
                    _ => format!("give `{key}` as an input or flag"),
                },
            ));
        }
        if !settable.contains(&key) {
            return Err(bad(
                format!("unknown key `{key}`{}", did_you_mean(key, &settable)),
                "an input name of the action (README's table), kebab-case".into(),
            ));
        }
        let value = input_text(key, item).ok_or_else(|| {
            bad(
                format!("`{key}` has a type no input takes"),
                "a string, number, boolean, a list of strings, or a table of strings (KEY = \"value\")".into(),
            )
        })?;
        found.push((
            key.to_string(),
            Setting {
                value,
                line,
                column,
            },
        ));
    }
    Ok(found)
}

/// A TOML value as the input text the action reads: lists one item a line, tables `KEY=value`
/// lines (build-args, labels), booleans and numbers as written — a number with a fraction only
/// for the inputs that take one (`canary-percent = 12.5`; `wait-timeout-minutes = 2.5` is refused
/// here, with where it is).
fn input_text(key: &str, item: &toml_edit::Item) -> Option<String> {
    use toml_edit::Value;
    let value = item.as_value()?;
    Some(match value {
        Value::String(s) => s.value().clone(),
        Value::Boolean(b) => b.value().to_string(),
        Value::Integer(i) => i.value().to_string(),
        // `canary-percent = 12.5`; `10.0` reads as `10`.
        Value::Float(f) if schema::PERCENTAGES.contains(&key) => f.value().to_string(),
        Value::Array(_) => string_list(item)?.join("\n"),
        Value::InlineTable(table) => {
            let mut lines = Vec::new();
            for (key, value) in table.iter() {
                lines.push(format!("{key}={}", value.as_str()?));
            }
            lines.join("\n")
        }
        Value::Float(_) | Value::Datetime(_) => return None,
    })
}

fn string_list(item: &toml_edit::Item) -> Option<Vec<String>> {
    item.as_array()?
        .iter()
        .map(|value| value.as_str().map(str::to_string))
        .collect()
}

/// 1-based line and column of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// ` (did you mean `ecs-services`?)` when a known key is close (a few letters off, or the
/// start of it: `environment` → `environment-variables`).
fn did_you_mean(key: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|candidate| {
            let prefix =
                key.len() >= 4 && (candidate.starts_with(key) || key.starts_with(candidate));
            let distance = if prefix {
                1
            } else {
                strsim::levenshtein(key, candidate)
            };
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default()
}

impl ConfigFile {
    fn environment_names(&self) -> Vec<String> {
        self.environments.iter().map(|e| e.name.clone()).collect()
    }

    /// The environment for `git_ref`, by [`crate::branches::choose`]'s rule: an exact branch
    /// name first, then the first glob in the order written (environment by environment). A
    /// pull request matches only `*` or a `refs/…` glob — never by its head branch, which
    /// whoever opened it named.
    fn environment_for(&self, git_ref: &str) -> Result<&Environment, PlanError> {
        let rules: Vec<_> = self
            .environments
            .iter()
            .flat_map(|e| e.branches.iter().map(move |pattern| (pattern, e)))
            .collect();
        crate::branches::choose(&rules, git_ref).ok_or_else(|| {
            let rules: Vec<String> = self
                .environments
                .iter()
                .map(|e| {
                    let globs: Vec<&str> = e.branches.iter().map(BranchPattern::as_str).collect();
                    format!("{} ({})", e.name, globs.join(", "))
                })
                .collect();
            PlanError::new(
                "config",
                format!(
                    "no environment in {} takes `{git_ref}`; the rules: {}",
                    self.path.display(),
                    if rules.is_empty() { "none".into() } else { rules.join("; ") }
                ),
                "a `branches` glob that matches it (`*` takes every branch and pull request), or run on a branch that has an environment",
            )
        })
    }
}

pub mod schema;

#[cfg(test)]
mod tests;
