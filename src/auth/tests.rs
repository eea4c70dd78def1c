use super::*;

#[test]
fn account_id_comes_from_the_arn() {
    assert_eq!(
        account_of_arn("arn:aws:sts::123456789012:assumed-role/deploy/s").as_deref(),
        Some("123456789012")
    );
    assert_eq!(account_of_arn("nonsense"), None);
}

#[test]
fn names_the_credential_source_without_showing_the_secret() {
    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "very-secret",
        None,
        None,
        "EnvironmentVariable",
    );
    assert_eq!(credential_source(&credentials), "EnvironmentVariable");
}
