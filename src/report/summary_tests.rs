//! Snapshots of the job summary, as GitHub will render it.

use super::*;
use crate::deploy::Failure;
use crate::image::build::{Builder, Cache};
use crate::image::{Origin, PushedImage};
use crate::inputs::{InputArgs, Inputs, RunContext};
use std::time::Duration;

const DIGEST: &str = "sha256:1286ab44d2a14dfb16db6684b611b55f00b69a80837dae7a83c305e968a625f8";
const TD: &str = "arn:aws:ecs:us-east-2:633607774026:task-definition/back-end";

fn plan(edit: impl FnOnce(&mut InputArgs)) -> Plan {
    let mut args = InputArgs {
        aws_region: Some("us-east-2".into()),
        ecr_repository: Some("back-end".into()),
        registry: Some("633607774026.dkr.ecr.us-east-2.amazonaws.com".into()),
        context: Some("examples/app".into()),
        ecs_cluster: Some("back-end-production".into()),
        ecs_services: Some("api, worker".into()),
        ..Default::default()
    };
    edit(&mut args);
    let run = RunContext {
        in_actions: true,
        git_ref: Some("refs/heads/main".into()),
        sha: Some("4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c".into()),
        repository: Some("operationcode/back-end".into()),
        run_id: Some("42".into()),
        server_url: Some("https://github.com".into()),
        ..Default::default()
    };
    crate::plan::resolve(&Inputs {
        args,
        run,
        github_token: None,
    })
    .unwrap()
}

fn image() -> PushedImage {
    PushedImage {
        registry: "633607774026.dkr.ecr.us-east-2.amazonaws.com".into(),
        repository: "back-end".into(),
        digest: DIGEST.into(),
        tags: vec!["prod".into(), "sha-4f2a9c1".into()],
        origin: Origin::Built {
            builder: Builder::Buildx,
            cache: Cache::Gha {
                scope: "back-end-prod".into(),
            },
        },
        build_time: Duration::from_millis(83_400),
    }
}

fn rollouts() -> Vec<Rollout> {
    vec![
        Rollout {
            service: "api".into(),
            previous_task_definition: format!("{TD}:41"),
            task_definition: format!("{TD}:42"),
            changed_containers: vec!["api".into()],
            outcome: Outcome::Completed { running: 2, desired: 2 },
            duration: Duration::from_secs(94),
            events: vec![
                "(service api) has started 2 tasks: (task 1a2b) (task 3c4d).".into(),
                "(service api) has reached a steady state.".into(),
            ],
        },
        Rollout {
            service: "worker".into(),
            previous_task_definition: format!("{TD}:41"),
            task_definition: format!("{TD}:42"),
            changed_containers: vec!["worker".into()],
            outcome: Outcome::Failed(Failure {
                reason: "the deployment ecs-svc/123 failed: tasks failed to start; rolled back to revision back-end:41"
                    .into(),
                evidence: Some(
                    "task 0f1e2d3c stopped: Essential container in task exited (EssentialContainerExited)\n  \
                     container worker: exit code 1, reason: -, health: -\n  \
                     last lines of worker (/ecs/back-end-production ecs/worker/0f1e2d3c):\n    \
                     panic: JWT_SECRET_KEY is not set\n"
                        .into(),
                ),
                left_on: format!("{TD}:41"),
                rolled_back: true,
            }),
            duration: Duration::from_secs(312),
            events: vec!["(service worker) deployment failed: tasks failed to start.".into()],
        },
    ]
}

#[test]
fn success_and_failure_of_services() {
    insta::assert_snapshot!(
        "summary_rollouts",
        success(&plan(|_| {}), &image(), &rollouts())
    );
}

#[test]
fn a_failed_run() {
    let plan = plan(|_| {});
    insta::assert_snapshot!(
        "summary_failure",
        failure(
            Some(&plan),
            "the ECR repository back-end does not exist (ECR does not create repositories on push)",
            Some(
                "create it once: `aws ecr create-repository --repository-name back-end`, or set `create-repository: true`"
            ),
        )
    );
}

#[test]
fn a_dry_run() {
    let plan = plan(|args| args.dry_run = Some("true".into()));
    let changes = "service api (runs back-end:41):\n  container api image: 633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end:prod → 633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end@<digest of this build>\n  would register a new revision of back-end, update the service to it and wait up to 30 minutes\n";
    insta::assert_snapshot!("summary_dry_run", dry_run(&plan, changes));
}

#[test]
fn a_huge_summary_is_cut_under_the_limit() {
    let mut many = rollouts();
    if let Outcome::Failed(failure) = &mut many[1].outcome {
        failure.evidence = Some("a log line that goes on\n".repeat(100_000));
    }
    let md = success(&plan(|_| {}), &image(), &many);
    assert!(md.len() <= LIMIT, "{}", md.len());
    assert!(md.ends_with("(cut to stay under GitHub's 1 MiB limit)\n"));
}

#[test]
fn action_yml_and_readme_list_every_output() {
    let session = crate::auth::AwsSession {
        config: aws_config::SdkConfig::builder().build(),
        account_id: "633607774026".into(),
        identity_arn: "arn:aws:sts::633607774026:assumed-role/deploy/s".into(),
    };
    let outputs =
        crate::report::output_values(&plan(|_| {}), &session, &image(), &rollouts(), Some(7));
    let action_yml = include_str!("../../action.yml");
    let declared = action_yml
        .split("\noutputs:\n")
        .nth(1)
        .unwrap()
        .split("\nruns:\n")
        .next()
        .unwrap();
    let readme = include_str!("../../README.md");
    for (name, _) in &outputs {
        assert!(
            declared.contains(&format!("\n  {name}:\n"))
                || declared.starts_with(&format!("  {name}:\n")),
            "action.yml lacks output {name}"
        );
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README lacks output {name}"
        );
    }
    let count = declared
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .count();
    assert_eq!(
        count,
        outputs.len(),
        "action.yml declares outputs the action does not write"
    );
}
