//! Records of the runs the report's tests render: a release whose services partly failed, a
//! failure after the push, a failure before it, and a dry run.

use super::release::{DryRun, Release, ServiceRelease, Stage, StageFailure};
use crate::deploy::{Failure, Outcome, Rollout};
use crate::image::build::{Builder, Cache};
use crate::image::{Origin, PushedImage};
use std::time::Duration;

const DIGEST: &str = "sha256:1286ab44d2a14dfb16db6684b611b55f00b69a80837dae7a83c305e968a625f8";
const TD: &str = "arn:aws:ecs:us-east-2:633607774026:task-definition/back-end";

pub fn image() -> PushedImage {
    PushedImage {
        registry: "633607774026.dkr.ecr.us-east-2.amazonaws.com".into(),
        repository: "back-end".into(),
        digest: DIGEST.into(),
        tags: vec!["prod".into(), "sha-4f2a9c1".into()],
        origin: Origin::Built {
            builder: Builder::Buildx,
            cache: Cache::Gha {
                scope: "back-end-prod".into(),
                version: 2,
            },
            cache_note: None,
            platforms: vec!["linux/arm64".into()],
        },
        revision: Some("4f2a9c1e0b7d3a5f8c6e2d1b0a9f8e7d6c5b4a39".into()),
        build_time: Duration::from_millis(83_400),
    }
}

pub fn completed() -> Rollout {
    Rollout {
        service: "api".into(),
        previous_task_definition: format!("{TD}:41"),
        task_definition: format!("{TD}:42"),
        changed_containers: vec!["api".into()],
        outcome: Outcome::Completed {
            running: 2,
            desired: 2,
        },
        duration: Duration::from_secs(94),
        events: vec![
            "(service api) has started 2 tasks: (task 1a2b) (task 3c4d).".into(),
            "(service api) has reached a steady state.".into(),
        ],
    }
}

pub fn failed() -> Rollout {
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
                 logs of worker: https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2\
                 #logsV2:log-groups/log-group/$252Fecs$252Fback-end-production/log-events/ecs$252Fworker$252F0f1e2d3c\n"
                    .into(),
            ),
            log_lines: None,
            left_on: format!("{TD}:41"),
            rolled_back: true,
        }),
        duration: Duration::from_secs(312),
        events: vec!["(service worker) deployment failed: tasks failed to start.".into()],
    }
}

/// The plan's identity for a push to `main`, services `api` and `worker` not rolled yet.
pub fn planned() -> Release {
    Release {
        environment: Some("prod".into()),
        commit: Some("4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c".into()),
        git_ref: Some("refs/heads/main".into()),
        services: ["api", "worker"]
            .into_iter()
            .map(|service| ServiceRelease {
                service: service.into(),
                rollout: None,
            })
            .collect(),
        ..Release::default()
    }
}

/// `api` completed, `worker` failed and was rolled back.
pub fn rollout_failed() -> Release {
    let mut release = planned();
    release.aws_account_id = Some("633607774026".into());
    release.image = Some(image());
    release.github_deployment_id = Some(7);
    release.sentry = Some(crate::sentry::SentryReport {
        version: "4f2a9c1e0b7d3a5f8c6e2d1b0a9f8e7d6c5b4a39".into(),
        link: "https://sentry.io/organizations/operation-code/releases/4f2a9c1e0b7d3a5f8c6e2d1b0a9f8e7d6c5b4a39/".into(),
        environment: "production".into(),
        deploy: crate::sentry::DeployMarker::NotRecorded("the rollout failed".into()),
    });
    // The migrations passed; the worker's rollout did not.
    release.pre_deploy = Some(crate::deploy::one_off::OneOff {
        task_arn: "arn:aws:ecs:us-east-2:633607774026:task/back-end-production/9a8b7c6d".into(),
        container: "api".into(),
        exit_code: Some(0),
        duration: Duration::from_millis(41_200),
        stopped_reason: Some("Essential container in task exited".into()),
        timed_out: false,
    });
    release.rolled(vec![completed(), failed()]);
    let failures = release.rollout_failures();
    release.failure = Some(StageFailure {
        stage: Stage::Deploy,
        message: format!("rollout failed: {}", failures.join("\n")),
        hint: Some("the service events and stopped tasks above say why; the image is pushed, re-run to retry the rollout".into()),
    });
    release
}

/// Both services completed.
pub fn succeeded() -> Release {
    let mut release = planned();
    release.aws_account_id = Some("633607774026".into());
    release.image = Some(image());
    let mut worker = completed();
    worker.service = "worker".into();
    worker.events.clear();
    release.rolled(vec![completed(), worker]);
    release
}

/// Pushed, then RegisterTaskDefinition was refused: no service touched.
pub fn failed_after_push() -> Release {
    let mut release = planned();
    release.aws_account_id = Some("633607774026".into());
    release.image = Some(image());
    release.failure = Some(StageFailure {
        stage: Stage::Deploy,
        message: "ECS RegisterTaskDefinition: service error: ClientException: Too many concurrent attempts to create a new revision of the specified family.".into(),
        hint: None,
    });
    release
}

/// The repository was missing: nothing pushed.
pub fn failed_before_push() -> Release {
    let mut release = planned();
    release.aws_account_id = Some("633607774026".into());
    release.failure = Some(StageFailure {
        stage: Stage::Repository,
        message: "the ECR repository back-end does not exist (ECR does not create repositories on push)".into(),
        hint: Some("create it once: `aws ecr create-repository --repository-name back-end`, or set `create-repository: true`".into()),
    });
    release
}

pub fn dry_run() -> Release {
    let mut release = planned();
    release.aws_account_id = Some("633607774026".into());
    release.dry_run = Some(DryRun {
        plan: "environment:  prod\ncommit:       4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c (refs/heads/main)\n".into(),
        changes: "service api (runs back-end:41):\n  container api image: 633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end:prod → 633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end@<digest of this build>\n  would register a new revision of back-end, update the service to it and wait up to 30 minutes\n".into(),
    });
    release
}
