//! Stage 3, auth: AWS credentials for the rest of the run.
//!
//! With `role-to-assume`, exchange the run's GitHub OIDC token at STS for role credentials
//! that renew themselves ([`web_identity`]); otherwise use the default credential chain and say
//! which source it found. Endpoints come from the standard `AWS_ENDPOINT_URL*` variables.

pub mod claims;
pub mod oidc;
pub mod retry;
pub mod sts_errors;
pub mod web_identity;

use crate::console::Console;
use crate::error::Problem;
use crate::file_commands;
use crate::plan::{AuthPlan, Plan, WebIdentity};
use anyhow::{Context, Result, anyhow};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use retry::RetryPolicy;
use secrecy::SecretString;
use std::time::Duration;
use web_identity::WebIdentityProvider;

/// AWS configuration every later client is built from, and whose account it is.
#[derive(Debug, Clone)]
pub struct AwsSession {
    pub config: SdkConfig,
    pub account_id: String,
    /// The ARN of the identity we act as.
    pub identity_arn: String,
}

pub async fn authenticate(plan: &Plan, console: &Console) -> Result<AwsSession> {
    let region = Region::new(plan.region.clone());
    let (session, credentials) = match &plan.auth {
        AuthPlan::Ambient => ambient_session(region, console).await?,
        AuthPlan::WebIdentity(identity) => web_identity_session(region, identity, console).await?,
    };
    if let Some(env_file) = &plan.export_credentials_to {
        export_credentials(env_file, &credentials, &plan.region)?;
        console.line("exported AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION for later steps");
    }
    Ok(session)
}

/// What every AWS client is built from: the region, bounded attempts (the SDK's standard retry:
/// throttling, 5xx, connection resets), and timeouts so that no call can hang.
fn client_config(region: Region) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(5))
}

/// Client timeouts.
/// `DEPLOY_ACTION_AWS_READ_TIMEOUT_SECONDS` shortens or lengthens the wait for an answer
/// (default 60 s; each attempt at most 30 s more than that).
fn timeouts() -> TimeoutConfig {
    let read = std::env::var("DEPLOY_ACTION_AWS_READ_TIMEOUT_SECONDS")
        .ok()
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .filter(|seconds| (1..=3600).contains(seconds))
        .unwrap_or(60);
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(read))
        .operation_attempt_timeout(Duration::from_secs(read + 30))
        .build()
}

async fn ambient_session(region: Region, console: &Console) -> Result<(AwsSession, Credentials)> {
    let config = client_config(region).load().await;
    let no_credentials = |cause: String| {
        anyhow!(
            Problem::new(format!("no AWS credentials: {cause}")).hint(
                "at a terminal, give credentials the AWS CLI would use (AWS_PROFILE after \
                 `aws sso login`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); in a workflow, set \
                 role-to-assume to use the GitHub OIDC token (the job needs `permissions: id-token: write`)"
            )
        )
    };
    let provider = config
        .credentials_provider()
        .ok_or_else(|| no_credentials("no credential provider is configured".into()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|error| no_credentials(crate::error::causes(&error)))?;
    mask_credentials(&credentials, console);
    console.line(&format!(
        "credentials from the default chain: {}",
        credential_source(&credentials)
    ));
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| {
            crate::error::aws_failure(
                "STS GetCallerIdentity, checking the credentials from the default chain",
                &error,
            )
        })?;
    let session = AwsSession {
        account_id: identity.account().unwrap_or_default().to_string(),
        identity_arn: identity.arn().unwrap_or_default().to_string(),
        config,
    };
    Ok((session, credentials))
}

async fn web_identity_session(
    region: Region,
    identity: &WebIdentity,
    console: &Console,
) -> Result<(AwsSession, Credentials)> {
    console.mask(&identity.token_request_token);
    // AssumeRoleWithWebIdentity is unsigned. The SDK's own retries are off: ours know which
    // errors are worth another try, and log each one.
    let unsigned = client_config(region.clone())
        .no_credentials()
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let policy = RetryPolicy {
        max_attempts: identity.max_attempts,
        max_total: identity.max_retry_time,
        ..RetryPolicy::default()
    };
    let provider = WebIdentityProvider::new(
        identity.clone(),
        aws_sdk_sts::Client::new(&unsigned),
        policy,
        *console,
    );
    let assumed = provider.assume().await?;
    let config = client_config(region)
        .credentials_provider(provider)
        .load()
        .await;
    let session = AwsSession {
        account_id: account_of_arn(&assumed.assumed_role_arn).unwrap_or_default(),
        identity_arn: assumed.assumed_role_arn,
        config,
    };
    Ok((session, assumed.credentials))
}

fn mask_credentials(credentials: &Credentials, console: &Console) {
    let parts = [
        Some(credentials.access_key_id()),
        Some(credentials.secret_access_key()),
        credentials.session_token(),
    ];
    for part in parts.into_iter().flatten() {
        console.mask(&SecretString::from(part.to_string()));
    }
}

/// The provider that produced `credentials`, e.g. `EnvironmentVariable`, `ProfileFile`,
/// `WebIdentityToken`, `IMDSv2`. The SDK keeps the name private but shows it in `Debug`
/// (whose secret key is redacted); only the name is taken from it.
pub fn credential_source(credentials: &Credentials) -> String {
    let debug = format!("{credentials:?}");
    debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown")
        .to_string()
}

/// Hand the credentials to later steps through `GITHUB_ENV` (already masked).
fn export_credentials(
    env_file: &std::path::Path,
    credentials: &Credentials,
    region: &str,
) -> Result<()> {
    let mut entries = vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials.secret_access_key().to_string(),
        ),
        ("AWS_REGION", region.to_string()),
        ("AWS_DEFAULT_REGION", region.to_string()),
    ];
    if let Some(token) = credentials.session_token() {
        entries.push(("AWS_SESSION_TOKEN", token.to_string()));
    }
    file_commands::append("GITHUB_ENV", env_file, &entries).context("exporting the credentials")
}

/// `arn:aws:sts::123456789012:assumed-role/…` → `123456789012`.
pub fn account_of_arn(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|account| !account.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests;
