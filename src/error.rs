//! Errors a user sees: what failed, why, and what to do about it.
//!
//! Stages return `anyhow::Error`s. Where the stage knows the fix, it raises a [`Problem`]
//! (a message plus a hint); `main` finds the hint anywhere in the error chain and prints it
//! after the cause.

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
/// request id (what AWS support asks for) — not the SDK's `Debug` dump of the raw response.
/// Failures without an answer (no connection, a timeout) keep the SDK's whole chain of causes.
pub fn aws_error<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let Some(code) = error.code() else {
        return aws_smithy_types::error::display::DisplayErrorContext(error).to_string();
    };
    let mut text = match error.message() {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    };
    if let Some(id) = error.meta().extra("aws_request_id") {
        text.push_str(&format!(" (request id {id})"));
    }
    text
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
