use super::*;
use std::collections::BTreeSet;

fn request() -> PolicyRequest {
    PolicyRequest {
        repository: "operationcode/back-end".into(),
        account: "633607774026".into(),
        region: "us-east-2".into(),
        ecr_repository: "back-end".into(),
        cluster: Some("back-end-production".into()),
        services: vec!["back-end-production".into()],
        branches: vec!["main".into()],
        environment: None,
        any_ref: false,
        job_workflow_ref: None,
        pass_roles: vec![
            "arn:aws:iam::633607774026:role/back-end-task".into(),
            "arn:aws:iam::633607774026:role/ecsTaskExecutionRole".into(),
        ],
        log_groups: Vec::new(),
        offline: false,
        passes_no_role: false,
        task_families: Vec::new(),
        deregister_previous: true,
        pre_deploy: true,
        create_repository: true,
        audience: None,
        registry_account: None,
        document: Document::Both,
    }
}

/// Every `Action` the permissions policy allows.
fn allowed(policy: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        match &statement["Action"] {
            Value::String(one) => {
                actions.insert(one.clone());
            }
            Value::Array(many) => {
                actions.extend(many.iter().map(|a| a.as_str().unwrap().to_string()));
            }
            other => panic!("unexpected Action {other}"),
        }
    }
    actions
}

/// `ecs.describe_services()` → `ecs:DescribeServices`, for every AWS client call in `src/`.
fn operations_called_in_source() -> BTreeSet<String> {
    let call = regex::Regex::new(r"\b(ecs|ecr|sts|logs)\s*\.\s*([a-z_]+)\s*\(\s*\)").unwrap();
    let mut operations = BTreeSet::new();
    let mut pending = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy();
        if !name.ends_with(".rs") || name.ends_with("tests.rs") {
            continue;
        }
        // `status` and `logs` run with a person's own credentials, never as the action.
        if path.components().any(|part| part.as_os_str() == "operator") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Methods of the client that are not AWS operations.
        for found in call
            .captures_iter(&text)
            .filter(|found| !matches!(&found[2], "clone" | "config"))
        {
            let pascal: String = found[2]
                .split('_')
                .map(|word| word[..1].to_uppercase() + &word[1..])
                .collect();
            operations.insert(format!("{}:{pascal}", &found[1]));
        }
    }
    operations
}

#[test]
fn every_aws_call_in_the_code_is_allowed_and_nothing_else() {
    let called = operations_called_in_source();
    assert!(
        called.contains("ecs:UpdateService"),
        "the scan found {called:?}"
    );
    let permitted = allowed(&permissions_policy(&request()));
    let trusted = allowed(&trust_policy(&request()));
    for operation in &called {
        assert!(
            permitted.contains(operation) || trusted.contains(operation),
            "the code calls {operation}, which the generated policy does not allow"
        );
    }
    // The other way round: every ECS and ECR API action allowed is one the code calls,
    // except what the docker CLI does for a push and tagging of new revisions.
    for action in &permitted {
        let by_docker_or_tagging = ECR_PUSH_ACTIONS.contains(&action.as_str())
            || action == "ecs:TagResource"
            || action == "iam:PassRole";
        assert!(
            by_docker_or_tagging || called.contains(action),
            "{action} is allowed but never called"
        );
    }
}

#[test]
fn trust_policy_subjects() {
    let sub = |policy: Value| policy["Statement"][0]["Condition"].clone();
    let branch = sub(trust_policy(&request()));
    assert_eq!(
        branch["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:operationcode/back-end:ref:refs/heads/main"
    );
    assert_eq!(
        branch["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );

    let environment = sub(trust_policy(&PolicyRequest {
        branches: Vec::new(),
        environment: Some("production".into()),
        ..request()
    }));
    assert_eq!(
        environment["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:operationcode/back-end:environment:production"
    );

    let any = sub(trust_policy(&PolicyRequest {
        branches: Vec::new(),
        any_ref: true,
        ..request()
    }));
    assert_eq!(
        any["StringLike"]["token.actions.githubusercontent.com:sub"],
        "repo:operationcode/back-end:*"
    );
    assert_eq!(
        trust_policy(&request())["Statement"][0]["Principal"]["Federated"],
        "arn:aws:iam::633607774026:oidc-provider/token.actions.githubusercontent.com"
    );
}

#[test]
fn resources_are_scoped() {
    let policy = permissions_policy(&request());
    let text = policy.to_string();
    assert!(text.contains("arn:aws:ecr:us-east-2:633607774026:repository/back-end"));
    assert!(text.contains(
        "arn:aws:ecs:us-east-2:633607774026:service/back-end-production/back-end-production"
    ));
    assert!(text.contains("ecs-tasks.amazonaws.com"));
    let push_only = permissions_policy(&PolicyRequest {
        cluster: None,
        services: Vec::new(),
        ..request()
    });
    assert!(
        !push_only.to_string().contains("ecs:"),
        "no ECS rights without a cluster"
    );
}

#[test]
fn bad_requests_are_refused() {
    for broken in [
        PolicyRequest {
            repository: "back-end".into(),
            ..request()
        },
        PolicyRequest {
            account: "12".into(),
            ..request()
        },
        PolicyRequest {
            region: "ohio".into(),
            ..request()
        },
        PolicyRequest {
            cluster: None,
            ..request()
        },
        PolicyRequest {
            environment: Some("production".into()),
            ..request()
        },
        // No ref condition: any branch, pull request or tag could assume the role.
        PolicyRequest {
            branches: Vec::new(),
            ..request()
        },
        PolicyRequest {
            any_ref: true,
            ..request()
        },
        PolicyRequest {
            job_workflow_ref: Some("deploy.yml".into()),
            ..request()
        },
    ] {
        let problem = render(&broken).unwrap_err();
        assert!(problem.hint.is_some(), "{problem}");
    }
}

#[test]
fn partitions_follow_the_region_as_the_action_does() {
    let china = PolicyRequest {
        region: "cn-north-1".into(),
        pass_roles: vec!["arn:aws-cn:iam::633607774026:role/back-end-task".into()],
        ..request()
    };
    let trust = trust_policy(&china).to_string();
    assert!(
        trust.contains("arn:aws-cn:iam::633607774026:oidc-provider/"),
        "{trust}"
    );
    assert!(
        trust.contains("\"sts.amazonaws.com.cn\""),
        "the .cn audience: {trust}"
    );
    let permissions = permissions_policy(&china).to_string();
    assert!(permissions.contains("arn:aws-cn:ecr:cn-north-1:633607774026:repository/back-end"));
    assert!(!permissions.contains("arn:aws:"), "{permissions}");

    let gov = PolicyRequest {
        region: "us-gov-west-1".into(),
        ..request()
    };
    assert!(
        permissions_policy(&gov)
            .to_string()
            .contains("arn:aws-us-gov:ecs:us-gov-west-1:")
    );
    assert!(
        trust_policy(&gov)
            .to_string()
            .contains("\"sts.amazonaws.com\"")
    );
}

#[test]
fn another_accounts_registry_gets_the_ecr_resources() {
    let shared = PolicyRequest {
        registry_account: Some("111122223333".into()),
        ..request()
    };
    let permissions = permissions_policy(&shared).to_string();
    assert!(permissions.contains("arn:aws:ecr:us-east-2:111122223333:repository/back-end"));
    assert!(!permissions.contains("arn:aws:ecr:us-east-2:633607774026:repository"));
    // ECS stays in the role's account.
    assert!(permissions.contains("arn:aws:ecs:us-east-2:633607774026:service/"));
    assert!(
        render(&PolicyRequest {
            registry_account: Some("1111".into()),
            ..request()
        })
        .is_err()
    );
}

/// README's policy block is this command's output for the arguments its marker names: a user
/// who copies it gets exactly what the code needs (a hand-written one lacked
/// ecr:DescribeRepositories and ecr:DescribeImages).
#[test]
fn readme_policy_is_the_commands_output() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        request: PolicyRequest,
    }
    let readme = include_str!("../../README.md");
    let marker = "<!-- iam-policy permissions: ";
    let start = readme.find(marker).expect("README's policy marker") + marker.len();
    let line_end = start + readme[start..].find(" -->").unwrap();
    let arguments = &readme[start..line_end];
    let block_start = line_end + readme[line_end..].find("```json\n").unwrap() + "```json\n".len();
    let block_end = block_start + readme[block_start..].find("\n```").unwrap();
    let mut argv = vec!["iam-policy"];
    argv.extend(arguments.split_whitespace());
    argv.extend(["--document", "permissions"]);
    let request = Args::try_parse_from(argv).unwrap().request;
    // Compared as JSON: the key order differs between builds (serde_json's preserve_order is
    // switched on by a dev-dependency only).
    let in_readme: Value = serde_json::from_str(&readme[block_start..block_end]).unwrap();
    let printed: Value = serde_json::from_str(&render(&request).unwrap()).unwrap();
    assert_eq!(
        in_readme, printed,
        "README's policy differs from `deploy-action iam-policy {arguments} --document permissions`: paste the output"
    );
}

/// The trust policy names who may deploy; `--any-ref` must be asked for and is warned about;
/// `--environment` comes with what makes it strong; a pinned reusable workflow lands in `sub`
/// (AWS evaluates no other GitHub claim) with how to make GitHub put it there.
#[test]
fn the_trust_policy_needs_a_ref_condition_and_says_what_it_relies_on() {
    let permissions_only = PolicyRequest {
        branches: Vec::new(),
        document: Document::Permissions,
        ..request()
    };
    assert!(
        render(&permissions_only).is_ok(),
        "the permissions document needs no ref"
    );
    let any = PolicyRequest {
        branches: Vec::new(),
        any_ref: true,
        ..request()
    };
    assert!(render(&any).is_ok());
    assert!(notes(&any)[0].starts_with("warning: --any-ref"));
    let environment = PolicyRequest {
        branches: Vec::new(),
        environment: Some("production".into()),
        ..request()
    };
    assert!(notes(&environment)[0].contains("protection rules"));
    let pinned = PolicyRequest {
        job_workflow_ref: Some(
            "operationcode/back-end/.github/workflows/deploy.yml@refs/heads/main".into(),
        ),
        ..request()
    };
    assert_eq!(
        trust_policy(&pinned)["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:operationcode/back-end:ref:refs/heads/main:job_workflow_ref:\
         operationcode/back-end/.github/workflows/deploy.yml@refs/heads/main"
    );
    assert!(notes(&pinned)[0].contains("include_claim_keys[]=job_workflow_ref"));
}

/// A crashed task's log is read only from the services' log groups: `/ecs/*` by default (where
/// ECS puts them), exactly the groups named with `--log-group`.
#[test]
fn log_reads_are_scoped_to_the_log_groups() {
    let resources = |request: &PolicyRequest| -> Value {
        permissions_policy(request)["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "logs:GetLogEvents")
            .unwrap()["Resource"]
            .clone()
    };
    assert_eq!(
        resources(&request()),
        serde_json::json!(["arn:aws:logs:us-east-2:633607774026:log-group:/ecs/*:log-stream:*"])
    );
    let named = PolicyRequest {
        log_groups: vec!["/aws/ecs/back-end".into()],
        ..request()
    };
    assert_eq!(
        resources(&named),
        serde_json::json!([
            "arn:aws:logs:us-east-2:633607774026:log-group:/aws/ecs/back-end:log-stream:*"
        ])
    );
    // A container's `awslogs-region` other than the services': the group in that region.
    let elsewhere = PolicyRequest {
        log_groups: vec!["eu-west-1:/ecs/otel".into()],
        ..request()
    };
    assert_eq!(
        resources(&elsewhere),
        serde_json::json!(["arn:aws:logs:eu-west-1:633607774026:log-group:/ecs/otel:log-stream:*"])
    );
    let bad = PolicyRequest {
        log_groups: vec!["mars-1:/ecs/otel".into()],
        ..request()
    };
    assert!(
        check_arguments(&bad)
            .unwrap_err()
            .to_string()
            .contains("--log-group"),
        "a region that is none"
    );
}

#[test]
fn task_definitions_that_pass_no_role_get_no_pass_role() {
    let mut request = request();
    request.passes_no_role = true;
    let policy = permissions_policy(&request);
    assert!(!allowed(&policy).contains("iam:PassRole"), "{policy}");
    request.passes_no_role = false;
    request.pass_roles = vec!["arn:aws:iam::633607774026:role/back-end-task".into()];
    let policy = permissions_policy(&request);
    let pass = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "PassTaskRoles")
        .unwrap();
    assert_eq!(
        pass["Resource"],
        json!(["arn:aws:iam::633607774026:role/back-end-task"])
    );
}

/// `--cluster` and `--service` as ARNs (what `aws ecs list-services` prints) give the same policy
/// as names — not `service/arn:…/arn:…`.
#[test]
fn cluster_and_service_arns_give_the_policy_of_their_names() {
    let by_name = permissions_policy(&request());
    let by_arn = permissions_policy(&PolicyRequest {
        cluster: Some("arn:aws:ecs:us-east-2:633607774026:cluster/back-end-production".into()),
        services: vec![
            "arn:aws:ecs:us-east-2:633607774026:service/back-end-production/back-end-production"
                .into(),
        ],
        ..request()
    });
    assert_eq!(by_arn, by_name);
    assert!(!by_arn.to_string().contains("service/arn:"), "{by_arn}");
}

fn statement<'a>(policy: &'a Value, sid: &str) -> Option<&'a Value> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
}

/// DeregisterTaskDefinition, and listing the cluster's services to keep a revision another
/// one runs, are what `deregister-previous` needs: without it the role has neither.
#[test]
fn deregistering_is_granted_only_with_deregister_previous() {
    let without = permissions_policy(&PolicyRequest {
        deregister_previous: false,
        ..request()
    });
    let allowed_without = allowed(&without);
    assert!(
        !allowed_without.contains("ecs:DeregisterTaskDefinition")
            && !allowed_without.contains("ecs:ListServices"),
        "{without}"
    );
    assert!(statement(&without, "EcsDescribeClusterServices").is_none());
    let with = allowed(&permissions_policy(&request()));
    assert!(with.contains("ecs:DeregisterTaskDefinition") && with.contains("ecs:ListServices"));
}

/// RegisterTaskDefinition takes no resource and RunTask's overrides take any taskRoleArn:
/// iam:PassRole is what bounds the role a task gets, so it names roles — the ones read from the
/// task definitions or given — and the command refuses to print `role/*` for want of them.
#[test]
fn pass_role_names_roles_and_never_all_of_them() {
    let unnamed = PolicyRequest {
        pass_roles: Vec::new(),
        offline: true,
        ..request()
    };
    let refused = render(&unnamed).unwrap_err();
    assert!(
        refused.to_string().contains("iam:PassRole needs the roles"),
        "{refused}"
    );
    assert!(
        refused
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("--pass-role ROLE_ARN"),
        "{refused:?}"
    );
    // The arguments alone are fine: the command reads the roles before it renders.
    check_arguments(&unnamed).unwrap();
    // A trust policy alone needs no roles; neither does a push-only policy (no cluster).
    render(&PolicyRequest {
        document: Document::Trust,
        ..unnamed.clone()
    })
    .unwrap();
    render(&PolicyRequest {
        cluster: None,
        services: Vec::new(),
        ..unnamed.clone()
    })
    .unwrap();

    let printed = render(&request()).unwrap();
    assert!(!printed.contains(":role/*"), "{printed}");
    let policy = permissions_policy(&request());
    assert_eq!(
        statement(&policy, "PassTaskRoles").unwrap()["Resource"],
        json!([
            "arn:aws:iam::633607774026:role/back-end-task",
            "arn:aws:iam::633607774026:role/ecsTaskExecutionRole"
        ])
    );
    let typo = PolicyRequest {
        pass_roles: vec!["back-end-task".into()],
        ..request()
    };
    assert!(
        check_arguments(&typo)
            .unwrap_err()
            .to_string()
            .contains("--pass-role `back-end-task` is not a role's ARN")
    );
}

/// A pre-deploy RunTask runs in the services' cluster only, and only revisions of the
/// services' families once they were read.
#[test]
fn run_task_is_limited_to_the_cluster_and_the_services_families() {
    let read = permissions_policy(&PolicyRequest {
        task_families: vec!["back-end".into()],
        ..request()
    });
    let run_task = statement(&read, "EcsPreDeployRunTask").unwrap();
    assert_eq!(
        run_task["Resource"],
        json!(["arn:aws:ecs:us-east-2:633607774026:task-definition/back-end:*"])
    );
    assert_eq!(
        run_task["Condition"]["ArnEquals"]["ecs:cluster"],
        "arn:aws:ecs:us-east-2:633607774026:cluster/back-end-production"
    );
    let offline = permissions_policy(&request());
    assert_eq!(
        statement(&offline, "EcsPreDeployRunTask").unwrap()["Resource"],
        json!(["arn:aws:ecs:us-east-2:633607774026:task-definition/*"])
    );
}
