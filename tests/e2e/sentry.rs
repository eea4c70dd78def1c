//! Sentry release and deploy markers, with wiremock standing in for Sentry's REST API: what is
//! sent after a staging deploy and a prod promote, nothing recorded for a failed rollout, and
//! Sentry's failures as warnings that never fail the deploy or show the token.

use crate::support::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ORG: &str = "operation-code";

/// A Sentry that accepts releases and deploys.
async fn sentry() -> MockServer {
    let server = MockServer::start().await;
    accept(&server, 201).await;
    server
}

/// Accept every release (answering `release_status`: 201 created, 208 existed) and deploy.
async fn accept(server: &MockServer, release_status: u16) {
    Mock::given(method("POST"))
        .and(path(format!("/api/0/organizations/{ORG}/releases/")))
        .respond_with(ResponseTemplate::new(release_status).set_body_json(json!({"version": "v"})))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": "v"})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(r"/deploys/$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "1"})))
        .mount(server)
        .await;
}

fn sentry_inputs(server_uri: &str) -> Vec<(&str, &str)> {
    vec![
        ("sentry-org", ORG),
        ("sentry-projects", "back-end\nworkers"),
        ("sentry-url", server_uri),
        ("log-level", "trace"),
    ]
}

/// `METHOD path` of each request, in order.
fn sequence(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn body(request: &Request) -> Value {
    request.body_json().unwrap()
}

fn token() -> String {
    format!("sntrys_{}", unique("sentrytoken").replace('-', ""))
}

/// A staging deploy, then a promote of the same commit to prod (in the action's container): one
/// release (the commit), its projects and commit ref, finalized, and a deploy to each
/// environment with the run's URL.
#[tokio::test(flavor = "multi_thread")]
async fn a_staging_deploy_and_a_prod_promote_mark_one_release() {
    let standins = StandIns::get();
    let server = sentry().await;
    let uri = server.uri();
    let token = token();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/sentry", None).await;
    let mut staging = staging_deploy(&standins, &repository, &world, &sentry_inputs(&uri));
    staging.set("SENTRY_AUTH_TOKEN", &token);
    let run = staging.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["sentry-release"], RUN_SHA);
    let requests = server.received_requests().await.unwrap();
    let release_path = format!("/api/0/organizations/{ORG}/releases/");
    let version_path = format!("{release_path}{RUN_SHA}/");
    assert_eq!(
        sequence(&requests),
        [
            format!("POST {release_path}"),
            format!("PUT {version_path}"),
            format!("POST {version_path}deploys/"),
        ]
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "version": RUN_SHA,
            "projects": ["back-end", "workers"],
            "refs": [{"repository": "operationcode/back-end", "commit": RUN_SHA}],
        })
    );
    assert!(body(&requests[1])["dateReleased"].is_string());
    let deploy = body(&requests[2]);
    assert_eq!(deploy["environment"], "staging");
    assert!(
        deploy["url"].as_str().unwrap().contains("/actions/runs/"),
        "{deploy}"
    );
    assert!(deploy["dateStarted"].as_str().unwrap() <= deploy["dateFinished"].as_str().unwrap());
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {token}")
    );
    assert!(
        run.summary.contains(&format!(
            "[{RUN_SHA}]({uri}/organizations/{ORG}/releases/{RUN_SHA}/)"
        )),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("deploy to staging recorded"),
        "{}",
        run.summary
    );
    run.assert_masked("the Sentry token", &token);
    run.assert_no_leak("the Sentry token", &token);
    assert!(!run.stdout.contains("::warning"), "{}", run.log());

    // Promote that commit's image to prod: the same release gets the production deploy.
    server.reset().await;
    accept(&server, 208).await;
    let ecs = standins.ecs().await;
    let prod = EcsWorld::create(&ecs, &format!("{}/{repository}:prod", standins.registry())).await;
    let mut promote = ActionRun::new(
        &standins,
        "refs/heads/main",
        &unique("run"),
        &deploy_inputs(
            &repository,
            &prod,
            &[&[("mode", "promote")], &sentry_inputs(&uri)[..]].concat(),
        ),
    );
    promote.set("INPUT_CONTEXT", "/nonexistent");
    promote.set("SENTRY_AUTH_TOKEN", &token);
    // In the action's container, as the runner starts it: the token arrives by `-e NAME`.
    let run = promote.in_mode(Mode::RunnerContainer).run();
    assert_eq!(run.code, 0, "{}", run.log());
    let requests = server.received_requests().await.unwrap();
    assert_eq!(sequence(&requests).len(), 3, "{:?}", sequence(&requests));
    assert_eq!(body(&requests[0])["version"], RUN_SHA);
    assert_eq!(body(&requests[2])["environment"], "production");
    run.assert_masked("the Sentry token", &token);
    run.assert_no_leak("the Sentry token", &token);
}

/// A failed rollout creates the release (the image exists) but records no deploy, and the
/// summary says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollout_records_no_deploy() {
    let standins = StandIns::get();
    let server = sentry().await;
    let uri = server.uri();
    let (world, repository) = EcsWorld::with_repository(&standins, "e2e/sentry-failed", None).await;
    standins
        .script_rollout(&world.service, "failed", 1, 0)
        .await;
    let mut action = staging_deploy(&standins, &repository, &world, &sentry_inputs(&uri));
    action.set("SENTRY_AUTH_TOKEN", &token());
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    assert_eq!(run.outputs["rollout-result"], "failure");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        sequence(&requests),
        [format!("POST /api/0/organizations/{ORG}/releases/")]
    );
    assert!(
        run.summary
            .contains("no deploy recorded: the rollout failed"),
        "{}",
        run.summary
    );
}

/// Sentry refusing the token (401) or failing (500) is a warning with Sentry's message and what
/// to check; the deploy succeeds and the token is nowhere but its mask.
#[tokio::test(flavor = "multi_thread")]
async fn sentry_failing_is_a_warning_and_the_deploy_succeeds() {
    let standins = StandIns::get();
    for (status, detail, hint) in [
        (401, "Invalid token", "SENTRY_AUTH_TOKEN was not accepted"),
        (500, "Internal Error", "Sentry had a problem"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"detail": detail})))
            .mount(&server)
            .await;
        let uri = server.uri();
        let token = token();
        let (world, repository) =
            EcsWorld::with_repository(&standins, "e2e/sentry-down", None).await;
        let mut action = staging_deploy(&standins, &repository, &world, &sentry_inputs(&uri));
        action.set("SENTRY_AUTH_TOKEN", &token);
        let run = action.run();
        assert_eq!(run.code, 0, "{status}: {}", run.log());
        assert_eq!(run.outputs["rollout-result"], "success");
        assert!(
            !run.outputs.contains_key("sentry-release"),
            "{}",
            run.outputs_raw
        );
        let warning = run
            .stdout
            .lines()
            .find(|line| line.starts_with("::warning title=sentry::"))
            .unwrap_or_else(|| panic!("{status}: no warning: {}", run.log()));
        assert!(
            warning.contains(&format!("Sentry answered {status}: {detail}")),
            "{warning}"
        );
        assert!(warning.contains(hint), "{warning}");
        // 401 is not retried; a 500 on creating a release is (it is idempotent).
        let attempts = server.received_requests().await.unwrap().len();
        assert_eq!(attempts, if status == 401 { 1 } else { 3 }, "{status}");
        run.assert_masked("the Sentry token", &token);
        run.assert_no_leak("the Sentry token", &token);
    }
}

/// `mode: rollback` tells Sentry the environment runs the older release again: a deploy of the
/// commit the revision rolled back to was deployed from (its `deploy-action:commit` tag), and
/// that release keeps its release date (no finalize).
#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_records_a_deploy_of_the_release_it_went_back_to() {
    let standins = StandIns::get();
    let server = sentry().await;
    let uri = server.uri();
    let token = token();
    let (world, repository) =
        EcsWorld::with_repository(&standins, "e2e/sentry-rollback", None).await;
    let good = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let bad = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    for commit in [good, bad] {
        let mut deploy = staging_deploy(&standins, &repository, &world, &sentry_inputs(&uri));
        deploy.set("GITHUB_SHA", commit);
        deploy.set("SENTRY_AUTH_TOKEN", &token);
        let run = deploy.run();
        assert_eq!(run.code, 0, "{}", run.log());
    }
    server.reset().await;
    accept(&server, 208).await;

    let mut back = staging_deploy(
        &standins,
        &repository,
        &world,
        &[&[("mode", "rollback")], &sentry_inputs(&uri)[..]].concat(),
    );
    back.set("INPUT_CONTEXT", "/nonexistent");
    back.set("SENTRY_AUTH_TOKEN", &token);
    let run = back.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.outputs["sentry-release"], good);
    let requests = server.received_requests().await.unwrap();
    let release_path = format!("/api/0/organizations/{ORG}/releases/");
    assert_eq!(
        sequence(&requests),
        [
            format!("POST {release_path}"),
            format!("POST {release_path}{good}/deploys/"),
        ]
    );
    assert_eq!(body(&requests[1])["environment"], "staging");
    assert!(
        run.summary.contains("deploy to staging recorded"),
        "{}",
        run.summary
    );
    run.assert_no_leak("the Sentry token", &token);
}

/// `sentry-org` without `SENTRY_AUTH_TOKEN` (a secret not passed, or a local run): Sentry is off
/// with a warning that says how to pass the token; the deploy goes on and Sentry hears nothing.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_sentry_is_off_with_a_warning() {
    let standins = StandIns::get();
    let server = sentry().await;
    let uri = server.uri();
    let (world, repository) =
        EcsWorld::with_repository(&standins, "e2e/sentry-notoken", None).await;
    let run = staging_deploy(&standins, &repository, &world, &sentry_inputs(&uri)).run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.lines().any(|line| line
            .starts_with("::warning title=sentry-org::is set, but SENTRY_AUTH_TOKEN is empty")),
        "{}",
        run.log()
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(!run.outputs.contains_key("sentry-release"));
}
