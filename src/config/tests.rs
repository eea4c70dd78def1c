use super::*;
use crate::inputs::RunContext;

const FILE: &str = r#"[defaults]
aws-region = "us-east-2"
role-to-assume = "arn:aws:iam::633607774026:role/GitHubActions-ECR-Push"
ecr-repository = "back-end"
wait-timeout-minutes = 20

[environments.prod]
branches = ["main"]
ecs-cluster = "back-end-production"
ecs-services = ["back-end-production", "back-end-worker"]
wait-for-checks = true

[environments.release]
branches = ["release/*"]
tag = "prod"
ecs-cluster = "back-end-production"

[environments.staging]
branches = ["*"]
ecs-cluster = "back-end-staging"
ecs-services = ["back-end-staging"]
build-args = { VERSION = "1.2", MODE = "staging" }
"#;

fn inputs_in(dir: &Path, git_ref: &str, edit: impl FnOnce(&mut InputArgs)) -> Inputs {
    let mut args = InputArgs::default();
    edit(&mut args);
    Inputs {
        args,
        run: RunContext {
            git_ref: Some(git_ref.into()),
            workspace: Some(dir.display().to_string()),
            ..Default::default()
        },
        github_token: None,
        sentry_token: None,
    }
}

fn with_file(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    std::fs::write(dir.path().join(DEFAULT_PATH), text).unwrap();
    dir
}

#[test]
fn the_ref_chooses_the_environment_and_inputs_win() {
    let dir = with_file(FILE);
    let applied = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap();
    assert_eq!(applied.environment, Some(("prod".into(), "prod".into())));
    let args = &applied.inputs.args;
    assert_eq!(args.aws_region.as_deref(), Some("us-east-2"));
    assert_eq!(args.ecs_cluster.as_deref(), Some("back-end-production"));
    assert_eq!(
        args.ecs_services.as_deref(),
        Some("back-end-production\nback-end-worker")
    );
    assert_eq!(args.wait_for_checks.as_deref(), Some("true"));
    assert_eq!(args.wait_timeout_minutes.as_deref(), Some("20"));
    assert!(applied.origins.contains(&(
        "ecs-cluster",
        SettingOrigin::File {
            table: "environments.prod".into(),
            line: 9
        }
    )));
    assert!(applied.origins.contains(&(
        "aws-region",
        SettingOrigin::File {
            table: "defaults".into(),
            line: 2
        }
    )));

    // An explicit input beats the environment's table, which beats [defaults].
    let given = inputs_in(dir.path(), "refs/heads/main", |args| {
        args.ecs_cluster = Some("hand-picked".into());
    });
    let applied = apply(&given, None).unwrap();
    assert_eq!(
        applied.inputs.args.ecs_cluster.as_deref(),
        Some("hand-picked")
    );
    assert!(
        applied
            .origins
            .contains(&("ecs-cluster", SettingOrigin::Input))
    );

    // Globs: the first environment in the file that matches; `tag` renames it.
    let release = apply(
        &inputs_in(dir.path(), "refs/heads/release/2.0", |_| {}),
        None,
    )
    .unwrap();
    assert_eq!(release.environment, Some(("release".into(), "prod".into())));
    let feature = apply(&inputs_in(dir.path(), "refs/heads/feature/x", |_| {}), None).unwrap();
    assert_eq!(
        feature.environment,
        Some(("staging".into(), "staging".into()))
    );
    assert_eq!(
        feature.inputs.args.build_args.as_deref(),
        Some("VERSION=1.2\nMODE=staging")
    );
    // A pull request, whatever its head branch: only the catch-all.
    let pull = apply(&inputs_in(dir.path(), "refs/pull/7/merge", |_| {}), None).unwrap();
    assert_eq!(pull.environment, Some(("staging".into(), "staging".into())));
    // Chosen by name (the CLI's --env).
    let named = apply(&inputs_in(dir.path(), "refs/heads/x", |_| {}), Some("prod")).unwrap();
    assert_eq!(named.environment, Some(("prod".into(), "prod".into())));
}

/// A key in both `[defaults]` and the environment's table: the environment's value, and its
/// line as the origin; another environment keeps the default. An input the runner passes as
/// `""` (not given) beats neither.
#[test]
fn the_environment_beats_the_defaults_and_an_empty_input_beats_nothing() {
    let text = FILE.replace(
        "wait-for-checks = true\n",
        "wait-for-checks = true\nwait-timeout-minutes = 45\n",
    );
    let dir = with_file(&text);
    let prod = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap();
    assert_eq!(prod.inputs.args.wait_timeout_minutes.as_deref(), Some("45"));
    assert!(prod.origins.contains(&(
        "wait-timeout-minutes",
        SettingOrigin::File {
            table: "environments.prod".into(),
            line: 12
        }
    )));
    let staging = apply(&inputs_in(dir.path(), "refs/heads/feature/x", |_| {}), None).unwrap();
    assert_eq!(
        staging.inputs.args.wait_timeout_minutes.as_deref(),
        Some("20")
    );
    assert!(staging.origins.contains(&(
        "wait-timeout-minutes",
        SettingOrigin::File {
            table: "defaults".into(),
            line: 5
        }
    )));
    // As the runner passes inputs that were not given: `""`, read as not given.
    let runner = inputs_in(dir.path(), "refs/heads/main", |args| {
        *args = InputArgs::from_env(&|key: &str| {
            matches!(key, "INPUT_WAIT-TIMEOUT-MINUTES" | "INPUT_ECS-CLUSTER").then(String::new)
        });
    });
    let applied = apply(&runner, None).unwrap();
    assert_eq!(
        applied.inputs.args.wait_timeout_minutes.as_deref(),
        Some("45")
    );
    assert_eq!(
        applied.inputs.args.ecs_cluster.as_deref(),
        Some("back-end-production")
    );
}

#[test]
fn an_exact_branch_beats_an_earlier_glob() {
    let dir = with_file(
        "[environments.everything]\nbranches = [\"*\"]\n[environments.prod]\nbranches = [\"main\"]\n",
    );
    let applied = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap();
    assert_eq!(applied.environment.unwrap().0, "prod");
}

#[test]
fn no_file_is_fine_unless_one_was_named() {
    let dir = tempfile::tempdir().unwrap();
    let applied = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap();
    assert_eq!(applied.environment, None);
    assert_eq!(applied.path, None);
    let named = inputs_in(dir.path(), "refs/heads/main", |args| {
        args.config = Some("deploy/prod.toml".into());
    });
    let error = apply(&named, None).unwrap_err();
    assert_eq!(error.input, "config");
    assert!(
        error.problem.contains("cannot be read"),
        "{}",
        error.problem
    );
}

/// Mistakes name the file, line and column, and the nearest valid key.
#[test]
fn mistakes_say_where_and_what_was_meant() {
    let cases = [
        (
            "[environments.prod]\nbranches = [\"main\"]\necs-service = [\"api\"]\n",
            ":3:1: [environments.prod] unknown key `ecs-service` (did you mean `ecs-services`?)",
        ),
        (
            "[defaults]\naws-region = 2.5\n",
            ":2:1: [defaults] `aws-region` has a type no input takes",
        ),
        (
            "[default]\naws-region = \"x\"\n",
            ":1:2: unknown table `default` (did you mean `defaults`?)",
        ),
        (
            "[defaults]\ngithub-token = \"ghs_x\"\n",
            "`github-token` cannot be set in the file",
        ),
        (
            "[environments.prod]\nbranches = \"main\"\n",
            "is not a list of branch globs",
        ),
        ("[defaults\n", "is not valid TOML"),
    ];
    for (text, expected) in cases {
        let dir = with_file(text);
        let error = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap_err();
        assert_eq!(error.input, "config");
        assert!(
            error.problem.contains(expected) && error.problem.contains("deploy.toml"),
            "{text:?}: {}",
            error.problem
        );
    }
    // No environment for the ref: the rules are listed.
    let dir = with_file("[environments.prod]\nbranches = [\"main\"]\n");
    let error = apply(&inputs_in(dir.path(), "refs/heads/feature/x", |_| {}), None).unwrap_err();
    assert!(error.problem.contains("prod (main)"), "{}", error.problem);
}

/// A branch's (or a pull request's) file cannot switch a guard off or choose where a credential
/// goes: each guard, in `[defaults]` or in an environment, is refused at its line and column.
#[test]
fn the_file_cannot_set_a_guard() {
    for (guard, _) in super::GUARDS {
        for table in ["[defaults]", "[environments.prod]\nbranches = [\"main\"]"] {
            let text = format!("{table}\n{guard} = \"x\"\n");
            let dir = with_file(&text);
            let error = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap_err();
            let line = text.lines().count();
            assert!(
                error.problem.contains(&format!(":{line}:1: "))
                    && error
                        .problem
                        .contains(&format!("`{guard}` cannot be set in the file")),
                "{text:?}: {}",
                error.problem
            );
            assert!(
                error.expected.contains("workflow input only"),
                "{guard}: {}",
                error.expected
            );
        }
    }
}

/// The example file (README's, checked against the schema by scripts/lint) is read as shown.
#[test]
fn the_example_file_reads_as_documented() {
    let dir = with_file(include_str!("../../examples/deploy.toml"));
    let prod = apply(&inputs_in(dir.path(), "refs/heads/main", |_| {}), None).unwrap();
    assert_eq!(prod.environment, Some(("prod".into(), "prod".into())));
    assert_eq!(prod.containers.len(), 1);
    assert_eq!(prod.containers[0].container, "app");
    assert!(
        prod.containers[0]
            .settings
            .contains(&("unset".into(), "JWT_PUBLIC_KEY".into()))
    );
    let staging = apply(&inputs_in(dir.path(), "refs/heads/fix/login", |_| {}), None).unwrap();
    assert_eq!(
        staging.environment,
        Some(("staging".into(), "staging".into()))
    );
    assert_eq!(
        staging.inputs.args.health_check_url.as_deref(),
        Some("https://api.staging.example.org/health")
    );
    assert_eq!(
        staging.inputs.args.sentry_projects.as_deref(),
        Some("back-end")
    );
}
