//! Rollouts as ECS runs them, through the strict stand-in in front of moto
//! (`scripts/ecs_deployments.py`): deployments with ids, stale reads right after UpdateService,
//! circuit-breaker rollbacks — and one run against moto itself, which creates no deployments.

use crate::support::*;

/// A one-service world on the staging image of a new repository.
async fn world(standins: &StandIns, name: &str) -> (EcsWorld, String) {
    EcsWorld::with_repository(standins, name, None).await
}

/// A staging deploy whose rollout the strict stand-in ends as `outcome`, counted at a proxy.
async fn scripted_deploy(
    standins: &StandIns,
    name: &str,
    outcome: &str,
    polls: u32,
    mode: Mode,
) -> (Finished, FaultProxy, EcsWorld) {
    let (world, repository) = world(standins, name).await;
    standins
        .script_rollout(&world.service, outcome, polls, 1)
        .await;
    let proxy = FaultProxy::start(standins, &[]);
    let mut action = staging_deploy(standins, &repository, &world, &[]).in_mode(mode);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    (action.run(), proxy, world)
}

fn updates(proxy: &FaultProxy) -> usize {
    proxy
        .calls()
        .iter()
        .filter(|c| *c == "UpdateService")
        .count()
}

/// ECS's circuit breaker rolls back: the step fails, says so with both deployments, and does
/// not roll back a second time.
#[tokio::test(flavor = "multi_thread")]
async fn a_circuit_breaker_rollback_fails_the_step_once() {
    let standins = StandIns::get();
    let (run, proxy, world) =
        scripted_deploy(&standins, "e2e/breaker", "rollback", 2, Mode::Host).await;
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("breaker");
    assert!(error.contains("ECS deployment circuit breaker"), "{error}");
    assert!(error.contains("ECS rolled back"), "{error}");
    assert_eq!(
        updates(&proxy),
        1,
        "ECS rolled back already: no second update"
    );
    assert_eq!(run.outputs["rollout-result"], "failure");
    let first = world.task_definition.task_definition_arn().unwrap();
    assert!(run.summary.contains("(rolled back)"), "{}", run.summary);
    assert!(
        error.contains(&format!("the service now runs {first}")),
        "{error}"
    );
}

/// A rollout that fails without ECS rolling back is rolled back by the action, which follows
/// its own rollback deployment to the end.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deployment_is_rolled_back_by_the_action() {
    a_failed_deployment_is_rolled_back(Mode::Host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deployment_is_rolled_back_in_a_runner_container() {
    a_failed_deployment_is_rolled_back(Mode::RunnerContainer).await;
}

async fn a_failed_deployment_is_rolled_back(mode: Mode) {
    let standins = StandIns::get();
    let (run, proxy, world) = scripted_deploy(&standins, "e2e/failed", "failed", 1, mode).await;
    assert_eq!(run.code, 1, "{}", run.log());
    let first = world.task_definition.task_definition_arn().unwrap();
    let error = run.the_error("failed");
    assert!(
        error.contains("failed: ECS deployment circuit breaker"),
        "{error}"
    );
    assert!(error.contains("rolled back to revision"), "{error}");
    assert_eq!(updates(&proxy), 2, "ours and the rollback");
    assert_eq!(
        world.running(&standins.ecs().await).await.as_deref(),
        Some(first),
        "back on the revision it ran"
    );
    assert_eq!(run.outputs["rollout-result"], "failure");
    assert!(
        run.outputs["digest"].starts_with("sha256:"),
        "{}",
        run.outputs_raw
    );
    assert!(run.summary.contains("rolled back"), "{}", run.summary);
    run.assert_groups_balanced();
    run.assert_no_token_leaks(&standins);
}

/// A forced redeploy of the revision the service runs follows the new deployment, not the
/// COMPLETED one before it that shares the revision; stale reads right after the update are
/// waited out.
#[tokio::test(flavor = "multi_thread")]
async fn a_forced_redeploy_follows_the_new_deployment() {
    let standins = StandIns::get();
    let (world, repository) = world(&standins, "e2e/forced").await;
    let run = staging_deploy(&standins, &repository, &world, &[]).run();
    assert_eq!(run.code, 0, "{}", run.log());
    let running = run.outputs["task-definition-arns"].clone();

    // The same commit again, forced: no new revision, a new deployment of the one it runs.
    standins
        .script_rollout(&world.service, "completed", 3, 2)
        .await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("force-new-deployment", "true")],
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["task-definition-arns"], running);
    assert_eq!(run.outputs["rollout-result"], "success");
    assert!(
        run.stdout
            .contains(&format!("updated to {running} (deployment ecs-svc/")),
        "{}",
        run.log()
    );
    let calls = proxy.calls();
    let update = calls
        .iter()
        .position(|c| c == "UpdateService")
        .expect("an UpdateService");
    let polls = calls[update..]
        .iter()
        .filter(|c| *c == "DescribeServices")
        .count();
    // Two stale reads, then three polls until COMPLETED: judging by the revision would have
    // stopped at the first.
    assert!(polls >= 5, "{polls} polls after the update: {calls:?}");
}

/// moto itself creates no deployment on UpdateService: the rollout is judged by the revision.
#[tokio::test(flavor = "multi_thread")]
async fn without_deployments_the_revision_is_judged() {
    let standins = StandIns::get();
    let (world, repository) = world(&standins, "e2e/plain").await;
    let mut action = staging_deploy(&standins, &repository, &world, &[]);
    action.set("AWS_ENDPOINT_URL", standins.var("DEPLOY_ACTION_TEST_MOTO"));
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["rollout-result"], "success");
    let ours = &run.outputs["task-definition-arns"];
    assert!(
        run.stdout.contains(&format!("updated to {ours}\n")),
        "{}",
        run.log()
    );
    assert_eq!(
        world.running(&standins.ecs().await).await.as_deref(),
        Some(ours.as_str())
    );
}

/// ECS refuses new task definitions through UpdateService for blue/green (CODE_DEPLOY) services
/// — moto does not, the strict stand-in does. The preflight says so before anything is built.
#[tokio::test(flavor = "multi_thread")]
async fn a_code_deploy_service_is_refused_before_anything_is_built() {
    use aws_sdk_ecs::types::{DeploymentController, DeploymentControllerType};
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = world(&standins, "e2e/bluegreen").await;
    let blue_green = unique("e2e-bluegreen");
    ecs.create_service()
        .cluster(&world.cluster)
        .service_name(&blue_green)
        .task_definition(world.task_definition.task_definition_arn().unwrap())
        .desired_count(1)
        .deployment_controller(
            DeploymentController::builder()
                .r#type(DeploymentControllerType::CodeDeploy)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(&standins, &repository, &world, &[]);
    action.set("INPUT_ECS-SERVICES", &blue_green);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("code deploy");
    assert!(
        error.contains(&format!(
            "service {blue_green} uses the CODE_DEPLOY deployment controller"
        )),
        "{error}"
    );
    assert!(
        error.contains("CodeDeploy"),
        "the hint says what to use: {error}"
    );
    let registry = Registry {
        host: standins.registry(),
    };
    assert!(
        registry.tags(&repository).await.is_empty(),
        "nothing was pushed"
    );
    let calls = proxy.calls();
    for call in [
        "RegisterTaskDefinition",
        "UpdateService",
        "GetAuthorizationToken",
    ] {
        assert!(
            !calls.iter().any(|c| c == call),
            "{call} was called: {calls:?}"
        );
    }

    // `mode: rollback` says the same, before it moves any service.
    let proxy = FaultProxy::start(&standins, &[]);
    let mut back = staging_deploy(&standins, &repository, &world, &[("mode", "rollback")]);
    back.set("INPUT_ECS-SERVICES", &blue_green);
    back.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = back.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("code deploy rollback");
    assert!(
        error.contains(&format!(
            "service {blue_green} uses the CODE_DEPLOY deployment controller"
        )) && error.contains("CodeDeploy"),
        "{error}"
    );
    assert!(
        !proxy.calls().iter().any(|c| c == "UpdateService"),
        "{:?}",
        proxy.calls()
    );
}

/// A cancelled step (the runner signals `docker run`, which passes the signal to the action's
/// PID 1) stops within seconds in the middle of a rollout that would never finish, and reports
/// what it pushed, which service it updated to which revision, and how to put it back.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_rollout_stops_and_says_where() {
    a_cancelled_rollout(Mode::Host).await;
}

/// The same as PID 1 of the runner's container, stopped with `docker stop` (SIGTERM to PID 1,
/// SIGKILL after the grace time): a PID 1 without handlers would ignore the SIGTERM and be
/// killed at the end of the grace time, with nothing reported.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_rollout_in_a_runner_container_stops_and_says_where() {
    a_cancelled_rollout(Mode::RunnerContainer).await;
}

async fn a_cancelled_rollout(mode: Mode) {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = world(&standins, "e2e/cancel").await;
    // The rollout never finishes.
    standins
        .script_rollout(&world.service, "completed", 100_000, 0)
        .await;
    let action = staging_deploy(&standins, &repository, &world, &[]).in_mode(mode);
    let child = action.spawn();
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    // Wait until the service was updated (moto shows it), then cancel as the runner does.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while world.running(&ecs).await.as_deref() == Some(first.as_str()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the service was never updated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let signalled = std::time::Instant::now();
    match action.container_name() {
        // A 30 s grace: a kill at its end would show as a run that took 30 s.
        Some(name) => crate::runner_container::docker_stop(&standins, name, 30),
        None => {
            let killed = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
        }
    }
    let output = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let run = action.finished(output);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        took < std::time::Duration::from_secs(10),
        "stopped {took:?} after the signal"
    );
    let ours = world.running(&ecs).await.unwrap();
    let error = run.the_error("cancelled");
    assert!(
        error.contains("cancelled (SIGTERM) during deploy"),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "updated {} from {} to {} — ECS keeps rolling it out",
            world.service,
            first.rsplit('/').next().unwrap(),
            ours.rsplit('/').next().unwrap()
        )),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "aws ecs update-service --cluster {} --service {} --task-definition {first}",
            world.cluster, world.service
        )),
        "{error}"
    );
    // The report was written: the pushed image, the failure, in the summary too.
    assert!(
        run.outputs["digest"].starts_with("sha256:"),
        "{}",
        run.outputs_raw
    );
    assert_eq!(run.outputs["rollout-result"], "failure");
    assert!(
        run.summary.contains("cancelled (SIGTERM)"),
        "{}",
        run.summary
    );
    assert!(
        run.leftover_temp_files.is_empty(),
        "the private docker config outlived the cancel"
    );
    run.assert_no_token_leaks(&standins);
    standins.figure(&format!(
        "cancellation ({mode:?}): SIGTERM during a rollout → reported and exited in {:.2}s",
        took.as_secs_f64()
    ));
}

/// A container of the new revision crashes, and its CloudWatch log holds workflow commands: a
/// `::stop-commands::` that would switch off every later command (the masks of renewed
/// credentials among them), a forged `::error`, a legacy `##[`. The evidence is printed, none
/// of it reaches the runner as a command, and the action's own commands after it still do.
/// The log lines stay in the step log: the annotation and the summary get a CloudWatch link
/// (unless `evidence-in-summary`).
#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_containers_log_issues_no_workflow_command() {
    let standins = StandIns::get();
    let run = crashed_deploy(&standins, &[]).await;
    let error_line = run
        .stdout
        .lines()
        .find(|line| line.starts_with("::error "))
        .expect("an error annotation");
    assert!(!error_line.contains("KeyError"), "{error_line}");
    assert!(
        error_line
            .contains("logs of api: https://us-east-2.console.aws.amazon.com/cloudwatch/home"),
        "{error_line}"
    );
    assert!(!run.summary.contains("KeyError"), "{}", run.summary);
    assert!(
        run.summary.contains("console.aws.amazon.com/cloudwatch"),
        "{}",
        run.summary
    );

    let shown = crashed_deploy(&standins, &[("evidence-in-summary", "true")]).await;
    assert!(
        shown.summary.contains("KeyError: 'JWT_SECRET_KEY'"),
        "{}",
        shown.summary
    );
    assert!(shown.summary.contains("```text"), "{}", shown.summary);
}

/// A staging deploy whose new task crashes after writing hostile lines to its log; checked for
/// what must hold in any case.
async fn crashed_deploy(standins: &StandIns, extra: &[(&str, &str)]) -> Finished {
    let (world, repository) = world(standins, "e2e/crash").await;
    let task_id = format!("{:032x}", rand_u128());
    standins
        .script_crash(&world.service, "api", 3, &task_id)
        .await;
    let family = world.task_definition.family().unwrap();
    let group = format!("/ecs/{family}");
    let stream = format!("ecs/api/{task_id}");
    let hostile = [
        "Traceback (most recent call last): KeyError: 'JWT_SECRET_KEY'",
        "::stop-commands::pwned",
        "::error title=forged::the deploy is fine",
        "   ::add-mask::forged-mask",
        "##[warning]forged legacy command",
        "::pwned::",
    ];
    standins.plant_log_lines(&group, &stream, &hostile).await;
    let run = staging_deploy(standins, &repository, &world, extra).run();
    assert_eq!(run.code, 1, "{}", run.log());
    // The evidence is there, as text.
    assert!(
        run.stdout.contains("KeyError: 'JWT_SECRET_KEY'"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout.contains("exit 3") || run.stdout.contains("exit code 3"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with('›') && line.contains("::stop-commands::pwned")),
        "{}",
        run.log()
    );
    run.assert_no_outside_commands(&["forged", "pwned"]);
    // The action's own commands after the evidence still reach the runner: its rollback is
    // reported and its failure is an annotation.
    let evidence_at = run.stdout.find("KeyError").unwrap();
    assert!(
        run.stdout[evidence_at..].contains("\n::error "),
        "no command of ours after the evidence: {}",
        run.log()
    );
    run.assert_groups_balanced();
    run.assert_no_token_leaks(standins);
    run
}

fn rand_u128() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        ^ u128::from(std::process::id())
}

/// `pre-deploy-command` (migrations): a one-off task of the new revision, started with the
/// service's launch type and the command split like a shell, before the service is updated.
/// Exit 0: the rollout goes on. Exit 1: the step fails with the exit code and the task's last
/// log lines, and no service was updated.
#[tokio::test(flavor = "multi_thread")]
async fn a_pre_deploy_command_runs_before_the_rollout_and_can_stop_it() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(
        &standins,
        "e2e/migrate",
        Some(aws_sdk_ecs::types::LaunchType::Fargate),
    )
    .await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let script = |code: serde_json::Value| serde_json::json!({"cluster": world.cluster, "task_exit_code": code, "task_polls": 1});
    let migrate = [(
        "pre-deploy-command",
        r#"python manage.py migrate --database "primary db""#,
    )];

    // Exit 0: migrated, then rolled.
    standins.post_script(script(serde_json::json!(0))).await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(&standins, &repository, &world, &migrate);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.outputs["pre-deploy-task-arn"].contains(":task/"),
        "{}",
        run.outputs_raw
    );
    assert_eq!(run.outputs["pre-deploy-exit-code"], "0");
    let calls = proxy.calls();
    let run_task = calls
        .iter()
        .position(|c| c == "RunTask")
        .expect("a RunTask");
    let update = calls
        .iter()
        .position(|c| c == "UpdateService")
        .expect("an UpdateService");
    let register = calls
        .iter()
        .position(|c| c == "RegisterTaskDefinition")
        .unwrap();
    assert!(register < run_task && run_task < update, "{calls:?}");
    let started = proxy
        .requests()
        .into_iter()
        .find(|(operation, _)| operation == "RunTask")
        .unwrap()
        .1;
    assert_eq!(
        started["taskDefinition"],
        run.outputs["task-definition-arns"].as_str()
    );
    assert_eq!(
        started["launchType"], "FARGATE",
        "the service's launch type: {started}"
    );
    assert_eq!(
        started["overrides"]["containerOverrides"][0]["command"],
        serde_json::json!(["python", "manage.py", "migrate", "--database", "primary db"])
    );
    assert_eq!(started["overrides"]["containerOverrides"][0]["name"], "api");
    assert!(
        started["startedBy"]
            .as_str()
            .unwrap()
            .starts_with("deploy-action-")
    );
    assert!(run.summary.contains("| pre-deploy |"), "{}", run.summary);
    let deployed = world.running(&ecs).await.unwrap();
    assert_ne!(deployed, first);

    // Exit 1: the step fails before any service is updated.
    standins.post_script(script(serde_json::json!(1))).await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[
            ("pre-deploy-command", "python manage.py migrate"),
            ("force-new-deployment", "true"),
        ],
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("migration failed");
    assert!(
        error.contains("exit code 1") && error.contains("no service was updated"),
        "{error}"
    );
    assert_eq!(run.outputs["pre-deploy-exit-code"], "1");
    assert!(
        !proxy.calls().iter().any(|c| c == "UpdateService"),
        "{:?}",
        proxy.calls()
    );
    assert_eq!(
        world.running(&ecs).await.unwrap(),
        deployed,
        "the service moved"
    );

    // A container the task definition does not have: refused in the preflight, before any
    // build, registration or task.
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[
            ("pre-deploy-command", "migrate"),
            ("pre-deploy-container", "ghost"),
        ],
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("unknown container");
    assert!(error.contains("pre-deploy-container `ghost`"), "{error}");
    assert!(!run.stdout.contains("building "), "{}", run.log());
    for mutation in ["RegisterTaskDefinition", "RunTask", "UpdateService"] {
        assert!(
            !proxy.calls().iter().any(|c| c == mutation),
            "{mutation}: {:?}",
            proxy.calls()
        );
    }
}

/// Each way a pre-deploy task fails without an exit code of its own blocks the rollout with its
/// own message: a task that stopped before its container exited (ECS could not pull the image:
/// no exit code, only the stop reason), and RunTask placing no task (RunTask answers 200 with a
/// `failures` entry, API reference). The timeout is a unit test on a paused clock
/// (`one_off_tests::a_task_that_outlives_its_timeout_is_stopped`).
#[tokio::test(flavor = "multi_thread")]
async fn every_way_a_pre_deploy_task_fails_blocks_the_rollout_with_its_own_message() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(
        &standins,
        "e2e/migrate-fails",
        Some(aws_sdk_ecs::types::LaunchType::Fargate),
    )
    .await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let pull_failed = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
    let cases = [
        (
            serde_json::json!({"cluster": world.cluster, "task_exit_code": null, "task_polls": 1,
                "task_stopped_reason": pull_failed}),
            vec![
                "pre-deploy-command `python manage.py migrate` never ran to its end",
                "stopped before api exited",
                pull_failed,
                "no service was updated",
            ],
        ),
        (
            serde_json::json!({"cluster": world.cluster, "run_task_failures": [
                {"arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/x", "reason": "RESOURCE:MEMORY",
                 "detail": "no container instance has 512 MiB free"}]}),
            vec![
                "pre-deploy-command: ECS started no task of",
                "RESOURCE:MEMORY (no container instance has 512 MiB free)",
                "no service was updated",
            ],
        ),
    ];
    for (script, expected) in cases {
        standins.post_script(script).await;
        let migrate = [("pre-deploy-command", "python manage.py migrate")];
        let (run, proxy) = counted_staging_deploy(&standins, &repository, &world, &migrate);
        assert_eq!(run.code, 1, "{}", run.log());
        let error = run.the_error("a pre-deploy task that did not run");
        for part in expected {
            assert!(error.contains(part), "{part:?} in {error}");
        }
        assert!(
            !proxy.calls().iter().any(|c| c == "UpdateService"),
            "{:?}",
            proxy.calls()
        );
        assert_eq!(
            world.running(&ecs).await.unwrap(),
            first,
            "the service moved"
        );
        assert_eq!(
            run.outputs["rollout-result"], "failure",
            "{}",
            run.outputs_raw
        );
    }
}

/// A cancel while the migration runs: the task is stopped (StopTask with the cancel as its
/// reason; it would otherwise go on changing the database for a release that was called off),
/// and the report says so, next to "no service was updated".
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_during_the_pre_deploy_task_stops_the_task_and_says_so() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(
        &standins,
        "e2e/migrate-cancel",
        Some(aws_sdk_ecs::types::LaunchType::Fargate),
    )
    .await;
    // The task never stops on its own.
    standins
        .post_script(serde_json::json!({"cluster": world.cluster, "task_exit_code": 0, "task_polls": 100_000}))
        .await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("pre-deploy-command", "python manage.py migrate")],
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let child = action.spawn();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !proxy.calls().iter().any(|c| c == "DescribeTasks") {
        assert!(std::time::Instant::now() < deadline, "no task was started");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = action.finished(child.wait_with_output().unwrap());
    assert_eq!(run.code, 1, "{}", run.log());
    let task_arn = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("started "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no started task: {}", run.log()))
        .to_string();
    let error = run.the_error("cancelled during the pre-deploy task");
    assert!(
        error.contains("cancelled (SIGTERM) during deploy"),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "stopped the pre-deploy-command task {} it had started",
            task_arn.rsplit('/').next().unwrap()
        )),
        "{error}"
    );
    assert!(error.contains("no service was updated"), "{error}");
    assert!(
        run.summary.contains("stopped the pre-deploy-command task"),
        "{}",
        run.summary
    );
    let stop = proxy
        .requests()
        .into_iter()
        .find(|(operation, _)| operation == "StopTask")
        .unwrap_or_else(|| panic!("no StopTask: {:?}", proxy.calls()))
        .1;
    assert_eq!(stop["task"], task_arn.as_str());
    let described = ecs
        .describe_tasks()
        .cluster(&world.cluster)
        .tasks(&task_arn)
        .send()
        .await
        .unwrap();
    let task = &described.tasks()[0];
    assert_eq!(task.last_status(), Some("STOPPED"));
    assert!(
        task.stopped_reason()
            .unwrap_or_default()
            .contains("cancelled (SIGTERM)"),
        "{task:?}"
    );
    assert!(!proxy.calls().iter().any(|c| c == "UpdateService"));
    run.assert_no_token_leaks(&standins);
}

/// `mode: rollback` in the action (a `workflow_dispatch` job's one click): each service back on
/// the revision the last deploy replaced, waited for, reported like a rollout; nothing built.
#[tokio::test(flavor = "multi_thread")]
async fn mode_rollback_puts_the_service_back_on_the_replaced_revision() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository, first, deployed) = deployed_once(&standins, "e2e/mode-rollback").await;
    let uploads = standins.blob_uploads(&repository);

    let mut back = staging_deploy(&standins, &repository, &world, &[("mode", "rollback")]);
    back.set("INPUT_CONTEXT", "/nonexistent");
    let run = back.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(world.running(&ecs).await.as_deref(), Some(first.as_str()));
    assert_eq!(
        run.outputs["rollout-result"], "success",
        "{}",
        run.outputs_raw
    );
    assert_eq!(run.outputs["task-definition-arns"], first);
    assert_eq!(run.outputs["previous-task-definition-arns"], deployed);
    assert!(
        !run.outputs.contains_key("digest"),
        "a rollback pushed an image"
    );
    assert_eq!(standins.blob_uploads(&repository), uploads);
    run.assert_groups_balanced();
}

/// "Back" comes from the `deploy-action:replaces` tag, not from revision arithmetic: two
/// services of one family, one on `:1` and one moved by hand to `:3` (revisions `:2` and `:3`
/// registered outside the action), deployed together and rolled back together. Each goes back
/// to what it ran before the deploy — `:1` and `:3` — where N−1 would give `:3` and the
/// other service's new revision.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_goes_back_to_what_each_service_ran_not_to_the_revision_before() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/back-by-tag", None).await;
    let td = &world.task_definition;
    let first = td.task_definition_arn().unwrap().to_string();
    let mut by_hand = Vec::new();
    for _ in 0..2 {
        let registered = ecs
            .register_task_definition()
            .family(td.family().unwrap())
            .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
            .set_network_mode(td.network_mode().cloned())
            .set_container_definitions(Some(td.container_definitions().to_vec()))
            .send()
            .await
            .unwrap();
        by_hand.push(
            registered
                .task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap()
                .to_string(),
        );
    }
    let third = by_hand[1].clone();
    let other = world.add_service(&ecs).await;
    ecs.update_service()
        .cluster(&world.cluster)
        .service(&other)
        .task_definition(&third)
        .send()
        .await
        .unwrap();
    let services = format!("{},{other}", world.service);
    let inputs = [
        ("ecr-repository", repository.as_str()),
        ("ecs-cluster", world.cluster.as_str()),
        ("ecs-services", services.as_str()),
    ];
    let deploy = ActionRun::new(
        &standins,
        "refs/heads/feature/staging",
        &unique("run"),
        &inputs,
    )
    .run();
    assert_eq!(deploy.code, 0, "{}", deploy.log());
    let deployed = (
        world.running(&ecs).await.unwrap(),
        world.running_in(&ecs, &other).await.unwrap(),
    );
    assert!(
        deployed.0 != first && deployed.1 != third && deployed.0 != third,
        "the deploy moved both services to new revisions: {deployed:?}"
    );

    let mut back = ActionRun::new(
        &standins,
        "refs/heads/feature/staging",
        &unique("run"),
        &[inputs.as_slice(), &[("mode", "rollback")]].concat(),
    );
    back.set("INPUT_CONTEXT", "/nonexistent");
    let run = back.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(world.running(&ecs).await, Some(first), "{}", run.log());
    assert_eq!(
        world.running_in(&ecs, &other).await,
        Some(third),
        "{}",
        run.log()
    );
}

/// A rollback after `deregister-previous`: the revision to go back to is INACTIVE, and ECS
/// refuses UpdateService to it — "you can't update an existing service to reference an INACTIVE
/// task definition" (DeregisterTaskDefinition, API reference); the strict stand-in refuses it as
/// ECS does, moto does not. The old revision's definition is registered again as a new revision
/// (the same containers and tags), and the service goes back to that.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_after_deregister_previous_registers_the_old_revision_again() {
    use aws_sdk_ecs::types::{TaskDefinitionField, TaskDefinitionStatus};
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) =
        EcsWorld::with_repository(&standins, "e2e/back-to-inactive", None).await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let run = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("deregister-previous", "true")],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let deployed = run.outputs["task-definition-arns"].clone();
    let old = ecs
        .describe_task_definition()
        .task_definition(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.task_definition().unwrap().status(),
        Some(&TaskDefinitionStatus::Inactive)
    );

    let mut back = staging_deploy(&standins, &repository, &world, &[("mode", "rollback")]);
    back.set("INPUT_CONTEXT", "/nonexistent");
    let run = back.run();
    assert_eq!(run.code, 0, "{}", run.log());
    let running = world.running(&ecs).await.unwrap();
    assert!(
        running != first && running != deployed,
        "the service runs {running}"
    );
    assert_eq!(run.outputs["task-definition-arns"], running);
    assert!(
        run.stdout.contains("is INACTIVE (deregistered)"),
        "{}",
        run.log()
    );
    let again = ecs
        .describe_task_definition()
        .task_definition(&running)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    let images = |containers: &[aws_sdk_ecs::types::ContainerDefinition]| -> Vec<(String, String)> {
        containers
            .iter()
            .map(|c| {
                (
                    c.name().unwrap().to_string(),
                    c.image().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        images(again.task_definition().unwrap().container_definitions()),
        images(world.task_definition.container_definitions()),
        "the revision registered again is the old one's definition"
    );
    assert_eq!(
        again.task_definition().unwrap().family(),
        world.task_definition.family()
    );
}

/// The revision a deploy-action revision names in its `deploy-action:replaces` tag.
async fn replaces_tag(ecs: &aws_sdk_ecs::Client, revision: &str) -> Option<String> {
    ecs.describe_task_definition()
        .task_definition(revision)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .find(|tag| tag.key() == Some("deploy-action:replaces"))
        .and_then(|tag| tag.value().map(str::to_string))
}

/// A hotfix over a deployment whose tasks keep failing with the circuit breaker off: ECS keeps
/// that deployment IN_PROGRESS for ever (API reference, "Deployment": it becomes FAILED only
/// with the circuit breaker), so waiting for it would wait out `wait-timeout`. The hotfix
/// supersedes it at once, says what it superseded, and replaces — for a later rollback — the
/// revision that was serving, never the broken one.
#[tokio::test(flavor = "multi_thread")]
async fn a_hotfix_supersedes_a_deployment_that_keeps_failing() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/hotfix", None).await;
    let serving = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    standins.script_rollout(&world.service, "stuck", 1, 0).await;
    let broken = staging_deploy(&standins, &repository, &world, &[("wait", "false")]).run();
    assert_eq!(broken.code, 0, "{}", broken.log());
    let broken_revision = broken.outputs["task-definition-arns"].clone();

    let started = std::time::Instant::now();
    let hotfix = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("labels", "hotfix=1"), ("wait-timeout-minutes", "1")],
    )
    .run();
    assert_eq!(hotfix.code, 0, "{}", hotfix.log());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(50),
        "the hotfix waited for the failing deployment: {:?}",
        started.elapsed()
    );
    let superseded = hotfix
        .stdout
        .lines()
        .find(|line| line.contains("superseding it"))
        .unwrap_or_else(|| panic!("no word of the superseded deployment: {}", hotfix.log()));
    assert!(
        superseded.contains(revision_name(&broken_revision))
            && superseded.contains("failed task")
            && superseded.contains("unable to consistently start tasks successfully"),
        "{superseded}"
    );
    let fixed = hotfix.outputs["task-definition-arns"].clone();
    assert_eq!(world.running(&ecs).await.as_deref(), Some(fixed.as_str()));
    assert_eq!(hotfix.outputs["previous-task-definition-arns"], serving);
    assert_eq!(
        replaces_tag(&ecs, &fixed).await.as_deref(),
        Some(serving.as_str()),
        "a rollback of the hotfix must go back to what served, not to {broken_revision}"
    );
}

/// `family:N` of a revision's ARN.
fn revision_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

/// A deployment in progress that is healthy (its tasks start, none failed) is waited for before
/// the next deploy updates the service, as before.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_waits_for_a_healthy_deployment_in_progress() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/wait-healthy", None).await;
    standins
        .script_rollout(&world.service, "completed", 4, 0)
        .await;
    let first = staging_deploy(&standins, &repository, &world, &[("wait", "false")]).run();
    assert_eq!(first.code, 0, "{}", first.log());
    let slow = first.outputs["task-definition-arns"].clone();

    let next = staging_deploy(&standins, &repository, &world, &[("labels", "next=1")]).run();
    assert_eq!(next.code, 0, "{}", next.log());
    assert!(
        next.stdout
            .contains("is still in progress; waiting for it before updating"),
        "{}",
        next.log()
    );
    assert!(!next.stdout.contains("superseding"), "{}", next.log());
    assert_eq!(next.outputs["previous-task-definition-arns"], slow);
    let now = next.outputs["task-definition-arns"].clone();
    assert_eq!(world.running(&ecs).await.as_deref(), Some(now.as_str()));
    assert_eq!(
        replaces_tag(&ecs, &now).await.as_deref(),
        Some(slow.as_str())
    );
}

/// `pre-deploy-command` on a container whose entryPoint is `["sh", "-c"]`: RunTask's override
/// replaces CMD only (ContainerOverride has no entryPoint, API reference), so words sent as they
/// are would run `sh -c migrate --all` — `migrate` without its argument. The strict stand-in
/// runs entryPoint + command as the container would, in a sandbox whose `migrate` fails only
/// when it gets `--all`: the step must see that failure, then succeed once `migrate --all` passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_migration_runs_what_was_written_through_a_shell_entry_point() {
    use aws_sdk_ecs::types::ContainerDefinition;
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository) = EcsWorld::with_repository(
        &standins,
        "e2e/shell-entry",
        Some(aws_sdk_ecs::types::LaunchType::Fargate),
    )
    .await;
    // The service's revision runs its api container through `sh -c`.
    let td = &world.task_definition;
    let containers: Vec<ContainerDefinition> = td
        .container_definitions()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if c.name() == Some("api") {
                c.entry_point = Some(vec!["sh".into(), "-c".into()]);
            }
            c
        })
        .collect();
    let shell = ecs
        .register_task_definition()
        .set_family(td.family().map(str::to_string))
        .set_network_mode(td.network_mode().cloned())
        .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()))
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
        .set_cpu(td.cpu().map(str::to_string))
        .set_memory(td.memory().map(str::to_string))
        .set_container_definitions(Some(containers))
        .send()
        .await
        .unwrap();
    let shell_revision = shell
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    ecs.update_service()
        .cluster(&world.cluster)
        .service(&world.service)
        .task_definition(&shell_revision)
        .send()
        .await
        .unwrap();
    let migrate = |body: &str| serde_json::json!({"cluster": world.cluster, "task_polls": 1, "sandbox": {"migrate": body}});

    // `migrate --all` fails (exit 3); `migrate` alone would pass.
    standins
        .post_script(migrate("[ \"$1\" = \"--all\" ] && exit 3\nexit 0"))
        .await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("pre-deploy-command", "migrate --all")],
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(
        run.code,
        1,
        "the migration's failure went unseen: {}",
        run.log()
    );
    assert_eq!(
        run.outputs["pre-deploy-exit-code"], "3",
        "{}",
        run.outputs_raw
    );
    assert!(
        run.stdout
            .contains("pre-deploy-command runs in api: sh -c 'migrate --all'"),
        "the plan shows what will run: {}",
        run.log()
    );
    let started = proxy
        .requests()
        .into_iter()
        .find(|(operation, _)| operation == "RunTask")
        .unwrap()
        .1;
    assert_eq!(
        started["overrides"]["containerOverrides"][0]["command"],
        serde_json::json!(["migrate --all"])
    );
    assert!(!proxy.calls().iter().any(|c| c == "UpdateService"));
    assert_eq!(
        world.running(&ecs).await.as_deref(),
        Some(shell_revision.as_str())
    );

    // `migrate --all` passes (exit 0); `migrate` alone would fail: the rollout goes on.
    standins
        .post_script(migrate("[ \"$1\" = \"--all\" ] && exit 0\nexit 5"))
        .await;
    let run = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("pre-deploy-command", "migrate --all")],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.outputs["pre-deploy-exit-code"], "0",
        "{}",
        run.outputs_raw
    );
    assert_ne!(
        world.running(&ecs).await.as_deref(),
        Some(shell_revision.as_str())
    );
}
