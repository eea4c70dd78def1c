//! Stage 3, auth: AWS credentials for the rest of the run.
//!
//! With `role-to-assume`, request the run's GitHub OIDC token and exchange it at STS
//! (AssumeRoleWithWebIdentity, an unsigned call) for role credentials; otherwise use the
//! default credential chain. Endpoints come from the standard `AWS_ENDPOINT_URL*` variables.

pub mod oidc;

use crate::console::Console;
use crate::error::Problem;
use crate::plan::{AuthPlan, Plan, WebIdentity};
use anyhow::{Context, Result, anyhow};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};
use secrecy::{ExposeSecret, SecretString};

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
    match &plan.auth {
        AuthPlan::Ambient => ambient_session(region).await,
        AuthPlan::WebIdentity(identity) => web_identity_session(region, identity, console).await,
    }
}

async fn ambient_session(region: Region) -> Result<AwsSession> {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&config);
    let identity = sts.get_caller_identity().send().await.map_err(|error| {
        anyhow!(Problem::new(format!(
            "no usable AWS credentials: {}",
            DisplayErrorContext(&error)
        ))
        .hint("set role-to-assume to use the GitHub OIDC token, or provide credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"))
    })?;
    Ok(AwsSession {
        account_id: identity.account().unwrap_or_default().to_string(),
        identity_arn: identity.arn().unwrap_or_default().to_string(),
        config,
    })
}

async fn web_identity_session(
    region: Region,
    identity: &WebIdentity,
    console: &Console,
) -> Result<AwsSession> {
    console.mask(&identity.token_request_token);
    let token = oidc::request_token(
        &identity.token_url,
        &identity.token_request_token,
        &identity.audience,
    )
    .await?;
    console.mask(&token);

    // AssumeRoleWithWebIdentity is unsigned: the client needs no credentials.
    let unsigned = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .no_credentials()
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&unsigned);
    let response = sts
        .assume_role_with_web_identity()
        .role_arn(&identity.role_arn)
        .role_session_name(&identity.session_name)
        .web_identity_token(token.expose_secret())
        .duration_seconds(identity.duration_seconds)
        .send()
        .await
        .map_err(|error| {
            let code = error.code().unwrap_or("error").to_string();
            anyhow!(Problem::new(format!(
                "STS AssumeRoleWithWebIdentity for {} failed ({code}): {}",
                identity.role_arn,
                DisplayErrorContext(&error)
            ))
            .hint("check the role's trust policy: it must trust token.actions.githubusercontent.com for this repository and audience"))
        })?;
    let credentials = response
        .credentials()
        .context("STS answered without credentials")?;
    // Mask every part before anything could print it.
    for secret in [
        credentials.access_key_id(),
        credentials.secret_access_key(),
        credentials.session_token(),
    ] {
        console.mask(&SecretString::from(secret.to_string()));
    }
    let expiry = std::time::SystemTime::try_from(*credentials.expiration()).ok();
    let provider = Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        expiry,
        "deploy-action-web-identity",
    );
    let identity_arn = response
        .assumed_role_user()
        .map(|user| user.arn().to_string())
        .unwrap_or_default();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(provider)
        .load()
        .await;
    Ok(AwsSession {
        account_id: account_of_arn(&identity_arn).unwrap_or_default(),
        identity_arn,
        config,
    })
}

/// `arn:aws:sts::123456789012:assumed-role/…` → `123456789012`.
pub fn account_of_arn(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|account| !account.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_comes_from_the_arn() {
        assert_eq!(
            account_of_arn("arn:aws:sts::123456789012:assumed-role/deploy/s").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of_arn("nonsense"), None);
    }
}
