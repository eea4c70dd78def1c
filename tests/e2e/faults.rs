//! Faults injected between the action and AWS (a proxy in front of moto): what is retried
//! recovers, what is not fails naming the call, every service's state is reported, and a
//! re-run converges.

use crate::support::*;

/// Runs a one-service staging deploy through a proxy injecting `faults`, with a 2-second read
/// timeout on the AWS clients so that slow answers are slow enough.
async fn deploy_through(faults: &[&str]) -> (Finished, FaultProxy, EcsWorld, StandIns, String) {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/faults");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let proxy = FaultProxy::start(&standins, faults);
    let mut action = staging_deploy(&standins, &repository, &world, &[]);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    action.set("DEPLOY_ACTION_AWS_READ_TIMEOUT_SECONDS", "2");
    let run = action.run();
    (run, proxy, world, standins, repository)
}

fn count(calls: &[String], operation: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.split(' ').next() == Some(operation))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_faults_are_retried_and_recovered() {
    let (run, proxy, _, standins, _) = deploy_through(&[
        "AssumeRoleWithWebIdentity=503*2",
        "GetAuthorizationToken=throttle*2",
        "DescribeRepositories=reset*1",
        "RegisterTaskDefinition=500*1",
        "UpdateService=503*1",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.log());
    let calls = proxy.calls();
    assert_eq!(count(&calls, "AssumeRoleWithWebIdentity"), 3, "{calls:?}");
    assert_eq!(count(&calls, "GetAuthorizationToken"), 3, "{calls:?}");
    assert_eq!(count(&calls, "RegisterTaskDefinition"), 2, "{calls:?}");
    assert_eq!(count(&calls, "UpdateService"), 2, "{calls:?}");
    assert!(
        run.stdout.contains("retrying"),
        "our STS retries are logged: {}",
        run.log()
    );
    assert_eq!(run.outputs["rollout-result"], "success");
    run.assert_no_token_leaks(&standins);
    standins.figure(&format!(
        "faults recovered: STS 503×2, ECR throttling×2, a connection reset, ECS 500 and 503 — success after {} AWS calls",
        calls.len()
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persistent_fault_fails_naming_the_call_and_a_rerun_converges() {
    let (run, proxy, world, standins, repository) = deploy_through(&["UpdateService=503*50"]).await;
    assert_ne!(run.code, 0, "{}", run.log());
    let error = run.the_error("fault");
    assert!(
        error.contains("UpdateService") && error.contains("ServiceUnavailable"),
        "{error}"
    );
    // The report says where the service is: still on the revision it ran.
    let first = world.task_definition.task_definition_arn().unwrap();
    assert!(
        error.contains(&format!("the service now runs {first}")),
        "{error}"
    );
    assert_eq!(run.outputs["rollout-result"], "failure");
    let attempts = count(&proxy.calls(), "UpdateService");
    assert!((2..=5).contains(&attempts), "bounded retries: {attempts}");
    drop(proxy);

    // Without the fault, the same commit goes through.
    let ecs = standins.ecs().await;
    let again = staging_deploy(&standins, &repository, &world, &[]).run();
    assert_eq!(again.code, 0, "{}", again.log());
    let running = world.running(&ecs).await;
    assert_eq!(
        running.as_deref(),
        Some(again.outputs["task-definition-arns"].as_str())
    );
    standins.figure(&format!(
        "persistent UpdateService 503: failed after {attempts} attempts naming the call, service left on its revision; a re-run converged"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_while_waiting_reports_the_new_revision_and_a_rerun_is_a_no_op() {
    // The preflight and the idle check pass; every poll of the rollout fails (5 SDK attempts).
    let (run, proxy, world, standins, repository) =
        deploy_through(&["DescribeServices=500*0"]).await;
    drop(proxy);
    assert_eq!(run.code, 0, "{}", run.log());
    let ours = run.outputs["task-definition-arns"].clone();

    let ecs = standins.ecs().await;
    // The preflight gets through (its read, seconds old, stands for the idle check); the first
    // poll of the rollout fails, with every SDK retry of it.
    let proxy = FaultProxy::start(&standins, &["DescribeServices=500*5@1"]);
    // No stale read: the faults hide every read of this update, and the re-run follows at once
    // (a stale read there is the preflight's business, tested in deploy.rs).
    standins
        .script_rollout(&world.service, "completed", 1, 0)
        .await;
    // Start from a fresh commit so a rollout happens; the fault hits its first poll.
    let build_args = format!("VERSION={}", unique("v"));
    let mut action = staging_deploy(
        &standins,
        &repository,
        &world,
        &[("build-args", build_args.as_str())],
    );
    action.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    drop(proxy);
    assert_ne!(run.code, 0, "{}", run.log());
    let error = run.the_error("fault");
    assert!(error.contains("DescribeServices"), "{error}");
    let running = world.running(&ecs).await;
    let now = running.as_deref().unwrap().to_string();
    assert_ne!(now, ours, "the update went through before the fault");
    assert!(
        error.contains(&format!("the service now runs {now}")),
        "the report names the revision: {error}"
    );

    let mut again = staging_deploy(&standins, &repository, &world, &[]);
    again.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    // Same commit, same build args: the same digest is already deployed.
    again.set("INPUT_BUILD-ARGS", &build_args);
    let rerun = again.run();
    assert_eq!(rerun.code, 0, "{}", rerun.log());
    assert!(
        rerun.stdout.contains("already runs this image"),
        "{}",
        rerun.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_answers_time_out_and_are_retried_or_reported() {
    let (run, proxy, _, standins, _) = deploy_through(&["DescribeRepositories=slow*1"]).await;
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        count(&proxy.calls(), "DescribeRepositories"),
        2,
        "one timed out, the retry passed"
    );
    drop(proxy);

    let (run, proxy, world, _, _) = deploy_through(&["DescribeRepositories=slow*20"]).await;
    assert_ne!(run.code, 0, "{}", run.log());
    let error = run.the_error("fault");
    assert!(
        error.contains("DescribeRepositories") && error.to_lowercase().contains("timeout"),
        "{error}"
    );
    let attempts = count(&proxy.calls(), "DescribeRepositories");
    let running = world.running(&standins.ecs().await).await;
    assert_eq!(
        running.as_deref(),
        world.task_definition.task_definition_arn(),
        "nothing changed"
    );
    standins.figure(&format!(
        "slow ECR answers (5 s, read timeout 2 s): one is retried and passes; persistent ones fail after {attempts} attempts naming the call"
    ));
}

/// The report is written however the run ends: RegisterTaskDefinition refused after the push
/// still leaves the pushed image's outputs for a later step to retry the rollout with.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollout_refused_after_the_push_still_outputs_the_image() {
    let (run, proxy, world, standins, repository) =
        deploy_through(&["RegisterTaskDefinition=refuse*1"]).await;
    assert_eq!(run.code, 1, "{}", run.log());
    assert_eq!(
        count(&proxy.calls(), "RegisterTaskDefinition"),
        1,
        "a 400 is not retried"
    );
    assert_eq!(count(&proxy.calls(), "UpdateService"), 0);
    let error = run.the_error("refused");
    assert!(error.contains("RegisterTaskDefinition"), "{error}");

    let registry = Registry {
        host: standins.registry(),
    };
    let digest = registry.digest(&repository, "staging").await;
    assert_eq!(run.outputs["digest"], digest, "{}", run.outputs_raw);
    assert_eq!(
        run.outputs["image"],
        format!("{}/{repository}@{digest}", standins.registry())
    );
    assert_eq!(run.outputs["tags"], "staging\nsha-4f2a9c1");
    assert_eq!(run.outputs["rollout-result"], "failure");
    assert_eq!(run.outputs["environment"], "staging");
    assert!(
        !run.outputs.contains_key("task-definition-arns"),
        "no revision was registered"
    );

    assert!(run.summary.contains("rollout failed"), "{}", run.summary);
    assert!(
        run.summary.contains("RegisterTaskDefinition"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(&digest), "{}", run.summary);
    assert!(
        run.summary
            .contains(&format!("| {} | | | not touched | |", world.service)),
        "{}",
        run.summary
    );
    // Written once: one heading, not a success summary and a failure summary.
    assert_eq!(
        run.summary.matches("\n## ").count() + usize::from(run.summary.starts_with("## ")),
        1
    );
    let running = world.running(&standins.ecs().await).await;
    assert_eq!(
        running.as_deref(),
        world.task_definition.task_definition_arn()
    );
}
