//! What a step run before ours — or a hostile build — must not reach: the credentials the
//! action holds, and the choice of what runs with them.

use crate::image::build_with_fake_buildx;
use crate::support::*;
use std::os::unix::fs::PermissionsExt;

/// A script that leaves `marker` behind when anything runs it.
fn trap(path: &std::path::Path, marker: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Inside a runner, neither `DEPLOY_ACTION_DOCKER` nor a plugin in `$HOME/.docker/cli-plugins`
/// (the container's HOME is the runner's `_github_home`, which earlier steps can write) chooses
/// what runs with the registry login: the `docker` on PATH and the system's plugins do.
#[tokio::test(flavor = "multi_thread")]
async fn earlier_steps_cannot_choose_the_docker_cli_or_its_plugins() {
    let standins = StandIns::get();
    let repository = unique("e2e/trap");
    standins.ecr_repository(&repository, false).await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/trap",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    );
    let dir = action.dir.path().to_path_buf();
    let marker = dir.join("trapped");
    trap(&dir.join("home/.docker/cli-plugins/docker-buildx"), &marker);
    trap(&dir.join("evil-docker"), &marker);
    action.set(
        "DEPLOY_ACTION_DOCKER",
        &dir.join("evil-docker").display().to_string(),
    );
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        !marker.exists(),
        "a planted program ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

/// The docker CLI (and so buildx, and every plugin) gets an allowlist of the environment: the
/// GitHub token, the OIDC request token, AWS credentials, other secrets in the step's `env:`
/// and the inputs stay with the action.
#[tokio::test(flavor = "multi_thread")]
async fn the_docker_cli_sees_only_what_it_needs() {
    let standins = StandIns::get();
    let repository = unique("e2e/allowlist");
    standins.ecr_repository(&repository, false).await;
    let (run, calls) = build_with_fake_buildx(
        &standins,
        &repository,
        "buildx",
        &[
            ("GITHUB_TOKEN", "ghs_exampleexampleexample"),
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEAMBIENT"),
            ("AWS_SECRET_ACCESS_KEY", "ambient-secret"),
            ("NPM_TOKEN", "npm_example"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(!calls.env_names.is_empty());
    let allowed = [
        "PATH",
        "HOME",
        "TMPDIR",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
        "DOCKER_BUILDKIT",
    ];
    for names in &calls.env_names {
        for name in names {
            // Added on the way to the fake (its `sh` wrapper and the version it pretends, pyenv's python3 shim, Python's
            // C-locale coercion of PEP 538), not by the action.
            let wrappers = ["PWD", "SHLVL", "_", "LC_CTYPE", "FAKE_BUILDX_VERSION"]
                .contains(&name.as_str())
                || name.starts_with("PYENV_")
                || name.starts_with("_PYENV_");
            assert!(
                allowed.contains(&name.as_str()) || wrappers,
                "the docker CLI was given {name}: {names:?}"
            );
        }
    }
}

/// `RUST_LOG=trace` in a runner does not turn on the SDK's request/response tracing: the
/// GetAuthorizationToken answer (the ECR token), the STS answer (the session credentials) and
/// the signed requests never reach the log; our own trace lines do.
#[tokio::test(flavor = "multi_thread")]
async fn rust_log_trace_prints_no_credential() {
    let standins = StandIns::get();
    let repository = unique("e2e/trace");
    standins.ecr_repository(&repository, false).await;
    let run_id = unique("run");
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/trace",
        &run_id,
        &[("ecr-repository", repository.as_str())],
    );
    action.set("RUST_LOG", "trace,aws_smithy_runtime=trace,hyper=trace");
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log().contains("docker finished"),
        "our own debug lines are on: {}",
        run.log()
    );
    for dependency_line in [
        "aws_smithy",
        "send_operation",
        "Authorization: AWS4-HMAC-SHA256",
    ] {
        assert!(
            !run.log().contains(dependency_line),
            "a dependency traced ({dependency_line}): {}",
            run.log()
        );
    }
    run.assert_no_token_leaks(&standins);
    run.assert_secrets_kept(&standins, &format!("deploy-action-{run_id}"))
        .await;
}

/// A pull request whose head branch is called `main` (a fork's, say) builds `staging`, not
/// `prod`: the head branch's name is chosen by whoever opened it.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_from_a_branch_named_main_is_not_prod() {
    let standins = StandIns::get();
    let repository = unique("e2e/pull");
    standins.ecr_repository(&repository, false).await;
    let mut action = ActionRun::new(
        &standins,
        "refs/pull/9/merge",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    );
    action.set("GITHUB_EVENT_NAME", "pull_request");
    action.set("GITHUB_HEAD_REF", "main");
    action.set("GITHUB_BASE_REF", "main");
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["environment"], "staging", "{}", run.outputs_raw);
    let tags = Registry {
        host: standins.registry(),
    }
    .tags(&repository)
    .await;
    assert!(!tags.iter().any(|t| t == "prod"), "{tags:?}");
}

/// An earlier step can add any variable through `GITHUB_ENV`, but the runner sets an input only
/// as `INPUT_<NAME>` with its hyphens (actions/runner `Handler.AddInputsToEnvironment`; every
/// action.yml input has `default: ""`, so an input not given arrives empty). Underscore twins
/// (`INPUT_SENTRY_URL`, `INPUT_BRANCH_TAGS`) are not inputs: they neither send the Sentry token
/// elsewhere nor make a feature branch push `prod`.
#[tokio::test(flavor = "multi_thread")]
async fn underscore_twins_of_inputs_from_an_earlier_step_are_ignored() {
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let standins = StandIns::get();
    let attacker = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"version": "v"})))
        .mount(&attacker)
        .await;
    let repository = unique("e2e/twins");
    standins.ecr_repository(&repository, false).await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/twins",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("sentry-org", "operation-code"),
            ("sentry-projects", "back-end"),
            // What the runner passes for inputs the workflow did not give.
            ("sentry-url", ""),
            ("branch-tags", ""),
        ],
    );
    let token = format!("sntrys_{}", unique("twin").replace('-', ""));
    action.set("SENTRY_AUTH_TOKEN", &token);
    action.set("INPUT_SENTRY_URL", &attacker.uri());
    action.set("INPUT_BRANCH_TAGS", "feature/*=prod");
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    let received = attacker.received_requests().await.unwrap();
    assert!(
        received.is_empty(),
        "the underscore twin of sentry-url was read: {} requests, first {:?}",
        received.len(),
        received.first().map(|r| r.url.to_string())
    );
    assert_eq!(run.outputs["environment"], "staging", "{}", run.outputs_raw);
    let tags = Registry {
        host: standins.registry(),
    }
    .tags(&repository)
    .await;
    assert!(!tags.iter().any(|t| t == "prod"), "{tags:?}");
    run.assert_no_leak("SENTRY_AUTH_TOKEN", &token);
}

/// Promotion releases the commit the *image* holds, and only one in the history of the
/// promoting run's commit: an image another branch built (its revision label, read from its
/// config through the registry API) is refused before any tag moves when GitHub's compare API
/// says the histories diverged, and promoted — with that commit as `image-revision` — when it
/// says the run's commit is ahead of it.
#[tokio::test(flavor = "multi_thread")]
async fn promote_checks_the_images_own_commit_against_the_branch_history() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let standins = StandIns::get();
    let repository = unique("e2e/promote-gate");
    standins.ecr_repository(&repository, false).await;
    let feature_commit = "aaaaaaa1b2c3d4e5f60718293a4b5c6d7e8f9012";
    let mut staging = ActionRun::new(
        &standins,
        "refs/heads/feature/unreviewed",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    );
    staging.set("GITHUB_SHA", feature_commit);
    let staging = staging.run();
    assert_eq!(staging.code, 0, "{}", staging.log());
    assert_eq!(staging.outputs["image-revision"], feature_commit);

    let github = MockServer::start().await;
    let compare = format!("/repos/operationcode/back-end/compare/{feature_commit}...{RUN_SHA}");
    let promote = |github: &MockServer, checks: bool| {
        let mut run = ActionRun::new(
            &standins,
            "refs/heads/main",
            &unique("run"),
            &[
                ("ecr-repository", repository.as_str()),
                ("mode", "promote"),
                ("promote-from", "sha-aaaaaaa"),
                ("wait-for-checks", if checks { "true" } else { "false" }),
            ],
        );
        run.set("INPUT_CONTEXT", "/nonexistent");
        run.set("GITHUB_API_URL", &github.uri());
        run.set("INPUT_GITHUB-TOKEN", "ghs_comparetoken0123456789");
        run.run()
    };
    let registry = Registry {
        host: standins.registry(),
    };

    let diverged = Mock::given(method("GET"))
        .and(path(compare.as_str()))
        .and(query_param("per_page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"status": "diverged", "ahead_by": 4, "behind_by": 2}),
        ))
        .expect(1)
        .mount_as_scoped(&github)
        .await;
    let refused = promote(&github, false);
    drop(diverged);
    assert_ne!(refused.code, 0, "{}", refused.log());
    assert!(
        refused.stdout.contains(&format!(
            "the image was built from {feature_commit}, which is not in the history of refs/heads/main"
        )),
        "{}",
        refused.log()
    );
    assert!(
        !registry
            .tags(&repository)
            .await
            .contains(&"prod".to_string()),
        "no tag moved"
    );

    Mock::given(method("GET"))
        .and(path(compare.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"status": "ahead", "ahead_by": 3, "behind_by": 0}),
            ),
        )
        .expect(1)
        .mount(&github)
        .await;
    // With wait-for-checks, the checks waited for are the image's commit's, not the run's.
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/operationcode/back-end/commits/{feature_commit}/check-runs"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"total_count": 1, "check_runs": [
            {"name": "tests", "status": "completed", "conclusion": "success", "details_url": "https://github.com/x/actions/runs/1/job/2"}
        ]})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/operationcode/back-end/commits/{feature_commit}/status"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"total_count": 0, "statuses": []})),
        )
        .expect(1)
        .mount(&github)
        .await;
    let promoted = promote(&github, true);
    assert_eq!(promoted.code, 0, "{}", promoted.log());
    assert_eq!(promoted.outputs["image-revision"], feature_commit);
    assert_eq!(promoted.outputs["digest"], staging.outputs["digest"]);
    assert_eq!(
        registry.digest(&repository, "prod").await,
        staging.outputs["digest"]
    );
    assert!(
        promoted.stdout.contains(&format!(
            "{feature_commit} is in the history of refs/heads/main"
        )),
        "{}",
        promoted.log()
    );
    assert!(
        promoted
            .summary
            .contains(&format!("built from commit {feature_commit}")),
        "{}",
        promoted.summary
    );
}

/// Through ECR's API (the config's URL from GetDownloadUrlForLayer, which the strict stand-in
/// serves and which refuses our credentials, as S3 refuses a second authentication): an image
/// without the revision label is refused with the way out in the hint, and
/// `verify-promoted-commit: false` promotes it with a warning.
#[tokio::test(flavor = "multi_thread")]
async fn an_image_that_does_not_say_its_commit_is_promoted_only_when_asked() {
    let standins = StandIns::get();
    let repository = unique("e2e/unlabelled");
    standins.ecr_repository(&repository, false).await;
    let digest = crate::image::image_in_ecr(&standins, &repository, "sha-4f2a9c1", None).await;
    let run = |extra: &[(&str, &str)]| {
        let mut inputs = vec![("ecr-repository", repository.as_str()), ("mode", "promote")];
        inputs.extend_from_slice(extra);
        let mut action = ActionRun::new(&standins, "refs/heads/main", &unique("run"), &inputs);
        action.remove("INPUT_REGISTRY");
        action.set("INPUT_CONTEXT", "/nonexistent");
        action.run()
    };
    let refused = run(&[]);
    assert_ne!(refused.code, 0, "{}", refused.log());
    assert!(
        refused.stdout.contains(&format!(
            "{digest} has no org.opencontainers.image.revision label"
        )),
        "{}",
        refused.log()
    );
    assert!(
        refused.stdout.contains("verify-promoted-commit: false"),
        "{}",
        refused.log()
    );
    let ecr = standins.ecr().await;
    let prod = ecr
        .batch_get_image()
        .repository_name(&repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag("prod")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(prod.images().is_empty(), "prod was tagged");

    let promoted = run(&[("verify-promoted-commit", "false")]);
    assert_eq!(promoted.code, 0, "{}", promoted.log());
    assert_eq!(promoted.outputs["digest"], digest);
    assert!(!promoted.outputs.contains_key("image-revision"));
    assert!(
        promoted
            .stdout
            .contains("::warning title=verify-promoted-commit::"),
        "{}",
        promoted.log()
    );
}

/// A remote BuildKit with mutual TLS: the key (a multi-line PEM from a secret) reaches buildx
/// only as a 0600 file named in `--driver-opt key=…`, never as an argument, and is masked line
/// by line before anything is printed.
#[tokio::test(flavor = "multi_thread")]
async fn a_remote_builders_tls_key_goes_to_a_file_and_is_masked() {
    let standins = StandIns::get();
    let repository = unique("e2e/remote-tls");
    standins.ecr_repository(&repository, false).await;
    let key_line = format!("MIIEv{}", unique("keymaterial").replace('-', ""));
    let key = format!("-----BEGIN PRIVATE KEY-----\n{key_line}\n-----END PRIVATE KEY-----\n");
    let (run, calls) = build_with_fake_buildx(
        &standins,
        &repository,
        "buildx",
        &[
            ("INPUT_BUILDER", "tcp://buildkit.example.org:1234"),
            (
                "BUILDKIT_TLS_CA",
                "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
            ),
            (
                "BUILDKIT_TLS_CERT",
                "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n",
            ),
            ("BUILDKIT_TLS_KEY", key.as_str()),
            // The runner's cache service: its token (the OIDC request token too, actions/runner
            // ContainerActionHandler) must not travel to the remote BuildKit with the gha cache.
            ("ACTIONS_RUNTIME_TOKEN", "runtime-token-example"),
            ("ACTIONS_RESULTS_URL", "http://127.0.0.1:9/results/"),
        ],
    );
    for (args, names) in calls.all.iter().zip(&calls.env_names) {
        assert!(
            !names.iter().any(|n| n == "ACTIONS_RUNTIME_TOKEN"),
            "{args:?} got the runtime token"
        );
        assert!(
            !args.iter().any(|a| a.contains("type=gha")),
            "a remote builder got the gha cache: {args:?}"
        );
    }
    let create = calls
        .all
        .iter()
        .find(|call| call.starts_with(&["buildx".to_string(), "create".to_string()]))
        .unwrap_or_else(|| panic!("no buildx create: {:?}\n{}", calls.all, run.log()));
    assert!(
        create
            .iter()
            .any(|arg| arg.contains(",key=") && arg.ends_with("/buildkit-key.pem")),
        "{create:?}"
    );
    for call in &calls.all {
        assert!(
            !call.iter().any(|arg| arg.contains(&key_line)),
            "the key in {call:?}"
        );
    }
    // Each line is masked on its own (the runner masks line by line), and nothing but mask
    // commands ever carries it.
    assert!(
        run.stdout
            .lines()
            .any(|line| line == format!("::add-mask::{key_line}")),
        "{}",
        run.log()
    );
    run.assert_no_leak("the BuildKit TLS key", &key_line);
}
