use super::*;
use clap::CommandFactory;

/// The long flags a subcommand takes, as `--help` lists them.
fn flags_of(subcommand: &str) -> Vec<String> {
    let command = Cli::command();
    let found = command
        .find_subcommand(subcommand)
        .unwrap_or_else(|| panic!("no subcommand {subcommand}"));
    found
        .get_arguments()
        .filter_map(|arg| arg.get_long().map(str::to_string))
        .collect()
}

/// The flags every operation takes: what names the services, and how to show them.
const SERVICE_FLAGS: &[&str] = &[
    "config",
    "env",
    "ref",
    "aws-region",
    "ecs-cluster",
    "ecs-services",
    "ecr-repository",
    "registry",
    "log-level",
    "output",
];

/// `status --help` listed 69 flags (build args, Sentry, dry-run…): an operation shows only the
/// flags it reads.
#[test]
fn operations_take_only_the_flags_they_read() {
    let with = |extra: &[&str]| -> Vec<String> {
        SERVICE_FLAGS
            .iter()
            .chain(extra)
            .map(|flag| flag.to_string())
            .collect()
    };
    assert_eq!(flags_of("status"), with(&[]));
    assert_eq!(flags_of("logs"), with(&["follow", "since"]));
    assert_eq!(flags_of("continue"), with(&["rollback"]));
    assert_eq!(flags_of("run"), with(&["container", "timeout-minutes"]));
    assert_eq!(
        flags_of("rollback"),
        with(&[
            "to",
            "wait-timeout-minutes",
            "sentry-org",
            "sentry-projects",
            "sentry-url"
        ])
    );
    // The pipeline's commands keep every input.
    assert!(flags_of("deploy").len() > InputArgs::NAMES.len());
}

fn parsed(args: &[&str], env: &[(&str, &str)]) -> Invocation {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let lookup = move |key: &str| {
        env.iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    };
    Cli::try_parse_from(std::iter::once("deploy-action").chain(args.iter().copied()))
        .unwrap()
        .invocation(&lookup)
        .unwrap()
}

/// `status` demanded `--ecr-repository`; and a config file's role (trusting the workflow's
/// OIDC token, which a terminal lacks) is not assumed for a person's operation.
#[test]
fn an_operation_needs_no_repository_and_runs_with_the_persons_credentials() {
    let Invocation::Status(request) = parsed(
        &[
            "status",
            "--aws-region",
            "us-east-2",
            "--ecs-cluster",
            "back-end-production",
            "--ecs-services",
            "back-end-production",
        ],
        &[(
            "INPUT_ROLE-TO-ASSUME",
            "arn:aws:iam::633607774026:role/GitHubActions-Deploy",
        )],
    ) else {
        panic!("not status");
    };
    let plan = crate::plan::resolve_in(&request.inputs, request.intent, None).unwrap();
    assert!(matches!(plan.auth, crate::plan::AuthPlan::Ambient));
    assert_eq!(plan.image.repository, "");
    assert_eq!(
        plan.rollout.unwrap().services,
        ["back-end-production".to_string()]
    );
}

/// With `--output json` an operation's lines go to stderr: stdout is the record's.
#[test]
fn an_operation_with_json_output_logs_to_stderr() {
    let json = parsed(&["status", "--ecs-cluster", "c", "--output", "json"], &[]);
    assert!(json.logs_on_stderr());
    let text = parsed(&["status", "--ecs-cluster", "c"], &[]);
    assert!(!text.logs_on_stderr());
}

/// `iam-policy` takes the spelling every other command uses, too.
#[test]
fn iam_policy_accepts_the_common_spelling() {
    let request = |args: &[&str]| match parsed(
        &[
            &[
                "iam-policy",
                "--repository",
                "operationcode/back-end",
                "--account",
                "633607774026",
                "--ecr-repository",
                "back-end",
            ][..],
            args,
        ]
        .concat(),
        &[],
    ) {
        Invocation::IamPolicy(request) => *request,
        _ => panic!("not iam-policy"),
    };
    let common = request(&[
        "--aws-region",
        "us-east-2",
        "--ecs-cluster",
        "back-end-production",
        "--ecs-services",
        "api,worker",
    ]);
    let own = request(&[
        "--region",
        "us-east-2",
        "--cluster",
        "back-end-production",
        "--service",
        "api",
        "--service",
        "worker",
    ]);
    assert_eq!(common.region, own.region);
    assert_eq!(common.cluster, own.cluster);
    assert_eq!(common.services, ["api", "worker"]);
    assert_eq!(common.services, own.services);
}

/// At a terminal a mistake names the flag a person types, and a short commit id is refused as
/// its hint says (the full id is the label promotion checks).
#[test]
fn at_a_terminal_the_commit_is_a_full_id_named_as_the_flag() {
    let Invocation::Pipeline { request, .. } = parsed(
        &[
            "plan",
            "--aws-region",
            "us-east-2",
            "--ecr-repository",
            "back-end",
            "--ref",
            "refs/heads/main",
            "--sha",
            "abc1234",
        ],
        &[],
    ) else {
        panic!("not plan");
    };
    let error = crate::plan::resolve_in(&request.inputs, request.intent, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`--sha` `abc1234` is not a full commit id",
        "{error:?}"
    );
}

/// Inside a runner `status`, `logs`, `rollback`, `continue` and `run` write a step's log like the
/// pipeline: their credentials are masked, outside text is neutralised and `RUST_LOG` reaches
/// only our own lines (all of it keyed on the console's mode); at a terminal they print plain lines.
#[test]
fn an_operation_inside_a_runner_writes_a_steps_log() {
    let runner = |key: &str| (key == "GITHUB_ACTIONS").then(|| "true".to_string());
    let terminal = |_: &str| None;
    for operation in [
        &["status"][..],
        &["logs"],
        &["rollback"],
        &["continue"],
        &["run"],
    ] {
        let args: Vec<&str> = ["deploy-action"]
            .iter()
            .chain(operation)
            .chain(&[
                "--aws-region",
                "us-east-2",
                "--ecs-cluster",
                "c",
                "--ecs-services",
                "s",
            ])
            .chain(if operation == ["run"] {
                &["--", "true"][..]
            } else {
                &[]
            })
            .copied()
            .collect();
        let inside = Cli::try_parse_from(&args)
            .unwrap()
            .invocation(&runner)
            .unwrap();
        assert_eq!(inside.console().mode, Mode::Actions, "{operation:?}");
        let outside = Cli::try_parse_from(&args)
            .unwrap()
            .invocation(&terminal)
            .unwrap();
        assert_eq!(outside.console().mode, Mode::Plain, "{operation:?}");
    }
}
