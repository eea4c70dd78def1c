//! Cancellation: the runner cancels a step by signalling `docker run`, which passes SIGINT (and
//! SIGTERM a few seconds later, then SIGKILL) to the action's PID 1. The run stops where it
//! stands and reports exactly where that was.

use crate::Stopped;
use crate::deploy::{Journal, Update, revision_of};
use crate::error::Problem;
use crate::report::{Release, Stage};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT and SIGTERM, listened for from the start.
pub struct Signals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl Signals {
    pub fn install() -> Self {
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// The name of the first signal received; never, when none could be listened for.
    pub async fn received(&mut self) -> &'static str {
        async fn next(signal: Option<&mut Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = next(self.interrupt.as_mut()) => "SIGINT",
            () = next(self.terminate.as_mut()) => "SIGTERM",
        }
    }
}

/// A one-off task still running when the run was cancelled (a migration, `deploy-action run`)
/// is stopped: left alone it would go on changing the database for a release that was called
/// off. What became of it, as a clause of the cancel's message.
pub(crate) async fn stop_running_task(journal: &Journal, signal: &str) -> Option<String> {
    let task = journal.running_task()?;
    let id = task.task_arn.rsplit('/').next().unwrap_or(&task.task_arn);
    let reason = format!("deploy-action: the run was cancelled ({signal})");
    // The runner kills the step seconds after its signal: a StopTask that hangs must not eat them.
    let stopping = task.ecs.stop_task(&task.cluster, &task.task_arn, &reason);
    Some(
        match tokio::time::timeout(std::time::Duration::from_secs(3), stopping).await {
            Ok(Ok(())) => {
                journal.set_running_task(None);
                format!("stopped the {} task {id} it had started", task.what)
            }
            Ok(Err(error)) => format!(
                "could not stop the {} task {id} ({error}): it goes on running, stop it with `aws ecs stop-task --cluster {} --task {}`",
                task.what, task.cluster, task.task_arn
            ),
            Err(_) => format!(
                "StopTask for the {} task {id} did not answer within 3 s: it may go on running, stop it with `aws ecs stop-task --cluster {} --task {}`",
                task.what, task.cluster, task.task_arn
            ),
        },
    )
}

/// The failure of a cancelled run: where it stopped, what it had pushed, what became of a
/// one-off task it had started, which services it had updated (ECS goes on rolling them out),
/// and how to put them back.
pub(crate) fn stopped_by(
    signal: &str,
    release: &Release,
    journal: &Journal,
    task: Option<String>,
) -> Stopped {
    let stage = release.reached.unwrap_or(Stage::Plan);
    let mut message = format!("cancelled ({signal}) during {stage}");
    match &release.image {
        Some(image) => message.push_str(&format!("; pushed {}", image.pinned_reference())),
        None => message.push_str("; nothing was pushed"),
    }
    if let Some(task) = task {
        message.push_str(&format!("; {task}"));
    }
    let updates = journal.updates();
    let hint = if updates.is_empty() {
        message.push_str("; no service was updated");
        "re-run the workflow to release this commit".to_string()
    } else {
        for update in &updates {
            message.push_str(&format!(
                "; updated {} from {} to {} — ECS keeps rolling it out",
                update.service,
                revision_of(&update.previous),
                revision_of(&update.revision)
            ));
        }
        // What each service ran before this run: the `previous` of its first update (a later
        // one is our own rollback).
        let mut first: Vec<&Update> = Vec::new();
        for update in &updates {
            if !first.iter().any(|seen| seen.service == update.service) {
                first.push(update);
            }
        }
        let commands: Vec<String> = first
            .iter()
            .map(|update| {
                format!(
                    "`aws ecs update-service --cluster {} --service {} --task-definition {}`",
                    update.cluster, update.service, update.previous
                )
            })
            .collect();
        format!(
            "to put the services back on what they ran: {}",
            commands.join(", ")
        )
    };
    Stopped {
        stage,
        error: Problem::new(message).hint(hint).into(),
    }
}
