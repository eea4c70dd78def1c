//! Credentials from the run's GitHub OIDC token, that renew themselves.
//!
//! The token lives five minutes and the role session as long as `role-duration-seconds`, while
//! an ECS wait may take hours. So this is a credentials provider: whenever the SDK needs
//! credentials and ours are within [`REFRESH_MARGIN`] of expiring, it requests a *fresh* token
//! and assumes the role again. Every token and credential is masked before anything else runs.

use super::claims::Claims;
use super::oidc;
use super::retry::{self, AttemptFailure, RetryPolicy};
use super::sts_errors::{self, StsFailureKind};
use crate::console::Console;
use crate::error::Problem;
use crate::plan::WebIdentity;
use anyhow::{Error, anyhow};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// Renew when less than this is left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The role session we got, and who it says we are.
#[derive(Debug, Clone)]
pub struct Assumed {
    pub credentials: Credentials,
    pub assumed_role_arn: String,
}

#[derive(Clone, Debug)]
pub struct WebIdentityProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    identity: WebIdentity,
    sts: aws_sdk_sts::Client,
    console: Console,
    policy: RetryPolicy,
    current: Mutex<Option<Credentials>>,
    claims_shown: AtomicBool,
}

impl WebIdentityProvider {
    /// `sts` may be unsigned: AssumeRoleWithWebIdentity needs no credentials.
    pub fn new(
        identity: WebIdentity,
        sts: aws_sdk_sts::Client,
        policy: RetryPolicy,
        console: Console,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                identity,
                sts,
                console,
                policy,
                current: Mutex::new(None),
                claims_shown: AtomicBool::new(false),
            }),
        }
    }

    /// Fetch a fresh token and assume the role, retrying what may pass on a second try.
    pub async fn assume(&self) -> Result<Assumed, Error> {
        let inner = &self.inner;
        let assumed = retry::retry(
            &inner.policy,
            "assuming the role with the OIDC token",
            &inner.console,
            || self.attempt(),
        )
        .await?;
        // A panic while holding the lock cannot leave half-written credentials: take them as they are.
        *inner.current.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(assumed.credentials.clone());
        Ok(assumed)
    }

    /// The credentials in hand, or new ones when they are about to expire.
    pub async fn credentials(&self) -> Result<Credentials, Error> {
        let in_hand = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match in_hand {
            Some(credentials) if !expires_soon(&credentials, SystemTime::now()) => Ok(credentials),
            _ => Ok(self.assume().await?.credentials),
        }
    }

    async fn attempt(&self) -> Result<Assumed, AttemptFailure> {
        let inner = &self.inner;
        let identity = &inner.identity;
        let token = oidc::request_token(
            &identity.token_url,
            &identity.token_request_token,
            &identity.audience,
        )
        .await?;
        inner.console.mask(&token);
        let claims = Claims::of(token.expose_secret()).unwrap_or_default();
        if !inner.claims_shown.swap(true, Ordering::Relaxed) {
            claims.print(&inner.console);
        }
        let response = inner
            .sts
            .assume_role_with_web_identity()
            .role_arn(&identity.role_arn)
            .role_session_name(&identity.session_name)
            .web_identity_token(token.expose_secret())
            .duration_seconds(identity.duration_seconds)
            .send()
            .await
            .map_err(|error| explain_sts_error(error, identity, &claims))?;
        let sts_credentials = response
            .credentials()
            .ok_or_else(|| AttemptFailure::Fatal(anyhow!("STS answered without credentials")))?;
        for secret in [
            sts_credentials.access_key_id(),
            sts_credentials.secret_access_key(),
            sts_credentials.session_token(),
        ] {
            inner.console.mask(&SecretString::from(secret.to_string()));
        }
        let expiry = SystemTime::try_from(*sts_credentials.expiration()).ok();
        Ok(Assumed {
            credentials: Credentials::new(
                sts_credentials.access_key_id(),
                sts_credentials.secret_access_key(),
                Some(sts_credentials.session_token().to_string()),
                expiry,
                "deploy-action-web-identity",
            ),
            assumed_role_arn: response
                .assumed_role_user()
                .map(|user| user.arn().to_string())
                .unwrap_or_default(),
        })
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.credentials().await.map_err(|error| {
                CredentialsError::provider_error(Box::<dyn std::error::Error + Send + Sync>::from(
                    error,
                ))
            })
        })
    }
}

/// Within the refresh margin of expiring (credentials without an expiry never do).
pub fn expires_soon(credentials: &Credentials, now: SystemTime) -> bool {
    credentials
        .expiry()
        .is_some_and(|expiry| expiry <= now + REFRESH_MARGIN)
}

/// Turn an STS error into a message that says what to do, and decide whether to retry.
fn explain_sts_error(
    error: SdkError<AssumeRoleWithWebIdentityError, HttpResponse>,
    identity: &WebIdentity,
    claims: &Claims,
) -> AttemptFailure {
    let status = match &error {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        // No answer at all: the network or STS is having a moment.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Some(503),
        SdkError::ResponseError(_) => Some(502),
        _ => None,
    };
    let code = error.code().map(str::to_string);
    let message = error.message().map(str::to_string);
    let kind = sts_errors::classify(code.as_deref(), message.as_deref(), status);
    let role = &identity.role_arn;
    let what = format!(
        "STS AssumeRoleWithWebIdentity for {role} failed ({}): {}",
        code.as_deref().unwrap_or("no error code"),
        message
            .clone()
            .unwrap_or_else(|| crate::error::aws_error(&error))
    );
    match kind {
        StsFailureKind::Transient => AttemptFailure::Transient(anyhow!(what)),
        StsFailureKind::AccessDenied => {
            AttemptFailure::Fatal(Problem::new(what).hint(claims.access_denied_explanation(role)).into())
        }
        StsFailureKind::NoOidcProvider => AttemptFailure::Fatal(
            Problem::new(what)
                .hint(format!(
                    "the role's account has no IAM OIDC identity provider for https://token.actions.githubusercontent.com; \
                     create it once per account: {}",
                    sts_errors::create_provider_command(&identity.audience)
                ))
                .into(),
        ),
        StsFailureKind::AudienceMismatch => AttemptFailure::Fatal(
            Problem::new(what)
                .hint(format!(
                    "the token was requested for audience `{}`, which the account's OIDC provider does not list as a \
                     client ID; set the `audience` input to the provider's client ID (usually sts.amazonaws.com), \
                     or add this one: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn \
                     <provider ARN> --client-id {}",
                    identity.audience, identity.audience
                ))
                .into(),
        ),
        StsFailureKind::Other => AttemptFailure::Fatal(anyhow!(what)),
    }
}

#[cfg(test)]
#[path = "web_identity_tests.rs"]
mod tests;
