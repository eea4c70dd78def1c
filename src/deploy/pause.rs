//! Pause hooks as the release gate: a service deployment held by a `PAUSE` lifecycle hook
//! (developer guide, "Pause hooks for Amazon ECS service deployments") waits for
//! ContinueServiceDeployment. With test traffic on the new revision and production not yet, the
//! step checks `test-traffic-url`; once production traffic is wholly on it, `health-check-url`
//! — the seed's "validate staging before production", made part of the release. A passing
//! check continues the deployment (CONTINUE), a failing one rolls it back (ROLLBACK). With no
//! check for where it is held, the pause is a person's: the step says how to continue it
//! (`deploy-action continue`) and follows on until its timeout.

use super::health;
use super::native::Pause;
use crate::aws::Ecs;
use crate::console::Console;
use crate::error::{Problem, one_line};
use crate::plan::{HealthCheck, RolloutPlan};
use anyhow::Result;
use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHookAction as Action,
    DeploymentLifecycleHookStage as HookStage, DeploymentLifecycleHookTargetType as HookType,
    DeploymentStrategy, Service,
};
use std::time::Duration;

/// The checks a pause can run, from the plan.
#[derive(Debug, Clone, Default)]
pub struct PauseChecks {
    /// `test-traffic-url`: the new revision through the test listener rule.
    pub test_traffic: Option<HealthCheck>,
    /// `health-check-url`: production.
    pub production: Option<HealthCheck>,
}

impl PauseChecks {
    pub fn of(rollout: &RolloutPlan) -> Self {
        Self {
            test_traffic: rollout.test_traffic_check.clone(),
            production: rollout.health_check.clone(),
        }
    }

    /// The check that says something about the new revision where `pause` holds it: production
    /// once all of production traffic is on it, else test traffic (production still reaches the
    /// old revision, or both). `None`: nothing the step can check there.
    pub fn for_pause(&self, pause: &Pause) -> Option<(&'static str, &HealthCheck)> {
        if pause.production_tenths >= 1000 {
            self.production
                .as_ref()
                .map(|check| ("health check", check))
        } else {
            self.test_traffic
                .as_ref()
                .map(|check| ("test-traffic check", check))
        }
    }
}

/// The service deployment a pause holds.
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    pub cluster: &'a str,
    pub service: &'a str,
    /// The service deployment's ARN.
    pub arn: &'a str,
}

/// What the step did at a pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The check passed; ContinueServiceDeployment(CONTINUE) was sent.
    Continued,
    /// The check failed; ContinueServiceDeployment(ROLLBACK) was sent (or failed): the reason
    /// for the report, and whether ECS finished the rollback.
    RolledBack { reason: String, finished: bool },
    /// No check for this pause: a person continues it.
    LeftToAPerson,
}

/// Decide at `pause`: run the check that applies and continue or roll back accordingly (a
/// rollback followed for up to `rollback_timeout`).
pub async fn decide(
    ecs: &Ecs,
    held: Held<'_>,
    pause: &Pause,
    checks: &PauseChecks,
    rollback_timeout: Duration,
    console: &Console,
) -> Result<Decision> {
    let Held {
        cluster,
        service,
        arn,
    } = held;
    console.line(&format!(
        "{service}: {} at {}",
        pause.describe(),
        pause.stage
    ));
    let Some((what, check)) = checks.for_pause(pause) else {
        console.line(&format!(
            "{service}: nothing to check here ({}); continue it with `deploy-action continue --ecs-cluster {cluster} \
             --ecs-services {service}` (or --env NAME; --rollback rolls it back), or with `aws ecs \
             continue-service-deployment --service-deployment-arn {arn} --hook-id {}`",
            if pause.production_tenths >= 1000 {
                "no health-check-url"
            } else {
                "no test-traffic-url"
            },
            pause.hook_id
        ));
        return Ok(Decision::LeftToAPerson);
    };
    let verdict = {
        let _group = console.group(&format!("{what} at the pause: {}", check.url));
        health::wait_until_healthy(check).await
    };
    match verdict {
        Ok(()) => {
            console.line(&format!(
                "{service}: {} passed; continuing the deployment (ContinueServiceDeployment CONTINUE)",
                check.url
            ));
            ecs.continue_service_deployment(arn, &pause.hook_id, Action::Continue)
                .await?;
            Ok(Decision::Continued)
        }
        Err(failed) => {
            console.line(&format!(
                "{service}: the {what} failed: {failed}; rolling back (ContinueServiceDeployment ROLLBACK)"
            ));
            let reason = format!(
                "the {what} at the pause hook ({}) failed: {failed}",
                pause.stage
            );
            if let Err(error) = ecs
                .continue_service_deployment(arn, &pause.hook_id, Action::Rollback)
                .await
            {
                return Ok(Decision::RolledBack {
                    reason: format!("{reason}; the rollback failed: {}", one_line(&error)),
                    finished: false,
                });
            }
            let finished = super::native::rollback_finished(ecs, arn, rollback_timeout)
                .await
                .unwrap_or(false);
            Ok(Decision::RolledBack { reason, finished })
        }
    }
}

/// Stages with test traffic on the new revision and production not yet wholly on it, where a
/// pause hook lets `test-traffic-url` be checked.
const TEST_TRAFFIC_PAUSES: [HookStage; 2] = [
    HookStage::PostTestTrafficShift,
    HookStage::PreProductionTrafficShift,
];

/// `test-traffic-url` can only be checked where ECS pauses with test traffic on the new
/// revision: refused before building when the service's deployments never do.
pub fn check_test_traffic(
    service: &Service,
    configuration: Option<&DeploymentConfiguration>,
    rollout: &RolloutPlan,
) -> Result<()> {
    if rollout.test_traffic_check.is_none() {
        return Ok(());
    }
    let name = service.service_name().unwrap_or_default();
    let refuse = |why: String, hint: &str| -> Result<()> {
        Err(Problem::new(format!(
            "test-traffic-url is set, but {why}; nothing was built or pushed"
        ))
        .hint(hint)
        .into())
    };
    let strategy = configuration
        .and_then(DeploymentConfiguration::strategy)
        .unwrap_or(&DeploymentStrategy::Rolling);
    if matches!(strategy, DeploymentStrategy::Rolling) {
        return refuse(
            format!("service {name} deploys ROLLING, which has no test traffic"),
            "deploy it with deployment-strategy: blue-green, canary or linear (with a pause hook), or drop test-traffic-url",
        );
    }
    let pauses = configuration
        .map(DeploymentConfiguration::lifecycle_hooks)
        .unwrap_or_default()
        .iter()
        .filter(|hook| hook.target_type() == Some(&HookType::Pause))
        .any(|hook| {
            hook.lifecycle_stages()
                .iter()
                .any(|stage| TEST_TRAFFIC_PAUSES.contains(stage))
        });
    if !pauses {
        return refuse(
            format!(
                "service {name} has no PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT or \
                 PRE_PRODUCTION_TRAFFIC_SHIFT: ECS never waits with test traffic on the new revision"
            ),
            "add {\"targetType\": \"PAUSE\", \"lifecycleStages\": [\"POST_TEST_TRAFFIC_SHIFT\"]} to the service's \
             deploymentConfiguration.lifecycleHooks in the infrastructure code, or drop test-traffic-url",
        );
    }
    let balancers = service.load_balancers();
    let test_route = balancers.iter().any(|balancer| {
        balancer
            .advanced_configuration()
            .and_then(|advanced| advanced.test_listener_rule())
            .is_some()
    });
    if !balancers.is_empty() && !test_route {
        return refuse(
            format!(
                "service {name}'s load balancers have no advancedConfiguration testListenerRule: \
                 test traffic has no way to the new revision"
            ),
            "give the load balancer's advancedConfiguration a testListenerRule (the listener rule test-traffic-url reaches)",
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "pause_tests.rs"]
mod tests;
