//! After every service rolled: the health check (a failure turns completed rollouts into
//! failed ones, with evidence and rollback), and deregistering the revisions that were replaced.

use super::service::{FailedRollout, RolloutSettings, after_failure};
use super::wait::EventLog;
use super::{NewRevision, Outcome, Rollout, health, native};
use crate::console::Console;
use crate::plan::HealthCheck;
use anyhow::Result;
use std::collections::BTreeMap;
use std::time::Duration;

/// The health check after every service completed; when it fails, each service we moved is
/// treated as a failed rollout (evidence, rollback as configured).
pub async fn check_health(
    ecs: &crate::aws::Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    check: &HealthCheck,
    rollouts: &mut [Rollout],
    revisions: &BTreeMap<String, Option<NewRevision>>,
    console: &Console,
) -> Result<()> {
    if rollouts.iter().any(|r| r.outcome.failure().is_some()) {
        return Ok(());
    }
    let reason = {
        let _group = console.group(&format!("health check: {}", check.url));
        match health::wait_until_healthy(check).await {
            Ok(()) => {
                console.line(&format!("{} is healthy", check.url));
                return Ok(());
            }
            Err(reason) => reason,
        }
    };
    console.line(&format!("health check failed: {reason}"));
    for rollout in rollouts.iter_mut() {
        let Some(ours) = revisions
            .values()
            .flatten()
            .find(|revision| revision.arn == rollout.task_definition)
        else {
            continue;
        };
        // Still in ECS's hands (its bake): ECS rolls it back by its own strategy.
        if let Outcome::Baking {
            service_deployment, ..
        } = &rollout.outcome
        {
            let timeout = settings.wait_timeout.unwrap_or(Duration::from_secs(600));
            let rolled =
                native::roll_back(ecs, &rollout.service, service_deployment, timeout, console)
                    .await;
            let (reason, left_on) = match rolled {
                Ok(true) => (
                    format!(
                        "the health check failed: {reason}; rolled back with StopServiceDeployment (ROLLBACK) to revision {}",
                        super::revision_of(&rollout.previous_task_definition)
                    ),
                    rollout.previous_task_definition.clone(),
                ),
                Ok(false) => (
                    format!(
                        "the health check failed: {reason}; ECS's rollback did not finish in time"
                    ),
                    ours.arn.clone(),
                ),
                Err(error) => (
                    format!(
                        "the health check failed: {reason}; the rollback failed: {}",
                        crate::error::one_line(&error)
                    ),
                    ours.arn.clone(),
                ),
            };
            rollout.outcome = Outcome::Failed(super::Failure {
                rolled_back: left_on == rollout.previous_task_definition,
                reason,
                evidence: None,
                log_lines: None,
                left_on,
            });
            continue;
        }
        let mut events = EventLog::default();
        let failed = FailedRollout {
            service: &rollout.service,
            previous: &rollout.previous_task_definition,
            ours,
            reason: format!("the health check failed: {reason}"),
        };
        let failure = after_failure(ecs, logs, settings, failed, &mut events, console).await;
        rollout.events.extend(events.printed);
        rollout.outcome = Outcome::Failed(failure);
    }
    Ok(())
}

/// After success, deregister each replaced revision that no service still uses: none of this
/// run, and none other in the cluster (a revision shared with a service this run did not roll
/// stays). When the cluster cannot be read, nothing is deregistered.
pub async fn deregister_replaced(
    ecs: &crate::aws::Ecs,
    cluster: &str,
    rollouts: &[Rollout],
    console: &Console,
) {
    let mut replaced: Vec<&str> = rollouts
        .iter()
        .filter(|r| {
            matches!(r.outcome, Outcome::Completed { .. })
                && r.previous_task_definition != r.task_definition
        })
        .map(|r| r.previous_task_definition.as_str())
        .collect();
    replaced.sort_unstable();
    replaced.dedup();
    for arn in replaced {
        let still_used = rollouts.iter().any(|r| {
            r.task_definition == arn || r.outcome.failure().is_some_and(|f| f.left_on == arn)
        });
        if still_used {
            continue;
        }
        let ours: Vec<&str> = rollouts.iter().map(|r| r.service.as_str()).collect();
        match services_running(ecs, cluster, arn, &ours).await {
            Ok(others) if others.is_empty() => {}
            Ok(others) => {
                console.line(&format!(
                    "kept {arn}: service {} still uses it",
                    others.join(", ")
                ));
                continue;
            }
            Err(error) => {
                console.warning(
                    "deregister-previous",
                    &format!(
                        "kept {arn}: could not check which services of {cluster} use it ({})",
                        crate::error::one_line(&error)
                    ),
                );
                continue;
            }
        }
        match ecs.deregister(arn).await {
            Ok(()) => console.line(&format!("deregistered {arn}")),
            Err(error) => console.warning(
                "deregister-previous",
                &format!(
                    "could not deregister {arn}: {}",
                    crate::error::one_line(&error)
                ),
            ),
        }
    }
}

/// The services of `cluster`, besides `ours`, whose task definition or any deployment is `arn`.
async fn services_running(
    ecs: &crate::aws::Ecs,
    cluster: &str,
    arn: &str,
    ours: &[&str],
) -> Result<Vec<String>> {
    let listed = ecs.list_services(cluster).await?;
    let (described, _) = ecs.describe_services(cluster, &listed).await?;
    let users = described
        .iter()
        .filter(|service| {
            service.task_definition() == Some(arn)
                || service
                    .deployments()
                    .iter()
                    .any(|d| d.task_definition() == Some(arn))
        })
        .filter_map(|service| service.service_name())
        .filter(|name| !ours.contains(name))
        .map(str::to_string)
        .collect();
    Ok(users)
}
