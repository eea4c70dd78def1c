use super::*;

fn run(name: &str, status: &str, conclusion: Option<&str>, run_id: &str) -> CheckRun {
    CheckRun {
        name: name.into(),
        status: status.into(),
        conclusion: conclusion.map(str::to_string),
        details_url: Some(format!(
            "https://github.com/o/r/actions/runs/{run_id}/job/1"
        )),
    }
}

#[test]
fn decisions() {
    let ok = run("test", "completed", Some("success"), "1");
    let skipped = run("lint", "completed", Some("skipped"), "1");
    let failed = run("test", "completed", Some("failure"), "1");
    let pending = run("test", "in_progress", None, "1");
    let ourselves = run("deploy", "in_progress", None, "42");
    let status = |state: &str| CommitStatus {
        context: "ci/legacy".into(),
        state: state.into(),
    };
    let own = Some("42");
    assert_eq!(
        assess(
            &[ok.clone(), skipped.clone(), ourselves.clone()],
            &[status("success")],
            own,
            &[]
        ),
        Gate::Pass
    );
    assert_eq!(
        assess(&[ok.clone(), failed], &[], own, &[]),
        Gate::Failed(vec!["test (failure)".into()])
    );
    assert_eq!(
        assess(&[pending, ourselves.clone()], &[], own, &[]),
        Gate::Waiting(vec!["test (in_progress)".into()])
    );
    assert_eq!(
        assess(std::slice::from_ref(&ok), &[status("pending")], own, &[]),
        Gate::Waiting(vec!["ci/legacy (pending)".into()])
    );
    assert_eq!(
        assess(std::slice::from_ref(&ok), &[status("error")], own, &[]),
        Gate::Failed(vec!["ci/legacy (error)".into()])
    );
    // Without the run id, an unfinished run is someone else's.
    assert!(matches!(
        assess(std::slice::from_ref(&ourselves), &[], None, &[]),
        Gate::Waiting(_)
    ));
    // Nothing reported but ourselves: CI has not started; wait.
    assert_eq!(
        assess(std::slice::from_ref(&ourselves), &[], own, &[]),
        Gate::Waiting(vec!["no check has reported on the commit yet".into()])
    );
    // Another workflow's CI with a job named like one of ours (`build`, finished in our run):
    // waited for. A name proves nothing; only this run's own check runs are skipped.
    let our_build = run("build", "completed", Some("success"), "42");
    let their_build = run("build", "in_progress", None, "44");
    assert!(matches!(
        assess(&[ok.clone(), our_build, ourselves.clone(), their_build], &[], own, &[]),
        Gate::Waiting(waiting) if waiting.len() == 1 && waiting[0].starts_with("build (in_progress")
    ));
    // A second deploy of the commit: waited for, and said what it may be.
    let twin = run("deploy", "in_progress", None, "43");
    let Gate::Waiting(waiting) = assess(&[ok.clone(), ourselves.clone(), twin], &[], own, &[])
    else {
        panic!("a job of another run is waited for");
    };
    assert!(
        waiting[0]
            .starts_with("deploy (in_progress, a job named like ours in another workflow run")
            && waiting[0].contains("`concurrency:`"),
        "{waiting:?}"
    );
    // Required checks: only they count, and each must have reported.
    let required = vec!["test".to_string(), "ci/legacy".to_string()];
    let slow_lint = run("lint", "in_progress", None, "1");
    assert_eq!(
        assess(&[ok.clone(), slow_lint.clone()], &[], own, &required),
        Gate::Waiting(vec!["ci/legacy (not reported yet)".into()])
    );
    assert_eq!(
        assess(&[ok, slow_lint], &[status("success")], own, &required),
        Gate::Pass
    );
}
