use super::*;

#[test]
fn slugs_versions_environments_and_urls() {
    assert!(check_slug("operation-code").is_ok());
    assert!(check_slug("Operation Code").is_err());
    assert!(check_slug("1234").is_err());
    assert!(check_version("4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c").is_ok());
    assert!(check_version("back-end@1.4.2").is_ok());
    assert!(check_version("feature/x").is_err());
    assert!(check_version("..").is_err());
    assert!(check_environment("production").is_ok());
    assert!(check_environment("prod env").is_err());
    assert_eq!(
        sentry_url("https://sentry.example.org/base")
            .unwrap()
            .as_str(),
        "https://sentry.example.org/base/"
    );
    assert!(sentry_url("http://127.0.0.1:9000").is_ok());
    let error = sentry_url("http://sentry.example.org/").unwrap_err();
    assert!(error.problem.contains("in clear"), "{}", error.problem);
}
