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

/// The first hint found in the error chain, outermost first.
pub fn hint_of(error: &anyhow::Error) -> Option<&str> {
    error.chain().find_map(|cause| {
        if let Some(problem) = cause.downcast_ref::<Problem>() {
            problem.hint.as_deref()
        } else {
            // A mistake in the inputs: the hint is what the input expects.
            cause
                .downcast_ref::<crate::plan::PlanError>()
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
mod tests {
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
}
