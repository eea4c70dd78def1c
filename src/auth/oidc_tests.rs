use super::*;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn appends_the_audience_and_sends_the_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("api-version", "2.0"))
        .and(query_param("audience", "sts.amazonaws.com"))
        .and(header("authorization", "Bearer request-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"count": 1, "value": "a.b.c"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/token?api-version=2.0", server.uri());
    let token = request_token(
        &url,
        &SecretString::from("request-token"),
        "sts.amazonaws.com",
    )
    .await
    .unwrap();
    assert_eq!(token.expose_secret(), "a.b.c");
}

#[tokio::test]
async fn a_refusal_carries_the_status_and_body_but_not_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string("{\"message\":\"Bad credentials\"}"),
        )
        .mount(&server)
        .await;
    let Err(AttemptFailure::Fatal(error)) = request_token(
        &format!("{}/token", server.uri()),
        &SecretString::from("s3cr3t"),
        "aud",
    )
    .await
    else {
        panic!("a 401 is not worth retrying");
    };
    let text = crate::error::one_line(&error);
    assert!(
        text.contains("401") && text.contains("Bad credentials"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"));
    assert!(
        crate::error::hint_of(&error)
            .unwrap()
            .contains("id-token: write")
    );
}

#[tokio::test]
async fn server_errors_and_refused_connections_are_transient() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&server)
        .await;
    let secret = SecretString::from("t");
    let result = request_token(&format!("{}/token", server.uri()), &secret, "aud").await;
    assert!(matches!(result, Err(AttemptFailure::Transient(_))));
    // Nothing listens on port 9 of loopback.
    let result = request_token("http://127.0.0.1:9/token", &secret, "aud").await;
    assert!(matches!(result, Err(AttemptFailure::Transient(_))));
}
