use super::*;
use StsFailureKind::*;

#[test]
fn classification() {
    let table = [
        (
            Some("AccessDenied"),
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            Some(403),
            AccessDenied,
        ),
        (
            Some("InvalidIdentityToken"),
            "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com",
            Some(400),
            NoOidcProvider,
        ),
        (
            Some("InvalidIdentityToken"),
            "Incorrect token audience",
            Some(400),
            AudienceMismatch,
        ),
        (
            Some("IDPCommunicationError"),
            "Couldn't retrieve verification key",
            Some(400),
            Transient,
        ),
        (Some("Throttling"), "Rate exceeded", Some(400), Transient),
        (
            Some("ExpiredTokenException"),
            "Token expired",
            Some(400),
            Transient,
        ),
        (None, "", Some(503), Transient),
        (Some("SomethingElse"), "", Some(500), Transient),
        (
            Some("ValidationError"),
            "1 validation error",
            Some(400),
            Other,
        ),
        (
            Some("InvalidIdentityToken"),
            "Couldn't parse the token",
            Some(400),
            Other,
        ),
    ];
    for (code, message, status, expected) in table {
        assert_eq!(
            classify(code, Some(message), status),
            expected,
            "{code:?} {message}"
        );
    }
}
