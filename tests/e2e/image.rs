//! Images for real: arm64 RUN steps under qemu, build args, labels and secrets in the image,
//! a rebuild that uploads nothing, promotion without a rebuild, and the repository checks.

use crate::support::*;
use std::path::Path;
use std::time::Instant;

/// An arm64 image whose RUN steps ran under qemu, with the build args, labels and OCI labels
/// in its config, and a build secret that was usable but is in neither the image nor the log.
#[tokio::test(flavor = "multi_thread")]
async fn arm64_run_steps_args_labels_and_secrets_land_where_they_should() {
    let standins = StandIns::get();
    let repository = unique("e2e/arm64");
    standins.ecr_repository(&repository, false).await;
    let secret = format!("s3cr3t-{}", unique("token"));
    // A version of its own: the RUN steps after `ARG VERSION` cannot come from another run's
    // cache (BuildKit does not key a step on the secret's contents).
    let version = unique("1.2.3");
    let build_args = format!("VERSION={version}");
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/arm64",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("build-args", build_args.as_str()),
            ("labels", "com.example.team=backend"),
            ("build-secrets", "token=DEPLOY_TEST_SECRET"),
        ],
    );
    let app = arm64_app(action.dir.path());
    action.set("INPUT_CONTEXT", &app.display().to_string());
    action.set("DEPLOY_TEST_SECRET", &secret);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());

    let registry = Registry {
        host: standins.registry(),
    };
    let digest = &run.outputs["digest"];
    let (manifest, config) = registry.manifest_and_config(&repository, digest).await;
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(
        manifest["layers"].as_array().unwrap().len(),
        3,
        "COPY and two RUN steps"
    );
    let labels = &config["config"]["Labels"];
    assert_eq!(
        labels["com.example.version"],
        version.as_str(),
        "the build arg reached the build"
    );
    assert_eq!(labels["com.example.team"], "backend");
    assert_eq!(
        labels["org.opencontainers.image.revision"],
        "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c"
    );
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.com/operationcode/back-end"
    );
    assert_eq!(labels["org.opencontainers.image.ref.name"], "feature/arm64");
    assert_eq!(
        labels["org.opencontainers.image.created"], "2026-11-20T09:30:00+01:00",
        "the commit's time"
    );

    let saved = saved_image(
        &standins,
        &format!("{}/{repository}:staging", standins.registry()),
    );
    assert!(contains(&saved, "built by a RUN step under qemu"));
    assert!(
        contains(
            &saved,
            &format!("secret mounted: read {} bytes", secret.len())
        ),
        "the RUN step could read the secret"
    );
    assert!(!contains(&saved, &secret), "the secret is in the image");
    run.assert_masked("the build secret", &secret);
    run.assert_no_leak("the build secret", &secret);
}

/// A second build of the same source uploads no layer; the figures go to the test output.
#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_without_changes_uploads_nothing() {
    let standins = StandIns::get();
    let repository = unique("e2e/rebuild");
    standins.ecr_repository(&repository, false).await;
    // New to this engine and registry, so the first build is cold: its RUN layers are new.
    let build_args = format!("VERSION={}", unique("cold"));
    let run_once = |label: &str| {
        let mut action = ActionRun::new(
            &standins,
            "refs/heads/feature/cache",
            &unique("run"),
            &[
                ("ecr-repository", repository.as_str()),
                ("build-secrets", "token=DEPLOY_TEST_SECRET"),
                ("build-args", build_args.as_str()),
            ],
        );
        let app = arm64_app(action.dir.path());
        action.set("INPUT_CONTEXT", &app.display().to_string());
        action.set("DEPLOY_TEST_SECRET", "the same secret each time");
        let started = Instant::now();
        let run = action.run();
        assert_eq!(run.code, 0, "{label}: {}", run.log());
        (run, started.elapsed())
    };
    let (cold, cold_time) = run_once("cold");
    let after_cold = standins.blob_uploads(&repository);
    let (again, again_time) = run_once("again");
    let after_again = standins.blob_uploads(&repository);
    assert!(
        after_cold >= 3,
        "the cold build uploaded its two RUN layers and its config ({after_cold})"
    );
    assert_eq!(after_again - after_cold, 0, "the rebuild uploaded blobs");
    assert_eq!(
        cold.outputs["digest"], again.outputs["digest"],
        "same source, same image"
    );
    standins.figure(&format!(
        "cold arm64 build and push (3 layers, RUN under qemu): {:.2}s wall, {after_cold} blob uploads",
        cold_time.as_secs_f64()
    ));
    standins.figure(&format!(
        "no-change rebuild: {:.2}s wall, {} blob uploads",
        again_time.as_secs_f64(),
        after_again - after_cold
    ));
}

/// Build staging once, then promote it to prod: the same digest, no upload, no rebuild, and
/// the production service rolls to it.
#[tokio::test(flavor = "multi_thread")]
async fn promote_moves_prod_to_the_staging_digest_without_uploading() {
    promotes(Mode::Host).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_in_a_runner_container() {
    promotes(Mode::RunnerContainer).await;
}

async fn promotes(mode: Mode) {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/promote");
    standins.ecr_repository(&repository, false).await;
    let staging = ActionRun::new(
        &standins,
        "refs/heads/feature/promote",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    )
    .run();
    assert_eq!(staging.code, 0, "{}", staging.log());
    let staging_digest = staging.outputs["digest"].clone();

    let world = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let uploads_before = standins.blob_uploads(&repository);
    let mut promote = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("mode", "promote"),
            ("promote-from", "staging"),
            ("ecs-cluster", world.cluster.as_str()),
            ("ecs-services", world.service.as_str()),
        ],
    )
    .in_mode(mode);
    // Nothing is built: the context does not even exist.
    promote.set("INPUT_CONTEXT", "/nonexistent");
    let started = Instant::now();
    let run = promote.run();
    let elapsed = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["digest"], staging_digest);
    assert_eq!(run.outputs["tags"], "prod");
    let registry = Registry {
        host: standins.registry(),
    };
    assert_eq!(registry.digest(&repository, "prod").await, staging_digest);
    assert_eq!(
        standins.blob_uploads(&repository),
        uploads_before,
        "promotion uploaded blobs"
    );
    assert!(
        !run.stdout.contains("building "),
        "promotion built something: {}",
        run.log()
    );
    let running = world.running(&ecs).await;
    let deployed = ecs
        .describe_task_definition()
        .task_definition(running.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        deployed.task_definition().unwrap().container_definitions()[0]
            .image()
            .unwrap()
            .ends_with(&staging_digest)
    );
    assert_eq!(run.outputs["rollout-result"], "success");
    assert!(run.summary.contains(&staging_digest), "{}", run.summary);
    // The image's own commit, read from its config: the one this run is for.
    assert_eq!(run.outputs["image-revision"], RUN_SHA);
    assert!(
        run.stdout.contains("that is this run's commit"),
        "{}",
        run.log()
    );
    run.assert_no_token_leaks(&standins);
    standins.figure(&format!(
        "promote staging → prod through the registry API, with the ECS rollout ({mode:?}): {:.2}s wall, 0 blob uploads",
        elapsed.as_secs_f64()
    ));
    if mode == Mode::RunnerContainer {
        return;
    }

    // No promote-from: the commit's own sha- tag (what this commit built), not `staging`.
    let mut own = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[("ecr-repository", repository.as_str()), ("mode", "promote")],
    );
    own.set("INPUT_CONTEXT", "/nonexistent");
    let run = own.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["digest"], staging_digest);
    assert!(run.stdout.contains("sha-4f2a9c1"), "{}", run.log());

    // A source that is not there: a clear error naming the nearest tags.
    let mut missing = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("mode", "promote"),
            ("promote-from", "stagin"),
        ],
    );
    missing.set("INPUT_CONTEXT", "/nonexistent");
    let run = missing.run();
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("there is no") && run.stdout.contains("nearest tags"),
        "{}",
        run.log()
    );
    assert!(run.stdout.contains("staging"), "{}", run.log());
}

/// An ECR repository (in moto) holding one image manifest under `tag`, built from the runs'
/// commit (its config's revision label); its digest.
pub async fn repository_with_image(standins: &StandIns, repository: &str, tag: &str) -> String {
    standins.ecr_repository(repository, false).await;
    image_in_ecr(standins, repository, tag, Some(RUN_SHA)).await
}

/// Put an image manifest under `tag` whose config (served by the strict stand-in) has
/// `revision` as its `org.opencontainers.image.revision` label, or no label.
pub async fn image_in_ecr(
    standins: &StandIns,
    repository: &str,
    tag: &str,
    revision: Option<&str>,
) -> String {
    let labels = match revision {
        Some(revision) => serde_json::json!({"org.opencontainers.image.revision": revision}),
        None => serde_json::json!({}),
    };
    let config = serde_json::json!({
        "architecture": "arm64", "os": "linux",
        "config": {"Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": []}
    })
    .to_string();
    let config_digest = standins.ecr_layer(repository, config.as_bytes()).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": config_digest},
        "layers": []
    });
    let put = standins
        .ecr()
        .await
        .put_image()
        .repository_name(repository)
        .image_manifest(manifest.to_string())
        .image_tag(tag)
        .send()
        .await
        .unwrap();
    put.image()
        .and_then(|image| image.image_id())
        .and_then(|id| id.image_digest())
        .unwrap()
        .to_string()
}

/// Promotion through ECR's own API (no registry override), with a one-service rollout: no
/// registry login and no DescribeImages (PutImage's answer is the digest's truth), and the
/// preflight's fresh read stands for the idle check; the image's config is read once (which
/// commit it holds) — 10 AWS requests with one poll.
#[tokio::test(flavor = "multi_thread")]
async fn promote_through_the_ecr_api() {
    let standins = StandIns::get();
    let ecr = standins.ecr().await;
    let repository = unique("e2e/ecr-promote");
    let digest = repository_with_image(&standins, &repository, "sha-0000001").await;
    let ecr_host = "123456789012.dkr.ecr.us-east-2.amazonaws.com";
    let ecs = standins.ecs().await;
    let world = EcsWorld::create(&ecs, &format!("{ecr_host}/{repository}:prod")).await;
    standins
        .script_rollout(&world.service, "completed", 1, 0)
        .await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &deploy_inputs(
            &repository,
            &world,
            &[("mode", "promote"), ("promote-from", "sha-0000001")],
        ),
    );
    action.remove("INPUT_REGISTRY");
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["digest"], digest);
    assert_eq!(
        run.outputs["image"],
        format!("{ecr_host}/{repository}@{digest}")
    );
    assert_eq!(run.outputs["rollout-result"], "success");
    let calls = proxy.calls();
    assert_eq!(
        calls,
        [
            "AssumeRoleWithWebIdentity",
            "DescribeServices",
            "DescribeTaskDefinition",
            "DescribeRepositories",
            "BatchGetImage",
            "GetDownloadUrlForLayer",
            "PutImage",
            "RegisterTaskDefinition",
            "UpdateService",
            "DescribeServices",
        ],
        "promote + one-service deploy, one poll"
    );
    standins.figure(&format!(
        "P6 promote + one-service deploy through ECR's API: {} AWS requests including one poll",
        calls.len()
    ));
    let described = ecr
        .describe_images()
        .repository_name(&repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag("prod")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.image_details()[0].image_digest(),
        Some(digest.as_str())
    );
}

/// A missing repository fails before anything is built, unless the action may create it.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_repository_fails_early_or_is_created() {
    let standins = StandIns::get();
    let registry = Registry {
        host: standins.registry(),
    };
    let repository = unique("e2e/missing");
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/x",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    )
    .run();
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("does not exist") && run.stdout.contains("create-repository: true"),
        "{}",
        run.log()
    );
    assert!(!run.stdout.contains("building "), "{}", run.log());
    assert!(registry.tags(&repository).await.is_empty());

    let policy = tempfile::NamedTempFile::new().unwrap();
    let policy_text = r#"{"rules":[{"rulePriority":1,"description":"keep 30","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}]}"#;
    std::fs::write(policy.path(), policy_text).unwrap();
    let path = policy.path().display().to_string();
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/x",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("create-repository", "true"),
            ("lifecycle-policy", path.as_str()),
        ],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    let ecr = standins.ecr().await;
    let created = ecr
        .describe_repositories()
        .repository_names(&repository)
        .send()
        .await
        .unwrap();
    let scanning = created.repositories()[0]
        .image_scanning_configuration()
        .unwrap();
    assert!(scanning.scan_on_push());
    let lifecycle = ecr
        .get_lifecycle_policy()
        .repository_name(&repository)
        .send()
        .await
        .unwrap();
    assert!(
        lifecycle
            .lifecycle_policy_text()
            .unwrap()
            .contains("imageCountMoreThan")
    );
    assert_eq!(registry.tags(&repository).await.len(), 2);
}

/// IMMUTABLE tags: the environment tag cannot move — a clear failure before building, or with
/// `immutable-tags: skip-moving` only the sha- tag is pushed and the service is pinned by digest.
#[tokio::test(flavor = "multi_thread")]
async fn immutable_tags_fail_early_or_skip_the_moving_tag() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let registry = Registry {
        host: standins.registry(),
    };
    let repository = unique("e2e/immutable");
    standins.ecr_repository(&repository, true).await;
    let run = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    )
    .run();
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("IMMUTABLE") && run.stdout.contains("skip-moving"),
        "{}",
        run.log()
    );
    assert!(registry.tags(&repository).await.is_empty());

    let world = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let run = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("immutable-tags", "skip-moving"),
            ("ecs-cluster", world.cluster.as_str()),
            ("ecs-services", world.service.as_str()),
        ],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        registry.tags(&repository).await,
        vec!["sha-4f2a9c1".to_string()]
    );
    assert_eq!(run.outputs["tags"], "sha-4f2a9c1");
    assert!(run.outputs["image"].contains("@sha256:"));
}

/// A docker CLI whose buildx is `fixtures/fake_buildx_docker.py` in front of the stand-ins'
/// engine, recording every call, installed as the run's `docker` (first on its PATH); returns
/// the record's path.
fn fake_buildx_docker(
    standins: &StandIns,
    dir: &std::path::Path,
    version: &str,
) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let calls = dir.join("docker-calls.jsonl");
    let fake =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/fake_buildx_docker.py");
    let script = dir.join("bin/docker");
    let _ = std::fs::remove_file(&script);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nFAKE_BUILDX_VERSION='{version}' exec python3 '{}' '{}' '{}' \"$@\"\n",
            fake.display(),
            calls.display(),
            standins.var("DEPLOY_ACTION_DOCKER")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    calls
}

/// What the fake docker CLI saw: every call's arguments, and the names of the environment
/// variables each call was given.
pub struct DockerCalls {
    pub all: Vec<Vec<String>>,
    pub env_names: Vec<Vec<String>>,
    /// Each `--secret` file buildx was given, and its mode as buildx found it (`0o600`).
    pub secret_files: Vec<Vec<String>>,
}

impl DockerCalls {
    fn read(record: &std::path::Path) -> Self {
        let lines = |path: &std::path::Path| -> Vec<Vec<String>> {
            std::fs::read_to_string(path)
                .unwrap_or_else(|error| {
                    panic!("the fake docker's record {}: {error}", path.display())
                })
                .lines()
                .map(|line| serde_json::from_str::<Vec<String>>(line).unwrap())
                .collect()
        };
        let secrets = record.with_extension("jsonl.secrets");
        Self {
            all: lines(record),
            env_names: lines(&record.with_extension("jsonl.env")),
            secret_files: if secrets.exists() {
                lines(&secrets)
            } else {
                Vec::new()
            },
        }
    }

    /// The buildx calls, in order.
    pub fn buildx(&self) -> Vec<Vec<String>> {
        self.all
            .iter()
            .filter(|args| args.first().map(String::as_str) == Some("buildx"))
            .cloned()
            .collect()
    }
}

/// A staging build of `repository` on the fake buildx CLI, taking build path `path`, with
/// extra environment `env`; the run and the docker calls it made.
pub fn build_with_fake_buildx(
    standins: &StandIns,
    repository: &str,
    path: &str,
    env: &[(&str, &str)],
) -> (Finished, DockerCalls) {
    build_with_fake_buildx_version(standins, repository, path, env, "v0.21.0")
}

/// [`build_with_fake_buildx`] with a buildx that says it is `version`.
pub fn build_with_fake_buildx_version(
    standins: &StandIns,
    repository: &str,
    path: &str,
    env: &[(&str, &str)],
    version: &str,
) -> (Finished, DockerCalls) {
    let mut action = ActionRun::new(
        standins,
        "refs/heads/feature/paths",
        &unique("run"),
        &[("ecr-repository", repository)],
    );
    let record = fake_buildx_docker(standins, action.dir.path(), version);
    action.set("DEPLOY_ACTION_BUILD_PATH", path);
    for (key, value) in env {
        action.set(key, value);
    }
    let run = action.run();
    // Read before the run's directory goes.
    let calls = DockerCalls::read(&record);
    (run, calls)
}

/// A build secret reaches buildx only as a file named on its command line: mode 0600 while the
/// build reads it, and gone when the step ends (it lives in the run's private config directory).
#[tokio::test(flavor = "multi_thread")]
async fn a_build_secret_is_a_private_file_gone_after_the_step() {
    let standins = StandIns::get();
    let repository = unique("e2e/secret-file");
    standins.ecr_repository(&repository, false).await;
    let secret = format!("s3cr3t-{}", unique("file"));
    let (run, calls) = build_with_fake_buildx(
        &standins,
        &repository,
        "buildx",
        &[
            ("INPUT_BUILD-SECRETS", "token=DEPLOY_TEST_SECRET"),
            ("DEPLOY_TEST_SECRET", &secret),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let [file] = calls.secret_files.as_slice() else {
        panic!("one secret file for buildx: {:?}", calls.secret_files);
    };
    assert_eq!(file[1], "0o600", "{file:?}");
    assert!(file[0].ends_with("/secret-token"), "{file:?}");
    assert!(
        !std::path::Path::new(&file[0]).exists(),
        "the secret file outlived the step: {}",
        file[0]
    );
    assert!(
        calls
            .buildx()
            .iter()
            .flatten()
            .all(|arg| !arg.contains(&secret)),
        "the secret's value reached a command line"
    );
    run.assert_masked("the build secret", &secret);
    run.assert_no_leak("the build secret", &secret);
}

/// GitHub's runners take the buildx path; this machine has no buildx plugin, so a fake one
/// (that builds with the engine and pushes for real) stands in, and the whole sequence runs:
/// builder created with the host's network (the registry is on 127.0.0.1; BuildKit speaks
/// plain HTTP to loopback registries — moby/buildkit util/resolver,
/// `ConfigureDefaultRegistries(WithPlainHTTP(MatchLocalhost))`), build with the registry cache,
/// digest read from the metadata file, builder removed.
#[tokio::test(flavor = "multi_thread")]
async fn both_build_paths_run_when_forced() {
    let standins = StandIns::get();
    let registry = Registry {
        host: standins.registry(),
    };
    let repository = unique("e2e/paths");
    standins.ecr_repository(&repository, false).await;

    let (run, docker_calls) = build_with_fake_buildx(&standins, &repository, "buildx", &[]);
    let calls = docker_calls.buildx();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.outputs["digest"],
        registry.digest(&repository, "staging").await,
        "the digest is the one buildx's metadata file names"
    );
    assert!(
        run.summary.contains("| how | buildx for linux/arm64"),
        "{}",
        run.summary
    );
    // The build printed workflow commands (a hostile RUN step): none reaches the runner as one.
    run.assert_no_outside_commands(&["forged", "after a carriage return"]);
    assert!(
        run.stdout.contains("› ::stop-commands::pwned"),
        "{}",
        run.log()
    );

    let verbs: Vec<&str> = calls.iter().map(|args| args[1].as_str()).collect();
    // The builder is asked which platforms it runs (arm64 through the host's qemu): no
    // privileged binfmt container runs.
    assert_eq!(
        verbs,
        ["version", "inspect", "create", "inspect", "build", "rm"],
        "{calls:?}"
    );
    let create = calls[2].join(" ");
    assert!(
        create.contains("--driver docker-container --driver-opt network=host"),
        "{create}"
    );
    let builder = &calls[2][calls[2].iter().position(|a| a == "--name").unwrap() + 1];
    // Unique per run, attempt and process: PID 1 is every container action's process id.
    assert!(
        builder.starts_with("deploy-action-run")
            && builder.len() > "deploy-action-run-1-".len() + 8,
        "{builder}"
    );
    assert_eq!(calls[3][1..], ["inspect", "--bootstrap", builder.as_str()]);
    let build = calls[4].join(" ");
    assert!(build.contains(&format!("--builder {builder}")), "{build}");
    assert!(
        build.contains(&format!(
            "--cache-to type=registry,ref={}/{repository}:buildcache-staging,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true",
            standins.registry()
        )),
        "{build}"
    );
    assert!(build.contains("--metadata-file"), "{build}");
    assert_eq!(
        calls[5][2], *builder,
        "the builder made for the run is removed"
    );
    assert!(
        !docker_calls
            .all
            .iter()
            .flatten()
            .any(|arg| arg.contains("binfmt")),
        "a qemu helper ran: {:?}",
        docker_calls.all
    );

    // The engine path, forced on the same CLI: no buildx at all.
    let (run, docker_calls) = build_with_fake_buildx(&standins, &repository, "engine", &[]);
    let calls = docker_calls.buildx();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.summary
            .contains("| how | BuildKit (docker build) for linux/arm64"),
        "{}",
        run.summary
    );
    assert!(calls.is_empty(), "{calls:?}");
    assert_eq!(
        run.outputs["digest"],
        registry.digest(&repository, "staging").await
    );
}

/// An ECR tag mutability exclusion filter (WILDCARD).
fn filter(tag: &str) -> aws_sdk_ecr::types::ImageTagMutabilityExclusionFilter {
    aws_sdk_ecr::types::ImageTagMutabilityExclusionFilter::builder()
        .filter_type(aws_sdk_ecr::types::ImageTagMutabilityExclusionFilterType::Wildcard)
        .filter(tag)
        .build()
        .unwrap()
}

/// The usual set-up, `sha-*` immutable and the environment tags mutable, written as
/// IMMUTABLE_WITH_EXCLUSION: a deploy just works with the default `immutable-tags: fail`.
#[tokio::test(flavor = "multi_thread")]
async fn immutable_with_exclusions_moves_the_excluded_tags() {
    use aws_sdk_ecr::types::ImageTagMutability;
    let standins = StandIns::get();
    let repository = unique("e2e/exclusions");
    standins
        .ecr()
        .await
        .create_repository()
        .repository_name(&repository)
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion)
        .image_tag_mutability_exclusion_filters(filter("staging"))
        .image_tag_mutability_exclusion_filters(filter("buildcache-*"))
        .send()
        .await
        .unwrap();
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/exclusions",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["tags"], "staging\nsha-4f2a9c1");

    // prod is not excluded: on main it cannot move, and the run says so before building.
    let run = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    )
    .run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("prod is immutable");
    assert!(
        error.contains("IMMUTABLE_WITH_EXCLUSION tags, so `prod` cannot move"),
        "{error}"
    );
    assert!(
        !run.stdout.contains("::group::image"),
        "nothing was built: {}",
        run.log()
    );
}

/// `registry` naming an ECR host (here moto's own account, named explicitly, as a shared
/// registry account would be): every ECR call about the repository passes its registryId.
#[tokio::test(flavor = "multi_thread")]
async fn an_ecr_registry_named_in_registry_is_passed_as_registry_id() {
    let standins = StandIns::get();
    let repository = unique("e2e/registry-id");
    repository_with_image(&standins, &repository, "sha-0000002").await;
    let proxy = FaultProxy::start(&standins, &[]);
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("mode", "promote"),
            ("promote-from", "sha-0000002"),
        ],
    );
    action.set(
        "INPUT_REGISTRY",
        "123456789012.dkr.ecr.us-east-2.amazonaws.com",
    );
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.outputs["image"].starts_with("123456789012.dkr.ecr.us-east-2.amazonaws.com/"),
        "{}",
        run.outputs_raw
    );
    let ecr_calls: Vec<(String, serde_json::Value)> = proxy
        .requests()
        .into_iter()
        .filter(|(_, request)| {
            request.get("repositoryName").is_some() || request.get("repositoryNames").is_some()
        })
        .collect();
    let operations: Vec<&str> = ecr_calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        [
            "DescribeRepositories",
            "BatchGetImage",
            "GetDownloadUrlForLayer",
            "PutImage"
        ]
    );
    for (operation, request) in &ecr_calls {
        assert_eq!(
            request["registryId"], "123456789012",
            "{operation}: {request}"
        );
    }
}

/// `create-repository` creates only in the run's own account: a missing repository in another
/// account's registry is an error that says where to create it, and nothing is created.
#[tokio::test(flavor = "multi_thread")]
async fn create_repository_refuses_another_accounts_registry() {
    let standins = StandIns::get();
    let repository = unique("e2e/elsewhere");
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/elsewhere",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("create-repository", "true"),
        ],
    );
    action.set(
        "INPUT_REGISTRY",
        "111122223333.dkr.ecr.us-east-2.amazonaws.com",
    );
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("another account");
    assert!(
        error.contains("does not exist in account 111122223333's registry")
            && error.contains("only in this account (123456789012)"),
        "{error}"
    );
    let listed = standins
        .ecr()
        .await
        .describe_repositories()
        .repository_names(&repository)
        .send()
        .await;
    assert!(listed.is_err(), "no repository was created: {listed:?}");
}

/// The GitHub Actions cache as the runner offers it to a container action (actions/runner
/// `ContainerActionHandler`: `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_RESULTS_URL`, `ACTIONS_CACHE_URL`
/// only where the v1 service exists, never `ACTIONS_CACHE_SERVICE_V2`): github.com gets cache v2,
/// GitHub Enterprise Server v1, and a buildx older than v0.21 — which reads the v2 settings not
/// at all and would cache nothing without a word — the registry cache with a warning, in the
/// summary too. The URLs and token reach buildx through its environment, never its arguments.
#[tokio::test(flavor = "multi_thread")]
async fn the_gha_cache_matches_the_service_the_runner_offers() {
    let standins = StandIns::get();
    let repository = unique("e2e/gha");
    standins.ecr_repository(&repository, false).await;
    let token = ("ACTIONS_RUNTIME_TOKEN", "runtime-token-example");
    let results = ("ACTIONS_RESULTS_URL", "http://127.0.0.1:9/results/");
    let cache_v1 = ("ACTIONS_CACHE_URL", "http://127.0.0.1:9/cache/");
    let cache_of = |calls: &DockerCalls| -> String {
        let build = calls
            .buildx()
            .into_iter()
            .find(|args| args.get(1).map(String::as_str) == Some("build"))
            .expect("a buildx build");
        let at = build
            .iter()
            .position(|a| a == "--cache-to")
            .expect("--cache-to");
        assert!(
            !build.join(" ").contains("runtime-token-example"),
            "the token reached buildx's arguments"
        );
        build[at + 1].clone()
    };
    let scope = format!("{}-staging", repository.rsplit('/').next().unwrap());

    let (run, calls) = build_with_fake_buildx(
        &standins,
        &repository,
        "buildx",
        &[token, results, cache_v1],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        cache_of(&calls),
        format!("type=gha,version=2,scope={scope},mode=max,ignore-error=true")
    );
    // The runner's cache URL and token (the token is the OIDC request token too) go only to
    // the calls that use the cache: the build, not the login or the version probe.
    let mut built = false;
    for (args, names) in calls.all.iter().zip(&calls.env_names) {
        let has = |name: &str| names.iter().any(|n| n == name);
        if args.iter().any(|a| a == "build") {
            assert!(
                has("ACTIONS_RESULTS_URL") && has("ACTIONS_RUNTIME_TOKEN"),
                "{args:?} got {names:?}"
            );
            built = true;
        }
        if args.iter().any(|a| a == "login" || a == "version") {
            assert!(
                !has("ACTIONS_RUNTIME_TOKEN"),
                "{args:?} got the runtime token"
            );
        }
    }
    assert!(built, "no build call recorded: {:?}", calls.all);
    assert!(
        run.summary.contains("GitHub Actions cache v2"),
        "{}",
        run.summary
    );

    let (run, calls) = build_with_fake_buildx(&standins, &repository, "buildx", &[token, cache_v1]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        cache_of(&calls),
        format!("type=gha,version=1,scope={scope},mode=max,ignore-error=true"),
        "GitHub Enterprise Server has only the v1 service"
    );

    let (run, calls) = build_with_fake_buildx_version(
        &standins,
        &repository,
        "buildx",
        &[token, results],
        "v0.19.3",
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        cache_of(&calls).starts_with("type=registry,"),
        "{}",
        cache_of(&calls)
    );
    assert!(
        run.stdout.contains("::warning title=cache::"),
        "{}",
        run.log()
    );
    assert!(
        run.summary
            .contains("from ACTIONS_RESULTS_URL only from v0.21"),
        "{}",
        run.summary
    );
}

/// The same commit built again — a re-run, the merge to main after the branch (another
/// `org.opencontainers.image.ref.name`, so another image), a cold-cache rebuild — succeeds
/// whatever the repository's tag mutability. ECR refuses to push an immutable tag that exists
/// (`TAG_INVALID`; the strict registry stand-in refuses it as ECR does, Debian's registry and
/// moto do not): where `sha-*` is immutable it stays on the commit's first build, the new build
/// is pushed under the environment tag and deployed by digest, with a notice.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_commit_built_again_is_pushed_whatever_the_tag_mutability() {
    use aws_sdk_ecr::types::ImageTagMutability;
    let standins = StandIns::get();
    let registry = Registry {
        host: standins.registry(),
    };
    let settings = [
        (ImageTagMutability::Mutable, vec![], false),
        (
            ImageTagMutability::ImmutableWithExclusion,
            vec![filter("staging"), filter("prod"), filter("buildcache-*")],
            true,
        ),
        (
            ImageTagMutability::MutableWithExclusion,
            vec![filter("sha-*")],
            true,
        ),
    ];
    for (mutability, exclusions, sha_fixed) in settings {
        let repository = unique("e2e/rebuilt");
        standins
            .ecr()
            .await
            .create_repository()
            .repository_name(&repository)
            .image_tag_mutability(mutability.clone())
            .set_image_tag_mutability_exclusion_filters(
                (!exclusions.is_empty()).then_some(exclusions),
            )
            .send()
            .await
            .unwrap();
        let build = |git_ref: &str, extra: &[(&str, &str)]| {
            let mut inputs = vec![("ecr-repository", repository.as_str())];
            inputs.extend_from_slice(extra);
            let run = ActionRun::new(&standins, git_ref, &unique("run"), &inputs).run();
            assert_eq!(run.code, 0, "{mutability:?}: {}", run.log());
            run
        };
        let first = build("refs/heads/feature/rebuilt", &[]);
        let first_digest = first.outputs["digest"].clone();
        assert_eq!(first.outputs["tags"], "staging\nsha-4f2a9c1");

        // The re-run: the same commit, branch and SOURCE_DATE_EPOCH, the cache warm — the same
        // image, so sha- already names it.
        let again = build("refs/heads/feature/rebuilt", &[]);
        assert_eq!(
            again.outputs["digest"], first_digest,
            "{mutability:?}: not reproducible"
        );
        assert_eq!(again.outputs["tags"], "staging\nsha-4f2a9c1");

        // The merge to main: another ref.name label, another image.
        let main = build("refs/heads/main", &[]);
        let main_digest = main.outputs["digest"].clone();
        assert_ne!(main_digest, first_digest);
        assert_eq!(registry.digest(&repository, "prod").await, main_digest);
        let sha_names = registry.digest(&repository, "sha-4f2a9c1").await;
        if sha_fixed {
            assert_eq!(
                sha_names, first_digest,
                "{mutability:?}: the immutable tag moved"
            );
            assert_eq!(main.outputs["tags"], "prod");
            assert!(
                main.stdout
                    .contains("::notice title=image::sha-4f2a9c1 is immutable in"),
                "{}",
                main.log()
            );
        } else {
            assert_eq!(
                sha_names, main_digest,
                "a mutable sha- tag follows the newest build"
            );
            assert_eq!(main.outputs["tags"], "prod\nsha-4f2a9c1");
        }

        // A cold-cache rebuild on the branch again.
        let cold = build("refs/heads/feature/rebuilt", &[("cache", "none")]);
        assert_eq!(
            registry.digest(&repository, "staging").await,
            cold.outputs["digest"]
        );
    }

    // IMMUTABLE with `immutable-tags: skip-moving`: only sha- is ever pushed, so a re-run has no
    // tag to push at all — the commit's build is deployed as it is, nothing is built.
    let repository = unique("e2e/rebuilt-immutable");
    standins.ecr_repository(&repository, true).await;
    let skip = [
        ("ecr-repository", repository.as_str()),
        ("immutable-tags", "skip-moving"),
    ];
    let first = ActionRun::new(
        &standins,
        "refs/heads/feature/rebuilt",
        &unique("run"),
        &skip,
    )
    .run();
    assert_eq!(first.code, 0, "{}", first.log());
    assert_eq!(first.outputs["tags"], "sha-4f2a9c1");
    let again = ActionRun::new(&standins, "refs/heads/main", &unique("run"), &skip).run();
    assert_eq!(again.code, 0, "{}", again.log());
    assert_eq!(again.outputs["digest"], first.outputs["digest"]);
    assert_eq!(again.outputs["tags"], "sha-4f2a9c1");
    assert!(!again.stdout.contains("building "), "{}", again.log());
    assert!(
        again
            .summary
            .contains("this commit's earlier build, under the immutable `sha-4f2a9c1`"),
        "{}",
        again.summary
    );
}
