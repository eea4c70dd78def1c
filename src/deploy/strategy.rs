//! Setting a service's deployment strategy with its update: the run's `deployment-strategy`
//! settings merged into the deployment configuration the service already has, checked in the
//! preflight against what ECS needs for it, before anything is built.
//!
//! UpdateService (API reference) takes `deploymentConfiguration` as one structure, and the
//! reference does not promise which fields it keeps when a request leaves them out: the whole
//! configuration is sent — the service's circuit breaker, percentages, alarms and lifecycle
//! hooks as they were, with only what the run asked for changed.

use crate::error::Problem;
use crate::plan::strategy::{Step, Strategy, StrategyChange, percent_text};
use anyhow::Result;
use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentAlarms, DeploymentConfiguration, DeploymentStrategy,
    LinearConfiguration, Service,
};
use std::time::Duration;

/// API reference defaults, for a configuration that leaves them out: CanaryConfiguration
/// (canaryPercent 5.0, canaryBakeTimeInMinutes 10), LinearConfiguration (stepPercent 10.0,
/// stepBakeTimeInMinutes 6).
const CANARY_DEFAULT: (f64, i32) = (5.0, 10);
const LINEAR_DEFAULT: (f64, i32) = (10.0, 6);

/// The service's deployment configuration with the run's changes in it.
pub fn merged(
    current: Option<&DeploymentConfiguration>,
    change: &StrategyChange,
) -> DeploymentConfiguration {
    let mut configuration = current
        .cloned()
        .unwrap_or_else(|| DeploymentConfiguration::builder().build());
    if let Some(strategy) = change.strategy {
        configuration.strategy = Some(strategy.into());
    }
    if let Some(minutes) = change.bake_minutes {
        configuration.bake_time_in_minutes = Some(minutes_i32(minutes));
    }
    if change.canary != Step::default() {
        let kept = configuration.canary_configuration.take();
        let (percent, bake) = step_values(
            change.canary,
            kept.map_or((None, None), |k| {
                (k.canary_percent, k.canary_bake_time_in_minutes)
            }),
        );
        configuration.canary_configuration = Some(
            CanaryConfiguration::builder()
                .set_canary_percent(percent)
                .set_canary_bake_time_in_minutes(bake)
                .build(),
        );
    }
    if change.linear != Step::default() {
        let kept = configuration.linear_configuration.take();
        let (percent, bake) = step_values(
            change.linear,
            kept.map_or((None, None), |k| {
                (k.step_percent, k.step_bake_time_in_minutes)
            }),
        );
        configuration.linear_configuration = Some(
            LinearConfiguration::builder()
                .set_step_percent(percent)
                .set_step_bake_time_in_minutes(bake)
                .build(),
        );
    }
    if !change.alarms.is_empty() {
        let mut names: Vec<String> = configuration
            .alarms
            .as_ref()
            .map(|alarms| alarms.alarm_names().to_vec())
            .unwrap_or_default();
        for name in &change.alarms {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        // Alarms are asked for to roll back: monitoring them without rolling back would only
        // add a line to the console.
        configuration.alarms = DeploymentAlarms::builder()
            .set_alarm_names(Some(names))
            .enable(true)
            .rollback(true)
            .build()
            .ok();
    }
    configuration
}

fn minutes_i32(minutes: u32) -> i32 {
    i32::try_from(minutes).unwrap_or(i32::MAX)
}

/// A traffic step's share and bake: each the run's when it asks, else the service's.
fn step_values(step: Step, kept: (Option<f64>, Option<i32>)) -> (Option<f64>, Option<i32>) {
    (
        step.percent_tenths
            .map(|tenths| f64::from(tenths) / 10.0)
            .or(kept.0),
        step.bake_minutes.map(minutes_i32).or(kept.1),
    )
}

/// What ECS needs for the strategy the service will run, checked before anything is built:
/// every load balancer of a blue/green, linear or canary service has an `advancedConfiguration`
/// (ECS answers "advancedConfiguration field is required for all loadBalancers when using the
/// linear deployment strategy", terraform-aws-modules/terraform-aws-ecs#377), and linear and
/// canary shift traffic through a load balancer or Service Connect (developer guide, "Required
/// resources for Amazon ECS linear deployments" / "… canary deployments").
pub fn check(service: &Service, configuration: &DeploymentConfiguration) -> Result<()> {
    let name = service.service_name().unwrap_or_default();
    let Some(strategy) = configuration
        .strategy()
        .filter(|s| !matches!(s, DeploymentStrategy::Rolling))
    else {
        return Ok(());
    };
    let strategy = strategy.as_str();
    for balancer in service.load_balancers() {
        let advanced = balancer.advanced_configuration();
        let missing: Vec<&str> = [
            (
                "alternateTargetGroupArn",
                advanced
                    .and_then(|a| a.alternate_target_group_arn())
                    .is_some(),
            ),
            (
                "productionListenerRule",
                advanced
                    .and_then(|a| a.production_listener_rule())
                    .is_some(),
            ),
            ("roleArn", advanced.and_then(|a| a.role_arn()).is_some()),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(field, _)| field)
        .collect();
        if !missing.is_empty() {
            let balancer_name = balancer
                .target_group_arn()
                .or(balancer.load_balancer_name())
                .unwrap_or("its load balancer");
            return Err(Problem::new(format!(
                "service {name} cannot deploy {strategy}: its load balancer ({balancer_name}) has \
                 no advancedConfiguration {} — ECS shifts {strategy} traffic between two target \
                 groups and refuses the update without it; nothing was built or pushed",
                missing.join(", ")
            ))
            .hint(
                "give the service's loadBalancers an advancedConfiguration (the alternate target \
                 group, the production listener rule and the role ECS uses on the load balancer) \
                 in the infrastructure code, or deploy with deployment-strategy: rolling",
            )
            .into());
        }
    }
    let service_connect = service.deployments().iter().any(|d| {
        d.service_connect_configuration()
            .is_some_and(|c| c.enabled())
    });
    if matches!(
        configuration.strategy(),
        Some(DeploymentStrategy::Linear | DeploymentStrategy::Canary)
    ) && service.load_balancers().is_empty()
        && !service_connect
    {
        return Err(Problem::new(format!(
            "service {name} cannot deploy {strategy}: it has no load balancer and no Service \
             Connect, and ECS shifts {strategy} traffic through one of them; nothing was built \
             or pushed"
        ))
        .hint(
            "put the service behind a load balancer with an advancedConfiguration (or Service \
             Connect), or deploy with deployment-strategy: rolling or blue-green",
        )
        .into());
    }
    Ok(())
}

/// The least time ECS takes under `configuration` before production traffic is wholly on the
/// new revision — canary: the canary's bake; linear: each step's bake but the last (the API
/// reference: "This bake time is not applied after reaching 100 percent traffic") — and then
/// the bake, when it is waited out too.
pub fn least_awaited(configuration: &DeploymentConfiguration, through_bake: bool) -> Duration {
    let minutes = match (configuration.strategy(), traffic_step(configuration)) {
        (Some(DeploymentStrategy::Canary), Some((_, bake))) => bake,
        (Some(DeploymentStrategy::Linear), Some((step, bake))) => linear_steps(step) * bake,
        _ => 0,
    };
    let bake = match configuration.strategy() {
        Some(DeploymentStrategy::Rolling) | None => 0,
        _ if through_bake => configuration.bake_time_in_minutes().unwrap_or(0),
        _ => 0,
    };
    Duration::from_secs(u64::try_from(minutes.max(0) + bake.max(0)).unwrap_or(0) * 60)
}

/// A canary's or linear deployment's traffic step: its share (percent) and bake (minutes), with
/// ECS's defaults for what the configuration leaves out; `None` for the other strategies.
fn traffic_step(configuration: &DeploymentConfiguration) -> Option<(f64, i32)> {
    match configuration.strategy()? {
        DeploymentStrategy::Canary => {
            let canary = configuration.canary_configuration();
            Some((
                canary
                    .and_then(|c| c.canary_percent())
                    .unwrap_or(CANARY_DEFAULT.0),
                canary
                    .and_then(|c| c.canary_bake_time_in_minutes())
                    .unwrap_or(CANARY_DEFAULT.1),
            ))
        }
        DeploymentStrategy::Linear => {
            let linear = configuration.linear_configuration();
            Some((
                linear
                    .and_then(|l| l.step_percent())
                    .unwrap_or(LINEAR_DEFAULT.0),
                linear
                    .and_then(|l| l.step_bake_time_in_minutes())
                    .unwrap_or(LINEAR_DEFAULT.1),
            ))
        }
        _ => None,
    }
}

/// The traffic shifts of a linear deployment that are followed by a step bake: 100 / step,
/// less the one that reaches 100 % (AWS::ECS::Service LinearConfiguration, CloudFormation).
fn linear_steps(step_percent: f64) -> i32 {
    let tenths = (step_percent * 10.0).round() as i32;
    if tenths <= 0 {
        return 0;
    }
    if 1000 % tenths == 0 {
        1000 / tenths - 1
    } else {
        1000 / tenths
    }
}

/// A percentage as tenths (the API takes multiples of 0.1 up to 100).
#[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
pub(crate) fn tenths(percent: f64) -> u16 {
    // Clamped first: the cast cannot lose a sign or overflow.
    (percent.clamp(0.0, 100.0) * 10.0).round() as u16
}

/// The strategy in words: `CANARY: 5% of production traffic first, the rest after 10 min;
/// bake 30 min; alarms api-5xx roll it back`.
pub fn describe(configuration: &DeploymentConfiguration) -> String {
    let strategy = configuration
        .strategy()
        .map(|s| s.as_str())
        .unwrap_or("ROLLING");
    let mut parts = Vec::new();
    match (configuration.strategy(), traffic_step(configuration)) {
        (Some(DeploymentStrategy::Canary), Some((percent, bake))) => parts.push(format!(
            "{} of production traffic first, the rest after {bake} min",
            percent_text(tenths(percent))
        )),
        (Some(DeploymentStrategy::Linear), Some((step, bake))) => parts.push(format!(
            "{} of production traffic a step, {bake} min between steps",
            percent_text(tenths(step))
        )),
        _ => {}
    }
    if !matches!(
        configuration.strategy(),
        Some(DeploymentStrategy::Rolling) | None
    ) {
        parts.push(format!(
            "bake {} min",
            configuration.bake_time_in_minutes().unwrap_or(0)
        ));
    }
    if let Some(alarms) = configuration.alarms().filter(|a| a.enable()) {
        parts.push(format!(
            "alarms {} {}",
            alarms.alarm_names().join(", "),
            if alarms.rollback() {
                "roll it back"
            } else {
                "are watched (no rollback)"
            }
        ));
    }
    if parts.is_empty() {
        strategy.to_string()
    } else {
        format!("{strategy}: {}", parts.join("; "))
    }
}

impl From<Strategy> for DeploymentStrategy {
    fn from(strategy: Strategy) -> Self {
        DeploymentStrategy::from(strategy.as_ecs())
    }
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
