//! Plan resolution, table-driven.

use super::*;

/// Resolution as the action (and `deploy`) asks for it: the inputs decide.
fn resolve_given(inputs: &Inputs) -> Result<Plan, PlanError> {
    resolve(inputs, Intent::AsGiven)
}

fn build_of(plan: &Plan) -> &BuildPlan {
    match &plan.work {
        Work::Build(build) => build,
        Work::Promote { .. } | Work::Rollback => panic!("expected a build"),
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        Self { dir }
    }

    /// Valid inputs for a push to `git_ref`, changed by `edit`.
    fn inputs(&self, git_ref: &str, edit: impl FnOnce(&mut InputArgs, &mut RunContext)) -> Inputs {
        let mut args = InputArgs {
            aws_region: Some("us-east-2".into()),
            ecr_repository: Some("back-end".into()),
            context: Some(self.dir.path().display().to_string()),
            ..Default::default()
        };
        let mut run = RunContext {
            in_actions: true,
            git_ref: Some(git_ref.into()),
            sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
            repository: Some("operationcode/back-end".into()),
            run_id: Some("42".into()),
            server_url: Some("https://github.com".into()),
            ..Default::default()
        };
        edit(&mut args, &mut run);
        Inputs {
            args,
            run,
            github_token: None,
            sentry_token: None,
        }
    }
}

#[test]
fn main_is_prod_and_branches_are_staging() {
    let fixture = Fixture::new();
    let table = [
        ("refs/heads/main", "prod"),
        ("refs/heads/feature/x", "staging"),
        ("refs/heads/dependabot/cargo/serde-1.0", "staging"),
    ];
    for (git_ref, environment) in table {
        let plan = resolve_given(&fixture.inputs(git_ref, |_, _| {})).unwrap();
        assert_eq!(plan.environment_tag, environment, "{git_ref}");
        assert_eq!(
            plan.image.tags,
            vec![environment.to_string(), "sha-0123456".to_string()]
        );
        assert!(matches!(plan.auth, AuthPlan::Ambient));
        assert!(plan.rollout.is_none());
        assert!(!plan.dry_run);
        assert_eq!(build_of(&plan).platforms, vec!["linux/arm64"]);
        assert_eq!(
            plan.source.run_url.as_deref(),
            Some("https://github.com/operationcode/back-end/actions/runs/42")
        );
    }
}

#[test]
fn resolves_web_identity_and_rollout() {
    let fixture = Fixture::new();
    let plan = resolve_given(&fixture.inputs("refs/heads/main", |args, run| {
        args.role_to_assume = Some("arn:aws:iam::633607774026:role/GitHubActions-ECR-Push".into());
        args.ecs_cluster = Some("back-end-production".into());
        args.ecs_services = Some("api,\nworker".into());
        args.wait_timeout_minutes = Some("45".into());
        args.build_args = Some("A=1\nB=x=y\n".into());
        run.oidc_request_url = Some("http://127.0.0.1:1/token?x=1".into());
        run.oidc_request_token = Some(SecretString::from("request-token"));
    }))
    .unwrap();
    let AuthPlan::WebIdentity(identity) = &plan.auth else {
        panic!("expected web identity");
    };
    assert_eq!(identity.audience, "sts.amazonaws.com");
    assert_eq!(identity.session_name, "deploy-action-42");
    assert_eq!(identity.duration_seconds, 3600);
    let rollout = plan.rollout.clone().unwrap();
    assert_eq!(rollout.services, vec!["api", "worker"]);
    assert_eq!(rollout.wait_timeout, Some(Duration::from_secs(45 * 60)));
    assert_eq!(
        build_of(&plan).build_args,
        vec![("A".into(), "1".into()), ("B".into(), "x=y".into())]
    );
}

#[test]
fn china_regions_default_to_the_china_audience() {
    let fixture = Fixture::new();
    let plan = resolve_given(&fixture.inputs("refs/heads/main", |args, run| {
        args.aws_region = Some("cn-north-1".into());
        args.role_to_assume = Some("arn:aws-cn:iam::633607774026:role/deployer".into());
        run.oidc_request_url = Some("http://127.0.0.1:1/token".into());
        run.oidc_request_token = Some(SecretString::from("t"));
    }))
    .unwrap();
    let AuthPlan::WebIdentity(identity) = plan.auth else {
        panic!()
    };
    assert_eq!(identity.audience, "sts.amazonaws.com.cn");
}

#[test]
fn bad_inputs_name_the_input() {
    type Edit = fn(&mut InputArgs, &mut RunContext);
    let table: &[(&str, Edit)] = &[
        ("aws-region", |a, _| a.aws_region = None),
        ("aws-region", |a, _| a.aws_region = Some("mars-1".into())),
        ("ecr-repository", |a, _| a.ecr_repository = None),
        ("ecr-repository", |a, _| {
            a.ecr_repository = Some("Back End".into());
        }),
        ("role-to-assume", |a, r| {
            a.role_to_assume = Some("GitHubActions".into());
            r.oidc_request_url = Some("http://x".into());
            r.oidc_request_token = Some(SecretString::from("t"));
        }),
        ("role-to-assume", |a, _| {
            a.role_to_assume = Some("arn:aws:iam::633607774026:role/x".into());
        }),
        ("role-duration-seconds", |a, r| {
            a.role_to_assume = Some("arn:aws:iam::633607774026:role/x".into());
            a.role_duration_seconds = Some("60".into());
            r.oidc_request_url = Some("http://x".into());
            r.oidc_request_token = Some(SecretString::from("t"));
        }),
        ("branch-tags", |a, _| a.branch_tags = Some("main".into())),
        ("branch-tags", |a, _| {
            a.branch_tags = Some("release/*=prod".into());
        }),
        ("branch-tags", |_, r| {
            r.git_ref = Some("refs/tags/v1.0.0".into());
        }),
        ("platforms", |a, _| a.platforms = Some("linux/arm65".into())),
        ("context", |a, _| a.context = Some("/does/not/exist".into())),
        // A context without a Dockerfile, and no `dockerfile` named: the context is wrong.
        ("context", |a, _| a.context = Some("/proc/self".into())),
        ("dockerfile", |a, _| {
            a.dockerfile = Some("/does/not/Dockerfile".into());
        }),
        ("build-args", |a, _| a.build_args = Some("NO_EQUALS".into())),
        ("ecs-services", |a, _| a.ecs_cluster = Some("c".into())),
        ("ecs-cluster", |a, _| a.ecs_services = Some("s".into())),
        ("ecs-services", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("bad name!".into());
        }),
        ("wait-timeout-minutes", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("s".into());
            a.wait_timeout_minutes = Some("ten".into());
        }),
        ("wait-timeout-minutes", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("s".into());
            a.wait_timeout_minutes = Some("100000".into());
        }),
        ("wait", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("s".into());
            a.wait = Some("yes".into());
        }),
        ("dry-run", |a, _| a.dry_run = Some("TRUE ".into())),
        ("export-credentials", |a, _| {
            a.export_credentials = Some("true".into());
        }),
        ("auth-max-attempts", |a, r| {
            a.role_to_assume = Some("arn:aws:iam::633607774026:role/x".into());
            a.auth_max_attempts = Some("0".into());
            r.oidc_request_url = Some("http://x".into());
            r.oidc_request_token = Some(SecretString::from("t"));
        }),
        ("registry", |a, _| a.registry = Some("host/path".into())),
        ("mode", |a, _| a.mode = Some("deploy".into())),
        ("promote-from", |a, _| {
            a.mode = Some("promote".into());
            a.promote_from = Some("sha256:abc".into());
        }),
        ("promote-from", |a, _| {
            a.promote_from = Some("staging".into());
        }),
        ("extra-tags", |a, _| a.extra_tags = Some("v1\n-bad".into())),
        ("labels", |a, _| a.labels = Some("no equals".into())),
        ("build-secrets", |a, _| {
            a.build_secrets = Some("npm=".into());
        }),
        ("cache", |a, _| a.cache = Some("s3".into())),
        ("builder", |a, _| {
            a.builder = Some("http://buildkit:1234".into());
        }),
        ("target", |a, _| a.target = Some("a b".into())),
        ("provenance", |a, _| a.provenance = Some("maybe".into())),
        ("immutable-tags", |a, _| {
            a.immutable_tags = Some("ignore".into());
        }),
        ("lifecycle-policy", |a, _| {
            a.lifecycle_policy = Some("/does/not/exist.json".into());
        }),
        ("create-repository", |a, _| {
            a.create_repository = Some("yes".into());
        }),
        ("task-definition", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("s".into());
            a.task_definition = Some("/does/not/exist.json".into());
        }),
        ("task-definition", |a, _| {
            a.ecs_cluster = Some("c".into());
            a.ecs_services = Some("s".into());
            a.task_definition = Some("Cargo.toml".into());
        }),
        ("GITHUB_SHA", |_, r| r.sha = Some("xyz".into())),
        ("GITHUB_REF", |_, r| r.git_ref = None),
    ];
    let fixture = Fixture::new();
    for (index, (input, edit)) in table.iter().enumerate() {
        let error = resolve_given(&fixture.inputs("refs/heads/main", edit)).unwrap_err();
        assert_eq!(&error.input, input, "case {index}: {error}");
        assert!(!error.expected.is_empty(), "case {index} has no hint");
    }
}

#[test]
fn dry_run_plan_reads_well() {
    let fixture = Fixture::new();
    let plan = resolve_given(&fixture.inputs("refs/heads/main", |args, _| {
        args.dry_run = Some("true".into());
        args.registry = Some("127.0.0.1:5000".into());
    }))
    .unwrap();
    assert!(plan.dry_run);
    let text = plan.to_string();
    assert!(
        text.contains("push:         127.0.0.1:5000/back-end:prod"),
        "{text}"
    );
    assert!(
        text.contains("push:         127.0.0.1:5000/back-end:sha-0123456"),
        "{text}"
    );
}

#[test]
fn resolves_build_options_and_promotion() {
    let fixture = Fixture::new();
    let plan = resolve_given(&fixture.inputs("refs/heads/main", |args, run| {
        args.extra_tags = Some("v1.4.2\nlatest".into());
        args.labels = Some("com.example.team=backend".into());
        args.build_secrets = Some("npm_token=NPM_TOKEN".into());
        args.cache = Some("registry".into());
        args.builder = Some("tcp://buildkit-arm64:1234".into());
        args.target = Some("runtime".into());
        run.gha_cache = Some(crate::inputs::GhaCache::V2);
        run.buildkit_tls = Some(BuildkitTls {
            ca: "ca".into(),
            cert: "cert".into(),
            key: SecretString::from("key"),
        });
    }))
    .unwrap();
    assert_eq!(
        plan.image.tags,
        vec!["prod", "sha-0123456", "v1.4.2", "latest"]
    );
    let build = build_of(&plan);
    assert_eq!(
        build.labels,
        vec![("com.example.team".to_string(), "backend".to_string())]
    );
    assert_eq!(
        build.secrets,
        vec![("npm_token".to_string(), "NPM_TOKEN".to_string())]
    );
    assert_eq!(build.cache, CacheMode::Registry);
    assert_eq!(build.gha_cache, Some(crate::inputs::GhaCache::V2));
    assert_eq!(
        build.builder,
        Some(BuilderChoice::Endpoint("tcp://buildkit-arm64:1234".into()))
    );
    assert!(!build.provenance);

    let promote = resolve_given(&fixture.inputs("refs/heads/main", |args, _| {
        args.mode = Some("promote".into());
        args.promote_from = Some("staging".into());
        args.context = Some("/no/context/needed".into());
    }))
    .unwrap();
    assert!(matches!(&promote.work, Work::Promote { from, verify: true } if from == "staging"));
}

#[test]
fn subcommands_change_the_plan_through_the_intent() {
    let fixture = Fixture::new();
    let inputs = fixture.inputs("refs/heads/main", |args, _| {
        args.promote_from = Some("sha-0123456".into());
    });
    let promote = resolve(&inputs, Intent::Promote).unwrap();
    assert!(matches!(&promote.work, Work::Promote { from, .. } if from == "sha-0123456"));
    assert!(!promote.dry_run);
    // The raw inputs still say nothing about the mode: the intent is not written back.
    assert_eq!(inputs.args.mode, None);

    let inputs = fixture.inputs("refs/heads/main", |_, _| {});
    let dry = resolve(&inputs, Intent::DryRun).unwrap();
    assert!(dry.dry_run);
    assert!(matches!(dry.work, Work::Build(_)));
    assert!(!resolve_given(&inputs).unwrap().dry_run);
}

#[test]
fn the_registry_is_ecr_or_this_machine() {
    let fixture = Fixture::new();
    let with_registry = |registry: &str| {
        resolve_given(&fixture.inputs("refs/heads/main", |args, _| {
            args.registry = Some(registry.into());
        }))
    };
    let shared = with_registry("111122223333.dkr.ecr.us-east-2.amazonaws.com").unwrap();
    assert_eq!(shared.image.registry_id.as_deref(), Some("111122223333"));
    let local = with_registry("127.0.0.1:5000").unwrap();
    assert_eq!(local.image.registry_id, None);
    assert_eq!(
        resolve_given(&fixture.inputs("refs/heads/main", |_, _| {}))
            .unwrap()
            .image
            .registry_id,
        None
    );
    for refused in [
        "ghcr.io",
        "registry.example.org:5000",
        "localhost.evil.example",
    ] {
        let error = with_registry(refused).unwrap_err();
        assert_eq!(error.input, "registry", "{refused}");
        assert!(error.problem.contains("would be sent to it"), "{error:?}");
    }
}

#[test]
fn secret_looking_build_args_are_warned_about() {
    let fixture = Fixture::new();
    let plan = resolve_given(&fixture.inputs("refs/heads/main", |args, _| {
        args.build_args = Some("VERSION=1.2\nNPM_TOKEN=abc\nAPI_KEY=x\nKEYBOARD=us".into());
    }))
    .unwrap();
    let warned: Vec<&str> = plan
        .warnings
        .iter()
        .map(|(input, text)| {
            assert_eq!(*input, "build-args");
            text.split('`').nth(1).unwrap()
        })
        .collect();
    assert_eq!(warned, ["NPM_TOKEN", "API_KEY"]);
    assert!(
        plan.warnings[0]
            .1
            .contains("build-secrets: npm_token=NPM_TOKEN")
    );
    for (name, secret) in [
        ("DB_PASSWORD", true),
        ("client_secret", true),
        ("MONKEY", false),
        ("KEY_ID", false),
    ] {
        assert_eq!(values::looks_secret(name), secret, "{name}");
    }
}

/// Inside a runner `DEPLOY_ACTION_DOCKER` and the user's CLI plugins choose nothing (earlier
/// steps can set or write them); outside one, a person may point at another CLI. Builder names
/// are unique per run, attempt and process (PID 1 in every action container).
#[test]
fn the_docker_cli_is_the_one_on_path_inside_a_runner() {
    let fixture = Fixture::new();
    let cli = |in_actions: bool| {
        let inputs = fixture.inputs("refs/heads/main", |_, run| {
            run.in_actions = in_actions;
            run.docker_program = Some("/home/runner/evil-docker".into());
            run.run_attempt = Some("2".into());
        });
        let plan = resolve_given(&inputs).unwrap();
        let build = build_of(&plan);
        (build.docker.clone(), build.builder_name.clone())
    };
    let (docker, name) = cli(true);
    assert_eq!(
        docker,
        DockerCli {
            program: "docker".into(),
            user_plugins: false
        }
    );
    assert!(name.starts_with("deploy-action-42-2-"), "{name}");
    assert_ne!(
        name,
        cli(true).1,
        "two runs of one attempt share a builder name"
    );
    let (docker, _) = cli(false);
    assert_eq!(
        docker.program,
        std::path::PathBuf::from("/home/runner/evil-docker")
    );
    assert!(docker.user_plugins);
}

/// `pull_request_target`, `workflow_run` and `issue_comment` run with the base repository's
/// credentials and maybe an outsider's code: refused unless explicitly allowed. A pull request
/// is never tagged by its head branch.
#[test]
fn untrusted_triggers_are_refused_and_pull_requests_are_not_prod() {
    let fixture = Fixture::new();
    for event in ["pull_request_target", "workflow_run", "issue_comment"] {
        let inputs = fixture.inputs("refs/heads/main", |_, run| {
            run.event_name = Some(event.into());
        });
        let error = resolve_given(&inputs).unwrap_err();
        assert_eq!(error.input, "allow-untrusted-trigger", "{event}");
        assert!(error.problem.contains(event), "{}", error.problem);
        let allowed = fixture.inputs("refs/heads/main", |args, run| {
            run.event_name = Some(event.into());
            args.allow_untrusted_trigger = Some("true".into());
        });
        assert_eq!(resolve_given(&allowed).unwrap().environment_tag, "prod");
    }
    // A fork's pull request from its own `main`.
    let pull = fixture.inputs("refs/pull/7/merge", |_, run| {
        run.event_name = Some("pull_request".into());
        run.head_ref = Some("main".into());
    });
    assert_eq!(resolve_given(&pull).unwrap().environment_tag, "staging");
    let numbered = fixture.inputs("refs/pull/7/merge", |args, run| {
        run.head_ref = Some("main".into());
        args.pull_request_tag = Some("number".into());
    });
    assert_eq!(resolve_given(&numbered).unwrap().environment_tag, "pr-7");
}

/// A `tcp://` BuildKit on another machine gets secrets, sources and the registry login: only
/// with TLS configured. One on this machine, and the other endpoint kinds, need none.
#[test]
fn a_remote_buildkit_needs_tls() {
    let fixture = Fixture::new();
    let with = |endpoint: &str, tls: bool| {
        let inputs = fixture.inputs("refs/heads/main", |args, run| {
            args.builder = Some(endpoint.into());
            if tls {
                run.buildkit_tls = Some(BuildkitTls {
                    ca: "ca".into(),
                    cert: "cert".into(),
                    key: SecretString::from("key"),
                });
            }
        });
        resolve_given(&inputs)
    };
    let error = with("tcp://buildkit-arm64:1234", false).unwrap_err();
    assert_eq!(error.input, "builder");
    assert!(
        error.expected.contains("BUILDKIT_TLS_CA"),
        "{}",
        error.expected
    );
    assert!(with("tcp://buildkit-arm64:1234", true).is_ok());
    assert!(with("tcp://127.0.0.1:1234", false).is_ok());
    assert!(with("docker-container://buildkitd", false).is_ok());
}

/// `pre-deploy-command`: split as a shell splits words, or a JSON array; mistakes are input
/// errors before anything runs.
#[test]
fn pre_deploy_commands_are_split_and_checked() {
    let fixture = Fixture::new();
    let plan_with = |command: &str, extra: &dyn Fn(&mut InputArgs)| {
        let inputs = fixture.inputs("refs/heads/main", |args, _| {
            args.ecs_cluster = Some("back-end-production".into());
            args.ecs_services = Some("back-end-production".into());
            args.pre_deploy_command = Some(command.into());
            extra(args);
        });
        resolve_given(&inputs)
    };
    let plan = plan_with(r#"python manage.py shell -c "print('hi there')""#, &|_| {}).unwrap();
    let pre = plan.rollout.unwrap().pre_deploy.unwrap();
    assert_eq!(
        pre.command,
        ["python", "manage.py", "shell", "-c", "print('hi there')"]
    );
    assert_eq!(pre.timeout, Duration::from_secs(15 * 60));
    assert_eq!(pre.container, None);
    let plan = plan_with(r#"["python", "manage.py", "migrate"]"#, &|args| {
        args.pre_deploy_container = Some("app".into());
        args.pre_deploy_timeout_minutes = Some("5".into());
    })
    .unwrap();
    let pre = plan.rollout.unwrap().pre_deploy.unwrap();
    assert_eq!(pre.command, ["python", "manage.py", "migrate"]);
    assert_eq!(pre.container.as_deref(), Some("app"));
    for (command, extra, input) in [
        ("python 'manage.py migrate", None, "pre-deploy-command"),
        ("[\"python\", 3]", None, "pre-deploy-command"),
        (
            "migrate",
            Some(("timeout", "0")),
            "pre-deploy-timeout-minutes",
        ),
        (
            "migrate",
            Some(("container", "app;rm")),
            "pre-deploy-container",
        ),
    ] {
        let error = plan_with(command, &|args| match extra {
            Some(("timeout", value)) => args.pre_deploy_timeout_minutes = Some(value.into()),
            Some((_, value)) => args.pre_deploy_container = Some(value.into()),
            None => {}
        })
        .unwrap_err();
        assert_eq!(error.input, input, "{command}: {error}");
    }
    // Without services there is nowhere to run it.
    let inputs = fixture.inputs("refs/heads/main", |args, _| {
        args.pre_deploy_command = Some("migrate".into());
    });
    assert_eq!(
        resolve_given(&inputs).unwrap_err().input,
        "pre-deploy-command"
    );
}

/// A build gets `SOURCE_DATE_EPOCH` from the commit's time (offsets included, as GitHub's
/// `head_commit.timestamp` and `git show --format=%cI` write it); a user's own value wins.
#[test]
fn the_build_gets_the_commit_time_as_source_date_epoch() {
    use super::image::with_source_date_epoch;
    assert_eq!(
        with_source_date_epoch(Vec::new(), Some("2026-12-07T06:00:00+01:00")),
        vec![("SOURCE_DATE_EPOCH".to_string(), "1796619600".to_string())]
    );
    assert_eq!(
        with_source_date_epoch(Vec::new(), Some("2026-12-07T05:00:00Z")),
        vec![("SOURCE_DATE_EPOCH".to_string(), "1796619600".to_string())]
    );
    let own = vec![("SOURCE_DATE_EPOCH".to_string(), "0".to_string())];
    assert_eq!(
        with_source_date_epoch(own.clone(), Some("2026-12-07T05:00:00Z")),
        own
    );
    assert!(with_source_date_epoch(Vec::new(), None).is_empty());
    assert!(with_source_date_epoch(Vec::new(), Some("yesterday")).is_empty());
}
