//! The pause gate: which check runs where ECS holds the deployment, what the step sends back
//! (ContinueServiceDeployment CONTINUE or ROLLBACK), and what the preflight refuses.

use super::*;
use crate::console::Mode;
use crate::deploy::native::{self, Ending, Following, Standing};
use aws_sdk_ecs::operation::continue_service_deployment::ContinueServiceDeploymentOutput;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookDetail,
    DeploymentLifecycleHookStatus as HookStatus, LoadBalancer, ServiceDeployment,
    ServiceDeploymentLifecycleStage as Stage, ServiceDeploymentStatus as Status,
    ServiceRevisionSummary,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ARN: &str = "arn:aws:ecs:us-east-2:123456789012:service-deployment/back-end/api/Nk2H";
const HELD: Held = Held {
    cluster: "back-end",
    service: "api",
    arn: ARN,
};
const HOOK: &str = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw";

/// A deployment held at `stage` with `share` percent of production traffic on the new
/// revision; `hook` is the pause hook's status, as DescribeServiceDeployments shows it.
fn held(stage: Stage, share: f64, hook: Option<HookStatus>) -> ServiceDeployment {
    let mut deployment = ServiceDeployment::builder()
        .service_deployment_arn(ARN)
        .status(Status::InProgress)
        .lifecycle_stage(stage)
        .target_service_revision(
            ServiceRevisionSummary::builder()
                .requested_task_count(2)
                .running_task_count(2)
                .requested_production_traffic_weight(share)
                .build(),
        );
    if let Some(status) = hook {
        deployment = deployment.lifecycle_hook_details(
            DeploymentLifecycleHookDetail::builder()
                .hook_id(HOOK)
                .target_type(HookType::Pause)
                .status(status)
                .expires_at(aws_smithy_types::DateTime::from_secs(1_796_644_800))
                .build(),
        );
    }
    deployment.build()
}

fn answer(deployment: ServiceDeployment) -> DescribeServiceDeploymentsOutput {
    DescribeServiceDeploymentsOutput::builder()
        .service_deployments(deployment)
        .build()
}

fn check(url: &str) -> HealthCheck {
    HealthCheck {
        url: url.to_string(),
        expect: Some("9b8a7c6".into()),
        timeout: Duration::from_secs(3),
    }
}

fn pause(production_tenths: u16) -> Pause {
    Pause {
        hook_id: HOOK.into(),
        stage: "POST_TEST_TRAFFIC_SHIFT".into(),
        production_tenths,
        expires_at: None,
        timeout_action: "ROLLBACK".into(),
    }
}

#[test]
fn an_awaiting_pause_hook_holds_the_deployment_and_is_shown() {
    let deployment = held(
        Stage::PostTestTrafficShift,
        0.0,
        Some(HookStatus::AwaitingAction),
    );
    let Standing::Paused(pause) = native::assess(&deployment) else {
        panic!("{:?}", native::assess(&deployment));
    };
    assert_eq!(pause.hook_id, HOOK);
    assert_eq!(pause.stage, "POST_TEST_TRAFFIC_SHIFT");
    assert_eq!(pause.production_tenths, 0);
    // timeoutAction's default is ROLLBACK (API reference, DeploymentLifecycleHookTimeoutConfiguration).
    assert_eq!(pause.timeout_action, "ROLLBACK");
    assert_eq!(
        native::stage_line(&deployment),
        "POST_TEST_TRAFFIC_SHIFT, paused by a pause hook until 2026-12-07T12:00:00Z (then ECS will ROLLBACK) (new revision 2/2 running)"
    );
    // Continued, the hook no longer holds it.
    let continued = held(
        Stage::PostTestTrafficShift,
        0.0,
        Some(HookStatus::Succeeded),
    );
    assert_eq!(native::assess(&continued), Standing::Going);
}

#[test]
fn the_test_traffic_url_is_checked_before_production_traffic_and_the_health_check_after() {
    let both = PauseChecks {
        test_traffic: Some(check("http://127.0.0.1:1/test")),
        production: Some(check("http://127.0.0.1:1/prod")),
    };
    assert_eq!(
        both.for_pause(&pause(0))
            .map(|(what, c)| (what, c.url.as_str())),
        Some(("test-traffic check", "http://127.0.0.1:1/test"))
    );
    // Between a canary's steps production reaches both revisions: test traffic still says
    // what the new one does.
    assert_eq!(
        both.for_pause(&pause(100)).map(|(what, _)| what),
        Some("test-traffic check")
    );
    assert_eq!(
        both.for_pause(&pause(1000)).map(|(what, _)| what),
        Some("health check")
    );
    let production_only = PauseChecks {
        test_traffic: None,
        ..both
    };
    assert!(production_only.for_pause(&pause(0)).is_none());
}

/// A paused deployment the step cannot check is followed on, not returned again; it ends as
/// the deployment does.
#[tokio::test(start_paused = true)]
async fn a_pause_answered_is_followed_until_it_moves_on() {
    let walk = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .output(|| {
            answer(held(
                Stage::PostTestTrafficShift,
                0.0,
                Some(HookStatus::AwaitingAction),
            ))
        })
        .output(|| {
            answer(held(
                Stage::PostTestTrafficShift,
                0.0,
                Some(HookStatus::AwaitingAction),
            ))
        })
        .output(|| answer(held(Stage::BakeTime, 100.0, Some(HookStatus::Succeeded))))
        .build();
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&walk]));
    let person = [HOOK.to_string()];
    let following = Following {
        service: "api",
        arn: ARN,
        timeout: Duration::from_secs(120),
        deadline: tokio::time::Instant::now() + Duration::from_secs(120),
        through_bake: false,
        answered: &person,
    };
    let console = Console::new(Mode::Plain);
    let ending = native::follow(&ecs, &following, &console).await.unwrap();
    assert!(matches!(ending, Ending::Baking { .. }), "{ending:?}");
    assert_eq!(walk.num_calls(), 3);
}

async fn answering(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_passing_check_continues_and_a_failing_one_rolls_back() {
    let console = Console::new(Mode::Plain);
    let healthy = answering(200, "release 9b8a7c6").await;
    let checks = PauseChecks {
        test_traffic: Some(check(&healthy.uri())),
        production: None,
    };
    let go_on = mock!(aws_sdk_ecs::Client::continue_service_deployment)
        .match_requests(|request| {
            request.service_deployment_arn() == Some(ARN)
                && request.hook_id() == Some(HOOK)
                && request.action() == Some(&Action::Continue)
        })
        .then_output(|| ContinueServiceDeploymentOutput::builder().build());
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&go_on]));
    let decided = decide(
        &ecs,
        HELD,
        &pause(0),
        &checks,
        Duration::from_secs(60),
        &console,
    )
    .await;
    assert_eq!(decided.unwrap(), Decision::Continued);
    assert_eq!(go_on.num_calls(), 1);

    // The new revision answers without the deployed commit: ROLLBACK, followed to its end.
    let stale = answering(200, "release 1111111").await;
    let checks = PauseChecks {
        test_traffic: Some(check(&stale.uri())),
        production: None,
    };
    let back = mock!(aws_sdk_ecs::Client::continue_service_deployment)
        .match_requests(|request| request.action() == Some(&Action::Rollback))
        .then_output(|| ContinueServiceDeploymentOutput::builder().build());
    let done = mock!(aws_sdk_ecs::Client::describe_service_deployments).then_output(|| {
        let mut deployment = held(Stage::PostTestTrafficShift, 0.0, None);
        deployment.status = Some(Status::RollbackSuccessful);
        answer(deployment)
    });
    let ecs = Ecs::from(mock_client!(
        aws_sdk_ecs,
        RuleMode::Sequential,
        [&back, &done]
    ));
    let decided = decide(
        &ecs,
        HELD,
        &pause(0),
        &checks,
        Duration::from_secs(60),
        &console,
    )
    .await
    .unwrap();
    let Decision::RolledBack { reason, finished } = decided else {
        panic!("{decided:?}");
    };
    assert!(finished);
    assert!(
        reason.starts_with(
            "the test-traffic check at the pause hook (POST_TEST_TRAFFIC_SHIFT) failed: "
        ) && reason.contains("without `9b8a7c6` in its body"),
        "{reason}"
    );
    assert_eq!(back.num_calls(), 1);

    // Nothing to check: no call at all.
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, []));
    let (none, held_here) = (PauseChecks::default(), pause(0));
    let decided = decide(
        &ecs,
        HELD,
        &held_here,
        &none,
        Duration::from_secs(60),
        &console,
    )
    .await;
    assert_eq!(decided.unwrap(), Decision::LeftToAPerson);
}

fn service(hooks: &[HookStage], test_rule: bool) -> (Service, DeploymentConfiguration) {
    let mut configuration =
        DeploymentConfiguration::builder().strategy(DeploymentStrategy::BlueGreen);
    for stage in hooks {
        configuration = configuration.lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .target_type(HookType::Pause)
                .lifecycle_stages(stage.clone())
                .build(),
        );
    }
    let advanced = AdvancedConfiguration::builder()
        .alternate_target_group_arn("arn:aws:elasticloadbalancing:us-east-2:1:targetgroup/green/2")
        .production_listener_rule(
            "arn:aws:elasticloadbalancing:us-east-2:1:listener-rule/app/a/1/2/3",
        );
    let advanced = if test_rule {
        advanced.test_listener_rule(
            "arn:aws:elasticloadbalancing:us-east-2:1:listener-rule/app/a/1/4/5",
        )
    } else {
        advanced
    };
    let service = Service::builder()
        .service_name("api")
        .load_balancers(
            LoadBalancer::builder()
                .target_group_arn("arn:aws:elasticloadbalancing:us-east-2:1:targetgroup/blue/1")
                .advanced_configuration(advanced.build())
                .build(),
        )
        .build();
    (service, configuration.build())
}

#[test]
fn a_test_traffic_url_is_refused_where_ecs_never_pauses_with_test_traffic() {
    let args = crate::inputs::InputArgs {
        aws_region: Some("us-east-2".into()),
        ecr_repository: Some("back-end".into()),
        ecs_cluster: Some("c".into()),
        ecs_services: Some("api".into()),
        ..Default::default()
    };
    let run = crate::inputs::RunContext {
        git_ref: Some("refs/heads/main".into()),
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..Default::default()
    };
    let inputs = crate::inputs::Inputs {
        args,
        run,
        github_token: None,
        sentry_token: None,
    };
    let mut plan = crate::plan::resolve(&inputs, crate::plan::Intent::AsGiven)
        .unwrap()
        .rollout
        .unwrap();
    let (ready, configuration) = service(&[HookStage::PostTestTrafficShift], true);
    // Without test-traffic-url nothing is asked of the service.
    assert!(check_test_traffic(&ready, None, &plan).is_ok());
    plan.test_traffic_check = Some(check("https://api.example.org:8443/health"));
    assert!(check_test_traffic(&ready, Some(&configuration), &plan).is_ok());
    let refused = |service: &Service, configuration: Option<&DeploymentConfiguration>| {
        check_test_traffic(service, configuration, &plan)
            .unwrap_err()
            .to_string()
    };
    assert!(
        refused(&ready, None).contains("service api deploys ROLLING, which has no test traffic")
    );
    let (late, configuration) = service(&[HookStage::PostProductionTrafficShift], true);
    assert!(refused(&late, Some(&configuration)).contains(
        "no PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT or PRE_PRODUCTION_TRAFFIC_SHIFT"
    ));
    let (no_route, configuration) = service(&[HookStage::PreProductionTrafficShift], false);
    assert!(
        refused(&no_route, Some(&configuration))
            .contains("no advancedConfiguration testListenerRule")
    );
}
