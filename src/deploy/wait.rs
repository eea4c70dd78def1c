//! Waiting for a rollout: the decision "done, failed or still going" over a DescribeServices
//! answer (pure, table-tested), and the polling loop around it.

use crate::aws::Ecs;
use crate::console::Console;
use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
use aws_sdk_ecs::types::{DeploymentRolloutState, Service};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
// Tokio's clock, so tests can run an hour of polling in no time.
use tokio::time::Instant;

/// The deployment an UpdateService started, as its answer named it, and the revision it rolls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    /// The PRIMARY deployment's id in UpdateService's answer; `None` when the answer named no
    /// PRIMARY deployment of our revision (older APIs, stand-ins): then the revision is judged.
    pub deployment_id: Option<String>,
    pub task_definition: String,
}

impl Followed {
    /// From UpdateService's answer: the PRIMARY deployment, when it rolls `task_definition`.
    /// A forced redeploy of the revision a service runs gets a new PRIMARY deployment; the old
    /// COMPLETED one shares the ARN, and only the id tells them apart.
    pub fn from_update(service: Option<&Service>, task_definition: &str) -> Self {
        let deployment_id = service
            .into_iter()
            .flat_map(Service::deployments)
            .find(|d| d.status() == Some("PRIMARY") && d.task_definition() == Some(task_definition))
            .and_then(|d| d.id())
            .map(str::to_string);
        Self {
            deployment_id,
            task_definition: task_definition.to_string(),
        }
    }
}

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
    /// DescribeServices does not show our deployment (or, without an id, our revision): ECS
    /// reads are eventually consistent, so right after UpdateService this is "not yet". After
    /// the grace period it means ours was replaced; the text says by what.
    NotVisible(String),
    Failed(String),
}

/// Where the rollout of `ours` stands in one DescribeServices answer.
pub fn assess(service: &Service, ours: &Followed) -> Progress {
    match &ours.deployment_id {
        Some(id) => assess_deployment(service, id),
        None => assess_revision(service, &ours.task_definition),
    }
}

/// Judged by the deployment's id: rolled back means ours FAILED (a circuit-breaker rollback
/// then shows a newer PRIMARY on the previous revision), or a newer PRIMARY replaced it.
fn assess_deployment(service: &Service, id: &str) -> Progress {
    let deployments = service.deployments();
    let primary = deployments.iter().find(|d| d.status() == Some("PRIMARY"));
    let describe = |d: &aws_sdk_ecs::types::Deployment| {
        format!(
            "deployment {} of {}",
            d.id().unwrap_or("?"),
            d.task_definition().unwrap_or("?")
        )
    };
    let Some(deployment) = deployments.iter().find(|d| d.id() == Some(id)) else {
        return Progress::NotVisible(match primary {
            Some(primary) => format!(
                "the service does not show our deployment {id}; its PRIMARY is {}",
                describe(primary)
            ),
            None => format!("the service does not show our deployment {id}"),
        });
    };
    let replaced_by = primary.filter(|p| p.id() != Some(id));
    let (running, pending, desired) = (
        deployment.running_count(),
        deployment.pending_count(),
        deployment.desired_count(),
    );
    let reason = deployment
        .rollout_state_reason()
        .unwrap_or("no reason given");
    match (deployment.rollout_state(), replaced_by) {
        (Some(DeploymentRolloutState::Failed), Some(newer)) => Progress::Failed(format!(
            "the deployment {id} failed: {reason}; ECS rolled back ({} is PRIMARY)",
            describe(newer)
        )),
        (Some(DeploymentRolloutState::Failed), None) => {
            Progress::Failed(format!("the deployment {id} failed: {reason}"))
        }
        (_, Some(newer)) => Progress::Failed(format!(
            "our deployment {id} was replaced: {} is PRIMARY (another deploy, or a rollback)",
            describe(newer)
        )),
        (Some(DeploymentRolloutState::Completed), None) => Progress::Done { running, desired },
        // rolloutState comes with the ECS deployment controller; without it, done means the
        // only deployment is ours and fully running.
        (None, None) if deployments.len() == 1 && running == desired && pending == 0 => {
            Progress::Done { running, desired }
        }
        _ => Progress::Waiting {
            running,
            pending,
            desired,
        },
    }
}

/// Judged by the revision, when UpdateService named no deployment of ours.
fn assess_revision(service: &Service, ours: &str) -> Progress {
    let current = service.task_definition().unwrap_or_default();
    if current != ours {
        return Progress::NotVisible(format!(
            "the service runs {current} instead of {ours}: the deployment was rolled back \
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
    match deployment.id() {
        Some(id) => assess_deployment(service, id),
        None => Progress::Waiting {
            running: deployment.running_count(),
            pending: deployment.pending_count(),
            desired: deployment.desired_count(),
        },
    }
}

/// How long "not visible" counts as "not yet": ECS's reads catch up within seconds; a minute
/// without our deployment means it is gone.
pub const VISIBILITY_GRACE: Duration = Duration::from_secs(60);

/// How long to sleep before the next poll: 2 s for the first half minute, then 3 s, so a
/// finished rollout is noticed within 3 s however long it took.
pub fn poll_delay(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_secs(30) {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(3)
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

/// How old a shared read may be and still answer another waiter.
const SHARED_READ_AGE: Duration = Duration::from_secs(1);

/// DescribeServices for the services of one run, shared by their waits: the first waiter to
/// poll reads every service of the run (10 a call, the API's limit) and the others take that
/// read while it is under a second old, so a poll of N services costs ⌈N/10⌉ calls, not N.
#[derive(Debug)]
pub struct Poller {
    pub cluster: String,
    services: Vec<String>,
    reads: tokio::sync::Mutex<HashMap<String, (Instant, Service)>>,
}

impl Poller {
    /// A poller for `services` (names) of `cluster`; a service outside them is read alone.
    pub fn new(cluster: &str, services: Vec<String>) -> Self {
        Self {
            cluster: cluster.to_string(),
            services,
            reads: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub async fn describe(&self, ecs: &Ecs, service_name: &str) -> Result<Service> {
        // Held across the call: a waiter that comes meanwhile takes the read this one makes.
        let mut reads = self.reads.lock().await;
        if let Some((at, service)) = reads.get(service_name)
            && at.elapsed() < SHARED_READ_AGE
        {
            return Ok(service.clone());
        }
        let names = if self.services.iter().any(|s| s == service_name) {
            self.services.clone()
        } else {
            vec![service_name.to_string()]
        };
        let (services, _) = ecs
            .describe_services(&self.cluster, &names)
            .await
            .with_context(|| format!("reading {service_name}"))?;
        let now = Instant::now();
        for service in services {
            if let Some(name) = service.service_name() {
                reads.insert(name.to_string(), (now, service.clone()));
            }
        }
        reads
            .get(service_name)
            .map(|(_, service)| service.clone())
            .ok_or_else(|| anyhow!("service {service_name} disappeared from {}", self.cluster))
    }
}

/// Poll until the rollout of `ours` is done, fails, or `timeout` passes. New service events
/// are printed once each, a progress line at most every 15 s.
pub async fn wait_for_rollout(
    ecs: &Ecs,
    poller: &Poller,
    service_name: &str,
    ours: &Followed,
    timeout: Duration,
    events: &mut EventLog,
    console: &Console,
) -> Result<Verdict> {
    let started = Instant::now();
    let mut last_progress_line: Option<Instant> = None;
    loop {
        let service = poller.describe(ecs, service_name).await?;
        events.print_new(&service, console);
        let progress = assess(&service, ours);
        tracing::debug!(service = service_name, ?progress, elapsed = ?started.elapsed(), "polled the rollout");
        let (running, pending, desired) = match &progress {
            Progress::Done { running, desired } => {
                return Ok(Verdict::Done {
                    running: *running,
                    desired: *desired,
                });
            }
            Progress::Failed(reason) => return Ok(Verdict::Failed(reason.clone())),
            Progress::NotVisible(reason) if started.elapsed() >= VISIBILITY_GRACE => {
                return Ok(Verdict::Failed(format!(
                    "{reason} ({} s after the update)",
                    started.elapsed().as_secs()
                )));
            }
            Progress::NotVisible(_) => (
                service.running_count(),
                service.pending_count(),
                service.desired_count(),
            ),
            Progress::Waiting {
                running,
                pending,
                desired,
            } => (*running, *pending, *desired),
        };
        // At a terminal the spinner shows the counts of every poll; the log gets a line each 15 s.
        crate::progress::detail(
            "deploy",
            &format!("{service_name} {running}/{desired} running, {pending} pending"),
        );
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

/// An in-progress deployment that keeps failing: tasks of it have failed and none of it runs.
/// Without the circuit breaker ECS never marks such a deployment FAILED — it stays IN_PROGRESS
/// and keeps starting tasks ("Deployment", API reference) — so waiting for it to end would wait
/// out the timeout. A deploy supersedes it instead (UpdateService may replace an in-progress
/// deployment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub id: String,
    pub revision: String,
    pub failed_tasks: i32,
    /// The service's newest event ("… is unable to consistently start tasks successfully.").
    pub last_event: Option<String>,
}

impl std::fmt::Display for Failing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deployment {} of {} is failing ({} failed task{}, none running{})",
            self.id,
            super::revision_of(&self.revision),
            self.failed_tasks,
            if self.failed_tasks == 1 { "" } else { "s" },
            self.last_event
                .as_deref()
                .map(|event| format!("; last event: {event}"))
                .unwrap_or_default()
        )
    }
}

/// The service event ECS writes when a service's tasks keep failing ("Amazon ECS service
/// event messages": "service (service-name) is unable to consistently start tasks
/// successfully").
const UNABLE_TO_START: &str = "is unable to consistently start tasks successfully";

/// The service's PRIMARY deployment, when it is in progress and failing (see [`Failing`]):
/// none of it runs, and ECS counts failed tasks of it (`failedTasks`, "the number of
/// consecutively failed tasks in the deployment", Deployment in the API reference) or its
/// newest event says the tasks keep failing to start — either is enough, so the decision does
/// not rest on one field alone.
pub fn failing(service: &Service) -> Option<Failing> {
    let primary = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))?;
    let newest = service.events().first();
    let newest_event = newest.and_then(|event| event.message());
    // The event counts only when it is about this deployment: written after it started.
    let since_primary = match (newest.and_then(|e| e.created_at()), primary.created_at()) {
        (Some(event), Some(started)) => event.secs() >= started.secs(),
        _ => true,
    };
    let failing = primary.rollout_state() == Some(&DeploymentRolloutState::InProgress)
        && primary.running_count() == 0
        && (primary.failed_tasks() > 0
            || (since_primary
                && newest_event.is_some_and(|message| message.contains(UNABLE_TO_START))));
    failing.then(|| Failing {
        id: primary.id().unwrap_or("?").to_string(),
        revision: primary.task_definition().unwrap_or("?").to_string(),
        failed_tasks: primary.failed_tasks(),
        last_event: newest_event.map(str::to_string),
    })
}

/// The revision that serves: the service's, unless its PRIMARY deployment is failing — then
/// the newest ACTIVE deployment's that runs tasks (or, with none running, the newest ACTIVE).
pub fn serving_revision(service: &Service) -> String {
    let current = service.task_definition().unwrap_or_default().to_string();
    if failing(service).is_none() {
        return current;
    }
    let active: Vec<_> = service
        .deployments()
        .iter()
        .filter(|d| d.status() == Some("ACTIVE"))
        .collect();
    active
        .iter()
        .find(|d| d.running_count() > 0)
        .or_else(|| active.first())
        .and_then(|d| d.task_definition())
        .map_or(current, str::to_string)
}

/// Wait until no other deployment is in progress, so ours does not race it (bounded by
/// `timeout`) — except a failing one, which ours supersedes at once. Returns the service.
pub async fn wait_until_idle(
    ecs: &Ecs,
    poller: &Poller,
    service_name: &str,
    timeout: Duration,
    events: &mut EventLog,
    console: &Console,
) -> Result<Service> {
    let started = Instant::now();
    let mut said = false;
    loop {
        let service = poller.describe(ecs, service_name).await?;
        if said {
            events.print_new(&service, console);
        }
        if let Some(failing) = failing(&service) {
            console.line(&format!(
                "{service_name}: {failing}; superseding it instead of waiting (it ends only with the circuit breaker on)"
            ));
            return Ok(service);
        }
        let Some(what) = busy(&service) else {
            return Ok(service);
        };
        if let Some(baking) = super::native::baking(ecs, &service).await {
            console.line(&format!(
                "{service_name}: {baking}; superseding it instead of waiting for the bake to end (production traffic is on it already)"
            ));
            return Ok(service);
        }
        if !said {
            console.line(&format!(
                "{service_name}: {what}; waiting for it before updating"
            ));
            events.remember(&service);
            said = true;
        }
        if started.elapsed() >= timeout {
            return Err(Problem::new(format!(
                // The rollout's report names the service.
                "{what}, still after {} minutes; nothing was changed",
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
mod tests;
