//! ECS's own deployment strategies (blue/green, linear, canary) against the strict stand-in
//! (`scripts/ecs_service_deployments.py`: service deployments as the API reference describes
//! them, which moto lacks), under the IAM policy `iam-policy` prints.

use crate::support::*;
use aws_sdk_ecs::types::{
    AdvancedConfiguration, DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentLifecycleHook, DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType,
    DeploymentStrategy, LoadBalancer,
};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

/// The service's deployment strategy, set as a team's infrastructure code would
/// (UpdateService's `deploymentConfiguration`, through the strict stand-in, which keeps it),
/// behind a load balancer ready for traffic shifting.
async fn with_strategy(
    standins: &StandIns,
    world: &EcsWorld,
    configuration: DeploymentConfiguration,
) {
    behind(standins, world, balancer(true)).await;
    standins
        .strict_ecs()
        .await
        .update_service()
        .cluster(&world.cluster)
        .service(&world.service)
        .deployment_configuration(configuration)
        .send()
        .await
        .unwrap();
}

/// A target group for the `api` container; with `advanced`, the alternate target group,
/// listener rule and role ECS's blue/green, linear and canary deployments shift traffic with.
fn balancer(advanced: bool) -> LoadBalancer {
    let arn = |what: &str| format!("arn:aws:elasticloadbalancing:{REGION}:123456789012:{what}");
    LoadBalancer::builder()
        .target_group_arn(arn("targetgroup/api-blue/1"))
        .container_name("api")
        .container_port(8000)
        .set_advanced_configuration(advanced.then(|| {
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(arn("targetgroup/api-green/2"))
                .production_listener_rule(arn("listener-rule/app/api/1/2/3"))
                .test_listener_rule(arn("listener-rule/app/api/1/4/5"))
                .role_arn("arn:aws:iam::123456789012:role/ecs-infrastructure")
                .build()
        }))
        .build()
}

/// Put the service behind `balancer` (a rolling update, which needs no advancedConfiguration).
async fn behind(standins: &StandIns, world: &EcsWorld, balancer: LoadBalancer) {
    standins
        .strict_ecs()
        .await
        .update_service()
        .cluster(&world.cluster)
        .service(&world.service)
        .load_balancers(balancer)
        .send()
        .await
        .unwrap();
}

/// The service as ECS (the strict stand-in) shows it.
async fn described(standins: &StandIns, world: &EcsWorld) -> aws_sdk_ecs::types::Service {
    standins
        .strict_ecs()
        .await
        .describe_services()
        .cluster(&world.cluster)
        .services(&world.service)
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone()
}

/// What the service runs, as ECS (the strict stand-in) shows it.
async fn serving(standins: &StandIns, world: &EcsWorld) -> String {
    described(standins, world)
        .await
        .task_definition()
        .unwrap()
        .to_string()
}

fn first_revision(world: &EcsWorld) -> String {
    world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string()
}

/// BLUE_GREEN with a 30-minute bake and `wait-timeout-minutes: 2`: the step ends once production
/// traffic is on the new revision and the bake has begun — success, its stages in the log, the
/// bake's end in the summary, no rollback. (The rolling wait would time out: PRIMARY stays
/// IN_PROGRESS through the bake.)
#[tokio::test(flavor = "multi_thread")]
async fn a_blue_green_deploy_with_a_long_bake_succeeds_when_production_traffic_moved() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/blue-green", None).await;
    with_strategy(
        &standins,
        &world,
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::BlueGreen)
            .bake_time_in_minutes(30)
            .build(),
    )
    .await;
    let (run, proxy) = counted_staging_deploy(
        &standins,
        &repository,
        &world,
        &[("wait-timeout-minutes", "2")],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    for stage in ["SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"] {
        assert!(run.stdout.contains(stage), "{stage}: {}", run.log());
    }
    assert!(run.stdout.contains("ECS bakes it until "), "{}", run.log());
    assert_eq!(
        run.outputs["rollout-result"], "success",
        "{}",
        run.outputs_raw
    );
    assert!(
        run.summary.contains("baking (BLUE_GREEN) until "),
        "{}",
        run.summary
    );
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateService").count(),
        1,
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c == "StopServiceDeployment"),
        "{calls:?}"
    );
    assert_eq!(
        serving(&standins, &world).await,
        run.outputs["task-definition-arns"]
    );
    run.assert_no_token_leaks(&standins);

    // `status` shows the service deployment that bakes.
    let dir = tempfile::tempdir().unwrap();
    let status = [
        "status",
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository.as_str(),
        "--ecs-cluster",
        world.cluster.as_str(),
        "--ecs-services",
        world.service.as_str(),
    ];
    let (code, stdout, stderr) = crate::cli::local_run(&standins, dir.path(), &status);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("BLUE_GREEN service deployment arn:aws:ecs:")
            && stdout.contains(
                ": BAKE_TIME (100% of production traffic on the new revision), bake 30 min"
            ),
        "{stdout}{stderr}"
    );

    // `rollback` while it bakes: ECS rolls its own deployment back (StopServiceDeployment), no
    // UpdateService starts a second deployment over it.
    let mut back = status.to_vec();
    back[0] = "rollback";
    let (code, stdout, stderr) = crate::cli::local_run(&standins, dir.path(), &back);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("rolling back with StopServiceDeployment (ROLLBACK)")
            && stdout.contains("(ECS rolled its deployment back)"),
        "{stdout}{stderr}"
    );
    assert_eq!(serving(&standins, &world).await, first_revision(&world));
    let strict = standins.strict_ecs().await;
    let service = strict
        .describe_services()
        .cluster(&world.cluster)
        .services(&world.service)
        .send()
        .await
        .unwrap();
    let arn = service.services()[0]
        .current_service_deployment()
        .unwrap()
        .to_string();
    let deployment = strict
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deployment.service_deployments()[0]
            .status()
            .map(|s| s.as_str()),
        Some("ROLLBACK_SUCCESSFUL")
    );
}

/// A canary whose alarm fires while traffic shifts: ECS rolls back by itself; the step fails
/// naming the alarm and the revision serving again, with exactly one UpdateService (ours) and
/// no rollback of our own on top.
#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_rollback_by_ecs_fails_the_step_naming_the_alarm() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/canary-alarm", None).await;
    with_strategy(
        &standins,
        &world,
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::Canary)
            .canary_configuration(
                aws_sdk_ecs::types::CanaryConfiguration::builder()
                    .canary_percent(10.0)
                    .canary_bake_time_in_minutes(5)
                    .build(),
            )
            .bake_time_in_minutes(10)
            .build(),
    )
    .await;
    standins
        .post_script(
            serde_json::json!({"service": world.service, "service_deployment": {
            "outcome": "alarm_rollback", "alarm": "api-5xx", "at": "PRODUCTION_TRAFFIC_SHIFT"}}),
        )
        .await;
    let (run, proxy) = counted_staging_deploy(&standins, &repository, &world, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let first = first_revision(&world);
    let error = run.the_error("ECS rolled back");
    assert!(
        error.contains("ECS rolled back its CANARY deployment: alarm api-5xx fired"),
        "{error}"
    );
    assert!(
        error.contains(&format!("runs {} again", first.rsplit('/').next().unwrap())),
        "{error}"
    );
    assert!(
        run.stdout.contains("10% of production traffic"),
        "{}",
        run.log()
    );
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateService").count(),
        1,
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c == "StopServiceDeployment"),
        "{calls:?}"
    );
    assert_eq!(serving(&standins, &world).await, first);
    assert_eq!(run.outputs["rollout-result"], "failure");
}

/// A green revision that never scales up: at our timeout the deployment is rolled back with
/// StopServiceDeployment(ROLLBACK) and followed to ROLLBACK_SUCCESSFUL — never with an
/// UpdateService back, which would start a second deployment of the old revision.
#[tokio::test(flavor = "multi_thread")]
async fn a_green_revision_that_never_scales_up_is_rolled_back_at_our_timeout() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/green-stuck", None).await;
    with_strategy(
        &standins,
        &world,
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::BlueGreen)
            .build(),
    )
    .await;
    standins
        .post_script(serde_json::json!({"service": world.service,
            "service_deployment": {"outcome": "never_scales_up"}}))
        .await;
    let (run, proxy) = counted_staging_deploy(
        &standins,
        &repository,
        &world,
        &[("wait-timeout-minutes", "1")],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("timed out");
    assert!(
        error.contains("did not reach production traffic within 1 minutes"),
        "{error}"
    );
    assert!(
        error.contains("rolled back with StopServiceDeployment (ROLLBACK)"),
        "{error}"
    );
    let stop = proxy
        .requests()
        .into_iter()
        .find(|(operation, _)| operation == "StopServiceDeployment")
        .unwrap_or_else(|| panic!("no StopServiceDeployment: {:?}", proxy.calls()))
        .1;
    assert_eq!(stop["stopType"], "ROLLBACK");
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateService").count(),
        1,
        "{calls:?}"
    );
    assert_eq!(serving(&standins, &world).await, first_revision(&world));
}

/// One deploy.toml, staging rolling and prod canary (README's example): a push to a branch rolls
/// staging as before, with nothing set on its service; a push to main sets prod's CANARY with
/// its settings on the service, keeping the circuit breaker, percentages and alarm the team's
/// infrastructure code gave it (the strict stand-in replaces the whole deployment
/// configuration with what UpdateService sends, so a partial one would lose them), and follows
/// the canary to production traffic. The dry run says which strategy will run.
#[tokio::test(flavor = "multi_thread")]
async fn prods_canary_from_deploy_toml_is_set_on_the_service_and_its_settings_kept() {
    let standins = StandIns::get();
    let (prod, repository) = EcsWorld::with_repository(&standins, "e2e/canary-toml", None).await;
    let staging = EcsWorld::create(
        &standins.ecs().await,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let infrastructure = DeploymentConfiguration::builder()
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
                .rollback(true)
                .build()
                .unwrap(),
        )
        .build();
    for world in [&prod, &staging] {
        with_strategy(&standins, world, infrastructure.clone()).await;
    }
    let file = format!(
        r#"[defaults]
aws-region = "{REGION}"
role-to-assume = "{ROLE}"
ecr-repository = "{repository}"
wait-timeout-minutes = 2

[environments.prod]
branches = ["main"]
ecs-cluster = "{prod_cluster}"
ecs-services = ["{prod_service}"]
deployment-strategy = "canary"
canary-percent = 12.5
canary-bake-minutes = 0
bake-time-minutes = 30
deployment-alarms = ["api-5xx"]

[environments.staging]
branches = ["*"]
ecs-cluster = "{staging_cluster}"
ecs-services = ["{staging_service}"]
"#,
        prod_cluster = prod.cluster,
        prod_service = prod.service,
        staging_cluster = staging.cluster,
        staging_service = staging.service,
    );
    let run_on = |git_ref: &str, world: &EcsWorld, extra: &[(&str, &str)]| {
        let proxy = FaultProxy::start(&standins, &[]);
        let mut action = ActionRun::new(&standins, git_ref, &unique("run"), extra);
        action.config_file(
            &file,
            &[
                ("aws-region", REGION),
                ("role-to-assume", ROLE),
                ("ecr-repository", repository.as_str()),
                ("ecs-cluster", world.cluster.as_str()),
                ("ecs-services", world.service.as_str()),
            ],
        );
        action.set("AWS_ENDPOINT_URL", &proxy.url);
        (action.run(), proxy)
    };

    let (run, _) = run_on("refs/heads/feature/login", &staging, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        !run.stdout.contains("deployment strategy set"),
        "{}",
        run.log()
    );
    assert_eq!(
        described(&standins, &staging)
            .await
            .deployment_configuration(),
        Some(&infrastructure),
        "staging's service was changed"
    );

    let (dry, proxy) = run_on("refs/heads/main", &prod, &[("dry-run", "true")]);
    assert_eq!(dry.code, 0, "{}", dry.log());
    assert!(
        dry.stdout.contains(
            "strategy:     CANARY: 12.5% of production traffic first, the rest after 0 min; \
             bake 30 min; alarms api-5xx roll it back"
        ) && dry.stdout.contains(
            "strategy: CANARY: 12.5% of production traffic first, the rest after 0 min; bake 30 \
             min; alarms db-connections, api-5xx roll it back (set by this deploy)"
        ) && dry.stdout.contains(
            "wait up to 2 minutes until production traffic is on the new revision and the bake \
             begins (ECS takes at least 0 minutes)"
        ),
        "{}",
        dry.log()
    );
    assert!(!proxy.calls().iter().any(|c| c == "UpdateService"));

    let (run, proxy) = run_on("refs/heads/main", &prod, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["environment"], "prod");
    assert!(
        run.stdout
            .contains("deployment strategy set with the update: CANARY")
            && run
                .stdout
                .contains("PRODUCTION_TRAFFIC_SHIFT (12.5% of production traffic"),
        "{}",
        run.log()
    );
    assert!(
        run.summary.contains("baking (CANARY) until "),
        "{}",
        run.summary
    );
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateService").count(),
        1,
        "{calls:?}"
    );
    let service = described(&standins, &prod).await;
    let configuration = service.deployment_configuration().unwrap();
    assert_eq!(configuration.strategy(), Some(&DeploymentStrategy::Canary));
    assert_eq!(configuration.bake_time_in_minutes(), Some(30));
    let canary = configuration.canary_configuration().unwrap();
    assert_eq!(canary.canary_percent(), Some(12.5));
    assert_eq!(canary.canary_bake_time_in_minutes(), Some(0));
    assert_eq!(
        configuration.deployment_circuit_breaker(),
        infrastructure.deployment_circuit_breaker()
    );
    assert_eq!(configuration.maximum_percent(), Some(200));
    assert_eq!(configuration.minimum_healthy_percent(), Some(100));
    let alarms = configuration.alarms().unwrap();
    assert_eq!(alarms.alarm_names(), ["db-connections", "api-5xx"]);
    assert!(alarms.enable() && alarms.rollback());
    assert_eq!(
        service.task_definition(),
        Some(run.outputs["task-definition-arns"].as_str())
    );
    run.assert_no_token_leaks(&standins);
}

/// `deployment-strategy: blue-green` for a service whose load balancer has no
/// advancedConfiguration: refused in the preflight naming what is missing — nothing built,
/// pushed or updated. The strict stand-in refuses the same update as ECS does.
#[tokio::test(flavor = "multi_thread")]
async fn blue_green_without_the_load_balancers_advanced_configuration_is_refused_before_building() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/bg-refused", None).await;
    behind(&standins, &world, balancer(false)).await;
    let (run, proxy) = counted_staging_deploy(
        &standins,
        &repository,
        &world,
        &[("deployment-strategy", "blue-green")],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("no advancedConfiguration");
    assert!(
        error.contains(&format!(
            "service {} cannot deploy BLUE_GREEN",
            world.service
        )) && error.contains("targetgroup/api-blue/1")
            && error.contains("alternateTargetGroupArn, productionListenerRule, roleArn")
            && error.contains("nothing was built or pushed"),
        "{error}"
    );
    assert!(!run.stdout.contains("::group::image"), "{}", run.log());
    assert!(!proxy.calls().iter().any(|c| c == "UpdateService"));
    assert_eq!(serving(&standins, &world).await, first_revision(&world));

    // What ECS answers the same update (the stand-in, as terraform-aws-ecs#377 quotes ECS).
    let refused = standins
        .strict_ecs()
        .await
        .update_service()
        .cluster(&world.cluster)
        .service(&world.service)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::BlueGreen)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let text = format!("{}", aws_sdk_ecs::error::DisplayErrorContext(&refused));
    assert!(
        text.contains("advancedConfiguration field is required for all loadBalancers"),
        "{text}"
    );
}

/// BLUE_GREEN with a PAUSE hook after the test traffic shift, as the developer guide's example
/// ("Pause hooks for Amazon ECS service deployments") configures it.
fn paused_after_test_traffic() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .target_type(DeploymentLifecycleHookTargetType::Pause)
                .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift)
                .build(),
        )
        .build()
}

/// What the new revision answers through the test listener rule.
async fn test_listener(status: u16, body: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    server
}

/// The pause hook as the release gate: with test traffic on the new revision, the step GETs
/// `test-traffic-url`; passing, it continues the deployment (ContinueServiceDeployment CONTINUE)
/// to production traffic; the next release's check fails, and the step rolls it back
/// (ContinueServiceDeployment ROLLBACK) — never with an UpdateService or a StopServiceDeployment
/// on top — and fails naming the check, with the first release serving again.
#[tokio::test(flavor = "multi_thread")]
async fn a_pause_hook_is_continued_after_a_passing_check_and_rolled_back_after_a_failing_one() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/pause-gate", None).await;
    with_strategy(&standins, &world, paused_after_test_traffic()).await;
    let healthy = test_listener(200, "release ok-7c1f").await;
    let url = format!("{}/health", healthy.uri());
    let checked = [
        ("test-traffic-url", url.as_str()),
        ("health-check-expect", "ok-7c1f"),
        ("health-check-timeout-seconds", "3"),
    ];
    let (run, proxy) = counted_staging_deploy(&standins, &repository, &world, &checked);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout
            .contains("POST_TEST_TRAFFIC_SHIFT, paused by a pause hook until ")
            && run.stdout.contains("passed; continuing the deployment"),
        "{}",
        run.log()
    );
    let continued: Vec<serde_json::Value> = proxy
        .requests()
        .into_iter()
        .filter(|(operation, _)| operation == "ContinueServiceDeployment")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(continued.len(), 1, "{:?}", proxy.calls());
    assert_eq!(continued[0]["action"], "CONTINUE");
    assert!(
        continued[0]["hookId"]
            .as_str()
            .is_some_and(|id| id.starts_with("ecs-pause-"))
    );
    let released = run.outputs["task-definition-arns"].clone();
    assert_eq!(serving(&standins, &world).await, released);
    assert!(!healthy.received_requests().await.unwrap().is_empty());

    // The next release answers on the test listener without the expected text.
    let unhealthy = test_listener(503, "starting").await;
    let url = format!("{}/health", unhealthy.uri());
    let mut checked = checked;
    checked[0].1 = url.as_str();
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(&standins, &repository, &world, &checked);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    action.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    action.set("INPUT_BUILD-ARGS", &format!("VERSION={}", unique("v")));
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("pause hook");
    assert!(
        error.contains(
            "the test-traffic check at the pause hook (POST_TEST_TRAFFIC_SHIFT) failed: "
        ) && error.contains("answered 503")
            && error.contains("rolled back with ContinueServiceDeployment (ROLLBACK)"),
        "{error}"
    );
    let rolled: Vec<serde_json::Value> = proxy
        .requests()
        .into_iter()
        .filter(|(operation, _)| operation == "ContinueServiceDeployment")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(rolled.len(), 1, "{:?}", proxy.calls());
    assert_eq!(rolled[0]["action"], "ROLLBACK");
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "UpdateService").count(),
        1,
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c == "StopServiceDeployment"),
        "{calls:?}"
    );
    assert_eq!(serving(&standins, &world).await, released);
    assert_eq!(run.outputs["rollout-result"], "failure");
    run.assert_no_token_leaks(&standins);
}

/// A pause with nothing for the step to check is a person's: the step says how to continue it
/// and follows on; `deploy-action continue` (ContinueServiceDeployment CONTINUE) lets it reach
/// production traffic, and the step succeeds. Asked again, with nothing paused, `continue`
/// sends nothing and says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_pause_with_nothing_to_check_waits_for_deploy_action_continue() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/pause-person", None).await;
    with_strategy(&standins, &world, paused_after_test_traffic()).await;
    let action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("wait-timeout-minutes", "5")],
    );
    let mut step = action.spawn_watched();
    let started = std::time::Instant::now();
    let awaiting = loop {
        let service = described(&standins, &world).await;
        if let Some(arn) = service.current_service_deployment() {
            let found = standins
                .strict_ecs()
                .await
                .describe_service_deployments()
                .service_deployment_arns(arn)
                .send()
                .await
                .unwrap();
            let deployment = &found.service_deployments()[0];
            if let Some(hook) = deployment
                .lifecycle_hook_details()
                .iter()
                .find(|hook| hook.status().map(|s| s.as_str()) == Some("AWAITING_ACTION"))
            {
                break hook.hook_id().unwrap().to_string();
            }
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(240),
            "the deployment never paused"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    // The person, at a terminal, once the step says how (continuing earlier would race the
    // step's 2 s poll, which under load may never see the pause at all).
    step.printed(
        "continue it with `deploy-action continue",
        std::time::Duration::from_secs(120),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let resume = [
        "continue",
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository.as_str(),
        "--ecs-cluster",
        world.cluster.as_str(),
        "--ecs-services",
        world.service.as_str(),
        "--output",
        "json",
    ];
    let (code, stdout, stderr) = crate::cli::local_run(&standins, dir.path(), &resume);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "at POST_TEST_TRAFFIC_SHIFT → CONTINUE (ContinueServiceDeployment, hook {awaiting})"
        )),
        "{stdout}{stderr}"
    );
    // For scripts, the record alone on stdout.
    let record: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(record["action"], "CONTINUE", "{record}");
    assert_eq!(record["services"][0]["service"], world.service.as_str());
    assert_eq!(record["services"][0]["hook"], awaiting.as_str());
    assert_eq!(record["services"][0]["stage"], "POST_TEST_TRAFFIC_SHIFT");
    let run = action.finished(step.output());
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(&format!(
            "continue it with `deploy-action continue --ecs-cluster {} --ecs-services {}`",
            world.cluster, world.service
        )),
        "{}",
        run.log()
    );
    assert!(run.stdout.contains("BAKE_TIME"), "{}", run.log());
    assert_eq!(
        serving(&standins, &world).await,
        run.outputs["task-definition-arns"]
    );

    let (code, stdout, stderr) = crate::cli::local_run(&standins, dir.path(), &resume);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains(
            "no deployment of these services is paused at a pause hook; nothing was sent"
        ),
        "{stdout}{stderr}"
    );
}

/// A hotfix while the last release bakes (30 minutes, production traffic on it already):
/// the deploy supersedes the baking service deployment instead of waiting the bake out — which
/// would outlast `wait-timeout-minutes: 2` and fail the hotfix — and follows its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_hotfix_during_a_bake_supersedes_it_instead_of_waiting() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/bake-hotfix", None).await;
    with_strategy(
        &standins,
        &world,
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::BlueGreen)
            .bake_time_in_minutes(30)
            .build(),
    )
    .await;
    let short = [("wait-timeout-minutes", "2")];
    let run = staging_deploy(&standins, &repository, &world, &short).run();
    assert_eq!(run.code, 0, "{}", run.log());
    let baking = described(&standins, &world)
        .await
        .current_service_deployment()
        .unwrap()
        .to_string();

    let mut hotfix = staging_deploy(&standins, &repository, &world, &short);
    hotfix.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    hotfix.set("INPUT_BUILD-ARGS", &format!("VERSION={}", unique("v")));
    let run = hotfix.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("release ")
            && run.stdout.contains("bakes (BAKE_TIME")
            && run
                .stdout
                .contains("superseding it instead of waiting for the bake to end"),
        "{}",
        run.log()
    );
    assert!(
        !run.stdout.contains("waiting for it before updating"),
        "{}",
        run.log()
    );
    assert_eq!(
        serving(&standins, &world).await,
        run.outputs["task-definition-arns"]
    );
    let strict = standins.strict_ecs().await;
    let now = described(&standins, &world).await;
    assert_ne!(now.current_service_deployment(), Some(baking.as_str()));
    let old = strict
        .describe_service_deployments()
        .service_deployment_arns(&baking)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.service_deployments()[0].status().map(|s| s.as_str()),
        Some("STOPPED")
    );
}
