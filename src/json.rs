//! How durations appear in the machine-readable record (`--output json`): seconds, to a tenth.
//! Shared by the stages' own types, so it sits outside the pipeline.

use std::time::Duration;

/// A duration as seconds with one decimal, e.g. `83.4`.
pub fn rounded_seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}

/// `#[serde(serialize_with = "crate::json::seconds")]` for a `Duration` field.
pub fn seconds<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(rounded_seconds(*duration))
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
