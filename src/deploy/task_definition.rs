//! The new revision: the one the service runs now, with only the selected containers'
//! images replaced by the digest-pinned reference, and the environment variables and secrets
//! the plan sets or removes. Everything else is kept as it is.

use crate::error::Problem;
use crate::plan::containers::{ContainerChanges, ContainerEdits};
use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Secret, Tag, TaskDefinition};

/// The result of re-pointing a task definition at a new image.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub task_definition: TaskDefinition,
    /// Names of the containers whose image (or variables, or secrets) changed.
    pub changed: Vec<String>,
    /// Names of the selected containers that already ran this exact image.
    pub unchanged: Vec<String>,
}

/// `host/repo:tag`, `host/repo@sha256:…` or `host/repo` → `host/repo`.
pub fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    match without_digest.rfind(':') {
        // A colon after the last slash starts the tag; one before it is a registry port.
        Some(colon) if colon > without_digest.rfind('/').unwrap_or(0) => &without_digest[..colon],
        _ => without_digest,
    }
}

/// Point the selected containers at `pinned` (`host/repo@sha256:…`): [`select`] then [`pin`].
pub fn render(
    current: &TaskDefinition,
    container_names: &[String],
    pinned: &str,
) -> Result<Rendered, Problem> {
    let selected = select(current, container_names, image_name(pinned))?;
    Ok(pin(current, &selected, pinned, &ContainerEdits::default()))
}

/// The containers a new revision points at the image, decided once per base revision before
/// anything is built: those in `container_names`, or — none named — every container whose
/// image is in `repository` (`host/repo`). Naming a container that does not exist, or
/// selecting none, is an error that lists the containers there are.
pub fn select(
    current: &TaskDefinition,
    container_names: &[String],
    repository: &str,
) -> Result<Vec<String>, Problem> {
    let containers = current.container_definitions();
    let existing: Vec<&str> = containers.iter().filter_map(|c| c.name()).collect();
    for wanted in container_names {
        if !existing.contains(&wanted.as_str()) {
            return Err(Problem::new(format!(
                "container-names: `{wanted}` is not a container of {}",
                current.family().unwrap_or("the task definition")
            ))
            .hint(format!("its containers are: {}", existing.join(", "))));
        }
    }
    let selected: Vec<String> = if container_names.is_empty() {
        containers
            .iter()
            .filter(|c| image_name(c.image().unwrap_or_default()) == repository)
            .filter_map(|c| c.name().map(str::to_string))
            .collect()
    } else {
        container_names.to_vec()
    };
    if selected.is_empty() {
        return Err(Problem::new(format!(
            "no container of {} uses {repository}",
            current.family().unwrap_or("the task definition")
        ))
        .hint(format!(
            "name the containers to update with container-names; its containers are: {}",
            existing.join(", ")
        )));
    }
    Ok(selected)
}

/// The selected containers pointed at `pinned`; every other field as it was.
pub fn pin(
    current: &TaskDefinition,
    selected: &[String],
    pinned: &str,
    edits: &ContainerEdits,
) -> Rendered {
    let mut changed = Vec::new();
    let mut unchanged = Vec::new();
    let mut rewritten = Vec::new();
    for container in current.container_definitions() {
        let name = container.name().unwrap_or_default();
        let is_selected = selected.iter().any(|wanted| wanted == name);
        let mut new = container.clone();
        if is_selected {
            new.image = Some(pinned.to_string());
        }
        apply(&mut new, &edits.for_container(name, is_selected));
        if new != *container {
            changed.push(name.to_string());
        } else if is_selected {
            unchanged.push(name.to_string());
        }
        rewritten.push(new);
    }
    let mut task_definition = current.clone();
    task_definition.container_definitions = Some(rewritten);
    Rendered {
        task_definition,
        changed,
        unchanged,
    }
}

/// The tag on every revision the action registers naming the revision it replaced: what
/// `deploy-action rollback` puts back (never a guess such as "revision − 1").
/// Where one container logs with the `awslogs` driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    pub container: String,
    pub group: String,
    /// `<prefix>/<container>/`, the start of every task's stream name; `None` without
    /// `awslogs-stream-prefix` (stream names are then not predictable).
    pub stream_prefix: Option<String>,
    /// `awslogs-region`, when the container logs to another region than it runs in.
    pub region: Option<String>,
}

/// The containers of `task_definition` that log with `awslogs`, from their options.
pub fn log_sources(task_definition: &TaskDefinition) -> Vec<LogSource> {
    task_definition
        .container_definitions()
        .iter()
        .filter_map(|container| {
            let config = container.log_configuration()?;
            if config.log_driver() != &aws_sdk_ecs::types::LogDriver::Awslogs {
                return None;
            }
            let options = config.options()?;
            let name = container.name()?;
            Some(LogSource {
                container: name.to_string(),
                group: options.get("awslogs-group")?.clone(),
                stream_prefix: options
                    .get("awslogs-stream-prefix")
                    .map(|prefix| format!("{prefix}/{name}/")),
                region: options.get("awslogs-region").cloned(),
            })
        })
        .collect()
}

pub const REPLACES_TAG: &str = "deploy-action:replaces";
/// The tag naming the commit the revision was built from.
pub const COMMIT_TAG: &str = "deploy-action:commit";

/// ECS allows at most 50 tags on a task definition ("Tag", API reference: "Maximum number of
/// tags per resource - 50").
pub const MAX_TAGS: usize = 50;

/// The base revision's tags (copied), with ours set: the revision replaced and the commit —
/// within ECS's 50. When the base has too many to add ours, the last ones copied are left out:
/// their keys come back second, for the log.
pub fn revision_tags(copied: &[Tag], replaces: &str, commit: &str) -> (Vec<Tag>, Vec<String>) {
    let mut tags: Vec<Tag> = copied
        .iter()
        .filter(|tag| !matches!(tag.key(), Some(REPLACES_TAG | COMMIT_TAG)))
        // "Do not use aws:, AWS:, or any upper or lowercase combination of such as a prefix …
        // You cannot edit or delete tag keys or values with this prefix" ("Tag", API reference):
        // AWS sets them (CloudFormation's aws:cloudformation:*), and RegisterTaskDefinition
        // refuses them.
        .filter(|tag| {
            !tag.key()
                .unwrap_or_default()
                .to_ascii_lowercase()
                .starts_with("aws:")
        })
        .cloned()
        .collect();
    let room = MAX_TAGS - 2;
    let dropped = tags
        .split_off(room.min(tags.len()))
        .iter()
        .map(|tag| tag.key().unwrap_or("?").to_string())
        .collect();
    tags.push(Tag::builder().key(REPLACES_TAG).value(replaces).build());
    tags.push(Tag::builder().key(COMMIT_TAG).value(commit).build());
    (tags, dropped)
}

/// The container changes fit `base`: the containers the config file names exist, and secrets
/// have the execution role ECS fetches them with. Checked before anything is built.
pub fn check_edits(base: &TaskDefinition, edits: &ContainerEdits) -> Result<(), Problem> {
    let names: Vec<&str> = base
        .container_definitions()
        .iter()
        .filter_map(ContainerDefinition::name)
        .collect();
    if let Some((missing, _)) = edits
        .named
        .iter()
        .find(|(n, _)| !names.contains(&n.as_str()))
    {
        return Err(Problem::new(format!(
            "the config file changes container `{missing}`, which {} does not have (it has {})",
            base.family().unwrap_or("the task definition"),
            names.join(", ")
        ))
        .hint("name one of its containers in `[environments.NAME.containers.CONTAINER]`"));
    }
    if edits.sets_secrets() && base.execution_role_arn().is_none() {
        return Err(Problem::new(format!(
            "secrets are set, but {} has no executionRoleArn: ECS fetches secrets with the execution role",
            base.family().unwrap_or("the task definition")
        ))
        .hint("give the task definition an execution role that may read the secrets (secretsmanager:GetSecretValue, ssm:GetParameters)"));
    }
    Ok(())
}

/// `container` (named by `input`) is a container of `base`: checked before anything is built.
pub fn check_container(base: &TaskDefinition, container: &str, input: &str) -> Result<(), Problem> {
    let names: Vec<&str> = base
        .container_definitions()
        .iter()
        .filter_map(ContainerDefinition::name)
        .collect();
    if names.contains(&container) {
        return Ok(());
    }
    Err(Problem::new(format!(
        "{input} `{container}` is not a container of {} (it has {})",
        base.family().unwrap_or("the task definition"),
        names.join(", ")
    ))
    .hint(format!("name one of its containers in {input}")))
}

/// Set and remove variables and secrets: a set name replaces the variable or secret of that
/// name (a name is never both), an unset one goes from both; the order of the rest is kept.
fn apply(container: &mut ContainerDefinition, changes: &ContainerChanges) {
    if changes.is_empty() {
        return;
    }
    let mut environment = container.environment.take().unwrap_or_default();
    let mut secrets = container.secrets.take().unwrap_or_default();
    for name in &changes.unset {
        environment.retain(|pair| pair.name() != Some(name.as_str()));
        secrets.retain(|secret| secret.name() != name.as_str());
    }
    for (name, value) in &changes.environment {
        secrets.retain(|secret| secret.name() != name.as_str());
        let pair = KeyValuePair::builder().name(name).value(value).build();
        match environment
            .iter_mut()
            .find(|p| p.name() == Some(name.as_str()))
        {
            Some(existing) => *existing = pair,
            None => environment.push(pair),
        }
    }
    for (name, value_from) in &changes.secrets {
        environment.retain(|pair| pair.name() != Some(name.as_str()));
        // Both fields are set, so the builder cannot fail.
        let Ok(secret) = Secret::builder().name(name).value_from(value_from).build() else {
            continue;
        };
        match secrets.iter_mut().find(|s| s.name() == name.as_str()) {
            Some(existing) => *existing = secret,
            None => secrets.push(secret),
        }
    }
    container.environment = (!environment.is_empty()).then_some(environment);
    container.secrets = (!secrets.is_empty()).then_some(secrets);
}

/// Fields RegisterTaskDefinition takes from the described task definition.
pub const COPIED: &[&str] = &[
    "family",
    "task_role_arn",
    "execution_role_arn",
    "network_mode",
    "container_definitions",
    "volumes",
    "placement_constraints",
    "requires_compatibilities",
    "cpu",
    "memory",
    "pid_mode",
    "ipc_mode",
    "proxy_configuration",
    "inference_accelerators",
    "ephemeral_storage",
    "runtime_platform",
    "enable_fault_injection",
];

/// Fields ECS reports but RegisterTaskDefinition does not take.
pub const READ_ONLY: &[&str] = &[
    "task_definition_arn",
    "revision",
    "status",
    "requires_attributes",
    "compatibilities",
    "registered_at",
    "deregistered_at",
    "delete_requested_at",
    "registered_by",
];

#[cfg(test)]
#[path = "task_definition_tests.rs"]
mod tests;
