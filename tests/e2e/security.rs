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
