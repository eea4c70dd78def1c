//! The whole job: build, push, roll out; dry runs; setups that must fail before changing anything.

use crate::support::*;

/// A push to `git_ref` ends with both tags in the registry, the service on a new revision
/// pinned to the digest, the outputs written and no secret anywhere — as a host process, or as
/// PID 1 of a container the way the runner starts the action (`runner_container`).
async fn deploys_for_real(git_ref: &str, environment: &str, mode: Mode) {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/back-end");
    standins.ecr_repository(&repository, false).await;
    let registry = Registry {
        host: standins.registry(),
    };
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:{environment}", standins.registry()),
    )
    .await;
    let run_id = unique("run");
    let action = ActionRun::new(
        &standins,
        git_ref,
        &run_id,
        &[
            ("ecr-repository", &repository),
            ("ecs-cluster", &world.cluster),
            ("ecs-services", &world.service),
            ("wait-timeout-minutes", "2"),
        ],
    )
    .in_mode(mode);

    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());

    // Outputs.
    let digest = run.outputs["digest"].clone();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{}",
        run.outputs_raw
    );
    assert_eq!(run.outputs["environment"], environment);
    assert_eq!(
        run.outputs["image"],
        format!("{}/{repository}@{digest}", standins.registry())
    );
    assert_eq!(run.outputs["tags"], format!("{environment}\nsha-4f2a9c1"));
    assert_eq!(run.outputs["aws-account-id"], "123456789012");

    // The registry: both tags, one digest, an arm64 image.
    assert_eq!(registry.digest(&repository, environment).await, digest);
    assert_eq!(registry.digest(&repository, "sha-4f2a9c1").await, digest);
    assert_eq!(
        registry.platform(&repository, &digest).await,
        ("arm64".to_string(), "linux".to_string())
    );

    // ECS: the service runs a new revision; only the api container's image changed.
    let new_arn = run.outputs["task-definition-arns"].clone();
    let running = world.running(&ecs).await;
    assert_eq!(running.as_deref(), Some(new_arn.as_str()));
    let old = &world.task_definition;
    let described = ecs
        .describe_task_definition()
        .task_definition(&new_arn)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    let new = described.task_definition().unwrap();
    assert_eq!(new.revision(), old.revision() + 1);
    let containers = new.container_definitions();
    assert_eq!(containers[0].image(), Some(run.outputs["image"].as_str()));
    let mut expected_api = old.container_definitions()[0].clone();
    expected_api.image = Some(run.outputs["image"].clone());
    assert_eq!(containers[0], expected_api, "api changed beyond its image");
    assert_eq!(
        containers[1],
        old.container_definitions()[1],
        "the sidecar changed"
    );
    assert_eq!(new.family(), old.family());
    assert_eq!(new.network_mode(), old.network_mode());
    assert_eq!((new.cpu(), new.memory()), (old.cpu(), old.memory()));
    // The revision's tags are copied, and ours say what it replaced and which commit it is.
    let tag = |key: &str| {
        described
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    assert_eq!(
        tag("team").as_deref(),
        Some("backend"),
        "tags were not copied"
    );
    assert_eq!(
        tag("deploy-action:replaces").as_deref(),
        old.task_definition_arn()
    );
    assert_eq!(
        tag("deploy-action:commit").as_deref(),
        Some("4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c")
    );
    assert_eq!(described.tags().len(), 3);

    // Summary, and no secret anywhere.
    assert!(run.summary.contains(&digest), "{}", run.summary);
    assert!(run.summary.contains("completed"), "{}", run.summary);
    assert!(
        run.stdout.contains("── OIDC token claims ──"),
        "{}",
        run.log()
    );
    // The claims are those of this run's token: its `sub` names this run's branch.
    assert!(
        run.stdout
            .contains(&format!("sub: repo:operationcode/back-end:ref:{git_ref}\n")),
        "{}",
        run.log()
    );
    run.assert_groups_balanced();
    assert!(
        !run.stdout.contains("::warning"),
        "a clean deploy warns of nothing: {}",
        run.log()
    );
    run.assert_secrets_kept(&standins, &format!("deploy-action-{run_id}"))
        .await;
    assert!(
        run.leftover_temp_files.is_empty(),
        "the private docker config outlived the run: {:?}",
        run.leftover_temp_files
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn feature_branch_deploys_staging() {
    deploys_for_real("refs/heads/feature/login", "staging", Mode::Host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn feature_branch_deploys_staging_in_a_runner_container() {
    deploys_for_real("refs/heads/feature/login", "staging", Mode::RunnerContainer).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn main_deploys_prod() {
    deploys_for_real("refs/heads/main", "prod", Mode::Host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_changes_nothing() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/dry");
    let world = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", &repository),
            ("ecs-cluster", &world.cluster),
            ("ecs-services", &world.service),
            ("dry-run", "true"),
        ],
    );
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(&format!(
            "push:         {}/{repository}:prod",
            standins.registry()
        )),
        "{}",
        run.log()
    );
    assert!(run.summary.contains("dry run"), "{}", run.summary);
    assert!(
        Registry {
            host: standins.registry()
        }
        .tags(&repository)
        .await
        .is_empty()
    );
    // It looked (read-only) and says what would change.
    let diff = format!(
        "container api image: {0}/{repository}:prod → {0}/{repository}@<digest of this build>",
        standins.registry()
    );
    assert!(run.stdout.contains(&diff), "{}", run.log());
    assert!(run.summary.contains(&diff), "{}", run.summary);
    run.assert_no_token_leaks(&standins);
    let latest = ecs
        .describe_task_definition()
        .task_definition(world.task_definition.family().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        latest.task_definition().unwrap().revision(),
        1,
        "a dry run registered a revision"
    );
    let running = world.running(&ecs).await;
    assert_eq!(
        running.as_deref(),
        world.task_definition.task_definition_arn()
    );
}

/// Failures before anything changes: exit ≠ 0, one clear error naming the problem, nothing
/// pushed, the service untouched.
#[tokio::test(flavor = "multi_thread")]
async fn bad_setups_fail_before_changing_anything() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let registry = Registry {
        host: standins.registry(),
    };
    let repository = unique("e2e/bad");
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let base = [
        ("ecr-repository", repository.as_str()),
        ("ecs-cluster", world.cluster.as_str()),
        ("ecs-services", world.service.as_str()),
    ];

    type Edit = fn(&mut ActionRun);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "no OIDC token for the job",
            |run| run.remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            "id-token: write",
        ),
        (
            "a region that is not one",
            |run| run.set("INPUT_AWS-REGION", "us-east"),
            "aws-region",
        ),
        (
            "a service that does not exist",
            |run| {
                run.set("INPUT_ECS-SERVICES", "no-such-service");
                // iam-policy cannot read a service that is not there: the roles are named.
                run.pass_roles
                    .push("arn:aws:iam::123456789012:role/ecsTaskExecutionRole".into());
            },
            "no-such-service",
        ),
        (
            "a container that does not exist",
            |run| run.set("INPUT_CONTAINER-NAMES", "web"),
            "its containers are: api, otel",
        ),
        (
            "a wrong OIDC request token",
            |run| run.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong"),
            "401",
        ),
    ];
    for (case, edit, expected) in cases {
        let mut action = ActionRun::new(&standins, "refs/heads/feature/x", &unique("run"), &base);
        edit(&mut action);
        let run = action.run();
        assert_ne!(run.code, 0, "{case}: {}", run.log());
        let error = run.the_error(case);
        assert!(
            error.contains(expected),
            "{case}: expected `{expected}` in {error}"
        );
        assert!(run.summary.contains("failed"), "{case}: {}", run.summary);
        run.assert_no_token_leaks(&standins);
        assert!(
            run.leftover_temp_files.is_empty(),
            "{case}: the private docker config outlived a failure"
        );
        // Only what is known is written: nothing was pushed or rolled.
        for name in [
            "image",
            "digest",
            "tags",
            "task-definition-arns",
            "rollout-result",
        ] {
            assert!(
                !run.outputs.contains_key(name),
                "{case}: output {name} written: {}",
                run.outputs_raw
            );
        }
    }
    assert!(
        registry.tags(&repository).await.is_empty(),
        "an image was pushed"
    );
    let running = world.running(&ecs).await;
    assert_eq!(
        running.as_deref(),
        world.task_definition.task_definition_arn()
    );
}

/// Two services on one task definition share one new revision; both roll; a re-run of the
/// same commit changes nothing and succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn services_sharing_a_revision_share_the_new_one_and_reruns_converge() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/pair");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let second = world.add_service(&ecs).await;
    let services = format!("{}\n{second}", world.service);
    let inputs = [
        ("ecr-repository", repository.as_str()),
        ("ecs-cluster", world.cluster.as_str()),
        ("ecs-services", services.as_str()),
    ];
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/pair",
        &unique("run"),
        &inputs,
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let arns: Vec<&str> = run.outputs["task-definition-arns"].lines().collect();
    assert_eq!(arns.len(), 2, "{}", run.outputs_raw);
    assert_eq!(arns[0], arns[1], "one new revision for both");
    assert_eq!(
        run.stdout.matches("registered arn:").count(),
        1,
        "{}",
        run.log()
    );
    let described = ecs
        .describe_services()
        .cluster(&world.cluster)
        .services(&world.service)
        .services(&second)
        .send()
        .await
        .unwrap();
    for service in described.services() {
        assert_eq!(service.task_definition(), Some(arns[0]));
    }

    // The same commit again: nothing registered, nothing updated, success.
    let again = ActionRun::new(
        &standins,
        "refs/heads/feature/pair",
        &unique("run"),
        &inputs,
    )
    .run();
    assert_eq!(again.code, 0, "{}", again.log());
    assert_eq!(
        again.stdout.matches("registered arn:").count(),
        0,
        "{}",
        again.log()
    );
    assert_eq!(
        again.stdout.matches("already runs this image").count(),
        2,
        "{}",
        again.log()
    );
    assert_eq!(
        again.outputs["task-definition-arns"],
        run.outputs["task-definition-arns"]
    );
    assert!(
        again.summary.contains("already running this image"),
        "{}",
        again.summary
    );
}

/// `task-definition`: the new revision comes from the file (every field of it, read by the
/// SDK), with the image pinned, and the service rolls to it.
#[tokio::test(flavor = "multi_thread")]
async fn renders_from_a_task_definition_file() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/file");
    standins.ecr_repository(&repository, false).await;
    let image = format!("{}/{repository}:staging", standins.registry());
    let world = EcsWorld::create(&ecs, &image).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    let document = serde_json::json!({
        "taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-2:123456789012:task-definition/ignored:3",
            "family": world.task_definition.family().unwrap(),
            "revision": 3,
            "registeredAt": "2026-11-01T10:00:00.123000+00:00",
            "networkMode": "bridge",
            "cpu": "512",
            "memory": "1024",
            "containerDefinitions": [
                {"name": "api", "image": image, "essential": true, "memory": 512,
                 "environment": [{"name": "LOG_LEVEL", "value": "debug"}]}
            ]
        },
        "tags": [{"key": "source", "value": "file"}]
    });
    std::fs::write(file.path(), document.to_string()).unwrap();
    let path = file.path().display().to_string();
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/file",
        &unique("run"),
        &deploy_inputs(&repository, &world, &[("task-definition", path.as_str())]),
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let described = ecs
        .describe_task_definition()
        .task_definition(&run.outputs["task-definition-arns"])
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    let new = described.task_definition().unwrap();
    assert_eq!(new.cpu(), Some("512"));
    let api = &new.container_definitions()[0];
    assert_eq!(api.image(), Some(run.outputs["image"].as_str()));
    assert_eq!(api.environment()[0].value(), Some("debug"));
    assert_eq!(
        new.container_definitions().len(),
        1,
        "the file's containers, not the running ones"
    );
    assert_eq!(described.tags()[0].value(), Some("file"));
}

/// `deregister-previous` retires the replaced revision after a successful rollout; a failed
/// health check turns a completed rollout into a failure, rolled back to the previous revision.
#[tokio::test(flavor = "multi_thread")]
async fn housekeeping_and_a_failing_health_check() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/health");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/health",
        &unique("run"),
        &deploy_inputs(&repository, &world, &[("deregister-previous", "true")]),
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let old = ecs
        .describe_task_definition()
        .task_definition(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.task_definition().unwrap().status(),
        Some(&aws_sdk_ecs::types::TaskDefinitionStatus::Inactive),
        "the replaced revision is deregistered"
    );
    let second = run.outputs["task-definition-arns"].clone();

    // A new commit whose health check never passes: the service goes back to `second`.
    let unhealthy = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("starting"))
        .mount(&unhealthy)
        .await;
    let url = format!("{}/health", unhealthy.uri());
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/health",
        &unique("run"),
        &deploy_inputs(
            &repository,
            &world,
            &[
                ("health-check-url", url.as_str()),
                ("health-check-timeout-seconds", "3"),
            ],
        ),
    );
    action.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    action.set("INPUT_BUILD-ARGS", &format!("VERSION={}", unique("v")));
    let run = action.run();
    assert_ne!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("the health check failed"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout.contains("rolled back to revision"),
        "{}",
        run.log()
    );
    let running = world.running(&ecs).await;
    assert_eq!(running.as_deref(), Some(second.as_str()));
    assert!(run.summary.contains("rolled back"), "{}", run.summary);
    run.assert_groups_balanced();
    run.assert_no_token_leaks(&standins);
    assert!(
        run.leftover_temp_files.is_empty(),
        "the private docker config outlived a failure"
    );
}

/// More services than one DescribeServices call takes (10): all are found and rolled.
#[tokio::test(flavor = "multi_thread")]
async fn eleven_services_roll_in_one_run() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/eleven");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let mut services = vec![world.service.clone()];
    for _ in 0..10 {
        services.push(world.add_service(&ecs).await);
    }
    let list = services.join(",");
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/eleven",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("ecs-cluster", world.cluster.as_str()),
            ("ecs-services", list.as_str()),
        ],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let arns: Vec<&str> = run.outputs["task-definition-arns"].lines().collect();
    assert_eq!(arns.len(), 11, "{}", run.outputs_raw);
    assert!(
        arns.iter().all(|arn| *arn == arns[0]),
        "one shared revision"
    );
    assert_eq!(world.running(&ecs).await.as_deref(), Some(arns[0]));
}

/// A replaced revision another service of the cluster still runs is kept; `wait: false` starts
/// the rollout and says so; `previous-task-definition-arns` names what the service ran before.
#[tokio::test(flavor = "multi_thread")]
async fn deregister_keeps_a_revision_in_use_and_wait_false_only_starts() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/shared");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    // Not part of the run, on the same revision.
    let bystander = world.add_service(&ecs).await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/shared",
        &unique("run"),
        &deploy_inputs(&repository, &world, &[("deregister-previous", "true")]),
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["previous-task-definition-arns"], first);
    assert!(
        run.stdout
            .contains(&format!("kept {first}: service {bystander} still uses it")),
        "{}",
        run.log()
    );
    let old = ecs
        .describe_task_definition()
        .task_definition(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.task_definition().unwrap().status(),
        Some(&aws_sdk_ecs::types::TaskDefinitionStatus::Active),
        "a revision another service runs stays registered"
    );
    let second = run.outputs["task-definition-arns"].clone();

    // A new commit, not waited for.
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/shared",
        &unique("run"),
        &deploy_inputs(&repository, &world, &[("wait", "false")]),
    );
    action.set("GITHUB_SHA", "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b");
    action.set("INPUT_BUILD-ARGS", &format!("VERSION={}", unique("v")));
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["rollout-result"], "started");
    assert_eq!(run.outputs["previous-task-definition-arns"], second);
    let third = run.outputs["task-definition-arns"].clone();
    assert_ne!(third, second);
    assert_eq!(world.running(&ecs).await.as_deref(), Some(third.as_str()));
    assert!(
        run.summary.contains("started (not waited for)"),
        "{}",
        run.summary
    );
}

/// The whole job driven by `.github/deploy.toml` in the checkout, run as the runner runs the
/// action: the region, role, repository, cluster and services come from the file's
/// `[defaults]` and the environment its branch rule picks; the step gives only the stand-ins'
/// registry. The service ends on the new revision, tagged with the environment's tag.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_toml_drives_a_run_in_a_runner_container() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/config");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:preview", standins.registry()),
    )
    .await;
    let mut action =
        ActionRun::new(&standins, "refs/heads/feature/toml", &unique("run"), &[]).in_container();
    let file = format!(
        r#"[defaults]
aws-region = "{REGION}"
role-to-assume = "{ROLE}"
ecr-repository = "{repository}"
wait-timeout-minutes = 2

[environments.prod]
branches = ["main"]
ecs-cluster = "nowhere"
ecs-services = ["nothing"]

[environments.previews]
branches = ["feature/*"]
tag = "preview"
ecs-cluster = "{cluster}"
ecs-services = ["{service}"]

[environments.previews.containers.api]
environment-variables = {{ SENTRY_ENVIRONMENT = "preview" }}
secrets = {{ JWT_SECRET_KEY = "arn:aws:secretsmanager:{REGION}:123456789012:secret:back-end/jwt-AbCdEf" }}
unset = ["JWT_PUBLIC_KEY"]
"#,
        cluster = world.cluster,
        service = world.service
    );
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
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["environment"], "preview");
    assert_eq!(run.outputs["tags"], "preview\nsha-4f2a9c1");
    assert_eq!(
        world.running(&ecs).await.as_deref(),
        Some(run.outputs["task-definition-arns"].as_str())
    );
    // The seed's migration: a variable set, the secret by reference, the old key gone; the
    // sidecar untouched.
    let new = ecs
        .describe_task_definition()
        .task_definition(&run.outputs["task-definition-arns"])
        .send()
        .await
        .unwrap();
    let api = &new.task_definition().unwrap().container_definitions()[0];
    let variables: Vec<&str> = api.environment().iter().filter_map(|p| p.name()).collect();
    assert_eq!(variables, ["LOG_LEVEL", "SENTRY_ENVIRONMENT"]);
    assert_eq!(api.secrets().len(), 1);
    assert_eq!(api.secrets()[0].name(), "JWT_SECRET_KEY");
    assert!(
        api.secrets()[0]
            .value_from()
            .ends_with(":secret:back-end/jwt-AbCdEf")
    );
    assert_eq!(
        new.task_definition().unwrap().container_definitions()[1],
        world.task_definition.container_definitions()[1]
    );
    assert!(
        run.stdout
            .contains("config:       .github/deploy.toml (environment previews)")
            || run.stdout.contains("deploy.toml (environment previews)"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout
            .contains("from deploy.toml [environments.previews] line"),
        "{}",
        run.log()
    );
    run.assert_no_token_leaks(&standins);
}

/// A dry run with a config file: the per-service diff names the variables set and removed (no
/// values) and each secret with its `valueFrom`; an input given to the step beats the file, and
/// the plan says so. Nothing is registered or updated.
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_shows_the_config_files_container_changes_and_inputs_win() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/toml-dry");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/dry",
        &unique("run"),
        &[("dry-run", "true"), ("extra-tags", "from-the-step")],
    );
    let file = format!(
        r#"[defaults]
ecr-repository = "{repository}"
extra-tags = ["from-the-file"]

[environments.staging]
branches = ["*"]
ecs-cluster = "{cluster}"
ecs-services = ["{service}"]

[environments.staging.containers.api]
environment-variables = {{ SENTRY_ENVIRONMENT = "staging" }}
secrets = {{ JWT_SECRET_KEY = "arn:aws:secretsmanager:{REGION}:123456789012:secret:jwt-AbCdEf" }}
unset = ["JWT_PUBLIC_KEY"]
"#,
        cluster = world.cluster,
        service = world.service
    );
    action.config_file(
        &file,
        &[
            ("ecr-repository", repository.as_str()),
            ("ecs-cluster", world.cluster.as_str()),
            ("ecs-services", world.service.as_str()),
        ],
    );
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    for expected in [
        "container api environment: JWT_PUBLIC_KEY removed → SENTRY_ENVIRONMENT set",
        "container api secret JWT_SECRET_KEY: (none) → arn:aws:secretsmanager:",
        "push:         ",
        ":from-the-step",
        "extra-tags                   from input",
    ] {
        assert!(run.stdout.contains(expected), "{expected}: {}", run.log());
    }
    assert!(!run.stdout.contains("from-the-file"), "{}", run.log());
    assert!(
        !run.stdout.contains("-----BEGIN PUBLIC KEY"),
        "a variable's value in the diff: {}",
        run.log()
    );
    assert_eq!(
        world.running(&ecs).await.as_deref(),
        world.task_definition.task_definition_arn(),
        "a dry run changed the service"
    );
}

/// One `deploy.toml` like the example drives both of the seed's flows with no input at all
/// (only the runner's variables): a push to `main` goes to the prod cluster, where `api` gets
/// `SENTRY_ENVIRONMENT`, `JWT_SECRET_KEY` as a secret and loses `JWT_PUBLIC_KEY`; a push to a
/// feature branch goes to staging.
#[tokio::test(flavor = "multi_thread")]
async fn one_deploy_toml_drives_main_to_prod_and_a_branch_to_staging() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/two-flows");
    standins.ecr_repository(&repository, false).await;
    let image = format!("{}/{repository}:staging", standins.registry());
    let prod = EcsWorld::create(&ecs, &image).await;
    let staging = EcsWorld::create(&ecs, &image).await;
    let secret = format!("arn:aws:secretsmanager:{REGION}:123456789012:secret:back-end/jwt-AbCdEf");
    let file = format!(
        r#"[defaults]
aws-region = "{REGION}"
role-to-assume = "{ROLE}"
ecr-repository = "{repository}"
context = "{context}"

[environments.prod]
branches = ["main"]
ecs-cluster = "{prod_cluster}"
ecs-services = ["{prod_service}"]

[environments.prod.containers.api]
environment-variables = {{ SENTRY_ENVIRONMENT = "production" }}
secrets = {{ JWT_SECRET_KEY = "{secret}" }}
unset = ["JWT_PUBLIC_KEY"]

[environments.staging]
branches = ["*"]
ecs-cluster = "{staging_cluster}"
ecs-services = ["{staging_service}"]
"#,
        context = app_dir().display(),
        prod_cluster = prod.cluster,
        prod_service = prod.service,
        staging_cluster = staging.cluster,
        staging_service = staging.service,
    );
    let run_on = |git_ref: &str, world: &EcsWorld| {
        let mut action = ActionRun::new(&standins, git_ref, &unique("run"), &[]);
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
        action.remove("INPUT_CONTEXT");
        // `registry` is a guard (the file may not say where the ECR password goes): only the
        // stand-in's registry, which a real run never needs, is an input; every other input
        // arrives as the runner passes one not given, `""`.
        assert!(
            !action
                .env
                .iter()
                .any(|(key, value)| key.starts_with("INPUT_")
                    && !value.is_empty()
                    && key != "INPUT_REGISTRY"),
            "an input was given: {:?}",
            action.env
        );
        action.run()
    };

    let run = run_on("refs/heads/main", &prod);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["environment"], "prod");
    let api = &prod.new_api_container(&ecs, &run).await;
    let variables: Vec<(&str, &str)> = api
        .environment()
        .iter()
        .map(|p| (p.name().unwrap(), p.value().unwrap()))
        .collect();
    assert_eq!(
        variables,
        [("LOG_LEVEL", "info"), ("SENTRY_ENVIRONMENT", "production")]
    );
    assert_eq!(api.secrets()[0].name(), "JWT_SECRET_KEY");
    assert_eq!(api.secrets()[0].value_from(), secret);
    assert_eq!(
        staging.running(&ecs).await.as_deref(),
        staging.task_definition.task_definition_arn(),
        "main reached staging"
    );

    let run = run_on("refs/heads/feature/login", &staging);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["environment"], "staging");
    let api = staging.new_api_container(&ecs, &run).await;
    assert!(api.secrets().is_empty(), "staging got prod's secret");
}
