use super::*;

#[test]
fn regions() {
    for good in [
        "us-east-2",
        "eu-central-1",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-5",
    ] {
        assert!(check_region(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "us-east",
        "US-EAST-1",
        "useast1",
        "us-east-1a",
        "us--1",
        "u-east-1",
    ] {
        assert!(check_region(bad).is_err(), "{bad}");
    }
}

#[test]
fn role_arns() {
    assert_eq!(
        check_role_arn("arn:aws:iam::633607774026:role/GitHubActions-ECR-Push").unwrap(),
        "633607774026"
    );
    assert!(check_role_arn("arn:aws-cn:iam::633607774026:role/ci/deployer").is_ok());
    for bad in [
        "GitHubActions-ECR-Push",
        "arn:aws:iam::63360777402:role/x",
        "arn:aws:iam::633607774026:user/x",
        "arn:aws:iam:us-east-1:633607774026:role/x",
        "arn:aws:sts::633607774026:role/x",
        "arn:aws:iam::633607774026:role/",
        "arn:aws:iam::633607774026:role/has space",
    ] {
        assert!(check_role_arn(bad).is_err(), "{bad}");
    }
}

#[test]
fn repositories_and_tags() {
    assert!(check_repository("back-end").is_ok());
    assert!(check_repository("team/back_end.api").is_ok());
    for bad in ["Back-End", "a", "back-", "/x", "x//y", "back end"] {
        assert!(check_repository(bad).is_err(), "{bad}");
    }
    assert!(check_docker_tag("sha-abc1234").is_ok());
    for bad in ["", "-x", ".x", "a:b", "a/b", &"x".repeat(129)] {
        assert!(check_docker_tag(bad).is_err(), "{bad}");
    }
}

#[test]
fn booleans_and_minutes() {
    assert_eq!(parse_bool("TRUE"), Ok(true));
    assert!(parse_bool("yes").is_err());
    assert!(parse_bool("true ").is_err());
    assert_eq!(parse_minutes("30", 1..=1440), Ok(Duration::from_secs(1800)));
    assert!(parse_minutes("0", 1..=1440).is_err());
    assert!(parse_minutes("-5", 1..=1440).is_err());
    assert!(parse_minutes("ten", 1..=1440).is_err());
}

#[test]
fn session_names_are_sanitised() {
    assert_eq!(sanitise_session_name("deploy action/1"), "deploy-action-1");
    assert_eq!(sanitise_session_name("x").len(), 2);
    assert_eq!(sanitise_session_name(&"a".repeat(100)).len(), 64);
}

#[test]
fn task_definition_documents() {
    assert!(
        task_definition_document("{not json")
            .unwrap_err()
            .contains("not JSON")
    );
    assert!(
        task_definition_document("[1]")
            .unwrap_err()
            .contains("not a JSON object")
    );
    assert!(
        task_definition_document(r#"{"family": "x"}"#)
            .unwrap_err()
            .contains("containerDefinitions")
    );
    let body =
        task_definition_document(r#"{"containerDefinitions": [], "registeredAt": "2026-01-01"}"#)
            .unwrap();
    assert!(
        !body.contains("registeredAt") && body.contains("\"taskDefinition\""),
        "{body}"
    );
}

#[test]
fn lists_split_on_lines_and_commas() {
    assert_eq!(split_list("a, b\nc\n\n"), vec!["a", "b", "c"]);
}

#[test]
fn loopback_hosts_are_parsed_not_prefixed() {
    for host in [
        "127.0.0.1:5000",
        "127.1.2.3",
        "localhost",
        "localhost:15001",
        "[::1]:5000",
        "[::1]",
    ] {
        assert!(is_loopback_host(host), "{host}");
    }
    for host in [
        "127.0.0.1.evil.example:5000",
        "localhost.evil.example",
        "localhostx:5000",
        "127.evil.example",
        "[::1].example:5000",
        "633607774026.dkr.ecr.us-east-2.amazonaws.com",
        "10.0.0.1:5000",
        "127.0.0.1:port",
        "",
    ] {
        assert!(!is_loopback_host(host), "{host}");
    }
}

#[test]
fn ecr_hosts_in_every_form() {
    let ours = Some(("633607774026".to_string(), "us-east-2".to_string()));
    for host in [
        "633607774026.dkr.ecr.us-east-2.amazonaws.com",
        "633607774026.dkr.ecr-fips.us-east-2.amazonaws.com",
        "633607774026.dkr-ecr.us-east-2.on.aws",
        "633607774026.dkr-ecr-fips.us-east-2.on.aws",
    ] {
        assert_eq!(ecr_registry(host), ours, "{host}");
    }
    assert_eq!(
        ecr_registry("633607774026.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        Some(("633607774026".to_string(), "cn-north-1".to_string()))
    );
    for host in [
        "ghcr.io",
        "633607774026.dkr.ecr.us-east-2.amazonaws.com.evil.example",
        "633607774026.dkr.ecr.us-east-2.amazonaws.com:443",
        "evil.example/633607774026.dkr.ecr.us-east-2.amazonaws.com",
        "63360777402.dkr.ecr.us-east-2.amazonaws.com",
        "633607774026.dkr.ecr.ohio.amazonaws.com",
        "public.ecr.aws",
        "127.0.0.1:5000",
    ] {
        assert_eq!(ecr_registry(host), None, "{host}");
    }
}
