//! Auth against moto's real STS and the OIDC stand-in: credentials that renew themselves,
//! exported credentials, ambient credentials.

use crate::support::*;
use deploy_action::auth::retry::RetryPolicy;
use deploy_action::auth::web_identity::WebIdentityProvider;
use deploy_action::console::{Console, Mode};
use deploy_action::plan::WebIdentity;
use secrecy::SecretString;
use std::time::Duration;

/// A provider whose OIDC tokens carry `session` as their audience, so a test can count its own
/// tokens while other tests ask the same stand-in for theirs.
async fn provider(
    standins: &StandIns,
    session: &str,
    duration_seconds: i32,
) -> WebIdentityProvider {
    let unsigned = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(standins.var("DEPLOY_ACTION_TEST_MOTO"))
        .no_credentials()
        .load()
        .await;
    let identity = WebIdentity {
        role_arn: ROLE.into(),
        audience: session.into(),
        session_name: session.into(),
        duration_seconds,
        token_url: format!(
            "{}&ref=refs/heads/main",
            standins.var("DEPLOY_ACTION_TEST_OIDC_URL")
        ),
        token_request_token: SecretString::from(standins.oidc_request_token()),
        max_attempts: 3,
        max_retry_time: Duration::from_secs(10),
    };
    WebIdentityProvider::new(
        identity,
        aws_sdk_sts::Client::new(&unsigned),
        RetryPolicy::default(),
        Console::new(Mode::Plain),
    )
}

/// ECR calls made through the SDK with `provider` as its credentials.
async fn ecr_calls(standins: &StandIns, provider: WebIdentityProvider, calls: usize) {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(standins.var("DEPLOY_ACTION_TEST_MOTO"))
        .credentials_provider(provider)
        .load()
        .await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    for _ in 0..calls {
        ecr.get_authorization_token()
            .send()
            .await
            .expect("an ECR call with our credentials");
    }
}

/// Credentials about to expire are renewed with a fresh OIDC token and a new AssumeRole, so a
/// wait longer than `role-duration-seconds` never runs on expired credentials.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_renew_before_they_expire() {
    let standins = StandIns::get();
    let session = unique("refresh");
    // One-second sessions: always inside the renewal margin.
    let short = provider(&standins, &session, 1).await;
    short.assume().await.unwrap();
    ecr_calls(&standins, short, 3).await;
    let sessions = standins.assumed_roles(&session).await;
    assert_eq!(
        sessions.len(),
        4,
        "one AssumeRole at start and one per call"
    );
    let keys: std::collections::HashSet<_> = sessions
        .iter()
        .map(|s| s["access_key_id"].clone())
        .collect();
    assert_eq!(keys.len(), 4, "each renewal is a new session");
    assert_eq!(
        standins.issued_tokens_for(&session).len(),
        4,
        "each renewal used a fresh OIDC token"
    );

    // An hour-long session is assumed once.
    let session = unique("no-refresh");
    let long = provider(&standins, &session, 3600).await;
    long.assume().await.unwrap();
    ecr_calls(&standins, long, 3).await;
    assert_eq!(standins.assumed_roles(&session).await.len(), 1);
    assert_eq!(standins.issued_tokens_for(&session).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_credentials_writes_masked_values_to_github_env() {
    let standins = StandIns::get();
    let run_id = unique("run");
    let repository = unique("e2e/export");
    standins.ecr_repository(&repository, false).await;
    let action = ActionRun::new(
        &standins,
        "refs/heads/feature/export",
        &run_id,
        &[
            ("ecr-repository", &repository),
            ("export-credentials", "true"),
        ],
    );
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    let aws = standins
        .assumed_role_secrets(&format!("deploy-action-{run_id}"))
        .await;
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", aws[0].as_str()),
        ("AWS_SECRET_ACCESS_KEY", aws[1].as_str()),
        ("AWS_SESSION_TOKEN", aws[2].as_str()),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
    ] {
        assert!(
            run.env_file.contains(&format!("{name}={value}\n")),
            "{name} missing from GITHUB_ENV"
        );
    }
    for secret in &aws {
        run.assert_masked("an exported credential", secret);
        let first_use = run.stdout.find(secret.as_str()).unwrap();
        assert!(
            run.stdout[..first_use].ends_with("::add-mask::"),
            "masked before any other use"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ambient_credentials_say_where_they_came_from() {
    let standins = StandIns::get();
    let secret = format!("ambient-secret-{}", unique("key"));
    let repository = unique("e2e/ambient");
    standins.ecr_repository(&repository, false).await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/ambient",
        &unique("run"),
        &[("ecr-repository", &repository)],
    );
    action.remove("INPUT_ROLE-TO-ASSUME");
    action.without_iam_policy("ambient credentials: no role session to hold a policy");
    action.set("AWS_ACCESS_KEY_ID", "AKIAAMBIENTEXAMPLE");
    action.set("AWS_SECRET_ACCESS_KEY", &secret);
    let run = action.run();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout
            .contains("credentials from the default chain: EnvironmentVariable"),
        "{}",
        run.log()
    );
    assert!(!run.stdout.contains("OIDC token claims"));
    run.assert_masked("the ambient secret key", &secret);
    run.assert_no_leak("the ambient secret key", &secret);
    assert_eq!(run.outputs["aws-account-id"], "123456789012");
}

/// Every run here assumes its role under the policy `deploy-action iam-policy` prints for its
/// inputs, enforced by the strict stand-in. Without a permission the code needs (README's old
/// hand-written policy lacked ecr:DescribeRepositories), the call is denied in AWS's words and
/// the step names the action, the resource and the command that prints the fix.
#[tokio::test(flavor = "multi_thread")]
async fn a_denied_call_names_the_action_the_resource_and_the_fix() {
    let standins = StandIns::get();
    let repository = unique("e2e/denied");
    standins.ecr_repository(&repository, false).await;
    let mut action = ActionRun::new(
        &standins,
        "refs/heads/feature/denied",
        &unique("run"),
        &[("ecr-repository", repository.as_str())],
    );
    action
        .denied_actions
        .push("ecr:DescribeRepositories".into());
    let run = action.run();
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.the_error("denied");
    assert!(
        error.contains(
            "is not authorized to perform: ecr:DescribeRepositories on resource: \
             arn:aws:ecr:us-east-2:123456789012:repository/"
        ) && error.contains(&repository),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "deploy-action iam-policy --repository operationcode/back-end --account 123456789012 \
             --region us-east-2 --ecr-repository {repository} --document permissions"
        )),
        "{error}"
    );
    assert!(
        run.summary.contains("Stopped at repository"),
        "{}",
        run.summary
    );
    run.assert_no_token_leaks(&standins);
}

/// The trust policy `iam-policy` prints is what decides who assumes the role: the strict
/// stand-in evaluates it on each AssumeRoleWithWebIdentity against the token's claims, as STS
/// does. The role trusted for `main` is assumed by a push to main and refused to a feature branch
/// and to a pull request; the role trusted for the `production` environment only by a job of
/// that environment. A refusal fails the step at once, naming the token's subject.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_runs_a_trust_policy_names_can_assume_its_role() {
    let standins = StandIns::get();
    let main_role = format!("arn:aws:iam::123456789012:role/{}", unique("prod-main"));
    standins.trust(&main_role, &["--branch", "main"]);
    let environment_role = format!("arn:aws:iam::123456789012:role/{}", unique("prod-env"));
    standins.trust(&environment_role, &["--environment", "production"]);
    let cases = [
        (&main_role, "refs/heads/main", None, true),
        (&main_role, "refs/heads/feature/x", None, false),
        (&main_role, "refs/pull/7/merge", None, false),
        (
            &environment_role,
            "refs/heads/main",
            Some("production"),
            true,
        ),
        (&environment_role, "refs/heads/main", Some("staging"), false),
        (&environment_role, "refs/heads/main", None, false),
    ];
    for (role, git_ref, environment, assumed) in cases {
        let case = format!("{role} from {git_ref} in {environment:?}");
        let repository = unique("e2e/trust");
        standins.ecr_repository(&repository, false).await;
        let mut action = ActionRun::new(
            &standins,
            git_ref,
            &unique("run"),
            &[("ecr-repository", repository.as_str())],
        );
        action.set("INPUT_ROLE-TO-ASSUME", role);
        if let Some(environment) = environment {
            action.in_github_environment(environment);
        }
        let run = action.run();
        if assumed {
            assert_eq!(run.code, 0, "{case}: {}", run.log());
            continue;
        }
        assert_eq!(run.code, 1, "{case}: {}", run.log());
        let error = run.the_error(&case);
        assert!(
            error.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"),
            "{case}: {error}"
        );
        let subject = match (environment, git_ref.starts_with("refs/pull/")) {
            (Some(environment), _) => format!("environment:{environment}"),
            (None, true) => "pull_request".to_string(),
            (None, false) => format!("ref:{git_ref}"),
        };
        assert!(
            run.log()
                .contains(&format!("repo:operationcode/back-end:{subject}")),
            "{case}: the step names the token's subject: {}",
            run.log()
        );
        run.assert_no_token_leaks(&standins);
    }
}

/// The push is held to the run's policy too: ECR's registry authorizes each request against the
/// identity that got the token, and so does the strict registry stand-in (the password a role
/// session gets names it). Without one of the push's actions the push is denied in AWS's words,
/// and nothing is tagged.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_the_policy_does_not_allow_is_denied_by_the_registry() {
    let standins = StandIns::get();
    let registry = Registry {
        host: standins.registry(),
    };
    for denied in ["ecr:InitiateLayerUpload", "ecr:PutImage"] {
        let repository = unique("e2e/push-denied");
        standins.ecr_repository(&repository, false).await;
        let mut action = ActionRun::new(
            &standins,
            "refs/heads/feature/push-denied",
            &unique("run"),
            &[("ecr-repository", repository.as_str())],
        );
        action.denied_actions.push(denied.into());
        let run = action.run();
        assert_eq!(run.code, 1, "{denied}: {}", run.log());
        assert!(
            run.log().contains(&format!(
                "is not authorized to perform: {denied} on resource: \
                 arn:aws:ecr:us-east-2:123456789012:repository/{repository}"
            )),
            "{denied}: {}",
            run.log()
        );
        assert_eq!(
            registry.tags(&repository).await,
            Vec::<String>::new(),
            "{denied}"
        );
        run.assert_no_token_leaks(&standins);
    }
}

/// A dry run authenticates (to describe the services) but hands no credentials to later steps.
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_exports_no_credentials() {
    let standins = StandIns::get();
    let ecs = standins.ecs().await;
    let repository = unique("e2e/dry-export");
    standins.ecr_repository(&repository, false).await;
    let world = EcsWorld::create(
        &ecs,
        &format!("{}/{repository}:staging", standins.registry()),
    )
    .await;
    let run = ActionRun::new(
        &standins,
        "refs/heads/feature/dry",
        &unique("run"),
        &deploy_inputs(
            &repository,
            &world,
            &[("export-credentials", "true"), ("dry-run", "true")],
        ),
    )
    .run();
    assert_eq!(run.code, 0, "{}", run.log());
    // It did authenticate: the services were described.
    assert!(
        run.stdout.contains("what would change (dry run)"),
        "{}",
        run.log()
    );
    assert!(
        !run.env_file.contains("AWS_"),
        "a dry run exported: {}",
        run.env_file
    );
    run.assert_no_token_leaks(&standins);
}
