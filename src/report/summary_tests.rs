//! Snapshots of the job summary, as GitHub will render it, for each ending of a run.

use super::*;
use crate::report::fixtures;

#[test]
fn success_and_failure_of_services() {
    insta::assert_snapshot!("summary_rollouts", render(&fixtures::rollout_failed()));
}

#[test]
fn a_failure_after_the_push_shows_the_image_and_the_untouched_services() {
    let md = render(&fixtures::failed_after_push());
    insta::assert_snapshot!("summary_failed_after_push", md);
}

#[test]
fn a_failed_run() {
    insta::assert_snapshot!("summary_failure", render(&fixtures::failed_before_push()));
}

#[test]
fn a_dry_run() {
    insta::assert_snapshot!("summary_dry_run", render(&fixtures::dry_run()));
}

#[test]
fn a_huge_summary_is_cut_under_the_limit() {
    let mut release = fixtures::rollout_failed();
    for service in &mut release.services {
        if let Some(rollout) = &mut service.rollout
            && let Outcome::Failed(failure) = &mut rollout.outcome
        {
            failure.evidence = Some("a log line that goes on\n".repeat(100_000));
        }
    }
    let md = render(&release);
    assert!(md.len() <= LIMIT, "{}", md.len());
    assert!(md.ends_with("(cut to stay under GitHub's 1 MiB limit)\n"));
}

#[test]
fn action_yml_and_readme_list_every_output() {
    let outputs = fixtures::rollout_failed().outputs();
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

/// With a config file the summary says which file and environment, and where each setting
/// came from.
#[test]
fn the_settings_origin_is_in_the_summary() {
    let mut release = fixtures::succeeded();
    release.settings = Some(crate::report::release::ConfigRecord {
        file: ".github/deploy.toml".into(),
        environment: "prod".into(),
        origins: vec![
            ("aws-region".into(), "deploy.toml [defaults] line 2".into()),
            ("ecs-cluster".into(), "input".into()),
        ],
    });
    let md = render(&release);
    assert!(
        md.contains("| settings | `.github/deploy.toml`, environment `prod` |"),
        "{md}"
    );
    assert!(
        md.contains("- `aws-region`: deploy.toml [defaults] line 2"),
        "{md}"
    );
    assert!(md.contains("- `ecs-cluster`: input"), "{md}");
}
