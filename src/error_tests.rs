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

#[test]
fn an_aws_failure_reads_as_code_message_and_request_id() {
    use aws_sdk_ecs::operation::run_task::RunTaskError;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_types::error::ErrorMetadata;
    let refused = RunTaskError::generic(
        ErrorMetadata::builder()
            .code("InvalidParameterException")
            .message("Network Configuration must be provided")
            .custom("aws_request_id", "4b0c-9a1e")
            .build(),
    );
    let error: SdkError<RunTaskError, ()> = SdkError::service_error(refused, ());
    assert_eq!(
        aws_error(&error),
        "InvalidParameterException: Network Configuration must be provided (request id 4b0c-9a1e)"
    );
    // No answer at all: the SDK's chain of causes is what there is to say.
    let timeout: SdkError<RunTaskError, ()> = SdkError::timeout_error("30 s passed");
    assert!(
        aws_error(&timeout).contains("30 s passed"),
        "{}",
        aws_error(&timeout)
    );
}
