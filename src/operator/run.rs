//! `deploy-action run -- COMMAND…`: the same one-off task as `pre-deploy-command`, on the
//! revision the first service runs now, with its placement; the container's last log lines are
//! printed and its exit code becomes this command's.

use crate::console::Console;
use crate::deploy::one_off;
use crate::error::Problem;
use anyhow::{Context, Result};
use std::time::Duration;

/// The task's own non-zero exit code, for the process to exit with.
#[derive(Debug, thiserror::Error)]
#[error("the task exited with {0}")]
pub struct TaskExit(pub i32);

/// What `run --output json` prints, whatever the task's exit code (which is still this
/// command's).
#[derive(Debug, serde::Serialize)]
pub struct RunRecord {
    pub cluster: String,
    pub service: String,
    pub task_definition: String,
    pub command: Vec<String>,
    /// The task: its ARN, container, exit code, duration and stop reason.
    #[serde(flatten)]
    pub task: one_off::OneOff,
}

impl RunRecord {
    /// The command's ending: the task's own exit code, or why it had none.
    pub fn ending(&self) -> Result<()> {
        match self.task.exit_code {
            Some(0) => Ok(()),
            Some(code) => Err(TaskExit(code).into()),
            None => Err(Problem::new(format!(
                "`{}` ended without an exit code: {}",
                self.command.join(" "),
                self.task
                    .stopped_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ))
            .hint("the task's stop reason and last log lines are above")
            .into()),
        }
    }
}

/// Runs the task and returns its record; [`RunRecord::ending`] turns it into the exit code.
pub async fn run(
    request: &crate::Request,
    command: &[String],
    container: Option<&str>,
    timeout: Duration,
    console: &Console,
) -> Result<RunRecord> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = crate::aws::Ecs::new(&session.config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&session.config);
    let services = ecs
        .existing_services(&rollout.cluster, &rollout.services[..1])
        .await?;
    let service = services
        .first()
        .context("DescribeServices answered with no service and no failure")?;
    let task_definition = &super::running_task_definition(&ecs, service).await?;
    let container = match container {
        Some(name) => name.to_string(),
        None => task_definition
            .container_definitions()
            .iter()
            .find(|c| {
                c.image()
                    .is_some_and(|image| super::is_apps_image(&plan, image))
            })
            .or_else(|| task_definition.container_definitions().first())
            .and_then(|c| c.name())
            .context("the task definition has no container")?
            .to_string(),
    };
    let journal = crate::deploy::Journal::default();
    let request = one_off::TaskRequest {
        cluster: &rollout.cluster,
        service,
        task_definition,
        container: &container,
        command,
        text: None,
        what: "deploy-action run",
        started_by: "deploy-action-run".to_string(),
        timeout,
        journal: &journal,
    };
    // Ctrl-C (or the runner's cancel) stops the task too: a shell left running in ECS costs money
    // and may hold locks.
    let mut signals = crate::cancel::Signals::install();
    let done = tokio::select! {
        done = one_off::run(&ecs, &logs, &request, console) => done?,
        signal = signals.received() => {
            let task = crate::cancel::stop_running_task(&journal, signal).await;
            return Err(Problem::new(format!(
                "cancelled ({signal}){}",
                task.map(|task| format!("; {task}")).unwrap_or_default()
            ))
            .into());
        }
    };
    // The container's output, whatever the ending (on failure one_off printed it already).
    if done.succeeded() {
        one_off::print_last_lines(&logs, task_definition, &done, console).await;
    }
    Ok(RunRecord {
        cluster: rollout.cluster.clone(),
        service: service.service_name().unwrap_or_default().to_string(),
        task_definition: task_definition
            .task_definition_arn()
            .unwrap_or_default()
            .to_string(),
        command: command.to_vec(),
        task: done,
    })
}
