//! Resolving the credentials inputs: the role, the audience, the session, the OIDC token's
//! availability and the retry bounds.

use super::{AuthPlan, PlanError, WebIdentity, parse_count, values};
use crate::inputs::Inputs;
use std::time::Duration;

pub(super) fn resolve_auth(inputs: &Inputs, region: &str) -> Result<AuthPlan, PlanError> {
    let args = &inputs.args;
    let Some(role_arn) = args.role_to_assume.clone() else {
        return Ok(AuthPlan::Ambient);
    };
    values::check_role_arn(&role_arn).map_err(|why| {
        PlanError::new(
            "role-to-assume",
            why,
            "a role ARN such as `arn:aws:iam::123456789012:role/GitHubActions-Deploy`",
        )
    })?;
    let audience = args
        .audience
        .clone()
        .unwrap_or_else(|| values::default_audience(region).into());
    let session_name =
        values::sanitise_session_name(&args.role_session_name.clone().unwrap_or_else(|| {
            format!(
                "deploy-action-{}",
                inputs.run.run_id.as_deref().unwrap_or("local")
            )
        }));
    let duration_seconds = match &args.role_duration_seconds {
        None => 3600,
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|seconds| (900..=43200).contains(seconds))
            .ok_or_else(|| {
                PlanError::new(
                    "role-duration-seconds",
                    format!("`{text}` is not a session length STS accepts"),
                    "whole seconds from 900 to 43200",
                )
            })?,
    };
    let max_attempts = parse_count(&args.auth_max_attempts, "auth-max-attempts", 6, 1..=20)?;
    let max_retry_seconds = parse_count(&args.auth_max_seconds, "auth-max-seconds", 90, 1..=3600)?;
    let (Some(token_url), Some(token_request_token)) = (
        inputs.run.oidc_request_url.clone(),
        inputs.run.oidc_request_token.clone(),
    ) else {
        return Err(PlanError::new(
            "role-to-assume",
            "is set, but the runner gave this job no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN are missing)",
            "add `permissions: id-token: write` to the job or workflow; pull requests from forks never get a token, \
             so run the deploy on `push`, or leave role-to-assume empty to use ambient credentials",
        ));
    };
    Ok(AuthPlan::WebIdentity(WebIdentity {
        role_arn,
        audience,
        session_name,
        duration_seconds,
        token_url,
        token_request_token,
        max_attempts,
        max_retry_time: Duration::from_secs(max_retry_seconds.into()),
    }))
}
