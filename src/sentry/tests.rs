use super::*;
use crate::console::Mode;
use secrecy::SecretString;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn plan(server: &MockServer) -> SentryPlan {
    SentryPlan {
        url: url::Url::parse(&format!("{}/", server.uri())).unwrap(),
        org: "operation-code".into(),
        projects: vec!["back-end".into(), "workers".into()],
        version: None,
        environment: "production".into(),
        token: SecretString::from("sntrys_secret"),
        repository: Some("operationcode/back-end".into()),
    }
}

fn console() -> Console {
    Console::new(Mode::Plain)
}

#[tokio::test]
async fn a_release_names_its_projects_and_commit_and_an_existing_one_is_fine() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/operation-code/releases/"))
        .and(header("authorization", "Bearer sntrys_secret"))
        .respond_with(ResponseTemplate::new(208).set_body_json(serde_json::json!({"version": "v"})))
        .expect(1)
        .mount(&server)
        .await;
    let plan = SentryPlan {
        version: Some("back-end@1.4.2+7".into()),
        ..plan(&server)
    };
    let sentry = Sentry::quick(&plan).unwrap();
    let report = sentry.create_release("4f2a9c1", &console()).await.unwrap();
    assert_eq!(report.version, "back-end@1.4.2+7");
    assert_eq!(
        report.link,
        format!(
            "{}/organizations/operation-code/releases/back-end@1.4.2+7/",
            server.uri()
        )
    );
    let body: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "version": "back-end@1.4.2+7",
            "projects": ["back-end", "workers"],
            "refs": [{"repository": "operationcode/back-end", "commit": "4f2a9c1"}]
        })
    );
}

#[tokio::test]
async fn creating_a_release_is_retried_but_a_deploy_is_never_sent_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/operation-code/releases/"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    let plan = plan(&server);
    let sentry = Sentry::quick(&plan).unwrap();
    assert!(sentry.create_release("v1", &console()).await.is_none());
    server.verify().await;
    server.reset().await;

    Mock::given(method("PUT"))
        .and(path("/api/0/organizations/operation-code/releases/v1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/api/0/organizations/operation-code/releases/v1/deploys/",
        ))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"detail": "Internal Error"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut report = SentryReport {
        version: "v1".into(),
        link: String::new(),
        environment: "production".into(),
        deploy: DeployMarker::Pending,
    };
    let started = SystemTime::now();
    sentry
        .record_deploy(
            &mut report,
            started,
            Some("https://github.com/o/r/actions/runs/1"),
            true,
            &console(),
        )
        .await;
    assert_eq!(
        report.deploy,
        DeployMarker::NotRecorded("Sentry refused it: Sentry answered 500: Internal Error".into())
    );
    let requests = server.received_requests().await.unwrap();
    let deploy: serde_json::Value = requests[1].body_json().unwrap();
    assert_eq!(deploy["environment"], "production");
    assert_eq!(deploy["url"], "https://github.com/o/r/actions/runs/1");
    assert_eq!(
        deploy["projects"],
        serde_json::json!(["back-end", "workers"])
    );
    assert!(
        deploy["dateStarted"].as_str().unwrap().ends_with('Z'),
        "{deploy}"
    );
}

/// A repository Sentry has no integration for fails the whole request with 400 `{"refs": [...]}`
/// (getsentry/sentry `src/sentry/api/endpoints/organization_releases.py`, `InvalidRepository`):
/// the release is created again without the ref, with a warning.
#[tokio::test]
async fn a_repository_sentry_does_not_know_still_gets_its_release() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/operation-code/releases/"))
        .and(wiremock::matchers::body_partial_json(
            serde_json::json!({"refs": [{"commit": "4f2a9c1"}]}),
        ))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                serde_json::json!({"refs": ["Unable to find the given repository."]}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/0/organizations/operation-code/releases/"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"version": "v"})))
        .expect(1)
        .mount(&server)
        .await;
    let plan = plan(&server);
    let sentry = Sentry::quick(&plan).unwrap();
    let report = sentry.create_release("4f2a9c1", &console()).await;
    assert!(report.is_some());
    let second: serde_json::Value = server.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    assert!(second.get("refs").is_none(), "{second}");
}

#[test]
fn refusals_say_what_to_check() {
    let server_plan = SentryPlan {
        url: url::Url::parse("https://sentry.example.org/").unwrap(),
        org: "acme".into(),
        projects: vec!["api".into()],
        version: None,
        environment: "staging".into(),
        token: SecretString::from("t"),
        repository: None,
    };
    let sentry = Sentry::new(Some(&server_plan), &console()).unwrap();
    let refused = sentry.refused(401, r#"{"detail": "Invalid token"}"#);
    assert_eq!(refused.message, "Sentry answered 401: Invalid token");
    assert!(
        refused.hint.contains("SENTRY_AUTH_TOKEN"),
        "{}",
        refused.hint
    );
    let refused = sentry.refused(404, "<html>not found</html>");
    assert!(refused.message.ends_with("<html>not found</html>"));
    assert!(
        refused.hint.contains("no organization `acme`"),
        "{}",
        refused.hint
    );
    assert_eq!(
        crate::report::release::not_deployed(Some(crate::report::RolloutResult::Failure)),
        "the rollout failed"
    );
}

/// After the retry without refs, a 208 is not proof the release existed before this run.
#[test]
fn a_208_after_the_refs_retry_is_not_called_exists_already() {
    let projects = vec!["back-end".to_string()];
    assert!(release_line("v1", &projects, 208, false).contains("exists already"));
    assert!(release_line("v1", &projects, 201, true).contains("created"));
    let retried = release_line("v1", &projects, 208, true);
    assert!(!retried.contains("exists already"), "{retried}");
}
