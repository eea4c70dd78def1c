//! STS answers no stand-in gives on demand (AccessDenied, throttling, IDPCommunicationError,
//! a missing provider), through aws-smithy-mocks; the OIDC endpoint through wiremock.

use super::*;
use crate::console::Mode;
use aws_sdk_sts::error::ErrorMetadata;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityInput;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput;
use aws_sdk_sts::types::{AssumedRoleUser, Credentials as StsCredentials};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use base64::Engine;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A mocked STS client with the SDK's retries off, as `auth` builds it: our loop does the retrying.
macro_rules! sts_client {
    ($mode:expr, $rule:expr) => {
        mock_client!(aws_sdk_sts, $mode, [&$rule], |config| {
            config.retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        })
    };
}

const ROLE: &str = "arn:aws:iam::123456789012:role/GitHubActions-Deploy";
const SUB: &str = "repo:operationcode/back-end:environment:production";

fn jwt() -> String {
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    format!(
        "{}.{}.c2ln",
        encode(serde_json::json!({"alg": "RS256"})),
        encode(serde_json::json!({
            "sub": SUB, "aud": "sts.amazonaws.com", "repository": "operationcode/back-end",
            "environment": "production", "ref": "refs/heads/main"
        }))
    )
}

/// What reaches STS is the token the OIDC endpoint issued, for the planned role, session and
/// duration; a rule that matched any request would pass with the token swapped.
fn as_planned(request: &AssumeRoleWithWebIdentityInput) -> bool {
    request.web_identity_token() == Some(jwt().as_str())
        && request.role_arn() == Some(ROLE)
        && request.role_session_name() == Some("deploy-action-1")
        && request.duration_seconds() == Some(900)
}

/// An OIDC endpoint that fails `failures` times with `status`, then hands out tokens — as the
/// runner's does, only for the job's request token and with an audience (anything else gets
/// no answer the action could use).
async fn oidc_endpoint(failures: u64, status: u16) -> MockServer {
    let server = MockServer::start().await;
    let as_the_runner_asks = || {
        Mock::given(method("GET"))
            .and(path("/token"))
            .and(query_param("api-version", "2.0"))
            .and(query_param("audience", "sts.amazonaws.com"))
            .and(header("Authorization", "Bearer request-token"))
    };
    if failures > 0 {
        as_the_runner_asks()
            .respond_with(ResponseTemplate::new(status).set_body_string("trouble"))
            .up_to_n_times(failures)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    as_the_runner_asks()
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": jwt()})))
        .mount(&server)
        .await;
    server
}

fn identity(server: &MockServer) -> WebIdentity {
    WebIdentity {
        role_arn: ROLE.into(),
        audience: "sts.amazonaws.com".into(),
        session_name: "deploy-action-1".into(),
        duration_seconds: 900,
        token_url: format!("{}/token?api-version=2.0", server.uri()),
        token_request_token: SecretString::from("request-token"),
        max_attempts: 4,
        max_retry_time: Duration::from_secs(30),
    }
}

fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_total: Duration::from_secs(30),
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn granted() -> AssumeRoleWithWebIdentityOutput {
    let expiration =
        aws_sdk_sts::primitives::DateTime::from(SystemTime::now() + Duration::from_secs(900));
    AssumeRoleWithWebIdentityOutput::builder()
        .credentials(
            StsCredentials::builder()
                .access_key_id("ASIAEXAMPLE")
                .secret_access_key("secret")
                .session_token("session")
                .expiration(expiration)
                .build()
                .unwrap(),
        )
        .assumed_role_user(
            AssumedRoleUser::builder()
                .arn("arn:aws:sts::123456789012:assumed-role/GitHubActions-Deploy/deploy-action-1")
                .assumed_role_id("AROA:deploy-action-1")
                .build()
                .unwrap(),
        )
        .build()
}

fn sts_error(code: &'static str, message: &'static str) -> AssumeRoleWithWebIdentityError {
    AssumeRoleWithWebIdentityError::generic(
        ErrorMetadata::builder().code(code).message(message).build(),
    )
}

fn provider(server: &MockServer, sts: aws_sdk_sts::Client) -> WebIdentityProvider {
    WebIdentityProvider::new(
        identity(server),
        sts,
        quick_policy(),
        Console::new(Mode::Plain),
    )
}

// "At once" is one STS call: AccessDenied is classified fatal. That a fatal failure sleeps no
// backoff is `retry::fatal_failures_are_not_retried`, on the paused clock (the OIDC endpoint
// here is real HTTP, which a paused clock would time out).
#[tokio::test]
async fn access_denied_fails_at_once_and_shows_the_claims() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .then_error(|| {
            sts_error(
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            )
        });
    let sts = sts_client!(RuleMode::MatchAny, rule);
    let error = provider(&server, sts).assume().await.unwrap_err();
    assert_eq!(rule.num_calls(), 1, "AccessDenied must not be retried");
    let hint = crate::error::hint_of(&error).unwrap();
    assert!(hint.contains(&format!("sub = {SUB}")), "{hint}");
    assert!(
        hint.contains("\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\""),
        "{hint}"
    );
    assert!(
        hint.contains("this job uses `environment: production`"),
        "{hint}"
    );
    assert!(crate::error::one_line(&error).contains("AccessDenied"));
    assert!(
        !format!("{error:#} {hint}").contains(&jwt()),
        "the token leaked into the error"
    );
}

#[tokio::test]
async fn throttling_and_idp_trouble_are_retried() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .sequence()
        .error(|| sts_error("Throttling", "Rate exceeded"))
        .error(|| {
            sts_error(
                "IDPCommunicationError",
                "Couldn't retrieve verification key from your identity provider",
            )
        })
        .output(granted)
        .build();
    let sts = sts_client!(RuleMode::Sequential, rule);
    let provider = provider(&server, sts);
    let assumed = provider.assume().await.unwrap();
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(assumed.credentials.access_key_id(), "ASIAEXAMPLE");
    // Each attempt asked for a fresh token.
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn transient_failures_give_up_with_the_last_cause() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .sequence()
        .error(|| sts_error("IDPCommunicationError", "still unreachable"))
        .repeatedly()
        .build();
    let sts = sts_client!(RuleMode::Sequential, rule);
    let error = provider(&server, sts).assume().await.unwrap_err();
    assert_eq!(rule.num_calls(), 4);
    let text = crate::error::one_line(&error);
    assert!(
        text.contains("failed 4 times") && text.ends_with("still unreachable"),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_oidc_provider_says_how_to_create_it() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned).then_error(|| {
        sts_error(
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com",
        )
    });
    let sts = sts_client!(RuleMode::MatchAny, rule);
    let error = provider(&server, sts).assume().await.unwrap_err();
    assert_eq!(rule.num_calls(), 1);
    let hint = crate::error::hint_of(&error).unwrap();
    assert!(hint.contains(
        "aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com"
    ));
    assert!(
        hint.contains("--client-id-list sts.amazonaws.com"),
        "{hint}"
    );
}

#[tokio::test]
async fn a_wrong_audience_names_the_audience_sent() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .then_error(|| sts_error("InvalidIdentityToken", "Incorrect token audience"));
    let sts = sts_client!(RuleMode::MatchAny, rule);
    let error = provider(&server, sts).assume().await.unwrap_err();
    let hint = crate::error::hint_of(&error).unwrap();
    assert!(hint.contains("audience `sts.amazonaws.com`"), "{hint}");
}

#[tokio::test]
async fn the_oidc_endpoint_is_retried_on_500_but_not_on_403() {
    let server = oidc_endpoint(2, 500).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .then_output(granted);
    let sts = sts_client!(RuleMode::MatchAny, rule);
    provider(&server, sts).assume().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(rule.num_calls(), 1);

    let server = oidc_endpoint(1, 403).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .then_output(granted);
    let sts = sts_client!(RuleMode::MatchAny, rule);
    let error = provider(&server, sts).assume().await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(rule.num_calls(), 0);
    assert!(
        crate::error::hint_of(&error)
            .unwrap()
            .contains("id-token: write")
    );
}

#[tokio::test]
async fn credentials_are_reused_until_they_near_expiry() {
    let server = oidc_endpoint(0, 200).await;
    let rule = mock!(aws_sdk_sts::Client::assume_role_with_web_identity)
        .match_requests(as_planned)
        .then_output(granted);
    let sts = sts_client!(RuleMode::MatchAny, rule);
    let provider = provider(&server, sts);
    provider.assume().await.unwrap();
    provider.credentials().await.unwrap();
    provider.credentials().await.unwrap();
    assert_eq!(rule.num_calls(), 1, "900 s credentials are good for now");

    let now = SystemTime::now();
    let fresh = Credentials::new("a", "b", None, Some(now + Duration::from_secs(900)), "t");
    let nearly_expired =
        Credentials::new("a", "b", None, Some(now + Duration::from_secs(200)), "t");
    let forever = Credentials::new("a", "b", None, None, "t");
    assert!(!expires_soon(&fresh, now));
    assert!(expires_soon(&nearly_expired, now));
    assert!(!expires_soon(&forever, now));
}
