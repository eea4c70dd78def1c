//! What an STS AssumeRoleWithWebIdentity failure means, and whether trying again can help.

/// The failures users hit, by what fixes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsFailureKind {
    /// The trust policy does not accept this token: retrying cannot help.
    AccessDenied,
    /// The account has no IAM OIDC provider for GitHub's issuer.
    NoOidcProvider,
    /// The token's audience is not in the provider's client ID list.
    AudienceMismatch,
    /// Throttling, STS's own trouble reaching GitHub, 5xx, timeouts, an expired token: try again.
    Transient,
    /// Anything else, reported as it is.
    Other,
}

/// Classify by the error code, message and HTTP status STS answered with.
pub fn classify(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> StsFailureKind {
    let message = message.unwrap_or_default();
    match code.unwrap_or_default() {
        "AccessDenied" | "AccessDeniedException" => StsFailureKind::AccessDenied,
        "InvalidIdentityToken" if message.contains("No OpenIDConnect provider found") => StsFailureKind::NoOidcProvider,
        "InvalidIdentityToken" if message.to_ascii_lowercase().contains("audience") => StsFailureKind::AudienceMismatch,
        "IDPCommunicationError" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded"
        | "TooManyRequestsException" | "ServiceUnavailable" | "InternalFailure" | "InternalError"
        // A token that expired on the way: the next attempt fetches a fresh one.
        | "ExpiredTokenException" => StsFailureKind::Transient,
        _ if status.is_some_and(|status| status == 429 || status >= 500) => StsFailureKind::Transient,
        _ => StsFailureKind::Other,
    }
}

/// The command that creates GitHub's OIDC provider in an account, for `audience`.
pub fn create_provider_command(audience: &str) -> String {
    format!(
        "aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com \
         --client-id-list {audience} --thumbprint-list 6938fd4d98bab03faadb97b34396831e3780aea1"
    )
}

#[cfg(test)]
#[path = "sts_errors_tests.rs"]
mod tests;
