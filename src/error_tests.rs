use super::*;
use anyhow::Context;

#[test]
fn hint_is_found_under_context() {
    let error = Err::<(), _>(Problem::new("no token").hint("add permissions"))
        .context("authenticating")
        .unwrap_err();
    assert_eq!(hint_of(&error), Some("add permissions"));
    assert_eq!(one_line(&error), "authenticating: no token");
}

fn answer(status: u16, content_type: &str, body: &str) -> HttpResponse {
    let mut response = HttpResponse::new(
        status.try_into().unwrap(),
        aws_smithy_types::body::SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", content_type.to_string());
    response
}

#[test]
fn an_aws_failure_reads_as_code_message_and_request_id_with_what_to_check() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesError;
    use aws_smithy_types::error::ErrorMetadata;
    let refused = DescribeServicesError::generic(
        ErrorMetadata::builder()
            .code("ClusterNotFoundException")
            .message("Cluster not found.")
            .custom("aws_request_id", "4b0c-9a1e")
            .build(),
    );
    let error = SdkError::service_error(refused, answer(400, "application/x-amz-json-1.1", "{}"));
    assert_eq!(
        aws_error(&error),
        "ClusterNotFoundException: Cluster not found. (request id 4b0c-9a1e)"
    );
    let failure = aws_failure("ECS DescribeServices in cluster api", &error);
    assert_eq!(
        failure.to_string(),
        "ECS DescribeServices in cluster api: ClusterNotFoundException: Cluster not found. (request id 4b0c-9a1e)"
    );
    assert!(
        hint_of(&failure).is_some_and(|hint| hint.contains("`ecs-cluster` and `aws-region`")),
        "{:?}",
        hint_of(&failure)
    );
}

#[test]
fn an_answer_that_is_not_aws_is_shown_by_status_and_text_not_as_a_debug_dump() {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesError;
    use aws_smithy_types::error::ErrorMetadata;
    let page =
        "<html>\n<head><title>502</title></head><body><h1>502 Bad   Gateway</h1></body></html>";
    let error = SdkError::service_error(
        DescribeServicesError::generic(ErrorMetadata::builder().build()),
        answer(500, "text/html", page),
    );
    assert_eq!(
        aws_error(&error),
        "HTTP 500 with no AWS error in it (text/html): «502 502 Bad Gateway»"
    );
    let long = "x".repeat(500);
    let error = SdkError::service_error(
        DescribeServicesError::generic(ErrorMetadata::builder().build()),
        answer(503, "text/plain", &long),
    );
    assert!(aws_error(&error).ends_with(&format!("«{}…»", "x".repeat(200))));
    // No answer at all: the chain of causes, each once, and no `Debug` of the SDK's types.
    let timeout: SdkError<DescribeServicesError, HttpResponse> =
        SdkError::timeout_error("30 s passed");
    let text = aws_error(&timeout);
    assert!(text.contains("30 s passed"), "{text}");
    assert!(!text.contains("TimeoutError"), "{text}");
    assert!(hint_of(&aws_failure("ECS DescribeServices", &timeout)).is_some());
}

#[test]
fn causes_are_said_once_each() {
    let error = anyhow::anyhow!("connection refused")
        .context("io error: connection refused")
        .context("dispatch failure");
    let error: &(dyn std::error::Error + 'static) = error.as_ref();
    assert_eq!(
        causes(error),
        "dispatch failure: io error: connection refused"
    );
}
