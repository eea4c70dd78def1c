//! Errors a user sees: what failed, why, and what to do about it.
//!
//! Stages return `anyhow::Error`s. Where the stage knows the fix, it raises a [`Problem`]
//! (a message plus a hint); `main` finds the hint anywhere in the error chain and prints it
//! after the cause.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

/// A failure whose fix we know. Raise it with `bail!(Problem::new(..).hint(..))` or attach
/// it as context; [`hint_of`] finds it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// A mistake in the inputs (raised by `config` and `plan`): which input, what is wrong with it, what would be right.
/// A flag (`--sha`) is named as the flag a person typed; an input as the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}`{input}` {problem}",
    if input.starts_with("--") { "" } else { "input " }
)]
pub struct PlanError {
    pub input: &'static str,
    pub problem: String,
    pub expected: String,
}

impl PlanError {
    pub fn new(
        input: &'static str,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self {
            input,
            problem: problem.into(),
            expected: expected.into(),
        }
    }
}

/// An AWS call's failure as a person reads it: the service's error code and message and the
/// request id (what AWS support asks for) — never the SDK's `Debug` dump of the raw response.
/// An answer that is not AWS's (a proxy's HTML page) is shown by its status and the start of
/// its text; no answer at all (no connection, a timeout) by the chain of causes.
pub fn aws_error<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(code) = error.code() {
        let mut text = match error.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_string(),
        };
        if let Some(id) = error.meta().extra("aws_request_id") {
            text.push_str(&format!(" (request id {id})"));
        }
        return text;
    }
    if let Some(response) = error.raw_response() {
        let content_type = response
            .headers()
            .get("content-type")
            .unwrap_or("no content type");
        let body = response.body().bytes().map(excerpt).unwrap_or_default();
        let body = if body.is_empty() {
            "an empty body".to_string()
        } else {
            format!("«{body}»")
        };
        return format!(
            "HTTP {} with no AWS error in it ({content_type}): {body}",
            response.status().as_u16()
        );
    }
    causes(error)
}

/// An AWS call's failure as an error: `call` names the call and the resource it was about
/// (`ECS DescribeServices in cluster api`), then [`aws_error`]; the hint says what to check for
/// the error codes whose fix is known.
pub fn aws_failure<E>(call: impl fmt::Display, error: &SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let problem = Problem::new(format!("{call}: {}", aws_error(error)));
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let hint = match error.code() {
        Some(code) => hint_for_code(code),
        None if error.raw_response().is_some() => Some(match endpoint {
            Some(endpoint) => format!(
                "the answer did not come from AWS: AWS_ENDPOINT_URL sends the calls to {endpoint} — is that the endpoint you mean?"
            ),
            None => "the answer did not come from AWS (a proxy or a firewall between here and AWS?); run again, and check the network if it persists".to_string(),
        }),
        None => Some(match endpoint {
            Some(endpoint) => format!(
                "no answer from {endpoint} (AWS_ENDPOINT_URL): is it running?"
            ),
            None => "no answer from AWS: check the network (and a proxy's HTTPS_PROXY), then run again".to_string(),
        }),
    };
    match hint {
        Some(hint) => problem.hint(hint).into(),
        None => problem.into(),
    }
}

/// What to check for an AWS error code whose cause is known.
pub fn hint_for_code(code: &str) -> Option<String> {
    let hint = match code {
        "ClusterNotFoundException" => {
            "check `ecs-cluster` and `aws-region` (`aws ecs list-clusters --region <region>` lists the region's clusters)"
        }
        "ServiceNotFoundException" | "ServiceNotActiveException" => {
            "check `ecs-services` and `ecs-cluster` (`aws ecs list-services --cluster <cluster>` lists the cluster's services)"
        }
        "RepositoryNotFoundException" => {
            "check `ecr-repository` and `aws-region` (`aws ecr describe-repositories` lists them); ECR does not create a repository on push"
        }
        "ResourceNotFoundException" => "check the name and the region it is looked up in",
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            "the identity lacks this permission: `deploy-action iam-policy` prints the policy the step needs"
        }
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature" => {
            "AWS does not accept these credentials: check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and the clock)"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the credentials expired: log in again (`aws sso login`, a new session) and run again"
        }
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
            "AWS throttled the calls after the SDK's retries: run again in a minute"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

/// An error's chain of causes on one line, each cause once (the SDK's errors repeat their
/// source's text in their own).
pub fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let said = current.to_string();
        if !said.is_empty() && !text.contains(&said) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&said);
        }
        cause = current.source();
    }
    text
}

/// The start of a body a person can read: markup dropped, whitespace folded, at most 200 characters.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut plain = String::new();
    let mut in_tag = false;
    for character in text.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(character),
            _ => {}
        }
    }
    let folded = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &folded[..cut]),
        None => folded,
    }
}

/// The first hint found in the error chain, outermost first.
pub fn hint_of(error: &anyhow::Error) -> Option<&str> {
    error.chain().find_map(|cause| {
        if let Some(problem) = cause.downcast_ref::<Problem>() {
            problem.hint.as_deref()
        } else {
            // A mistake in the inputs: the hint is what the input expects.
            cause
                .downcast_ref::<PlanError>()
                .map(|mistake| mistake.expected.as_str())
        }
    })
}

/// The whole chain on one line: `outer: inner: root cause`.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for (index, cause) in error.chain().enumerate() {
        let cause = cause.to_string();
        if index > 0 {
            if text.contains(&cause) {
                continue;
            }
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
