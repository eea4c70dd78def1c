use super::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn check(server: &MockServer, expect: Option<&str>, seconds: u64) -> HealthCheck {
    HealthCheck {
        url: format!("{}/health", server.uri()),
        expect: expect.map(str::to_string),
        timeout: Duration::from_secs(seconds),
    }
}

#[tokio::test]
async fn waits_for_a_2xx_with_the_expected_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("version: old"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("version: 4f2a9c1"))
        .mount(&server)
        .await;
    wait_until_healthy(&check(&server, Some("4f2a9c1"), 30))
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_failing_endpoint_fails_with_its_last_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let error = wait_until_healthy(&check(&server, None, 3))
        .await
        .unwrap_err();
    assert!(error.contains("503"), "{error}");
}
