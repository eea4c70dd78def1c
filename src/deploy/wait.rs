//! Waiting for a rollout: the decision "done, failed or still going" over a DescribeServices
//! answer (pure, table-tested), and the polling loop around it.

use crate::console::Console;
use crate::error::Problem;
use anyhow::{Result, anyhow};
use aws_sdk_ecs::error::DisplayErrorContext;
use aws_sdk_ecs::types::{DeploymentRolloutState, Service};
use std::collections::HashSet;
use std::time::Duration;
// Tokio's clock, so tests can run an hour of polling in no time.
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Done {
        running: i32,
        desired: i32,
    },
    Waiting {
        running: i32,
        pending: i32,
        desired: i32,
    },
    Failed(String),
}

/// Where the rollout to `ours` (a task definition ARN) stands.
pub fn assess(service: &Service, ours: &str) -> Progress {
    let current = service.task_definition().unwrap_or_default();
    if current != ours {
        return Progress::Failed(format!(
            "the service runs {current} again instead of {ours}: the deployment was rolled back \
             (deployment circuit breaker) or replaced by another deploy"
        ));
    }
    let deployments = service.deployments();
    let Some(deployment) = deployments
        .iter()
        .find(|d| d.task_definition() == Some(ours))
    else {
        // No deployment reports our revision (older APIs, stand-ins): judge the service.
        let (running, pending, desired) = (
            service.running_count(),
            service.pending_count(),
            service.desired_count(),
        );
        return if running == desired && pending == 0 {
            Progress::Done { running, desired }
        } else {
            Progress::Waiting {
                running,
                pending,
                desired,
            }
        };
    };
    let (running, pending, desired) = (
        deployment.running_count(),
        deployment.pending_count(),
        deployment.desired_count(),
    );
    match deployment.rollout_state() {
        Some(DeploymentRolloutState::Failed) => Progress::Failed(format!(
            "the deployment {} failed: {}",
            deployment.id().unwrap_or("?"),
            deployment
                .rollout_state_reason()
                .unwrap_or("no reason given")
        )),
        Some(DeploymentRolloutState::Completed) => Progress::Done { running, desired },
        Some(DeploymentRolloutState::InProgress) => Progress::Waiting {
            running,
            pending,
            desired,
        },
        // rolloutState is only reported with the ECS deployment controller's circuit breaker
        // era; without it, done means the only deployment is ours and fully running.
        _ if deployments.len() == 1 && running == desired && pending == 0 => {
            Progress::Done { running, desired }
        }
        _ => Progress::Waiting {
            running,
            pending,
            desired,
        },
    }
}

/// How long to sleep before the next poll: quick at first, so a finished rollout is noticed
/// within seconds, then backing off to 15 s.
pub fn poll_delay(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_secs(30) {
        Duration::from_secs(2)
    } else {
        let seconds = 2 + (elapsed.as_secs() - 30) / 3;
        Duration::from_secs(seconds.min(15))
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done { running: i32, desired: i32 },
    Failed(String),
    TimedOut(String),
}

/// Where to report what a service does while we wait: its new events, once each.
#[derive(Debug, Default)]
pub struct EventLog {
    seen: HashSet<String>,
    /// The messages printed, oldest first.
    pub printed: Vec<String>,
}

impl EventLog {
    /// Mark every event the service has now as seen, so only later ones are printed.
    pub fn remember(&mut self, service: &Service) {
        self.seen.extend(
            service
                .events()
                .iter()
                .filter_map(|e| e.id().map(str::to_string)),
        );
    }

    /// Service events come newest first; print the unseen ones oldest first.
    pub fn print_new(&mut self, service: &Service, console: &Console) {
        let name = service.service_name().unwrap_or_default();
        for event in service.events().iter().rev() {
            let id = event.id().unwrap_or_default().to_string();
            if self.seen.insert(id) {
                let message = event.message().unwrap_or_default().to_string();
                console.line(&format!("{name}: {message}"));
                self.printed.push(message);
            }
        }
    }
}

pub async fn describe(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service_name: &str,
) -> Result<Service> {
    let response = ecs
        .describe_services()
        .cluster(cluster)
        .services(service_name)
        .send()
        .await
        .map_err(|error| {
            anyhow!(
                "ECS DescribeServices for {service_name}: {}",
                DisplayErrorContext(&error)
            )
        })?;
    response
        .services()
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("service {service_name} disappeared from {cluster}"))
}

/// Poll until the rollout to `ours` is done, fails, or `timeout` passes. New service events
/// are printed once each, a progress line at most every 15 s.
pub async fn wait_for_rollout(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service_name: &str,
    ours: &str,
    timeout: Duration,
    events: &mut EventLog,
    console: &Console,
) -> Result<Verdict> {
    let started = Instant::now();
    let mut last_progress_line: Option<Instant> = None;
    loop {
        let service = describe(ecs, cluster, service_name).await?;
        events.print_new(&service, console);
        let progress = assess(&service, ours);
        tracing::debug!(service = service_name, ?progress, elapsed = ?started.elapsed(), "polled the rollout");
        match &progress {
            Progress::Done { running, desired } => {
                return Ok(Verdict::Done {
                    running: *running,
                    desired: *desired,
                });
            }
            Progress::Failed(reason) => return Ok(Verdict::Failed(reason.clone())),
            Progress::Waiting {
                running,
                pending,
                desired,
            } => {
                if last_progress_line.is_none_or(|at| at.elapsed() >= Duration::from_secs(15)) {
                    console.line(&format!(
                        "{service_name}: {running} running, {pending} pending, {desired} desired"
                    ));
                    last_progress_line = Some(Instant::now());
                }
                if started.elapsed() >= timeout {
                    return Ok(Verdict::TimedOut(format!(
                        "{service_name} did not finish rolling out within {} minutes \
                         ({running} running, {pending} pending, {desired} desired)",
                        timeout.as_secs() / 60
                    )));
                }
            }
        }
        tokio::time::sleep(poll_delay(started.elapsed())).await;
    }
}

/// Another deployment still in progress on the service, described; `None` when it is idle.
pub fn busy(service: &Service) -> Option<String> {
    let deployments = service.deployments();
    let in_progress = deployments
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::InProgress));
    match in_progress {
        Some(deployment) => Some(format!(
            "deployment {} of {} is still in progress",
            deployment.id().unwrap_or("?"),
            deployment.task_definition().unwrap_or("?")
        )),
        None if deployments.len() > 1 => Some(format!(
            "{} deployments are still active (an earlier one is draining)",
            deployments.len()
        )),
        None => None,
    }
}

/// Wait until no other deployment is in progress, so ours does not race it (bounded by
/// `timeout`). Returns the idle service.
pub async fn wait_until_idle(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service_name: &str,
    timeout: Duration,
    events: &mut EventLog,
    console: &Console,
) -> Result<Service> {
    let started = Instant::now();
    let mut said = false;
    loop {
        let service = describe(ecs, cluster, service_name).await?;
        if said {
            events.print_new(&service, console);
        }
        let Some(what) = busy(&service) else {
            return Ok(service);
        };
        if !said {
            console.line(&format!(
                "{service_name}: {what}; waiting for it before updating"
            ));
            events.remember(&service);
            said = true;
        }
        if started.elapsed() >= timeout {
            return Err(Problem::new(format!(
                "{service_name}: {what}, still after {} minutes; nothing was changed",
                timeout.as_secs() / 60
            ))
            .hint("another deploy is running on this service: use `concurrency:` in the workflow, or re-run later")
            .into());
        }
        tokio::time::sleep(poll_delay(started.elapsed())).await;
    }
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod rollout_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Deployment;

    const OURS: &str = "arn:td/back-end:8";
    const OLD: &str = "arn:td/back-end:7";

    fn deployment(
        td: &str,
        state: Option<DeploymentRolloutState>,
        running: i32,
        pending: i32,
    ) -> Deployment {
        let mut builder = Deployment::builder()
            .id(format!("ecs-svc/{td}"))
            .status(if td == OURS { "PRIMARY" } else { "ACTIVE" })
            .task_definition(td)
            .desired_count(2)
            .running_count(running)
            .pending_count(pending)
            .rollout_state_reason("reason");
        if let Some(state) = state {
            builder = builder.rollout_state(state);
        }
        builder.build()
    }

    fn service(td: &str, deployments: Vec<Deployment>, running: i32) -> Service {
        Service::builder()
            .service_name("api")
            .task_definition(td)
            .set_deployments(Some(deployments))
            .desired_count(2)
            .running_count(running)
            .pending_count(2 - running)
            .build()
    }

    #[test]
    fn decisions() {
        use DeploymentRolloutState::*;
        let table = [
            (
                "completed",
                service(OURS, vec![deployment(OURS, Some(Completed), 2, 0)], 2),
                "done",
            ),
            (
                "in progress",
                service(
                    OURS,
                    vec![
                        deployment(OURS, Some(InProgress), 1, 1),
                        deployment(OLD, None, 2, 0),
                    ],
                    3,
                ),
                "waiting",
            ),
            (
                "all running but still in progress",
                service(OURS, vec![deployment(OURS, Some(InProgress), 2, 0)], 2),
                "waiting",
            ),
            (
                "failed",
                service(OURS, vec![deployment(OURS, Some(Failed), 0, 0)], 2),
                "failed",
            ),
            (
                "rolled back",
                service(OLD, vec![deployment(OLD, Some(InProgress), 2, 0)], 2),
                "failed",
            ),
            (
                "no rollout state, draining old",
                service(
                    OURS,
                    vec![deployment(OURS, None, 2, 0), deployment(OLD, None, 1, 0)],
                    3,
                ),
                "waiting",
            ),
            (
                "no rollout state, only ours",
                service(OURS, vec![deployment(OURS, None, 2, 0)], 2),
                "done",
            ),
            (
                "no deployment on ours, counts match",
                service(OURS, vec![deployment(OLD, Some(Completed), 2, 0)], 2),
                "done",
            ),
            (
                "no deployment on ours, counts short",
                service(OURS, vec![deployment(OLD, Some(Completed), 2, 0)], 1),
                "waiting",
            ),
        ];
        for (case, service, expected) in table {
            let outcome = match assess(&service, OURS) {
                Progress::Done { .. } => "done",
                Progress::Waiting { .. } => "waiting",
                Progress::Failed(_) => "failed",
            };
            assert_eq!(outcome, expected, "{case}");
        }
    }

    #[test]
    fn polls_fast_first_then_backs_off() {
        assert_eq!(poll_delay(Duration::ZERO), Duration::from_secs(2));
        assert_eq!(poll_delay(Duration::from_secs(29)), Duration::from_secs(2));
        assert!(poll_delay(Duration::from_secs(60)) <= Duration::from_secs(15));
        assert_eq!(
            poll_delay(Duration::from_secs(3600)),
            Duration::from_secs(15)
        );
    }
}
