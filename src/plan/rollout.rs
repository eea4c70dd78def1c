//! Resolving the ECS inputs: cluster, services, waiting, rollback, health check.

use super::containers::{self, ContainerEdits};
use super::{HealthCheck, PlanError, PreDeploy, RolloutPlan, parse_count, parse_flag};
use super::{strategy, values};
use crate::config::ContainerTable;
use crate::inputs::InputArgs;
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_WAIT_MINUTES: &str = "30";
const MAX_WAIT_MINUTES: u64 = 24 * 60;

/// The services to roll and how; `None` when no ECS input is given.
pub(super) fn resolve_rollout(
    args: &InputArgs,
    file_containers: &[ContainerTable],
) -> Result<Option<RolloutPlan>, PlanError> {
    let edits = resolve_edits(args, file_containers)?;
    let pre_deploy = resolve_pre_deploy(args)?;
    let strategy = strategy::resolve_strategy(args)?;
    let services = values::split_list(args.ecs_services.as_deref().unwrap_or(""));
    let cluster = args.ecs_cluster.clone();
    let cluster = match (cluster, services.is_empty()) {
        (None, true) if pre_deploy.is_some() => {
            return Err(PlanError::new(
                "pre-deploy-command",
                "is set, but no service is rolled: it runs in a service's cluster, with its network",
                "set ecs-cluster and ecs-services",
            ));
        }
        (None, true) if strategy.is_some() => {
            return Err(PlanError::new(
                "deployment-strategy",
                "(or another strategy setting) is set, but no service is rolled",
                "set ecs-cluster and ecs-services, or drop the strategy settings",
            ));
        }
        (None, true) if edits == ContainerEdits::default() => return Ok(None),
        (None, true) => {
            return Err(PlanError::new(
                "environment-variables",
                "(or secrets, unset, or a containers table) changes containers, but no service is rolled",
                "set ecs-cluster and ecs-services, or drop the container settings",
            ));
        }
        (Some(cluster), false) => cluster,
        (Some(_), true) => {
            return Err(PlanError::new(
                "ecs-services",
                "is empty but ecs-cluster is set",
                "the services to roll, one a line or comma-separated (or leave ecs-cluster empty to only build and push)",
            ));
        }
        (None, false) => {
            return Err(PlanError::new(
                "ecs-cluster",
                "is empty but ecs-services is set",
                "the name or ARN of the services' cluster",
            ));
        }
    };
    for name in std::iter::once(&cluster).chain(&services) {
        let plain = name.starts_with("arn:")
            || name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !plain || name.len() > 255 {
            let input = if *name == cluster {
                "ecs-cluster"
            } else {
                "ecs-services"
            };
            return Err(PlanError::new(
                input,
                format!("`{name}` is not an ECS name"),
                "names of letters, digits, `-` and `_` (up to 255), or ARNs",
            ));
        }
    }
    let wait = parse_flag(&args.wait, "wait", true)?;
    let minutes = args
        .wait_timeout_minutes
        .as_deref()
        .unwrap_or(DEFAULT_WAIT_MINUTES);
    let timeout = values::parse_minutes(minutes, 1..=MAX_WAIT_MINUTES).map_err(|why| {
        PlanError::new(
            "wait-timeout-minutes",
            why,
            format!("whole minutes from 1 to {MAX_WAIT_MINUTES}"),
        )
    })?;
    let health_check = args
        .health_check_url
        .as_deref()
        .map(|url| {
            http_check(
                args,
                ("health-check-url", url),
                "e.g. https://staging.example.org/health",
                wait,
            )
        })
        .transpose()?;
    let test_traffic_check = args
        .test_traffic_url
        .as_deref()
        .map(|url| {
            http_check(
                args,
                ("test-traffic-url", url),
                "e.g. https://api.example.org:8443/health, the test listener's port",
                wait,
            )
        })
        .transpose()?;
    let task_definition_file = match &args.task_definition {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                PlanError::new(
                    "task-definition",
                    format!("`{path}` cannot be read ({error})"),
                    "the path of a JSON file as `aws ecs describe-task-definition` prints it",
                )
            })?;
            values::task_definition_document(&text).map_err(|why| {
                PlanError::new(
                    "task-definition",
                    format!("`{path}` {why}"),
                    "the JSON `aws ecs describe-task-definition` prints, with or without the taskDefinition wrapper",
                )
            })?;
            Some(PathBuf::from(path))
        }
    };
    Ok(Some(RolloutPlan {
        cluster,
        services,
        task_definition_file,
        container_names: values::split_list(args.container_names.as_deref().unwrap_or("")),
        wait_timeout: wait.then_some(timeout),
        rollback_on_failure: parse_flag(&args.rollback_on_failure, "rollback-on-failure", true)?,
        evidence_in_summary: parse_flag(&args.evidence_in_summary, "evidence-in-summary", false)?,
        force_new_deployment: parse_flag(
            &args.force_new_deployment,
            "force-new-deployment",
            false,
        )?,
        wait_through_bake: parse_flag(&args.wait_through_bake, "wait-through-bake", false)?,
        deregister_previous: parse_flag(&args.deregister_previous, "deregister-previous", false)?,
        health_check,
        test_traffic_check,
        edits,
        pre_deploy,
        strategy,
    }))
}

/// A URL the step GETs until it answers 2xx (`health-check-url`, `test-traffic-url`), with the
/// health check's expected text and timeout; only when the step waits for the rollout.
fn http_check(
    args: &InputArgs,
    (input, url): (&'static str, &str),
    example: &str,
    wait: bool,
) -> Result<HealthCheck, PlanError> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    if parsed.is_none() {
        return Err(PlanError::new(
            input,
            format!("`{url}` is not an http(s) URL"),
            example,
        ));
    }
    if !wait {
        return Err(PlanError::new(
            input,
            "is set but wait is false",
            "its check runs while the step follows the rollout: set wait to true, or drop the URL",
        ));
    }
    let seconds = parse_count(
        &args.health_check_timeout_seconds,
        "health-check-timeout-seconds",
        120,
        1..=3600,
    )?;
    Ok(HealthCheck {
        url: url.to_string(),
        expect: args.health_check_expect.clone(),
        timeout: Duration::from_secs(seconds.into()),
    })
}

/// `pre-deploy-command`: a JSON array (exec form) or a string split the way a shell splits
/// words (`python manage.py migrate` → `["python", "manage.py", "migrate"]`).
fn resolve_pre_deploy(args: &InputArgs) -> Result<Option<PreDeploy>, PlanError> {
    let Some(text) = args
        .pre_deploy_command
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        for (value, input) in [
            (&args.pre_deploy_container, "pre-deploy-container"),
            (
                &args.pre_deploy_timeout_minutes,
                "pre-deploy-timeout-minutes",
            ),
        ] {
            if value.is_some() {
                return Err(PlanError::new(
                    input,
                    "is set, but pre-deploy-command is empty",
                    "the command to run before the rollout, e.g. `python manage.py migrate`",
                ));
            }
        }
        return Ok(None);
    };
    let command: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|error| {
            PlanError::new(
                "pre-deploy-command",
                format!("starts with `[` but is not a JSON array of strings ({error})"),
                "`[\"python\", \"manage.py\", \"migrate\"]`, or `python manage.py migrate`",
            )
        })?
    } else {
        shlex::split(text).ok_or_else(|| {
            PlanError::new(
                "pre-deploy-command",
                format!("`{text}` has an unterminated quote or a trailing backslash"),
                "words split as a shell splits them: `python manage.py migrate`, quotes balanced",
            )
        })?
    };
    if command.is_empty() || command.iter().all(String::is_empty) {
        return Err(PlanError::new(
            "pre-deploy-command",
            "holds no command",
            "e.g. `python manage.py migrate`",
        ));
    }
    let container = args.pre_deploy_container.clone();
    // Either form the container may get (the words, or one string for a shell `-c` entryPoint),
    // in the longest container name ECS allows when none is named yet.
    let named = container.clone().unwrap_or_else(|| "c".repeat(255));
    let one_string = vec![text.to_string()];
    let longest = overrides_length(&named, &command).max(overrides_length(&named, &one_string));
    if longest > OVERRIDES_LIMIT {
        return Err(PlanError::new(
            "pre-deploy-command",
            format!(
                "makes RunTask overrides of {longest} characters; ECS takes at most {OVERRIDES_LIMIT}"
            ),
            "a shorter command: put a long script in the image and run that",
        ));
    }
    if let Some(name) = &container
        && !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(PlanError::new(
            "pre-deploy-container",
            format!("`{name}` is not a container name"),
            "a container of the task definition: letters, digits, `-`, `_`",
        ));
    }
    let minutes = parse_count(
        &args.pre_deploy_timeout_minutes,
        "pre-deploy-timeout-minutes",
        15,
        1..=240,
    )?;
    Ok(Some(PreDeploy {
        text: (!text.starts_with('[')).then(|| text.to_string()),
        command,
        container,
        timeout: Duration::from_secs(u64::from(minutes) * 60),
    }))
}

/// The container changes: the config file's tables, then the inputs (for every selected
/// container).
fn resolve_edits(
    args: &InputArgs,
    file_containers: &[ContainerTable],
) -> Result<ContainerEdits, PlanError> {
    let selected = containers::parse(
        args.environment_variables.as_deref(),
        args.secrets.as_deref(),
        args.unset.as_deref(),
        ["environment-variables", "secrets", "unset"],
        "",
    )?;
    let mut named = Vec::new();
    for table in file_containers {
        let get = |key: &str| {
            table
                .settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let changes = containers::parse(
            get("environment-variables"),
            get("secrets"),
            get("unset"),
            ["config", "config", "config"],
            &format!("{}: ", table.location),
        )?;
        named.push((table.container.clone(), changes));
    }
    Ok(ContainerEdits { named, selected })
}

/// RunTask, API reference (`overrides`): "A total of 8192 characters are allowed for
/// overrides. This limit includes the JSON formatting characters of the override structure."
pub const OVERRIDES_LIMIT: usize = 8192;

/// The length of the overrides RunTask receives for `command` in `container`, as JSON.
pub fn overrides_length(container: &str, command: &[String]) -> usize {
    serde_json::json!({"containerOverrides": [{"name": container, "command": command}]})
        .to_string()
        .len()
}
