//! ECS's own deployment strategies (blue/green, linear, canary) against the strict stand-in
//! (`scripts/ecs_service_deployments.py`: service deployments as the API reference describes
//! them, which moto lacks), under the IAM policy `iam-policy` prints.

use crate::support::*;
use aws_sdk_ecs::types::{DeploymentConfiguration, DeploymentStrategy};

/// The service's deployment strategy, set as a team's infrastructure code would
/// (UpdateService's `deploymentConfiguration`, through the strict stand-in, which keeps it).
async fn with_strategy(
    standins: &StandIns,
    world: &EcsWorld,
    configuration: DeploymentConfiguration,
) {
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

/// What the service runs, as ECS (the strict stand-in) shows it.
async fn serving(standins: &StandIns, world: &EcsWorld) -> String {
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
