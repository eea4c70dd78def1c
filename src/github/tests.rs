//! The GitHub API against wiremock: Deployments and the checks gate.

use super::*;
use crate::console::{Console, Mode};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA: &str = "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c";

fn github(server: &MockServer) -> GitHub {
    GitHub::new(&GitHubPlan {
        api_url: server.uri(),
        token: SecretString::from("ghs_test_token"),
        repository: "operationcode/back-end".into(),
        deployment: None,
        checks_timeout: None,
        checks_commit: None,
        required_checks: Vec::new(),
        run_id: Some("42".into()),
    })
    .unwrap()
}

fn console() -> Console {
    Console::new(Mode::Plain)
}

#[tokio::test]
async fn a_deployment_is_created_and_moves_through_its_statuses() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .and(header("authorization", "Bearer ghs_test_token"))
        .and(body_partial_json(
            json!({"ref": SHA, "environment": "production", "production_environment": true}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 7})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments/7/statuses"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(3)
        .mount(&server)
        .await;
    let github = github(&server);
    let id = deployments::create(&github, SHA, "production", true, Some("42"), &console()).await;
    assert_eq!(id, Some(7));
    let log = "https://github.com/operationcode/back-end/actions/runs/42";
    deployments::set_status(
        &github,
        7,
        "in_progress",
        Some(log),
        None,
        "rolling out",
        &console(),
    )
    .await;
    deployments::set_status(
        &github,
        7,
        "success",
        Some(log),
        Some("https://api.example.org"),
        "done",
        &console(),
    )
    .await;
    // A failure's message over lines, with a terminal's escape: one line, 140 characters.
    let failure = format!(
        "rollout failed:\n  api: \u{1b}[31mexit 1\u{1b}[0m\r\n{}",
        "x".repeat(200)
    );
    deployments::set_status(&github, 7, "failure", None, None, &failure, &console()).await;
    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<serde_json::Value> = requests[1..]
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(bodies[0]["state"], "in_progress");
    assert_eq!(bodies[0]["log_url"], log);
    assert_eq!(bodies[1]["state"], "success");
    assert_eq!(bodies[1]["environment_url"], "https://api.example.org");
    let description = bodies[2]["description"].as_str().unwrap();
    assert!(
        description.starts_with("rollout failed: api: [31mexit 1[0m xxx"),
        "{description}"
    );
    assert_eq!(description.chars().count(), 140, "{description}");
}

#[tokio::test]
async fn a_missing_permission_is_a_warning_and_the_deploy_goes_on() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"message": "Resource not accessible by integration", "documentation_url": "x"}),
        ))
        .mount(&server)
        .await;
    let id = deployments::create(
        &github(&server),
        SHA,
        "staging",
        false,
        Some("42"),
        &console(),
    )
    .await;
    assert_eq!(id, None);
}

fn check_runs(runs: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"total_count": 1, "check_runs": runs}))
}

fn statuses(list: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"state": "success", "statuses": list}))
}

async fn gate(server: &MockServer, timeout: Duration) -> anyhow::Result<()> {
    let gate = checks::GateSpec {
        sha: SHA,
        run_id: Some("42"),
        required: &[],
        timeout,
        poll: Duration::from_millis(20),
    };
    checks::wait_for_checks(&github(server), &gate, &console()).await
}

const OURSELVES: &str = r#"{"name": "deploy", "status": "in_progress", "conclusion": null,
    "details_url": "https://github.com/operationcode/back-end/actions/runs/42/job/9"}"#;

/// A GitHub that reports `runs` (after `earlier` for its first N polls) and commit `statuses`.
async fn checks_server(
    earlier: Option<(serde_json::Value, u64)>,
    runs: serde_json::Value,
    statuses_list: serde_json::Value,
) -> MockServer {
    let server = MockServer::start().await;
    let runs_path = format!("/repos/operationcode/back-end/commits/{SHA}/check-runs");
    if let Some((first, times)) = earlier {
        Mock::given(path(runs_path.clone()))
            .respond_with(check_runs(first))
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(path(runs_path))
        .respond_with(check_runs(runs))
        .mount(&server)
        .await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{SHA}/status"
    )))
    .respond_with(statuses(statuses_list))
    .mount(&server)
    .await;
    server
}

#[tokio::test]
async fn the_checks_gate_passes_fails_waits_and_times_out() {
    let ourselves: serde_json::Value = serde_json::from_str(OURSELVES).unwrap();
    let green = json!({"name": "test", "status": "completed", "conclusion": "success", "details_url": "https://x/actions/runs/41/job/1"});
    let red = json!({"name": "test", "status": "completed", "conclusion": "failure", "details_url": "https://x/actions/runs/41/job/1"});
    let running = json!({"name": "test", "status": "in_progress", "conclusion": null, "details_url": "https://x/actions/runs/41/job/1"});

    // All green (our own job excepted): pass.
    let server = checks_server(
        None,
        json!([green, ourselves]),
        json!([{"context": "ci/legacy", "state": "success"}]),
    )
    .await;
    gate(&server, Duration::from_secs(5)).await.unwrap();

    // One failure: stop, naming it.
    let server = checks_server(None, json!([red, ourselves]), json!([])).await;
    let error = gate(&server, Duration::from_secs(5)).await.unwrap_err();
    assert!(
        error.to_string().contains("test (failure)")
            && error.to_string().contains("nothing was pushed"),
        "{error}"
    );

    // Pending, then green: wait, then pass.
    let server = checks_server(
        Some((json!([running, ourselves]), 2)),
        json!([green, ourselves]),
        json!([]),
    )
    .await;
    gate(&server, Duration::from_secs(5)).await.unwrap();
    let polls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("check-runs"))
        .count();
    assert_eq!(polls, 3);

    // Pending forever: time out, naming what is pending.
    let server = checks_server(None, json!([running]), json!([])).await;
    let error = gate(&server, Duration::from_millis(200)).await.unwrap_err();
    assert!(
        error.to_string().contains("still running")
            && error.to_string().contains("test (in_progress)"),
        "{error}"
    );
}

/// A commit with more than a page of check runs: the failure on page 2 is seen. GitHub pages
/// both endpoints by `per_page` (at most 100) and `page` (REST API reference: "List check
/// runs for a Git reference", "Get the combined status for a specific reference").
#[tokio::test]
async fn every_page_of_checks_is_read_and_a_403_names_the_permission() {
    use wiremock::matchers::query_param;
    let green = |n: usize| json!({"name": format!("shard-{n}"), "status": "completed", "conclusion": "success", "details_url": "https://x/actions/runs/41/job/1"});
    let first: Vec<_> = (0..100).map(green).collect();
    let server = MockServer::start().await;
    let runs_path = format!("/repos/operationcode/back-end/commits/{SHA}/check-runs");
    Mock::given(path(runs_path.clone()))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"total_count": 101, "check_runs": first})),
        )
        .mount(&server)
        .await;
    Mock::given(path(runs_path))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total_count": 101, "check_runs": [
            {"name": "shard-100", "status": "completed", "conclusion": "failure", "details_url": "https://x/actions/runs/41/job/2"}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{SHA}/status"
    )))
    .respond_with(statuses(json!([])))
    .mount(&server)
    .await;
    let error = gate(&server, Duration::from_secs(5)).await.unwrap_err();
    assert!(error.to_string().contains("shard-100 (failure)"), "{error}");

    // A token without `statuses: read`: the error says which permission is missing.
    let server = MockServer::start().await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{SHA}/check-runs"
    )))
    .respond_with(check_runs(json!([green(1)])))
    .mount(&server)
    .await;
    Mock::given(path(format!(
        "/repos/operationcode/back-end/commits/{SHA}/status"
    )))
    .respond_with(
        ResponseTemplate::new(403)
            .set_body_json(json!({"message": "Resource not accessible by integration"})),
    )
    .mount(&server)
    .await;
    let error = gate(&server, Duration::from_secs(5)).await.unwrap_err();
    let hint = crate::error::hint_of(&error)
        .unwrap_or_default()
        .to_string();
    assert!(
        hint.contains("permissions: statuses: read"),
        "{error} / {hint}"
    );
}

/// GitHub answered 502 to the POST but created the deployment: it is found, not created again.
#[tokio::test]
async fn a_deployment_is_created_once_even_when_github_answers_5xx() {
    use wiremock::matchers::query_param;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .and(body_partial_json(
            json!({"payload": {"deploy_action_run": "42"}}),
        ))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .and(query_param("sha", SHA))
        .and(query_param("environment", "production"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 20, "payload": {"deploy_action_run": "41"}},
            {"id": 21, "payload": {"deploy_action_run": "42"}}
        ])))
        .mount(&server)
        .await;
    let id = deployments::create(
        &github(&server),
        SHA,
        "production",
        true,
        Some("42"),
        &console(),
    )
    .await;
    assert_eq!(id, Some(21), "this run's deployment, found");
}

/// A 5xx that created nothing: looked for, not found, created by a second POST.
#[tokio::test]
async fn a_failed_create_is_retried_after_looking_for_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 22})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/operationcode/back-end/deployments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let id = deployments::create(
        &github(&server),
        SHA,
        "production",
        true,
        Some("42"),
        &console(),
    )
    .await;
    assert_eq!(id, Some(22));
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2, "one failed POST, one after the look-up");
}
