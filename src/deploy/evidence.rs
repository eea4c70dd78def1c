//! Why a rollout failed: the tasks of our revision that stopped, each container's exit code
//! and reason, and the last lines each `awslogs` container wrote before it died.
//!
//! The log lines are the application's output (a stack trace may hold a customer's data or a
//! secret the application printed): they go to the step log, and elsewhere — the annotation,
//! the summary, the GitHub deployment — only a link to them in the CloudWatch console.

use anyhow::{Result, anyhow};
use aws_sdk_ecs::types::{Task, TaskDefinition};
use std::fmt::Write;

/// Tasks looked at, most recently stopped first.
const TASKS: usize = 3;
/// Log lines fetched per container.
const LOG_LINES: i32 = 30;

/// What the stopped tasks tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Each task's stop reason, each container's exit, and a CloudWatch link to its log.
    pub brief: String,
    /// The containers' last log lines.
    pub log_lines: String,
}

/// The stopped tasks of `ours`, explained; `None` when no task of it has stopped.
pub async fn stopped_tasks(
    ecs: &crate::aws::Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    cluster: &str,
    service_name: &str,
    ours: &TaskDefinition,
) -> Result<Option<Evidence>> {
    let arns = ecs.stopped_tasks(cluster, service_name).await?;
    if arns.is_empty() {
        return Ok(None);
    }
    let described = ecs.describe_tasks(cluster, &arns).await?;
    let our_arn = ours.task_definition_arn().unwrap_or_default();
    let mut tasks: Vec<&Task> = described
        .iter()
        .filter(|task| task.task_definition_arn() == Some(our_arn))
        .collect();
    if tasks.is_empty() {
        return Ok(None);
    }
    tasks.sort_by_key(|task| std::cmp::Reverse(task.stopped_at().map(|at| at.secs())));
    let mut brief = String::new();
    let mut log_lines = String::new();
    for task in tasks.into_iter().take(TASKS) {
        brief.push_str(&describe_task(task));
        for (container, group, stream) in log_streams(ours, task.task_arn().unwrap_or_default()) {
            // Each container's own `awslogs-region`: it may log to another region than it runs in.
            let logs = &logs_for(logs, ours, &container);
            let region = logs
                .config()
                .region()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = writeln!(
                brief,
                "  logs of {container}: {}",
                console_link(&region, &group, &stream)
            );
            let lines = last_log_lines(logs, &group, &stream).await;
            let _ = writeln!(log_lines, "last lines of {container} ({group} {stream}):");
            match lines {
                Ok(lines) if lines.is_empty() => log_lines.push_str("    (no log lines)\n"),
                Ok(lines) => lines.iter().for_each(|line| {
                    let _ = writeln!(log_lines, "    {line}");
                }),
                Err(error) => {
                    let _ = writeln!(log_lines, "    (could not read the log: {error})");
                }
            }
        }
    }
    Ok(Some(Evidence { brief, log_lines }))
}

/// The CloudWatch console page of a log stream. The console takes the group and stream in its
/// URL fragment encoded twice with `$` for `%` (`/ecs/back-end` → `$252Fecs$252Fback-end`).
pub fn console_link(region: &str, group: &str, stream: &str) -> String {
    let console = match crate::plan::values::partition(region) {
        "aws-cn" => format!("https://{region}.console.amazonaws.cn"),
        "aws-us-gov" => format!("https://{region}.console.amazonaws-us-gov.com"),
        _ => format!("https://{region}.console.aws.amazon.com"),
    };
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || b"-_.".contains(&byte) {
                    char::from(byte).to_string()
                } else {
                    format!("$25{byte:02X}")
                }
            })
            .collect()
    };
    format!(
        "{console}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events/{}",
        encode(group),
        encode(stream)
    )
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
pub fn log_streams(ours: &TaskDefinition, task_arn: &str) -> Vec<(String, String, String)> {
    let task_id = task_arn.rsplit('/').next().unwrap_or_default();
    super::task_definition::log_sources(ours)
        .into_iter()
        .filter_map(|source| {
            let stream = format!("{}{task_id}", source.stream_prefix?);
            Some((source.container, source.group, stream))
        })
        .collect()
}

/// The CloudWatch Logs client that reads `container`'s log: `logs`, or one for the container's
/// `awslogs-region` when that names another region.
pub fn logs_for(
    logs: &aws_sdk_cloudwatchlogs::Client,
    task_definition: &TaskDefinition,
    container: &str,
) -> aws_sdk_cloudwatchlogs::Client {
    let region = super::task_definition::log_sources(task_definition)
        .into_iter()
        .find(|source| source.container == container)
        .and_then(|source| source.region);
    match region {
        Some(region) if logs.config().region().map(AsRef::as_ref) != Some(region.as_str()) => {
            let config = logs
                .config()
                .to_builder()
                .region(aws_sdk_cloudwatchlogs::config::Region::new(region))
                .build();
            aws_sdk_cloudwatchlogs::Client::from_conf(config)
        }
        _ => logs.clone(),
    }
}

pub async fn last_log_lines(
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
        .map_err(|error| anyhow!("{}", crate::error::aws_error(&error)))?;
    Ok(events
        .events()
        .iter()
        .filter_map(|event| event.message().map(|m| m.trim_end().to_string()))
        .collect())
}

#[cfg(test)]
#[path = "evidence_tests.rs"]
mod tests;
