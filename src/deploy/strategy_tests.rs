use super::*;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentCircuitBreaker, DeploymentLifecycleHook, LoadBalancer,
};

/// A rolling service as a team's infrastructure code leaves it: circuit breaker, an alarm of
/// its own, a lifecycle hook.
fn current() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::Rolling)
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .alarms(
            DeploymentAlarms::builder()
                .alarm_names("db-connections")
                .enable(true)
                .rollback(false)
                .build()
                .unwrap(),
        )
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .hook_target_arn("arn:aws:lambda:us-east-2:123456789012:function:smoke")
                .build(),
        )
        .build()
}

fn canary() -> StrategyChange {
    StrategyChange {
        strategy: Some(Strategy::Canary),
        bake_minutes: Some(30),
        canary: Step {
            percent_tenths: Some(100),
            bake_minutes: None,
        },
        linear: Step::default(),
        alarms: vec!["api-5xx".into()],
    }
}

#[test]
fn the_services_other_settings_are_kept() {
    let merged = merged(Some(&current()), &canary());
    assert_eq!(merged.strategy(), Some(&DeploymentStrategy::Canary));
    assert_eq!(merged.bake_time_in_minutes(), Some(30));
    assert_eq!(merged.maximum_percent(), Some(200));
    assert_eq!(merged.minimum_healthy_percent(), Some(100));
    assert_eq!(
        merged.deployment_circuit_breaker(),
        current().deployment_circuit_breaker()
    );
    assert_eq!(merged.lifecycle_hooks(), current().lifecycle_hooks());
    let alarms = merged.alarms().unwrap();
    assert_eq!(alarms.alarm_names(), ["db-connections", "api-5xx"]);
    assert!(alarms.enable() && alarms.rollback());
    let canary = merged.canary_configuration().unwrap();
    assert_eq!(canary.canary_percent(), Some(10.0));
    // Not asked: left to ECS's default.
    assert_eq!(canary.canary_bake_time_in_minutes(), None);
}

#[test]
fn a_canary_setting_changes_only_itself() {
    let mut configuration = current();
    configuration.canary_configuration = Some(
        CanaryConfiguration::builder()
            .canary_percent(5.0)
            .canary_bake_time_in_minutes(20)
            .build(),
    );
    let change = StrategyChange {
        strategy: Some(Strategy::Canary),
        canary: Step {
            percent_tenths: Some(25),
            bake_minutes: None,
        },
        ..Default::default()
    };
    let canary = merged(Some(&configuration), &change)
        .canary_configuration
        .unwrap();
    assert_eq!(canary.canary_percent(), Some(2.5));
    assert_eq!(canary.canary_bake_time_in_minutes(), Some(20));
}

fn service(balancers: Vec<LoadBalancer>) -> Service {
    Service::builder()
        .service_name("api")
        .set_load_balancers(Some(balancers))
        .build()
}

fn balancer(advanced: Option<AdvancedConfiguration>) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn("arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/blue/1")
        .container_name("api")
        .container_port(8000)
        .set_advanced_configuration(advanced)
        .build()
}

fn advanced() -> AdvancedConfiguration {
    AdvancedConfiguration::builder()
        .alternate_target_group_arn(
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/green/2",
        )
        .production_listener_rule(
            "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener-rule/app/lb/1/2/3",
        )
        .role_arn("arn:aws:iam::123456789012:role/ecs-infrastructure")
        .build()
}

#[test]
fn blue_green_needs_the_load_balancers_advanced_configuration() {
    let configuration = merged(Some(&current()), &canary());
    let error = check(&service(vec![balancer(None)]), &configuration).unwrap_err();
    let text = format!("{error:#}");
    assert!(
        text.contains("service api cannot deploy CANARY")
            && text.contains("targetgroup/blue/1")
            && text.contains("alternateTargetGroupArn, productionListenerRule, roleArn")
            && text.contains("nothing was built"),
        "{text}"
    );
    let mut partial = advanced();
    partial.role_arn = None;
    let text = format!(
        "{:#}",
        check(&service(vec![balancer(Some(partial))]), &configuration).unwrap_err()
    );
    assert!(text.contains("advancedConfiguration roleArn"), "{text}");
    check(&service(vec![balancer(Some(advanced()))]), &configuration).unwrap();
    // Rolling needs none of it.
    check(&service(vec![balancer(None)]), &current()).unwrap();
}

#[test]
fn linear_and_canary_need_traffic_to_shift() {
    let configuration = merged(Some(&current()), &canary());
    let text = format!("{:#}", check(&service(vec![]), &configuration).unwrap_err());
    assert!(
        text.contains("no load balancer and no Service Connect"),
        "{text}"
    );
    let blue_green = StrategyChange {
        strategy: Some(Strategy::BlueGreen),
        ..Default::default()
    };
    check(&service(vec![]), &merged(None, &blue_green)).unwrap();
}

#[test]
fn the_least_wait_is_the_traffic_steps_and_the_bake_when_waited_out() {
    let minutes = |configuration: &DeploymentConfiguration, through_bake| {
        least_awaited(configuration, through_bake).as_secs() / 60
    };
    let canary = merged(Some(&current()), &canary());
    assert_eq!(minutes(&canary, false), 10, "ECS's default canary bake");
    assert_eq!(minutes(&canary, true), 40);
    let linear = |percent: u16, bake: u32| {
        merged(
            None,
            &StrategyChange {
                strategy: Some(Strategy::Linear),
                linear: Step {
                    percent_tenths: Some(percent * 10),
                    bake_minutes: Some(bake),
                },
                ..Default::default()
            },
        )
    };
    // 25 % steps: 25, 50, 75 bake; 100 does not.
    assert_eq!(minutes(&linear(25, 5), false), 15);
    // 11 %: nine shifts below 100 % (CloudFormation's example), then 100.
    assert_eq!(minutes(&linear(11, 1), false), 9);
    assert_eq!(minutes(&current(), true), 0);
}

#[test]
fn the_strategy_in_words() {
    assert_eq!(
        describe(&merged(Some(&current()), &canary())),
        "CANARY: 10% of production traffic first, the rest after 10 min; bake 30 min; \
         alarms db-connections, api-5xx roll it back"
    );
    assert_eq!(
        describe(&current()),
        "ROLLING: alarms db-connections are watched (no rollback)"
    );
}
