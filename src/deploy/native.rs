//! ECS's own deployment strategies — BLUE_GREEN (since July 2025), LINEAR and CANARY (since
//! October 2025) under the `ECS` deployment controller — followed as ECS reports them: every
//! UpdateService makes a *service deployment* (DescribeServiceDeployments, API reference) that
//! walks lifecycle stages (SCALE_UP … PRODUCTION_TRAFFIC_SHIFT … BAKE_TIME → CLEAN_UP) to
//! SUCCESSFUL, or is rolled back by ECS itself (an alarm, the circuit breaker, a hook).
//!
//! The services' `deployments` do not tell these apart: during the bake both revisions run and
//! the PRIMARY deployment stays IN_PROGRESS (kayac/ecspresso#1063), so the rolling wait would
//! call a healthy release that bakes for an hour a timeout — and its UpdateService rollback would
//! start a fresh deployment of the old revision over it. Here a rollback is
//! StopServiceDeployment(ROLLBACK), and a rollback by ECS is never doubled.

use crate::aws::Ecs;
use crate::console::Console;
use anyhow::{Result, anyhow};
use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHookStatus as HookStatus,
    DeploymentLifecycleHookTargetType as HookType, DeploymentStrategy, Service, ServiceDeployment,
    ServiceDeploymentLifecycleStage as Stage, ServiceDeploymentStatus as Status,
};
use std::time::Duration;
use tokio::time::Instant;

/// The strategy ECS deploys the service with, when it is one of its own traffic-shifting ones
/// (not ROLLING, which the rolling wait follows).
pub fn native_strategy(service: &Service) -> Option<DeploymentStrategy> {
    strategy_of(service.deployment_configuration())
}

/// The same, of a deployment configuration (one an update is about to set).
pub fn strategy_of(configuration: Option<&DeploymentConfiguration>) -> Option<DeploymentStrategy> {
    configuration
        .and_then(|configuration| configuration.strategy())
        .filter(|strategy| !matches!(strategy, DeploymentStrategy::Rolling))
        .cloned()
}

/// Where a service deployment stands, from one DescribeServiceDeployments answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Pending, or on its way to production traffic.
    Going,
    /// Held by a pause hook until ContinueServiceDeployment.
    Paused(Pause),
    /// Production traffic is wholly on the new revision; ECS watches it until the bake ends
    /// (and rolls back by itself if an alarm fires).
    Baking,
    Succeeded,
    /// ECS is rolling back, or has: why, and whether it finished.
    RolledBack {
        reason: String,
        finished: bool,
    },
    /// Stopped without a rollback (someone stopped it), or the rollback itself failed.
    Ended(String),
}

/// The pure decision over one service deployment.
pub fn assess(deployment: &ServiceDeployment) -> Standing {
    let why = || rollback_reason(deployment);
    match deployment.status() {
        Some(Status::Successful) => Standing::Succeeded,
        Some(Status::RollbackSuccessful) => Standing::RolledBack {
            reason: why(),
            finished: true,
        },
        Some(Status::RollbackRequested | Status::RollbackInProgress) => Standing::RolledBack {
            reason: why(),
            finished: false,
        },
        Some(Status::RollbackFailed) => {
            Standing::Ended(format!("ECS's rollback failed ({})", why()))
        }
        Some(Status::Stopped | Status::StopRequested) => Standing::Ended(format!(
            "the service deployment was stopped{}",
            deployment
                .status_reason()
                .map(|reason| format!(": {reason}"))
                .unwrap_or_default()
        )),
        _ => match (pause_of(deployment), deployment.lifecycle_stage()) {
            (Some(pause), _) => Standing::Paused(pause),
            (None, Some(Stage::BakeTime | Stage::CleanUp)) => Standing::Baking,
            (None, _) => Standing::Going,
        },
    }
}

/// A pause hook holding a service deployment: ECS waits for ContinueServiceDeployment with
/// `hook_id` until `expires_at`, then takes `timeout_action` (developer guide, "Pause hooks for
/// Amazon ECS service deployments"; DeploymentLifecycleHookDetail in the API reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub hook_id: String,
    /// The lifecycle stage the deployment shows while held.
    pub stage: String,
    /// Production traffic on the new revision, in tenths of a percent (1000: all of it).
    pub production_tenths: u16,
    /// UTC, RFC 3339.
    pub expires_at: Option<String>,
    /// CONTINUE or ROLLBACK (ECS's default: ROLLBACK).
    pub timeout_action: String,
}

/// The pause hook in AWAITING_ACTION, if one holds the deployment.
fn pause_of(deployment: &ServiceDeployment) -> Option<Pause> {
    let hook = deployment.lifecycle_hook_details().iter().find(|hook| {
        hook.target_type() == Some(&HookType::Pause)
            && hook.status() == Some(&HookStatus::AwaitingAction)
    })?;
    Some(Pause {
        hook_id: hook.hook_id()?.to_string(),
        stage: deployment
            .lifecycle_stage()
            .map_or("PENDING", Stage::as_str)
            .to_string(),
        production_tenths: deployment
            .target_service_revision()
            .and_then(|target| target.requested_production_traffic_weight())
            .map_or(0, super::strategy::tenths),
        expires_at: hook
            .expires_at()
            .and_then(|at| at.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        timeout_action: hook
            .timeout_action()
            .map_or("ROLLBACK", |action| action.as_str())
            .to_string(),
    })
}

impl Pause {
    /// `paused by a pause hook until 2026-12-07T14:00:00Z (then ECS will ROLLBACK)`.
    pub fn describe(&self) -> String {
        format!(
            "paused by a pause hook{} (then ECS will {})",
            self.expires_at
                .as_deref()
                .map(|at| format!(" until {at}"))
                .unwrap_or_default(),
            self.timeout_action
        )
    }
}

/// Why ECS rolled back, in its words: the alarms that fired, the rollback's reason, the status
/// reason (the circuit breaker's, a hook's).
fn rollback_reason(deployment: &ServiceDeployment) -> String {
    let mut parts = Vec::new();
    let fired = deployment
        .alarms()
        .map(|alarms| alarms.triggered_alarm_names().to_vec())
        .unwrap_or_default();
    if !fired.is_empty() {
        parts.push(format!("alarm {} fired", fired.join(", ")));
    }
    if let Some(reason) = deployment.rollback().and_then(|rollback| rollback.reason()) {
        parts.push(reason.to_string());
    }
    if let Some(reason) = deployment.status_reason()
        && !parts.iter().any(|part| part == reason)
    {
        parts.push(reason.to_string());
    }
    if parts.is_empty() {
        "ECS gave no reason".into()
    } else {
        parts.join("; ")
    }
}

/// One line for a stage as it is entered: `SCALE_UP (new revision 1/2 running)`,
/// `PRODUCTION_TRAFFIC_SHIFT (10% of production traffic on the new revision)`.
pub fn stage_line(deployment: &ServiceDeployment) -> String {
    let stage = match (deployment.lifecycle_stage(), deployment.status()) {
        (Some(stage), None | Some(Status::InProgress)) => stage.as_str().to_string(),
        (Some(stage), Some(status)) => format!("{}, {}", stage.as_str(), status.as_str()),
        (None, status) => status.map_or("PENDING", Status::as_str).to_string(),
    };
    let stage = match pause_of(deployment) {
        Some(pause) => format!("{stage}, {}", pause.describe()),
        None => stage,
    };
    let Some(target) = deployment.target_service_revision() else {
        return stage;
    };
    let traffic = target
        .requested_production_traffic_weight()
        .filter(|weight| *weight > 0.0);
    match traffic {
        Some(weight) => format!(
            "{stage} ({} of production traffic on the new revision)",
            crate::plan::strategy::percent_text(super::strategy::tenths(weight))
        ),
        None => format!(
            "{stage} (new revision {}/{} running)",
            target.running_task_count(),
            target.requested_task_count()
        ),
    }
}

/// The release the service's current service deployment bakes, when it does: production traffic
/// is wholly on it and ECS only watches it until the bake ends (minutes to hours). A new deploy —
/// a hotfix — supersedes it instead of waiting the bake out; ECS starts the new service
/// deployment from the revision serving (its RECONCILE_SERVICE stage exists for a service with
/// more than one ACTIVE revision: ServiceDeployment, API reference). `None` when it does not
/// bake, or when that cannot be read (then the caller waits, as before).
pub async fn baking(ecs: &Ecs, service: &Service) -> Option<String> {
    let strategy = native_strategy(service)?;
    let arn = service.current_service_deployment()?;
    let found = ecs
        .describe_service_deployments(&[arn.to_string()])
        .await
        .ok()?;
    let deployment = found.first()?;
    (assess(deployment) == Standing::Baking).then(|| {
        format!(
            "its {} release {} bakes ({})",
            strategy.as_str(),
            super::revision_of(service.task_definition().unwrap_or("?")),
            stage_line(deployment)
        )
    })
}

/// Just after our UpdateService, in Unix seconds (wall clock: ECS's `createdAt` is one).
#[derive(Debug, Clone, Copy)]
pub struct Since(i64);

impl Since {
    pub fn now() -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self(i64::try_from(seconds).unwrap_or(i64::MAX))
    }
}

/// The service deployment our UpdateService started: the service's `currentServiceDeployment`
/// in its answer, else the newest one ListServiceDeployments shows that was created after the
/// update (a minute's leeway for clock skew) — never an older one. ECS's reads catch up within
/// seconds: asked again for up to `grace`.
pub async fn find(
    ecs: &Ecs,
    cluster: &str,
    service: &str,
    updated: Option<&Service>,
    since: Since,
    grace: Duration,
) -> Result<String> {
    if let Some(arn) = updated.and_then(Service::current_service_deployment) {
        return Ok(arn.to_string());
    }
    let started = Instant::now();
    loop {
        let listed = ecs.list_service_deployments(cluster, service).await?;
        if let Some(arn) = listed
            .iter()
            .filter(|brief| {
                brief
                    .created_at()
                    .is_some_and(|at| at.secs() >= since.0 - 60)
            })
            .max_by_key(|brief| brief.created_at().map(|at| at.secs()))
            .and_then(|brief| brief.service_deployment_arn())
        {
            return Ok(arn.to_string());
        }
        if started.elapsed() >= grace {
            return Err(anyhow!(
                "ECS shows no service deployment of {service} after the update"
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// How following a service deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Succeeded {
        running: i32,
        desired: i32,
    },
    /// In its bake: `until` is when it ends at the latest (UTC, RFC 3339), when known.
    Baking {
        until: Option<String>,
    },
    RolledBackByEcs {
        reason: String,
    },
    /// Held by a pause hook that is not left to a person: the caller decides.
    Paused(Pause),
    /// Our pause gate's check failed and ContinueServiceDeployment(ROLLBACK) was sent: why,
    /// and whether ECS finished the rollback.
    RolledBackAtPause {
        reason: String,
        finished: bool,
    },
    Ended(String),
    TimedOut(String),
}

/// What to follow and for how long.
pub struct Following<'a> {
    pub service: &'a str,
    pub arn: &'a str,
    /// The whole wait (`wait-timeout-minutes`), said in a timeout's message.
    pub timeout: Duration,
    /// When it ends, across the calls a pause splits it into.
    pub deadline: Instant,
    /// Wait the bake out (SUCCESSFUL) instead of ending when it begins.
    pub through_bake: bool,
    /// Pause hooks already continued, or left to a person (`deploy-action continue`):
    /// followed, not returned again (a read just after ContinueServiceDeployment may still
    /// show the hook awaiting action).
    pub answered: &'a [String],
}

/// Poll the service deployment until it ends as [`Ending`] says, printing each stage once.
pub async fn follow(ecs: &Ecs, following: &Following<'_>, console: &Console) -> Result<Ending> {
    let Following { service, arn, .. } = following;
    let started = Instant::now();
    let mut last_line = String::new();
    loop {
        let found = ecs
            .describe_service_deployments(std::slice::from_ref(&arn.to_string()))
            .await?;
        if let Some(deployment) = found.first() {
            let line = stage_line(deployment);
            if line != last_line {
                console.line(&format!("{service}: {line}"));
                crate::progress::detail("deploy", &format!("{service} {line}"));
                last_line = line;
            }
            match assess(deployment) {
                Standing::Succeeded => {
                    let (running, desired) = deployment
                        .target_service_revision()
                        .map_or((0, 0), |target| {
                            (target.running_task_count(), target.requested_task_count())
                        });
                    return Ok(Ending::Succeeded { running, desired });
                }
                Standing::Baking if !following.through_bake => {
                    return Ok(Ending::Baking {
                        until: bake_end(deployment),
                    });
                }
                Standing::RolledBack {
                    reason,
                    finished: true,
                } => return Ok(Ending::RolledBackByEcs { reason }),
                Standing::Ended(reason) => return Ok(Ending::Ended(reason)),
                Standing::Paused(pause) if !following.answered.contains(&pause.hook_id) => {
                    return Ok(Ending::Paused(pause));
                }
                // ECS's own rollback runs on; it is followed to its end, not doubled.
                Standing::RolledBack { .. }
                | Standing::Going
                | Standing::Baking
                | Standing::Paused(_) => {}
            }
        }
        if Instant::now() >= following.deadline {
            return Ok(Ending::TimedOut(format!(
                "{service}'s service deployment did not {} within {} minutes (last: {})",
                if following.through_bake {
                    "finish"
                } else {
                    "reach production traffic"
                },
                following.timeout.as_secs() / 60,
                if last_line.is_empty() {
                    "not shown yet"
                } else {
                    &last_line
                }
            )));
        }
        tokio::time::sleep(super::wait::poll_delay(started.elapsed())).await;
    }
}

/// When the bake ends at the latest: now plus the deployment's bake time (ECS counts from when
/// production traffic moved, a moment ago).
fn bake_end(deployment: &ServiceDeployment) -> Option<String> {
    let minutes = deployment
        .deployment_configuration()
        .and_then(|configuration| configuration.bake_time_in_minutes())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let end =
        aws_smithy_types::DateTime::from_secs(i64::try_from(now).ok()? + i64::from(minutes) * 60);
    end.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

/// Our timeout (or our health check failing) during a native deployment: StopServiceDeployment
/// with ROLLBACK, followed to ROLLBACK_SUCCESSFUL. `Ok(true)` when ECS finished the rollback.
pub async fn roll_back(
    ecs: &Ecs,
    service: &str,
    arn: &str,
    timeout: Duration,
    console: &Console,
) -> Result<bool> {
    console.line(&format!(
        "{service}: rolling back with StopServiceDeployment (ROLLBACK)"
    ));
    ecs.roll_back_service_deployment(arn).await?;
    rollback_finished(ecs, arn, timeout).await
}

/// Follow a rollback asked for (StopServiceDeployment or ContinueServiceDeployment with
/// ROLLBACK) to ROLLBACK_SUCCESSFUL: `Ok(true)` when ECS finished it within `timeout`.
pub async fn rollback_finished(ecs: &Ecs, arn: &str, timeout: Duration) -> Result<bool> {
    let started = Instant::now();
    loop {
        let found = ecs
            .describe_service_deployments(std::slice::from_ref(&arn.to_string()))
            .await?;
        match found.first().map(assess) {
            Some(Standing::RolledBack { finished: true, .. }) => return Ok(true),
            Some(Standing::Ended(_)) => return Ok(false),
            _ if started.elapsed() >= timeout => return Ok(false),
            _ => tokio::time::sleep(super::wait::poll_delay(started.elapsed())).await,
        }
    }
}

#[cfg(test)]
#[path = "native_tests.rs"]
mod tests;
