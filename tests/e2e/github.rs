//! GitHub Deployments and the checks gate, with the binary talking to a wiremock GitHub API.

use crate::support::*;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread")]
async fn deployment_statuses_follow_the_rollout_and_the_token_stays_secret() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/gh");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 11})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/repos/operationcode/back-end/deployments/11/statuses",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(2)
        .mount(&github)
        .await;
    let token = format!("ghs_{}", unique("token").replace('-', ""));
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &deploy_inputs(
            &repository,
            &world,
            &[
                ("github-deployment", "true"),
                ("environment-url", "https://api.operationcode.org"),
                ("log-level", "trace"),
            ],
        ),
    );
    action.set("GITHUB_API_URL", &github.uri());
    action.set("INPUT_GITHUB-TOKEN", &token);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["github-deployment-id"], "11");
    assert_eq!(run.outputs["rollout-result"], "success");
    let requests = github.received_requests().await.unwrap();
    let created: serde_json::Value = requests[0].body_json().unwrap();
    assert_eq!(created["environment"], "production");
    assert_eq!(created["ref"], "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c");
    let states: Vec<String> = requests[1..]
        .iter()
        .map(|r| {
            r.body_json::<serde_json::Value>().unwrap()["state"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(states, vec!["in_progress", "success"]);
    let last: serde_json::Value = requests[2].body_json().unwrap();
    assert!(
        last["log_url"].as_str().unwrap().contains("/actions/runs/"),
        "{last}"
    );
    assert_eq!(last["environment_url"], "https://api.operationcode.org");
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {token}")
    );
    run.assert_masked("the GitHub token", &token);
    run.assert_no_leak("the GitHub token", &token);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_check_stops_the_release_before_anything_is_pushed() {
    let standins = StandIns::get();
    let repository = unique("e2e/gate");
    standins.ecr_repository(&repository, false).await;
    let github = MockServer::start().await;
    Mock::given(path_regex(r"/commits/[0-9a-f]+/check-runs$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total_count": 1, "check_runs": [
            {"name": "tests", "status": "completed", "conclusion": "failure", "details_url": "https://github.com/x/actions/runs/1/job/2"}
        ]})))
        .mount(&github)
        .await;
    Mock::given(path_regex(r"/commits/[0-9a-f]+/status$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"state": "failure", "statuses": []})),
        )
        .mount(&github)
        .await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("wait-for-checks", "true"),
        ],
    );
    action.set("GITHUB_API_URL", &github.uri());
    action.set("INPUT_GITHUB-TOKEN", "ghs_gate_token");
    let run = action.run();
    assert_ne!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("checks failed") && run.stdout.contains("tests (failure)"),
        "{}",
        run.log()
    );
    assert!(
        Registry {
            host: standins.registry()
        }
        .tags(&repository)
        .await
        .is_empty()
    );
    assert!(
        !run.stdout.contains("OIDC token claims"),
        "the gate runs before any AWS call"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_deployments_permission_the_deploy_goes_on() {
    let standins = StandIns::get();
    let repository = unique("e2e/gh403");
    standins.ecr_repository(&repository, false).await;
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&github)
        .await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/x",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("github-deployment", "true"),
        ],
    );
    action.set("GITHUB_API_URL", &github.uri());
    action.set("INPUT_GITHUB-TOKEN", "ghs_no_permission");
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    let warning = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning"))
        .expect("a warning");
    assert!(warning.contains("deployments: write"), "{warning}");
    // No deployment, no id: the output is not written (a workflow reads it as empty).
    assert!(
        !run.outputs.contains_key("github-deployment-id"),
        "{}",
        run.outputs_raw
    );
    assert_eq!(run.outputs["rollout-result"], "skipped");
}

/// A rollout that fails after the deployment was created marks it `failure`, with why — the
/// report settles the deployment whatever stage the run ended in.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollout_marks_the_deployment_failed() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/gh-fail");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 12})))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/repos/operationcode/back-end/deployments/12/statuses",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(2)
        .mount(&github)
        .await;
    let proxy = FaultProxy::start(&standins, &["RegisterTaskDefinition=refuse*1"]);
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &deploy_inputs(&repository, &world, &[("github-deployment", "true")]),
    );
    action.set("GITHUB_API_URL", &github.uri());
    action.set("INPUT_GITHUB-TOKEN", "ghs_failing_rollout");
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    assert_eq!(run.outputs["github-deployment-id"], "12");
    assert_eq!(run.outputs["rollout-result"], "failure");
    let requests = github.received_requests().await.unwrap();
    let statuses: Vec<serde_json::Value> = requests[1..]
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    let states: Vec<&str> = statuses
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["in_progress", "failure"]);
    let description = statuses[1]["description"].as_str().unwrap();
    assert!(
        description.contains("RegisterTaskDefinition"),
        "{description}"
    );
    assert!(
        description.chars().count() <= 140,
        "GitHub's limit: {description}"
    );
}

/// For a pull request the gate waits on the PR's head commit (from the event payload), where
/// checks report — not on the merge commit GitHub made for the run (`GITHUB_SHA`), which has
/// no checks of its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_is_gated_on_its_head_commit() {
    let standins = StandIns::get();
    let repository = unique("e2e/gate-pr");
    standins.ecr_repository(&repository, false).await;
    let head = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    let github = MockServer::start().await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{head}/check-runs"
    )))
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total_count": 1, "check_runs": [
        {"name": "tests", "status": "completed", "conclusion": "success", "details_url": "https://github.com/x/actions/runs/1/job/2"}
    ]})))
    .mount(&github)
    .await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{head}/status"
    )))
    .respond_with(
        ResponseTemplate::new(200).set_body_json(json!({"state": "success", "statuses": []})),
    )
    .mount(&github)
    .await;
    let mut action = ActionRun::new(
        &standins,
        "refs/pull/12/merge",
        &unique("run"),
        &[
            ("ecr-repository", repository.as_str()),
            ("wait-for-checks", "true"),
        ],
    );
    std::fs::write(
        action.dir.path().join("workflow/event.json"),
        json!({"pull_request": {"number": 12, "head": {"sha": head, "ref": "fix-login"}}})
            .to_string(),
    )
    .unwrap();
    action.set("GITHUB_EVENT_NAME", "pull_request");
    action.set("GITHUB_HEAD_REF", "fix-login");
    action.set("GITHUB_API_URL", &github.uri());
    action.set("INPUT_GITHUB-TOKEN", "ghs_gate_token");
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout
            .contains(&format!("every other check on {head} passed")),
        "{}",
        run.log()
    );
}
