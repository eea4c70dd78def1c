//! The command line for people: `plan` and `iam-policy`, in a terminal (no runner).

use std::process::Command;

fn deploy_action(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_deploy-action"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
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
    assert!(stdout.contains("dry run: nothing was changed"), "{stdout}");
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
    let (code, stdout, _) = deploy_action(&base);
    assert_eq!(code, 0);
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
