//! The record's two forms (JSON for scripts, the terminal report) and what it derives.

use super::*;
use crate::report::fixtures;

/// Every ending the record must tell apart.
fn endings() -> Vec<(&'static str, Release)> {
    vec![
        ("success", fixtures::succeeded()),
        ("rollout_failed", fixtures::rollout_failed()),
        ("failed_after_push", fixtures::failed_after_push()),
        ("failed_before_push", fixtures::failed_before_push()),
        ("dry_run", fixtures::dry_run()),
    ]
}

#[test]
fn json_form_of_each_ending() {
    for (name, release) in endings() {
        insta::assert_snapshot!(format!("json_{name}"), release.to_json());
    }
}

#[test]
fn terminal_form_of_each_ending() {
    for (name, release) in endings() {
        insta::assert_snapshot!(format!("terminal_{name}"), release.to_string());
    }
}

#[test]
fn the_rollout_result_follows_what_happened() {
    let mut started = fixtures::succeeded();
    for service in &mut started.services {
        if let Some(rollout) = &mut service.rollout {
            rollout.outcome = Outcome::Started;
        }
    }
    let mut build_only = fixtures::succeeded();
    build_only.services.clear();
    let cases: Vec<(&str, Release, Option<RolloutResult>)> = vec![
        (
            "every service completed",
            fixtures::succeeded(),
            Some(RolloutResult::Success),
        ),
        (
            "one service failed",
            fixtures::rollout_failed(),
            Some(RolloutResult::Failure),
        ),
        // RegisterTaskDefinition refused: the deploy stage failed before any service moved.
        (
            "the deploy stage failed",
            fixtures::failed_after_push(),
            Some(RolloutResult::Failure),
        ),
        (
            "stopped before the rollout",
            fixtures::failed_before_push(),
            None,
        ),
        ("not waited for", started, Some(RolloutResult::Started)),
        ("nothing to roll", build_only, Some(RolloutResult::Skipped)),
        ("a dry run", fixtures::dry_run(), None),
        ("the inputs were wrong", Release::default(), None),
    ];
    for (case, release, expected) in cases {
        assert_eq!(release.rollout_result(), expected, "{case}");
    }
}

fn output<'a>(outputs: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    outputs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.as_str())
}

#[test]
fn a_failure_after_the_push_still_outputs_the_image() {
    let outputs = fixtures::failed_after_push().outputs();
    let image = fixtures::image();
    assert_eq!(
        output(&outputs, "image"),
        Some(image.pinned_reference().as_str())
    );
    assert_eq!(output(&outputs, "digest"), Some(image.digest.as_str()));
    assert_eq!(output(&outputs, "tags"), Some("prod\nsha-4f2a9c1"));
    assert_eq!(output(&outputs, "rollout-result"), Some("failure"));
    // No service was touched: there is no revision to name.
    assert_eq!(output(&outputs, "task-definition-arns"), None);
}

#[test]
fn a_failure_before_the_push_outputs_only_what_is_known() {
    let outputs = fixtures::failed_before_push().outputs();
    let names: Vec<&str> = outputs.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["environment", "aws-account-id"]);
    assert!(Release::default().outputs().is_empty());
}

#[test]
fn rollouts_are_recorded_against_the_planned_services_in_order() {
    let release = fixtures::rollout_failed();
    let services: Vec<(&str, bool)> = release
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.rollout.is_some()))
        .collect();
    assert_eq!(services, [("api", true), ("worker", true)]);
    let failures = release.rollout_failures();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].starts_with("worker: the deployment ecs-svc/123 failed"));
}

#[test]
fn planned_carries_the_plans_identity_and_services() {
    use crate::inputs::{InputArgs, Inputs, RunContext};
    let inputs = Inputs {
        args: InputArgs {
            aws_region: Some("us-east-2".into()),
            ecr_repository: Some("back-end".into()),
            context: Some("examples/app".into()),
            registry: Some("127.0.0.1:5000".into()),
            ecs_cluster: Some("back-end-staging".into()),
            ecs_services: Some("api, worker".into()),
            ..Default::default()
        },
        run: RunContext {
            git_ref: Some("refs/heads/feature/x".into()),
            sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
            ..Default::default()
        },
        github_token: None,
        sentry_token: None,
    };
    let plan = crate::plan::resolve(&inputs, crate::plan::Intent::AsGiven).unwrap();
    let release = Release::planned(&plan);
    assert_eq!(release.environment.as_deref(), Some("staging"));
    assert_eq!(
        release.commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(release.git_ref.as_deref(), Some("refs/heads/feature/x"));
    let services: Vec<(&str, bool)> = release
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.rollout.is_none()))
        .collect();
    assert_eq!(services, [("api", true), ("worker", true)]);
    assert_eq!(release.failure, None);
}

/// The summary says which cache was used, and why it is not the one asked for.
#[test]
fn the_cache_used_and_why_are_told() {
    let mut image = fixtures::image();
    assert!(origin_text(&image).ends_with("GitHub Actions cache v2, scope back-end-prod"));
    image.origin = Origin::Built {
        builder: Builder::Buildx,
        cache: crate::image::build::Cache::Registry {
            reference: "r/back-end:buildcache-prod".into(),
        },
        cache_note: Some(
            "cache: this buildx reads the GitHub cache service v2 … from v0.21 on".into(),
        ),
        platforms: vec!["linux/arm64".into()],
    };
    let text = origin_text(&image);
    assert!(
        text.contains("registry cache r/back-end:buildcache-prod (this buildx reads"),
        "{text}"
    );
}

#[test]
fn a_promotion_says_which_commit_its_image_holds() {
    let mut image = fixtures::image();
    image.origin = Origin::Promoted {
        from: "sha-4f2a9c1".into(),
    };
    assert!(
        origin_text(&image)
            .starts_with("promoted from `sha-4f2a9c1` (built from commit 4f2a9c1e0b7d"),
        "{}",
        origin_text(&image)
    );
    image.revision = None;
    assert!(origin_text(&image).contains("(built from an unknown commit)"));
    let release = Release {
        image: Some(image),
        ..Release::default()
    };
    assert_eq!(output(&release.outputs(), "image-revision"), None);
}
