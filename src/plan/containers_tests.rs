use super::*;

const INPUTS: [&str; 3] = ["environment-variables", "secrets", "unset"];

#[test]
fn secret_references_are_what_ecs_takes() {
    for good in [
        "arn:aws:secretsmanager:us-east-2:633607774026:secret:back-end/jwt-AbCdEf",
        "arn:aws:secretsmanager:us-east-2:633607774026:secret:back-end/jwt-AbCdEf:key::",
        "arn:aws:ssm:us-east-2:633607774026:parameter/back-end/jwt",
        "/back-end/jwt",
        "jwt_secret",
    ] {
        assert!(is_secret_reference(good), "{good}");
    }
    for bad in [
        "",
        "hunter2 with spaces",
        "arn:aws:s3:::bucket/key",
        "arn:aws:secretsmanager:us-east-2:6336:secret:x",
        "arn:aws:ssm:us-east-2:633607774026:document/x",
    ] {
        assert!(!is_secret_reference(bad), "{bad}");
    }
}

#[test]
fn changes_parse_and_merge_with_inputs_last() {
    let changes = parse(
        Some("SENTRY_ENVIRONMENT=production\nURL=https://x/?a=b"),
        Some("JWT_SECRET_KEY=arn:aws:secretsmanager:us-east-2:633607774026:secret:jwt-AbCdEf"),
        Some("JWT_PUBLIC_KEY, OLD"),
        INPUTS,
        "",
    )
    .unwrap();
    assert_eq!(
        changes.environment[1],
        ("URL".into(), "https://x/?a=b".into())
    );
    assert_eq!(changes.unset, vec!["JWT_PUBLIC_KEY", "OLD"]);
    let error = parse(None, Some("JWT=hunter2 now"), None, INPUTS, "").unwrap_err();
    assert_eq!(error.input, "secrets");
    let error = parse(Some("1BAD=x"), None, None, INPUTS, "").unwrap_err();
    assert_eq!(error.input, "environment-variables");

    let edits = ContainerEdits {
        named: vec![(
            "app".into(),
            ContainerChanges {
                environment: vec![("MODE".into(), "file".into())],
                ..Default::default()
            },
        )],
        selected: ContainerChanges {
            environment: vec![("MODE".into(), "input".into())],
            ..Default::default()
        },
    };
    let app = edits.for_container("app", true);
    assert_eq!(
        app.environment.last().unwrap().1,
        "input",
        "the input is applied last"
    );
    assert!(edits.for_container("sidecar", false).is_empty());
}
