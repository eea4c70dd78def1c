//! The command line for people, in a terminal (no runner): `plan`, `iam-policy`, and `deploy`/`promote` from a git checkout.

use crate::support::*;
use std::process::Command;

fn deploy_action(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_deploy-action"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        // Not a checkout: the clone's own working tree (clean or not) is not the build here.
        .env("GIT_DIR", "/nonexistent")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn plan_prints_what_a_deploy_would_do_without_workflow_commands() {
    let (code, stdout, stderr) = deploy_action(&[
        "plan",
        "--aws-region",
        "us-east-2",
        "--ecr-repository",
        "back-end",
        "--context",
        "examples/app",
        "--registry",
        "127.0.0.1:5000",
        "--ref",
        "refs/heads/main",
        "--sha",
        "0123456789abcdef0123456789abcdef01234567",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("push:         127.0.0.1:5000/back-end:prod"),
        "{stdout}"
    );
    // Said once: by the report at the end, not also by the log above it (30.4).
    assert!(
        stdout.contains("dry run (prod): nothing was changed"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("nothing was changed").count(), 1, "{stdout}");
    assert!(
        !stdout.contains("::"),
        "no workflow commands outside a runner: {stdout}"
    );
}

#[test]
fn a_mistake_on_the_command_line_says_what_to_do() {
    let (code, _, stderr) = deploy_action(&[
        "plan",
        "--aws-region",
        "ohio",
        "--ecr-repository",
        "back-end",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("input `aws-region`") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn iam_policy_prints_documents_ready_for_the_aws_cli() {
    let base = [
        "iam-policy",
        "--repository",
        "operationcode/back-end",
        "--account",
        "633607774026",
        "--region",
        "us-east-2",
        "--ecr-repository",
        "back-end",
        "--cluster",
        "back-end-production",
        "--service",
        "back-end-production",
        "--environment",
        "production",
    ];
    let (code, stdout, stderr) = deploy_action(&[&base[..], &["--document", "trust"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let trust: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:operationcode/back-end:environment:production"
    );
    assert!(
        stderr.contains("only as strong as its protection rules"),
        "{stderr}"
    );
    // No ref condition: refused, unless asked for in so many words (and warned about).
    let unscoped = &base[..base.len() - 2];
    let (code, stdout, stderr) = deploy_action(unscoped);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("any run of the repository") && stderr.contains("--branch main"),
        "{stderr}"
    );
    let (code, stdout, stderr) = deploy_action(
        &[
            unscoped,
            &[
                "--any-ref",
                "--pass-role",
                "arn:aws:iam::633607774026:role/back-end-task",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("repo:operationcode/back-end:*"), "{stdout}");
    assert!(stderr.contains("warning: --any-ref"), "{stderr}");
    // No credentials here: the services cannot be read, and PassRole is never `role/*`: the
    // command says why it could not read them and asks for the roles.
    let (code, stdout, stderr) = deploy_action(&base);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("could not read the services' task definitions")
            && stderr.contains("iam:PassRole needs the roles")
            && stderr.contains("--pass-role ROLE_ARN"),
        "{stderr}"
    );
    let task_role = "arn:aws:iam::633607774026:role/back-end-task";
    let (code, stdout, stderr) = deploy_action(&[&base[..], &["--pass-role", task_role]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(task_role) && !stdout.contains(":role/*"),
        "{stdout}"
    );
    let both: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        both["PermissionsPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .len()
            >= 5
    );

    let (code, _, stderr) = deploy_action(&[
        "iam-policy",
        "--repository",
        "x",
        "--account",
        "1",
        "--region",
        "us-east-2",
        "--ecr-repository",
        "back-end",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("ORG/REPO") && stderr.contains("hint:"),
        "{stderr}"
    );
}

/// With credentials, `iam-policy` reads the services' task definitions: iam:PassRole names
/// only the roles they pass, logs:GetLogEvents only their containers' log groups.
#[tokio::test(flavor = "multi_thread")]
async fn iam_policy_passes_only_the_roles_the_services_use() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let world = EcsWorld::create(&ecs, &format!("{}/e2e/roles:prod", standins.registry())).await;
    let family = world.task_definition.family().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let command = iam_policy_command("e2e/roles", "permissions");
    let args: Vec<&str> = command
        .iter()
        .map(String::as_str)
        .chain([
            "--cluster",
            world.cluster.as_str(),
            "--service",
            world.service.as_str(),
            "--branch",
            "main",
        ])
        .collect();
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    let policy: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let statement = |sid: &str| {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .cloned()
            .unwrap_or_else(|| panic!("no {sid}: {policy}"))
    };
    assert_eq!(
        statement("PassTaskRoles")["Resource"],
        serde_json::json!(["arn:aws:iam::123456789012:role/ecsTaskExecutionRole"])
    );
    assert_eq!(
        statement("LogsOfFailedTasks")["Resource"],
        serde_json::json!([format!(
            "arn:aws:logs:us-east-2:123456789012:log-group:/ecs/{family}:log-stream:*"
        )])
    );
    assert!(stderr.contains("iam:PassRole only on"), "{stderr}");

    // A container that logs to another region (`awslogs-region`): evidence reads it there, so the
    // policy names that group in that region.
    let td = &world.task_definition;
    let mut sidecar = td.container_definitions()[1].clone();
    sidecar.log_configuration = Some(
        aws_sdk_ecs::types::LogConfiguration::builder()
            .log_driver(aws_sdk_ecs::types::LogDriver::Awslogs)
            .options("awslogs-group", "/ecs/otel")
            .options("awslogs-region", "eu-west-1")
            .options("awslogs-stream-prefix", "ecs")
            .build()
            .unwrap(),
    );
    let second = ecs
        .register_task_definition()
        .family(&family)
        .set_execution_role_arn(td.execution_role_arn().map(str::to_string))
        .set_network_mode(td.network_mode().cloned())
        .container_definitions(td.container_definitions()[0].clone())
        .container_definitions(sidecar)
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .cluster(&world.cluster)
        .service(&world.service)
        .task_definition(
            second
                .task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    let policy: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let logs = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "LogsOfFailedTasks")
        .unwrap()["Resource"]
        .clone();
    assert_eq!(
        logs,
        serde_json::json!([
            format!("arn:aws:logs:us-east-2:123456789012:log-group:/ecs/{family}:log-stream:*"),
            "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/otel:log-stream:*"
        ]),
        "{stderr}"
    );

    // The families read: a pre-deploy RunTask only runs their revisions.
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&args[..], &["--pre-deploy"]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("task-definition/{family}:*")),
        "{stdout}"
    );

    // --offline: no AWS call, so the roles are not known: named with --pass-role, or refused.
    let offline = [&args[..], &["--offline"]].concat();
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &offline);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("--pass-role ROLE_ARN"), "{stderr}");
    let role = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&offline[..], &["--pass-role", role]].concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(role) && !stdout.contains(":role/*"),
        "{stdout}"
    );
}

#[test]
fn plan_with_json_output_prints_the_record_alone_on_stdout() {
    let (code, stdout, stderr) = deploy_action(&[
        "plan",
        "--output",
        "json",
        "--aws-region",
        "us-east-2",
        "--ecr-repository",
        "back-end",
        "--context",
        "examples/app",
        "--registry",
        "127.0.0.1:5000",
        "--ref",
        "refs/heads/feature/login",
        "--sha",
        "0123456789abcdef0123456789abcdef01234567",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let record: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(record["environment"], "staging");
    assert_eq!(record["ref"], "refs/heads/feature/login");
    assert_eq!(record["failure"], serde_json::Value::Null);
    assert!(
        record["dry_run"]["plan"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:5000/back-end:staging"),
        "{record}"
    );
    // The log went to stderr.
    assert!(stderr.contains("dry run: nothing was changed"), "{stderr}");

    // A mistake is in the record too, with the stage and the hint.
    let (code, stdout, stderr) = deploy_action(&[
        "deploy",
        "--output",
        "json",
        "--aws-region",
        "ohio",
        "--ecr-repository",
        "back-end",
    ]);
    assert_eq!(code, 1);
    let record: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(record["failure"]["stage"], "plan", "{record}");
    assert!(
        record["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("aws-region"),
        "{record}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// `git …` in `dir`, as a test set-up step.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=dev", "-c", "user.email=dev@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// `deploy-action ARGS…` in a checkout, as a person runs it: no runner, ambient credentials.
pub(crate) fn local_run(
    standins: &StandIns,
    dir: &std::path::Path,
    args: &[&str],
) -> (i32, String, String) {
    local_run_with(standins, dir, args, &[])
}

/// The same, with more of the person's environment (a token they exported).
fn local_run_with(
    standins: &StandIns,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_deploy-action"));
    command.args(args);
    let mut command = prepared(standins, dir, command);
    command.envs(env.iter().copied());
    finish(command)
}

/// The same, in a pseudo-terminal (util-linux `script`): what a person at a terminal sees,
/// stdout and stderr together.
fn local_run_in_terminal(
    standins: &StandIns,
    dir: &std::path::Path,
    args: &[&str],
) -> (i32, String) {
    let line = std::iter::once(env!("CARGO_BIN_EXE_deploy-action"))
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
    let (code, stdout, stderr) = finish_local(standins, dir, command);
    (code, format!("{stdout}{stderr}"))
}

fn finish_local(
    standins: &StandIns,
    dir: &std::path::Path,
    command: Command,
) -> (i32, String, String) {
    finish(prepared(standins, dir, command))
}

/// `command` with a person's environment: their own keys, the stand-ins' endpoints, nothing else.
fn prepared(standins: &StandIns, dir: &std::path::Path, mut command: Command) -> Command {
    command
        .env_clear()
        .env("TERM", "xterm")
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLELOCAL")
        .env("AWS_SECRET_ACCESS_KEY", "local-secret")
        .current_dir(dir);
    for key in [
        "AWS_ENDPOINT_URL",
        "AWS_EC2_METADATA_DISABLED",
        "DOCKER_HOST",
        "DEPLOY_ACTION_DOCKER",
    ] {
        command.env(key, standins.var(key));
    }
    command
}

fn finish(mut command: Command) -> (i32, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// How indicatif takes its line off the screen before a log line is printed: clear line.
const SPINNER_ERASE: &str = "\x1b[2K";

/// `deploy` and `promote` on a person's machine: the ref and commit come from the checkout.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_and_promote_take_the_ref_and_commit_from_git() {
    let standins = StandIns::get();
    let repository = unique("e2e/cli");
    standins.ecr_repository(&repository, false).await;
    let checkout = tempfile::tempdir().unwrap();
    let dir = checkout.path();
    git(dir, &["init", "-q", "-b", "feature/cli"]);
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY version /version\n",
    )
    .unwrap();
    std::fs::write(dir.join("version"), unique("v")).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    let sha_tag = format!("sha-{}", &head[..7]);
    let common = [
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository.as_str(),
        "--registry",
        standins.registry(),
    ];

    let (code, stdout, stderr) = local_run(&standins, dir, &[&["deploy"], &common[..]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("✔ released to staging"), "{stdout}");
    assert!(
        stdout.contains(&format!("commit     {head} (refs/heads/feature/cli)")),
        "{stdout}"
    );
    let registry = Registry {
        host: standins.registry(),
    };
    let digest = registry.digest(&repository, "staging").await;
    assert_eq!(registry.digest(&repository, &sha_tag).await, digest);
    // Not a terminal: plain lines, no spinner drawn.
    assert!(
        !format!("{stdout}{stderr}").contains(SPINNER_ERASE),
        "{stdout}{stderr}"
    );

    // `--output json`: stdout is the record alone — the build's own output goes to stderr too.
    let (code, stdout, stderr) = local_run(
        &standins,
        dir,
        &[&["deploy", "--output", "json"][..], &common[..]].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout is not JSON: {stdout}"));
    assert!(
        record["image"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{record}"
    );
    assert!(
        stderr.contains("building "),
        "the log went to stderr: {stderr}"
    );

    // At a terminal the same deploy shows a spinner with the stage and its elapsed time, cleared
    // when the stage ends, and the log lines still arrive whole.
    let (code, screen) =
        local_run_in_terminal(&standins, dir, &[&["deploy"], &common[..]].concat());
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains(SPINNER_ERASE), "{screen:?}");
    assert!(screen.contains("image (0s)"), "{screen:?}");
    assert!(screen.contains("✔ released to staging"), "{screen:?}");
    // No services named: a build-only run shows no (empty) deploy stage (30.4).
    assert!(!screen.contains("==> deploy"), "{screen:?}");

    // On main, one commit later, promote that commit's image to prod without a rebuild: the
    // checkout says the image's commit is in main's history (no GitHub token here).
    git(dir, &["checkout", "-q", "-b", "main"]);
    std::fs::write(dir.join("later"), "a later commit").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "later"]);
    let main_head = git(dir, &["rev-parse", "HEAD"]);
    let promote = [
        &["promote", "--promote-from", sha_tag.as_str()],
        &common[..],
    ]
    .concat();
    let (code, stdout, stderr) = local_run(&standins, dir, &promote);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("✔ released to prod"), "{stdout}");
    assert!(
        stdout.contains(&format!("promoted from `{sha_tag}`")),
        "{stdout}"
    );
    assert_eq!(registry.digest(&repository, "prod").await, digest);
    assert!(
        stdout.contains(&format!(
            "{head} is in the history of refs/heads/main ({main_head})"
        )),
        "{stdout}"
    );

    // An image from a history main does not have is refused, and prod stays where it is.
    git(dir, &["checkout", "-q", "--orphan", "elsewhere"]);
    git(dir, &["commit", "-q", "-m", "unrelated"]);
    let (code, stdout, stderr) = local_run(&standins, dir, &[&["deploy"], &common[..]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let elsewhere = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "main"]);
    let from_elsewhere = format!("sha-{}", &elsewhere[..7]);
    let (code, stdout, stderr) = local_run(
        &standins,
        dir,
        &[
            &["promote", "--promote-from", from_elsewhere.as_str()],
            &common[..],
        ]
        .concat(),
    );
    assert_ne!(code, 0, "{stdout}{stderr}");
    // The error is on stderr, once; the report on stdout says where it stopped.
    assert!(
        stderr.contains(&format!(
            "the image was built from {elsewhere}, which is not in the history"
        )),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("✘ failed at image (prod)"), "{stdout}");
    assert_eq!(registry.digest(&repository, "prod").await, digest);
}

/// A checkout with uncommitted changes is not its commit: `deploy` refuses it (nothing pushed);
/// with `--allow-dirty` it pushes the build as `dirty-<7>-<fingerprint>` only — no `sha-` tag,
/// no commit label — so `promote` cannot take it for the commit.
#[tokio::test(flavor = "multi_thread")]
async fn a_checkout_with_uncommitted_changes_is_never_pushed_as_its_commit() {
    let standins = StandIns::get();
    let repository = unique("e2e/dirty");
    standins.ecr_repository(&repository, false).await;
    let checkout = tempfile::tempdir().unwrap();
    let dir = checkout.path();
    git(dir, &["init", "-q", "-b", "feature/dirty"]);
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\nCOPY version /version\n",
    )
    .unwrap();
    std::fs::write(dir.join("version"), unique("v")).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("version"), unique("edited")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not added").unwrap();
    let common = [
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository.as_str(),
        "--registry",
        standins.registry(),
    ];
    let registry = Registry {
        host: standins.registry(),
    };

    let (code, stdout, stderr) = local_run(&standins, dir, &[&["deploy"], &common[..]].concat());
    assert_eq!(code, 1, "{stdout}{stderr}");
    let said = format!("{stdout}{stderr}");
    assert!(
        said.contains(&format!(
            "({}) is not what would be built: the checkout has uncommitted changes (M version, ?? notes.txt)",
            &head[..7]
        )) && said.contains("--allow-dirty"),
        "{said}"
    );
    assert!(
        registry.tags(&repository).await.is_empty(),
        "nothing is pushed"
    );

    let (code, stdout, stderr) = local_run(
        &standins,
        dir,
        &[&["deploy", "--allow-dirty"], &common[..]].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let tags = registry.tags(&repository).await;
    let dirty: Vec<&String> = tags
        .iter()
        .filter(|tag| tag.starts_with(&format!("dirty-{}-", &head[..7])))
        .collect();
    assert_eq!(dirty.len(), 1, "{tags:?}");
    assert!(!tags.iter().any(|tag| tag.starts_with("sha-")), "{tags:?}");
    let digest = registry.digest(&repository, "staging").await;
    assert_eq!(registry.digest(&repository, dirty[0]).await, digest);
    let (_, config) = registry.manifest_and_config(&repository, &digest).await;
    let labels = &config["config"]["Labels"];
    assert!(
        labels.get("org.opencontainers.image.revision").is_none(),
        "{labels}"
    );

    // The same changes again: the same tag (one per content, not per run).
    let (code, stdout, stderr) = local_run(
        &standins,
        dir,
        &[&["deploy", "--allow-dirty"], &common[..]].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let again = registry.tags(&repository).await;
    assert_eq!(
        again.iter().filter(|tag| tag.starts_with("dirty-")).count(),
        1,
        "{again:?}"
    );

    // Promotion trusts the commit label: a dirty build has none, so it is not promoted.
    let (code, stdout, stderr) = local_run(
        &standins,
        dir,
        &[
            &["promote", "--promote-from", dirty[0].as_str()],
            &common[..],
        ]
        .concat(),
    );
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("org.opencontainers.image.revision"),
        "{stdout}{stderr}"
    );
}

/// The CLI reads the same `.github/deploy.toml` as the action: the branch picks the
/// environment, `--env` picks it by name, and `plan` says where each setting came from.
#[test]
fn the_cli_reads_deploy_toml_and_env_picks_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/app");
    std::fs::write(
        dir.path().join(".github/deploy.toml"),
        format!(
            "[defaults]\naws-region = \"us-east-2\"\necr-repository = \"back-end\"\n\
             context = \"{}\"\n\n[environments.prod]\nbranches = [\"main\"]\n\n[environments.staging]\n\
             branches = [\"*\"]\nextra-tags = [\"nightly\"]\n",
            app.display()
        ),
    )
    .unwrap();
    let plan = |extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_deploy-action"))
            .args(["plan", "--ref", "refs/heads/feature/x", "--sha"])
            .arg("0123456789abcdef0123456789abcdef01234567")
            // A guard: never from the file (it says where the registry login goes).
            .args(["--registry", "127.0.0.1:5000"])
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = plan(&[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("push:         127.0.0.1:5000/back-end:staging"),
        "{stdout}"
    );
    assert!(
        stdout.contains("push:         127.0.0.1:5000/back-end:nightly"),
        "{stdout}"
    );
    assert!(
        stdout.contains("aws-region") && stdout.contains("from deploy.toml [defaults] line 2"),
        "{stdout}"
    );
    let (code, stdout, stderr) = plan(&["--env", "prod"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("push:         127.0.0.1:5000/back-end:prod"),
        "{stdout}"
    );
    let (code, _, stderr) = plan(&["--env", "production"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("has no environment `production`") && stderr.contains("prod, staging"),
        "{stderr}"
    );
}

/// `status` and `logs` on a person's machine, from the config file's environment: what the
/// service runs and its deployments; its containers' CloudWatch lines, found from the task
/// definition's `awslogs` options (moto serves CloudWatch Logs), printed as text.
#[tokio::test(flavor = "multi_thread")]
async fn status_and_logs_show_what_a_service_runs_and_prints() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/look");
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    std::fs::write(
        dir.path().join(".github/deploy.toml"),
        format!(
            "[defaults]\naws-region = \"{REGION}\"\necr-repository = \"{repository}\"\n\n\
             [environments.staging]\nbranches = [\"*\"]\necs-cluster = \"{}\"\necs-services = [\"{}\"]\n",
            world.cluster,
            world.service
        ),
    )
    .unwrap();
    let group = format!("/ecs/{}", world.task_definition.family().unwrap());
    let stream = "ecs/api/0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    standins
        .plant_log_lines(
            &group,
            stream,
            &["Booting worker with pid: 7", "::error::from the app"],
        )
        .await;
    // Lines that try to act on what shows them: a workflow command after a carriage return (the
    // runner splits lines there), and terminal escapes that set the title and clear the screen.
    let hostile_stream = "ecs/api/9a8b7c6d5e4f30211203f4e5d6c7b8a9";
    standins
        .plant_log_lines(
            &group,
            hostile_stream,
            &[
                "progress 10%\r::error title=forged::annotation",
                "\u{1b}]0;pwned\u{7}\u{1b}[2Jscreen cleared",
            ],
        )
        .await;
    // The ref picks the config file's environment; an operation reads no commit.
    let sha = [
        "--ref",
        "refs/heads/feature/look",
        "--registry",
        standins.registry(),
    ];

    let (code, stdout, stderr) =
        local_run(&standins, dir.path(), &[&["status"][..], &sha].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let revision = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert!(
        stdout.contains(&format!("{}: runs {revision} (", world.service)),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "  api: {}/{repository}:staging",
            standins.registry()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("  deployment "), "{stdout}");

    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&["logs", "--since", "1h"][..], &sha].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("[api] Booting worker with pid: 7"),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("[api] ::error::from the app"), "{stdout}");
    assert!(
        stdout.contains(&format!("api in {group} (ecs/api/*)")),
        "{stdout}"
    );
    // At a terminal the escapes are gone, the text stays (25.5).
    assert!(stdout.contains("[api] screen cleared"), "{stdout:?}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");

    // The same command as a step of a workflow writes a step's log: the credentials it found are
    // masked first, and no line from the container can become a workflow command (25.5).
    let (code, stdout, stderr) = local_run_with(
        &standins,
        dir.path(),
        &[&["logs", "--since", "1h"][..], &sha].concat(),
        &[("GITHUB_ACTIONS", "true")],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mask = stdout
        .find("::add-mask::local-secret")
        .unwrap_or_else(|| panic!("the secret key is not masked: {stdout}"));
    assert!(
        mask < stdout.find("credentials from the default chain").unwrap(),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n› ::error title=forged::annotation"),
        "{stdout:?}"
    );
    assert!(
        !stdout
            .lines()
            .any(|line| line.trim_start().starts_with("::error")),
        "{stdout}"
    );

    // For scripts: stdout is the record alone, the lines go to stderr.
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&["status", "--output", "json"][..], &sha].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(status["cluster"], world.cluster.as_str(), "{status}");
    assert_eq!(status["services"][0]["service"], world.service.as_str());
    assert_eq!(
        status["services"][0]["task_definition"],
        world.task_definition.task_definition_arn().unwrap()
    );
    assert_eq!(status["services"][0]["containers"][0]["name"], "api");
    assert!(stderr.contains(": runs "), "{stderr}");
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&["logs", "--since", "1h", "--output", "json"][..], &sha].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let logs: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    let messages: Vec<&str> = logs["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages[..2],
        ["Booting worker with pid: 7", "::error::from the app"],
        "{logs}"
    );
    assert_eq!(messages.len(), 4, "{logs}");
    assert_eq!(logs["events"][0]["stream"], stream);
    assert_eq!(logs["sources"][0]["group"], group.as_str());
}

/// `rollback` puts the service back on exactly the revision the running one replaced (its
/// `deploy-action:replaces` tag), and waits for it; a revision the action did not register has
/// no such tag, and the error names the revision to pass with `--to`.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_goes_back_to_the_revision_the_deploy_replaced() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let (world, repository, first, deployed) = deployed_once(&standins, "e2e/rollback").await;

    let dir = tempfile::tempdir().unwrap();
    let flags = service_flags(&repository, &world);
    let args: Vec<&str> = std::iter::once("rollback")
        .chain(flags.iter().map(String::as_str))
        .collect();
    let json: Vec<&str> = args.iter().copied().chain(["--output", "json"]).collect();
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &json);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(world.running(&ecs).await.as_deref(), Some(first.as_str()));
    assert!(stderr.contains("back on"), "{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    let rolled = &record["services"][0];
    assert_eq!(rolled["service"], world.service.as_str(), "{record}");
    assert_eq!(rolled["rollout"]["task_definition"], first.as_str());
    assert_eq!(
        rolled["rollout"]["previous_task_definition"],
        deployed.as_str()
    );

    // Now on a revision no deploy registered: nothing to go back to but what --to names.
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &args);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains("has no deploy-action:replaces tag") && stderr.contains("--to "),
        "{stderr}"
    );
    // With Sentry configured (and the person's token), Sentry hears which release runs again:
    // the commit the deploy tagged that revision with.
    let sentry = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(201).set_body_json(serde_json::json!({})))
        .mount(&sentry)
        .await;
    let sentry_uri = sentry.uri();
    let (code, stdout, stderr) = local_run_with(
        &standins,
        dir.path(),
        &[
            &args[..],
            &["--to", deployed.as_str()],
            &[
                "--sentry-org",
                "operation-code",
                "--sentry-projects",
                "back-end",
            ],
            &["--sentry-url", sentry_uri.as_str()],
        ]
        .concat(),
        &[("SENTRY_AUTH_TOKEN", "sntrys_localperson")],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        world.running(&ecs).await.as_deref(),
        Some(deployed.as_str())
    );
    let paths: Vec<String> = sentry
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/api/0/organizations/operation-code/releases/".to_string(),
            format!("/api/0/organizations/operation-code/releases/{RUN_SHA}/deploys/"),
        ]
    );
}

/// `run -- COMMAND…`: a one-off task of the revision the service runs now, with the service's
/// placement and the command as given; its exit code is the command's.
#[tokio::test(flavor = "multi_thread")]
async fn run_returns_the_tasks_exit_code() {
    let standins = StandIns::get();
    let (world, repository) = EcsWorld::with_repository(
        &standins,
        "e2e/run",
        Some(aws_sdk_ecs::types::LaunchType::Fargate),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let flags = service_flags(&repository, &world);
    let args: Vec<&str> = std::iter::once("run")
        .chain(flags.iter().map(String::as_str))
        .chain(["--", "python", "manage.py", "check"])
        .collect();
    for code in [3, 0] {
        standins
            .post_script(serde_json::json!({"cluster": world.cluster, "task_exit_code": code, "task_polls": 1}))
            .await;
        let (exit, stdout, stderr) = local_run(&standins, dir.path(), &args);
        assert_eq!(exit, code, "{stdout}{stderr}");
        assert!(stdout.contains(&format!("exited {code} after")), "{stdout}");
        assert!(stdout.contains("(api: python manage.py check)"), "{stdout}");
    }
    // For scripts: the record on stdout whatever the task's exit code, which stays the command's.
    standins
        .post_script(
            serde_json::json!({"cluster": world.cluster, "task_exit_code": 3, "task_polls": 1}),
        )
        .await;
    let json: Vec<&str> = args
        .iter()
        .copied()
        .take_while(|arg| *arg != "--")
        .chain(["--output", "json"])
        .chain(args.iter().copied().skip_while(|arg| *arg != "--"))
        .collect();
    let (exit, stdout, stderr) = local_run(&standins, dir.path(), &json);
    assert_eq!(exit, 3, "{stdout}{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    assert_eq!(record["exit_code"], 3, "{record}");
    assert_eq!(record["container"], "api");
    assert_eq!(
        record["command"],
        serde_json::json!(["python", "manage.py", "check"])
    );
    assert!(
        record["task_arn"].as_str().unwrap().contains(":task/"),
        "{record}"
    );
}

/// The flags that name the world's service, its repository and a commit on `main`.
/// `status` names the tags that point at the running digest now (ECR DescribeImages), so a
/// person sees whether prod still runs what `prod` names.
#[tokio::test(flavor = "multi_thread")]
async fn status_names_the_tags_of_the_digest_a_service_runs() {
    let standins = StandIns::get();
    let repository = unique("e2e/status-tags");
    let digest = crate::image::repository_with_image(&standins, &repository, "sha-4f2a9c1").await;
    let ecs = standins.ecs().await;
    let world = EcsWorld::create(
        &ecs,
        &format!("123456789012.dkr.ecr.us-east-2.amazonaws.com/{repository}@{digest}"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let flags = service_flags(&repository, &world);
    let args: Vec<&str> = std::iter::once("status")
        .chain(flags.iter().map(String::as_str))
        .collect();
    let (code, stdout, stderr) = local_run(&standins, dir.path(), &args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("@{digest} (tags now: sha-4f2a9c1)")),
        "{stdout}"
    );
}

fn service_flags(repository: &str, world: &EcsWorld) -> Vec<String> {
    [
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository,
        "--ecs-cluster",
        &world.cluster,
        "--ecs-services",
        &world.service,
        "--ref",
        "refs/heads/main",
    ]
    .iter()
    .map(|flag| flag.to_string())
    .collect()
}

/// A rollback at 3 a.m. is run from wherever the person is: `status`, `logs` and `rollback`
/// that name their services need no git checkout, no `--ref` and no `--sha`.
#[tokio::test(flavor = "multi_thread")]
async fn operator_commands_work_outside_a_checkout() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/anywhere");
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let revision = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    assert!(
        !std::process::Command::new("git")
            .args(["rev-parse", "--git-dir"])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .status
            .success(),
        "the test's directory is inside a git checkout"
    );
    let services = [
        "--aws-region",
        REGION,
        "--ecr-repository",
        repository.as_str(),
        "--ecs-cluster",
        world.cluster.as_str(),
        "--ecs-services",
        world.service.as_str(),
    ];
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&["status"][..], &services].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{}: runs ", world.service)),
        "{stdout}{stderr}"
    );
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &[&["rollback", "--to", revision.as_str()][..], &services].concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("GITHUB_REF"), "{stderr}");
    assert_eq!(
        world.running(&ecs).await.as_deref(),
        Some(revision.as_str())
    );
}

/// A typo in a cluster or service name is the most common mistake at 3 a.m.: every operation
/// names what it did not find, says what to check, exits 1 with nothing on stdout, and changes
/// nothing. An endpoint that answers with an HTML page (a proxy, a captive portal) is shown by
/// its status and text — never as the SDK's debug dump of the response.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_or_service_that_is_not_there_is_named_with_what_to_check() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/typo");
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let before = world.running(&ecs).await;
    let dir = tempfile::tempdir().unwrap();
    let flags = |cluster: &str, service: &str| -> Vec<String> {
        [
            "--aws-region",
            REGION,
            "--ecs-cluster",
            cluster,
            "--ecs-services",
            service,
        ]
        .map(String::from)
        .to_vec()
    };
    let no_cluster = unique("no-such-cluster");
    let mut commands: Vec<Vec<String>> = Vec::new();
    // With `--output json` stdout holds the record alone: on a failure, nothing.
    for command in ["status", "logs", "rollback", "continue"] {
        commands.push(vec![command.to_string(), "--output".into(), "json".into()]);
    }
    commands.push(
        ["run", "--container", "api", "--output", "json"]
            .map(String::from)
            .to_vec(),
    );
    for command in &commands {
        let run_args = |cluster: &str, service: &str| {
            let mut args = command.clone();
            args.extend(flags(cluster, service));
            if args[0] == "run" {
                args.extend(["--".to_string(), "true".to_string()]);
            }
            args
        };
        let args = run_args(&world.cluster, "no-such-service");
        let (code, stdout, stderr) = local_run(
            &standins,
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(
            stderr.contains(&format!(
                "service no-such-service is not in cluster {} (ECS: MISSING)",
                world.cluster
            )) && stderr.contains("hint: check `ecs-services` and `ecs-cluster`"),
            "{args:?}: {stderr}"
        );
        let args = run_args(&no_cluster, &world.service);
        let (code, stdout, stderr) = local_run(
            &standins,
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        // The call, the cluster's name, ECS's code, and what to check (DescribeServices raises
        // ClusterNotFoundException for an unknown cluster: ECS API reference, DescribeServices, Errors).
        assert!(
            stderr.contains(&format!(
                "ECS DescribeServices in cluster {no_cluster}: ClusterNotFoundException"
            )) && stderr.contains("hint: check `ecs-cluster` and `aws-region`"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("Sdk") && !stderr.contains(" { "),
            "{args:?}: a debug dump: {stderr}"
        );
    }
    assert_eq!(
        world.running(&ecs).await,
        before,
        "a failed operation changed the service"
    );

    // A deploy says its failure once: the report (what was reached) on stdout, the error with
    // its hint on stderr — not the error in both (30.4).
    let checkout = tempfile::tempdir().unwrap();
    git(checkout.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(checkout.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    git(checkout.path(), &["add", "."]);
    git(checkout.path(), &["commit", "-q", "-m", "first"]);
    let mut deploy = [
        "deploy",
        "--ecr-repository",
        repository.as_str(),
        "--registry",
        standins.registry(),
    ]
    .map(String::from)
    .to_vec();
    deploy.extend(flags(&world.cluster, "no-such-service"));
    let (code, stdout, stderr) = local_run(
        &standins,
        checkout.path(),
        &deploy.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("✘ failed at preflight (prod)"), "{stdout}");
    let said = format!(
        "service no-such-service is not in cluster {}",
        world.cluster
    );
    assert_eq!(
        format!("{stdout}{stderr}").matches(&said).count(),
        1,
        "{stdout}{stderr}"
    );
    assert!(stderr.contains(&said), "{stderr}");
    // Stopped at the plan (not a checkout), nothing was reached: no report, no `(?)`.
    let (code, stdout, stderr) = local_run(
        &standins,
        dir.path(),
        &deploy.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("not a git checkout"), "{stderr}");
    assert!(!stdout.contains("✘") && !stdout.contains("(?)"), "{stdout}");

    // An answer that is not AWS's.
    let html = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(500).set_body_raw(
            "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
            "text/html",
        ))
        .mount(&html)
        .await;
    let mut status = vec!["status".to_string()];
    status.extend(flags(&world.cluster, &world.service));
    let (code, stdout, stderr) = local_run_with(
        &standins,
        dir.path(),
        &status.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("AWS_ENDPOINT_URL", &html.uri())],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("HTTP 500 with no AWS error in it (text/html): «502 Bad Gateway nginx»"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: the answer did not come from AWS: AWS_ENDPOINT_URL sends the calls to {}",
            html.uri()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SdkBody") && !stderr.contains(" { "),
        "{stderr}"
    );
}
