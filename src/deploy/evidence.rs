//! Why a rollout failed: the tasks of our revision that stopped, each container's exit code
//! and reason, and the last lines each `awslogs` container wrote before it died.

use anyhow::{Result, anyhow};
use aws_sdk_ecs::error::DisplayErrorContext;
use aws_sdk_ecs::types::{DesiredStatus, LogDriver, Task, TaskDefinition};
use std::fmt::Write;

/// Tasks looked at, most recently stopped first.
const TASKS: usize = 3;
/// Log lines fetched per container.
const LOG_LINES: i32 = 30;

/// The stopped tasks of `ours`, explained; `None` when no task of it has stopped.
pub async fn stopped_tasks(
    ecs: &aws_sdk_ecs::Client,
    logs: &aws_sdk_cloudwatchlogs::Client,
    cluster: &str,
    service_name: &str,
    ours: &TaskDefinition,
) -> Result<Option<String>> {
    let listed = ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(service_name)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .map_err(|error| anyhow!("ECS ListTasks: {}", DisplayErrorContext(&error)))?;
    let arns = listed.task_arns();
    if arns.is_empty() {
        return Ok(None);
    }
    let described = ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns.iter().take(100).cloned().collect()))
        .send()
        .await
        .map_err(|error| anyhow!("ECS DescribeTasks: {}", DisplayErrorContext(&error)))?;
    let our_arn = ours.task_definition_arn().unwrap_or_default();
    let mut tasks: Vec<&Task> = described
        .tasks()
        .iter()
        .filter(|task| task.task_definition_arn() == Some(our_arn))
        .collect();
    if tasks.is_empty() {
        return Ok(None);
    }
    tasks.sort_by_key(|task| std::cmp::Reverse(task.stopped_at().map(|at| at.secs())));
    let mut report = String::new();
    for task in tasks.into_iter().take(TASKS) {
        report.push_str(&describe_task(task));
        for (container, group, stream) in log_streams(ours, task) {
            let lines = last_log_lines(logs, &group, &stream).await;
            let _ = writeln!(report, "  last lines of {container} ({group} {stream}):");
            match lines {
                Ok(lines) if lines.is_empty() => report.push_str("    (no log lines)\n"),
                Ok(lines) => lines.iter().for_each(|line| {
                    let _ = writeln!(report, "    {line}");
                }),
                Err(error) => {
                    let _ = writeln!(report, "    (could not read the log: {error})");
                }
            }
        }
    }
    Ok(Some(report))
}

/// One task: why it stopped, and each container's exit.
pub fn describe_task(task: &Task) -> String {
    let id = task
        .task_arn()
        .and_then(|arn| arn.rsplit('/').next())
        .unwrap_or("?");
    let mut text = format!(
        "task {id} stopped: {}{}\n",
        task.stopped_reason().unwrap_or("no reason given"),
        task.stop_code()
            .map(|code| format!(" ({})", code.as_str()))
            .unwrap_or_default()
    );
    for container in task.containers() {
        let _ = writeln!(
            text,
            "  container {}: exit code {}, reason: {}, health: {}",
            container.name().unwrap_or("?"),
            container
                .exit_code()
                .map(|code| code.to_string())
                .unwrap_or_else(|| "none".into()),
            container.reason().unwrap_or("-"),
            container
                .health_status()
                .map(|health| health.as_str().to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    text
}

/// `(container, log group, log stream)` for each container of `task` that logs with `awslogs`:
/// the stream is `<prefix>/<container>/<task id>`.
pub fn log_streams(ours: &TaskDefinition, task: &Task) -> Vec<(String, String, String)> {
    let task_id = task
        .task_arn()
        .and_then(|arn| arn.rsplit('/').next())
        .unwrap_or_default();
    ours.container_definitions()
        .iter()
        .filter_map(|definition| {
            let config = definition.log_configuration()?;
            if config.log_driver() != &LogDriver::Awslogs {
                return None;
            }
            let options = config.options()?;
            let group = options.get("awslogs-group")?;
            let prefix = options.get("awslogs-stream-prefix")?;
            let name = definition.name()?;
            Some((
                name.to_string(),
                group.clone(),
                format!("{prefix}/{name}/{task_id}"),
            ))
        })
        .collect()
}

async fn last_log_lines(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) -> Result<Vec<String>> {
    let events = logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .limit(LOG_LINES)
        .start_from_head(false)
        .send()
        .await
        .map_err(|error| anyhow!("{}", DisplayErrorContext(&error)))?;
    Ok(events
        .events()
        .iter()
        .filter_map(|event| event.message().map(|m| m.trim_end().to_string()))
        .collect())
}
