//! A one-off task of a revision — `pre-deploy-command` (say `python manage.py migrate` on the
//! new image before any service moves to it): RunTask with the service's own placement
//! (launch type or capacity providers, network configuration, platform version) and the
//! command as a container override, then wait for STOPPED with the rollout's discipline (fast
//! at first, every 3 s after). Exit code 0 of that container is success; anything else — a
//! non-zero code, no code, a stop reason, the timeout (the task is then stopped) — is a failure
//! that carries the exit code, the stop reason and the container's last log lines.

use super::evidence;
use crate::console::Console;
use crate::error::Problem;
use anyhow::Result;
use aws_sdk_ecs::types::{ContainerOverride, Service, TaskDefinition, TaskOverride};
use std::time::Duration;
// Tokio's clock, so a test can run the timeout on a paused one.
use tokio::time::Instant;

/// What a one-off task did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OneOff {
    pub task_arn: String,
    pub container: String,
    /// `None`: the container never exited on its own (not started, stopped, timed out).
    pub exit_code: Option<i32>,
    #[serde(serialize_with = "crate::json::seconds")]
    pub duration: Duration,
    pub stopped_reason: Option<String>,
    /// It ran out of time and deploy-action stopped it (in the record only when it did).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
}

impl OneOff {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `9a8b7c6d exited 0 after 41.2s`
    fn ending(&self) -> String {
        let how = match self.exit_code {
            _ if self.timed_out => "was stopped at its timeout".to_string(),
            None => "stopped with no exit code".to_string(),
            Some(code) => format!("exited {code}"),
        };
        format!(
            "{} {how} after {:.1}s",
            self.task_arn.rsplit('/').next().unwrap_or(&self.task_arn),
            self.duration.as_secs_f64()
        )
    }
}

/// The last CloudWatch lines of the one-off task's container, to the step log.
pub async fn print_last_lines(
    logs: &aws_sdk_cloudwatchlogs::Client,
    task_definition: &TaskDefinition,
    done: &OneOff,
    console: &Console,
) {
    for (container, group, stream) in evidence::log_streams(task_definition, &done.task_arn) {
        if container != done.container {
            continue;
        }
        console.line(&format!("last lines of {container} ({group} {stream}):"));
        let logs = &evidence::logs_for(logs, task_definition, &container);
        match evidence::last_log_lines(logs, &group, &stream).await {
            Ok(lines) if lines.is_empty() => console.line("    (no log lines)"),
            Ok(lines) => lines
                .iter()
                .for_each(|line| console.line(&format!("    {line}"))),
            // An empty block would read as "it printed nothing".
            Err(error) => console.line(&format!("    (could not read the log: {error})")),
        }
    }
}

/// What to run, and where.
pub struct TaskRequest<'a> {
    pub cluster: &'a str,
    /// The service whose placement the task copies.
    pub service: &'a Service,
    pub task_definition: &'a TaskDefinition,
    pub container: &'a str,
    pub command: &'a [String],
    /// The command as the user wrote it, when it was one string (see [`super::command`]).
    pub text: Option<&'a str>,
    /// What runs it, for messages: `pre-deploy-command`, `deploy-action run`.
    pub what: &'static str,
    /// `startedBy`: names the action and the run, so the task is found in the console.
    pub started_by: String,
    pub timeout: Duration,
    /// Where the started task is noted until it stops, for a cancel to stop it.
    pub journal: &'a super::Journal,
}

/// The polling delay after `polls` reads: 1 s for the first five, then 3 s.
fn poll_delay(polls: u32) -> Duration {
    if polls < 5 {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(3)
    }
}

/// Start the task and wait for it to stop; `Ok` with what it did (check
/// [`OneOff::succeeded`]), `Err` when it could not be started or followed.
pub async fn run(
    ecs: &crate::aws::Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    request: &TaskRequest<'_>,
    console: &Console,
) -> Result<OneOff> {
    let arn = request
        .task_definition
        .task_definition_arn()
        .unwrap_or_default();
    let entry_point = request
        .task_definition
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some(request.container))
        .map(aws_sdk_ecs::types::ContainerDefinition::entry_point)
        .filter(|entry_point| !entry_point.is_empty());
    let runs = super::command::invocation(entry_point, request.command, request.text);
    let length = crate::plan::overrides_length(request.container, &runs.command);
    if length > crate::plan::OVERRIDES_LIMIT {
        return Err(Problem::new(format!(
            "{} makes RunTask overrides of {length} characters; ECS takes at most {}",
            request.what,
            crate::plan::OVERRIDES_LIMIT
        ))
        .hint("a shorter command: put a long script in the image and run that")
        .into());
    }
    let overrides = TaskOverride::builder()
        .container_overrides(
            ContainerOverride::builder()
                .name(request.container)
                .set_command(Some(runs.command.clone()))
                .build(),
        )
        .build();
    let started = Instant::now();
    let answer = ecs
        .run_task(crate::aws::ecs::OneOffTask {
            cluster: request.cluster,
            task_definition: arn,
            like: request.service,
            started_by: &request.started_by,
            overrides: &overrides,
        })
        .await?;
    let task_arn = match answer {
        Ok(task_arn) => task_arn,
        Err(failures) => return Err(no_task_started(request.what, arn, &failures)),
    };
    request.journal.set_running_task(Some(super::RunningTask {
        ecs: ecs.clone(),
        cluster: request.cluster.to_string(),
        task_arn: task_arn.clone(),
        what: request.what,
    }));
    console.line(&format!(
        "started {task_arn} ({}: {})",
        request.container,
        runs.shown()
    ));
    let mut polls = 0;
    loop {
        tokio::time::sleep(poll_delay(polls)).await;
        polls += 1;
        let described = ecs
            .describe_tasks(request.cluster, std::slice::from_ref(&task_arn))
            .await?;
        let task = described.first();
        if let Some(task) = task.filter(|t| t.last_status() == Some("STOPPED")) {
            request.journal.set_running_task(None);
            let exit_code = task
                .containers()
                .iter()
                .find(|c| c.name() == Some(request.container))
                .and_then(aws_sdk_ecs::types::Container::exit_code);
            let done = OneOff {
                task_arn: task_arn.clone(),
                container: request.container.to_string(),
                exit_code,
                duration: started.elapsed(),
                stopped_reason: task.stopped_reason().map(str::to_string),
                timed_out: false,
            };
            if !done.succeeded() {
                // Everything to the step log: why, and what the container printed last.
                console.line(&evidence::describe_task(task));
                print_last_lines(logs, request.task_definition, &done, console).await;
            }
            console.line(&done.ending());
            return Ok(done);
        }
        if started.elapsed() >= request.timeout {
            let reason = format!("deploy-action: {} timed out", request.what);
            let stopped = ecs.stop_task(request.cluster, &task_arn, &reason).await;
            if stopped.is_ok() {
                request.journal.set_running_task(None);
            }
            let done = OneOff {
                task_arn,
                container: request.container.to_string(),
                exit_code: None,
                duration: started.elapsed(),
                stopped_reason: Some(match stopped {
                    Ok(()) => format!(
                        "timed out after {} minutes; deploy-action stopped it",
                        request.timeout.as_secs() / 60
                    ),
                    Err(error) => format!(
                        "timed out after {} minutes; deploy-action could not stop it ({error}): stop it by hand",
                        request.timeout.as_secs() / 60
                    ),
                }),
                timed_out: true,
            };
            console.line(&done.ending());
            return Ok(done);
        }
    }
}

/// RunTask answered with no task: ECS's reasons (capacity, placement, …).
fn no_task_started(
    what: &str,
    arn: &str,
    failures: &[aws_sdk_ecs::types::Failure],
) -> anyhow::Error {
    let reasons: Vec<String> = failures
        .iter()
        .map(|f| {
            format!(
                "{} ({})",
                f.reason().unwrap_or("?"),
                f.detail().unwrap_or("")
            )
        })
        .collect();
    Problem::new(format!(
        "{what}: ECS started no task of {arn}: {}",
        if reasons.is_empty() {
            "no reason given".into()
        } else {
            reasons.join(", ")
        }
    ))
    .hint("check the cluster's capacity and the service's network configuration")
    .into()
}

/// The failure of a pre-deploy task, before any service was updated: each way a task fails
/// says what happened in its own words.
pub fn failure(done: &OneOff, command: &[String]) -> anyhow::Error {
    let task = done.task_arn.rsplit('/').next().unwrap_or(&done.task_arn);
    let command = command.join(" ");
    let reason = done.stopped_reason.as_deref().unwrap_or("no reason given");
    let (what, hint) = match done.exit_code {
        _ if done.timed_out => (
            format!(
                "pre-deploy-command `{command}` did not finish in {task} ({}): {reason}",
                done.container
            ),
            "raise pre-deploy-timeout-minutes if the command needs longer, or find in the step log above what it waited for",
        ),
        None => (
            format!(
                "pre-deploy-command `{command}` never ran to its end: task {task} stopped before {} exited ({reason})",
                done.container
            ),
            "the stop reason says why (an image ECS could not pull, a secret it could not read, a container that did not start); the task execution role and the image's repository are the usual causes",
        ),
        Some(code) => (
            format!(
                "pre-deploy-command `{command}` failed in {task} ({}): exit code {code}, {reason}",
                done.container
            ),
            "the task's last log lines are in the step log above; the image is pushed and the new revision registered, re-run once the command passes",
        ),
    };
    Problem::new(format!("{what}; no service was updated"))
        .hint(hint)
        .into()
}

#[cfg(test)]
#[path = "one_off_tests.rs"]
mod tests;
