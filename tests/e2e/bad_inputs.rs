//! Bad input, the way the runner passes it (environment only): each case exits non-zero with
//! one `::error` that names the input, and nothing reaches AWS or the OIDC endpoint — both are
//! wiremock servers here that count every request.

use crate::support::*;
use std::os::unix::ffi::OsStringExt;
use wiremock::MockServer;

type Edit = Box<dyn Fn(&mut ActionRun)>;

/// AWS and the OIDC endpoint as servers that count every request: a refused run sends none.
struct Counted {
    aws: MockServer,
    oidc: MockServer,
}

impl Counted {
    async fn start() -> Self {
        Self {
            aws: MockServer::start().await,
            oidc: MockServer::start().await,
        }
    }

    /// Point the run's AWS and OIDC endpoints here.
    fn point(&self, action: &mut ActionRun) {
        action.set("AWS_ENDPOINT_URL", &self.aws.uri());
        action.set(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/token", self.oidc.uri()),
        );
    }

    async fn assert_untouched(&self, what: &str) {
        assert_eq!(
            self.aws.received_requests().await.unwrap().len(),
            0,
            "{what} reached AWS"
        );
        assert_eq!(
            self.oidc.received_requests().await.unwrap().len(),
            0,
            "{what} asked for a token"
        );
    }
}

fn set(key: &'static str, value: &str) -> Edit {
    let value = value.to_string();
    Box::new(move |run| run.set(key, &value))
}

fn input(name: &'static str, value: &str) -> Edit {
    let key = format!("INPUT_{}", name.to_uppercase());
    let value = value.to_string();
    Box::new(move |run| run.set(&key, &value))
}

fn remove(key: &'static str) -> Edit {
    Box::new(move |run| run.remove(key))
}

fn both(a: Edit, b: Edit) -> Edit {
    Box::new(move |run| {
        a(run);
        b(run);
    })
}

/// Sentry on (organization and project), with `edit`; no SENTRY_AUTH_TOKEN.
fn with_sentry(edit: Edit) -> Edit {
    both(
        both(
            input("sentry-org", "operation-code"),
            input("sentry-projects", "back-end"),
        ),
        edit,
    )
}

fn with_ecs(edit: Edit) -> Edit {
    both(
        both(
            input("ecs-cluster", "back-end-staging"),
            input("ecs-services", "back-end-staging"),
        ),
        edit,
    )
}

fn file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_fail_with_one_clear_error_and_no_aws_call() {
    let standins = StandIns::get();
    let counted = Counted::start().await;
    let files = tempfile::tempdir().unwrap();
    let not_json = file(files.path(), "td.json", "taskDefinition: yes");
    let long = "a".repeat(70_000);
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("region missing", remove("INPUT_AWS-REGION"), "aws-region"),
        ("region empty", input("aws-region", ""), "aws-region"),
        (
            "region malformed",
            input("aws-region", "us-east"),
            "aws-region",
        ),
        (
            "region upper case",
            input("aws-region", "US-EAST-1"),
            "aws-region",
        ),
        ("region very long", input("aws-region", &long), "aws-region"),
        (
            "repository missing",
            remove("INPUT_ECR-REPOSITORY"),
            "ecr-repository",
        ),
        (
            "repository with spaces",
            input("ecr-repository", "Back End"),
            "ecr-repository",
        ),
        (
            "repository too short",
            input("ecr-repository", "a"),
            "ecr-repository",
        ),
        (
            "role not an ARN",
            input("role-to-assume", "GitHubActions"),
            "role-to-assume",
        ),
        (
            "role with a short account",
            input("role-to-assume", "arn:aws:iam::12345:role/x"),
            "role-to-assume",
        ),
        (
            "role that is a user",
            input("role-to-assume", "arn:aws:iam::123456789012:user/x"),
            "role-to-assume",
        ),
        (
            "no OIDC token for the job",
            remove("ACTIONS_ID_TOKEN_REQUEST_URL"),
            "id-token: write",
        ),
        (
            "session too short",
            input("role-duration-seconds", "60"),
            "role-duration-seconds",
        ),
        (
            "session not a number",
            input("role-duration-seconds", "abc"),
            "role-duration-seconds",
        ),
        (
            "zero attempts",
            input("auth-max-attempts", "0"),
            "auth-max-attempts",
        ),
        (
            "negative retry time",
            input("auth-max-seconds", "-1"),
            "auth-max-seconds",
        ),
        (
            "rule without =",
            input("branch-tags", "main"),
            "branch-tags",
        ),
        (
            "rule without glob",
            input("branch-tags", "=prod"),
            "branch-tags",
        ),
        (
            "rule with a bad tag",
            input("branch-tags", "main=pr od"),
            "branch-tags",
        ),
        (
            "rule with a bad glob",
            input("branch-tags", "[=prod"),
            "branch-tags",
        ),
        (
            "no rule for the branch",
            input("branch-tags", "release/*=prod"),
            "branch-tags",
        ),
        (
            "pull request tag choice",
            input("pull-request-tag", "head-branch"),
            "pull-request-tag",
        ),
        (
            "allow untrusted trigger not a flag",
            input("allow-untrusted-trigger", "yes please"),
            "allow-untrusted-trigger",
        ),
        (
            "a pull_request_target run",
            set("GITHUB_EVENT_NAME", "pull_request_target"),
            "allow-untrusted-trigger",
        ),
        (
            "a tag ref without a rule",
            set("GITHUB_REF", "refs/tags/v1.0.0"),
            "branch-tags",
        ),
        ("a detached head", set("GITHUB_REF", "HEAD"), "branch-tags"),
        ("sha not hex", set("GITHUB_SHA", "not-a-sha"), "GITHUB_SHA"),
        ("ref missing", remove("GITHUB_REF"), "GITHUB_REF"),
        (
            "extra tag starting with -",
            input("extra-tags", "-bad"),
            "extra-tags",
        ),
        (
            "extra tag with a colon",
            input("extra-tags", "a:b"),
            "extra-tags",
        ),
        // With one role and one repository for every branch, a feature branch must not write
        // prod's tag, a commit's sha- tag (promotion ships what it names) or a build cache tag.
        (
            "extra tag that is another environment's (prod, from a feature branch)",
            input("extra-tags", "prod"),
            "extra-tags",
        ),
        (
            "extra tag that names a commit",
            input("extra-tags", "sha-0123456"),
            "extra-tags",
        ),
        (
            "extra tag of the build cache",
            input("extra-tags", "buildcache-prod"),
            "extra-tags",
        ),
        (
            "a forged revision label (promotion trusts it)",
            input(
                "labels",
                "org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567",
            ),
            "labels",
        ),
        (
            "unknown platform",
            input("platforms", "linux/arm65"),
            "platforms",
        ),
        (
            "windows platform",
            input("platforms", "windows/amd64"),
            "platforms",
        ),
        ("no platform", input("platforms", ","), "platforms"),
        (
            "context missing",
            input("context", "/does/not/exist"),
            "context",
        ),
        (
            "context outside the workspace",
            both(set("GITHUB_WORKSPACE", "/tmp"), input("context", "/")),
            "outside the workspace",
        ),
        (
            "dockerfile missing",
            input("dockerfile", "/nope/Dockerfile"),
            "dockerfile",
        ),
        (
            "build arg without =",
            input("build-args", "NOEQUALS"),
            "build-args",
        ),
        ("label without =", input("labels", "bad"), "labels"),
        (
            "secret without a variable",
            input("build-secrets", "token="),
            "build-secrets",
        ),
        ("unknown cache", input("cache", "s3"), "cache"),
        (
            "builder that is not BuildKit",
            input("builder", "http://buildkit:1234"),
            "builder",
        ),
        ("target with a space", input("target", "a b"), "target"),
        ("provenance yes", input("provenance", "yes"), "provenance"),
        (
            "dry-run with a trailing space",
            input("dry-run", "TRUE "),
            "dry-run",
        ),
        ("wait yes", with_ecs(input("wait", "yes")), "wait"),
        (
            "negative timeout",
            with_ecs(input("wait-timeout-minutes", "-5")),
            "wait-timeout-minutes",
        ),
        (
            "huge timeout",
            with_ecs(input("wait-timeout-minutes", "100000")),
            "wait-timeout-minutes",
        ),
        (
            "timeout in words",
            with_ecs(input("wait-timeout-minutes", "ten")),
            "wait-timeout-minutes",
        ),
        (
            "cluster without services",
            input("ecs-cluster", "back-end-staging"),
            "ecs-services",
        ),
        (
            "services without cluster",
            input("ecs-services", "api"),
            "ecs-cluster",
        ),
        (
            "service name with !",
            both(
                input("ecs-cluster", "c"),
                input("ecs-services", "bad name!"),
            ),
            "ecs-services",
        ),
        (
            "task definition not JSON",
            with_ecs(input("task-definition", &not_json)),
            "task-definition",
        ),
        (
            "task definition missing",
            with_ecs(input("task-definition", "/nope.json")),
            "task-definition",
        ),
        (
            "health check over ftp",
            with_ecs(input("health-check-url", "ftp://x/health")),
            "health-check-url",
        ),
        (
            "health check time zero",
            with_ecs(both(
                input("health-check-url", "https://x/health"),
                input("health-check-timeout-seconds", "0"),
            )),
            "health-check-timeout-seconds",
        ),
        (
            "test traffic URL not a URL",
            with_ecs(input("test-traffic-url", "api:8443/health")),
            "test-traffic-url",
        ),
        (
            "test traffic URL without waiting",
            with_ecs(both(
                input("test-traffic-url", "https://x:8443/health"),
                input("wait", "false"),
            )),
            "test-traffic-url",
        ),
        ("unknown mode", input("mode", "deploy"), "mode"),
        (
            "setup-qemu not a flag",
            input("setup-qemu", "maybe"),
            "setup-qemu",
        ),
        (
            "rollback without services",
            input("mode", "rollback"),
            "mode",
        ),
        (
            "promote-from while building",
            input("promote-from", "staging"),
            "promote-from",
        ),
        (
            "promote of a bad source",
            both(
                input("mode", "promote"),
                input("promote-from", "sha256:abc"),
            ),
            "promote-from",
        ),
        (
            "verify-promoted-commit not a flag",
            both(
                input("mode", "promote"),
                input("verify-promoted-commit", "usually"),
            ),
            "verify-promoted-commit",
        ),
        (
            "verify-promoted-commit while building",
            input("verify-promoted-commit", "false"),
            "verify-promoted-commit",
        ),
        (
            "sentry-org not a slug",
            input("sentry-org", "Operation Code"),
            "sentry-org",
        ),
        (
            "sentry-projects missing",
            input("sentry-org", "operation-code"),
            "sentry-projects",
        ),
        (
            "sentry-url in clear",
            with_sentry(input("sentry-url", "http://sentry.example.org/")),
            "sentry-url",
        ),
        (
            "sentry-version with a slash",
            with_sentry(input("sentry-version", "feature/x")),
            "sentry-version",
        ),
        (
            "sentry-environment with a space",
            with_sentry(input("sentry-environment", "prod env")),
            "sentry-environment",
        ),
        (
            "unknown immutable-tags",
            input("immutable-tags", "ignore"),
            "immutable-tags",
        ),
        (
            "lifecycle policy not JSON",
            input("lifecycle-policy", &not_json),
            "lifecycle-policy",
        ),
        (
            "create-repository sure",
            input("create-repository", "sure"),
            "create-repository",
        ),
        (
            "deployment without a token",
            input("github-deployment", "true"),
            "github-deployment",
        ),
        (
            "checks gate maybe",
            input("wait-for-checks", "maybe"),
            "wait-for-checks",
        ),
        (
            "unknown log level",
            input("log-level", "verbose"),
            "log-level",
        ),
        (
            "environment URL not a URL",
            input("environment-url", "not a url"),
            "environment-url",
        ),
        (
            "registry with a path",
            input("registry", "host/path"),
            "registry",
        ),
        (
            "export without GITHUB_ENV",
            both(input("export-credentials", "true"), remove("GITHUB_ENV")),
            "export-credentials",
        ),
        (
            "repository not UTF-8",
            Box::new(|run: &mut ActionRun| {
                run.remove("INPUT_ECR-REPOSITORY");
                run.raw_env.push((
                    "INPUT_ECR-REPOSITORY".into(),
                    std::ffi::OsString::from_vec(vec![b'b', 0xff, b'e']),
                ));
            }),
            "ecr-repository",
        ),
        // The ECR login goes only to ECR or to this machine (never to a lookalike).
        ("registry not ECR", input("registry", "ghcr.io"), "registry"),
        (
            "registry looks like loopback",
            input("registry", "127.0.0.1.evil.example:5000"),
            "registry",
        ),
        (
            "registry starts with localhost",
            input("registry", "localhost.evil.example"),
            "registry",
        ),
        (
            "registry looks like ECR",
            input(
                "registry",
                "633607774026.dkr.ecr.us-east-2.amazonaws.com.evil.example",
            ),
            "registry",
        ),
        ("wait not a bool", with_ecs(input("wait", "later")), "wait"),
        (
            "rollback not a bool",
            with_ecs(input("rollback-on-failure", "sometimes")),
            "rollback-on-failure",
        ),
        (
            "evidence in summary not a bool",
            with_ecs(input("evidence-in-summary", "some")),
            "evidence-in-summary",
        ),
        (
            "force not a bool",
            with_ecs(input("force-new-deployment", "2")),
            "force-new-deployment",
        ),
        (
            "wait-through-bake not a bool",
            with_ecs(input("wait-through-bake", "always")),
            "wait-through-bake",
        ),
        (
            "an unknown deployment strategy",
            with_ecs(input("deployment-strategy", "red-black")),
            "deployment-strategy",
        ),
        (
            "a strategy without a service",
            input("deployment-strategy", "canary"),
            "deployment-strategy",
        ),
        (
            "a bake beyond 24 hours",
            with_ecs(both(
                input("deployment-strategy", "blue-green"),
                input("bake-time-minutes", "1441"),
            )),
            "bake-time-minutes",
        ),
        (
            "a canary percent of 0",
            with_ecs(both(
                input("deployment-strategy", "canary"),
                input("canary-percent", "0"),
            )),
            "canary-percent",
        ),
        (
            "a canary bake without the canary strategy",
            with_ecs(input("canary-bake-minutes", "5")),
            "canary-bake-minutes",
        ),
        (
            "a linear step below 3 percent",
            with_ecs(both(
                input("deployment-strategy", "linear"),
                input("linear-step-percent", "2.5"),
            )),
            "linear-step-percent",
        ),
        (
            "a linear step bake that is not a number",
            with_ecs(both(
                input("deployment-strategy", "linear"),
                input("linear-step-bake-minutes", "five"),
            )),
            "linear-step-bake-minutes",
        ),
        (
            "an alarm name with a control character",
            with_ecs(input("deployment-alarms", "api\u{7}5xx")),
            "deployment-alarms",
        ),
        (
            "deregister not a bool",
            with_ecs(input("deregister-previous", "nope")),
            "deregister-previous",
        ),
        (
            "checks timeout zero",
            both(
                input("checks-timeout-minutes", "0"),
                both(
                    input("wait-for-checks", "true"),
                    input("github-token", "ghs_x"),
                ),
            ),
            "checks-timeout-minutes",
        ),
        (
            "a config file that is not there",
            input("config", "nope.toml"),
            "config",
        ),
        (
            "a variable that is not NAME=value",
            with_ecs(input("environment-variables", "JUST_A_NAME")),
            "environment-variables",
        ),
        (
            "a secret given as a value",
            with_ecs(input("secrets", "JWT_SECRET_KEY=hunter2 hunter2")),
            "secrets",
        ),
        (
            // RunTask: "A total of 8192 characters are allowed for overrides" (API reference).
            "a pre-deploy command longer than RunTask's overrides allow",
            with_ecs(input(
                "pre-deploy-command",
                &format!("migrate {}", "x".repeat(8200)),
            )),
            "pre-deploy-command",
        ),
        (
            "a pre-deploy command with an unterminated quote",
            with_ecs(input("pre-deploy-command", "python 'manage.py migrate")),
            "pre-deploy-command",
        ),
        (
            "a pre-deploy container that is no name",
            with_ecs(both(
                input("pre-deploy-command", "migrate"),
                input("pre-deploy-container", "app;rm -rf"),
            )),
            "pre-deploy-container",
        ),
        (
            "a pre-deploy timeout of 0",
            with_ecs(both(
                input("pre-deploy-command", "migrate"),
                input("pre-deploy-timeout-minutes", "0"),
            )),
            "pre-deploy-timeout-minutes",
        ),
        (
            "a name that cannot be unset",
            with_ecs(input("unset", "1X")),
            "unset",
        ),
        (
            "required checks without the gate",
            input("required-checks", "tests"),
            "required-checks",
        ),
    ];
    // Every input that can hold a wrong value has a case here; the rest take any text (or are
    // checked against AWS, in deploy.rs), and say why below.
    let free_form = [
        ("audience", "any audience the trust policy names"),
        ("role-session-name", "sanitised to what STS accepts"),
        (
            "container-names",
            "checked against the task definition in the preflight",
        ),
        ("health-check-expect", "any text"),
        ("github-token", "any token"),
        ("github-environment", "any environment name"),
    ];
    for name in deploy_action::inputs::InputArgs::NAMES {
        assert!(
            cases.iter().any(|(_, _, expected)| expected == name)
                || free_form.iter().any(|(free, _)| free == name),
            "no bad-input case for `{name}`"
        );
    }
    for (case, edit, expected) in &cases {
        let mut action = ActionRun::new(
            &standins,
            "refs/heads/feature/x",
            &unique("run"),
            &[("ecr-repository", "back-end")],
        );
        action.without_iam_policy("refused before any AWS call, which the counting proxy proves");
        counted.point(&mut action);
        edit(&mut action);
        let run = action.run();
        assert_eq!(run.code, 1, "{case}: {}", run.log());
        let error = run.the_error(case);
        assert!(
            error.contains(expected),
            "{case}: expected `{expected}` in {error}"
        );
        assert!(error.contains("hint: "), "{case}: no hint in {error}");
        assert!(run.outputs.is_empty(), "{case}: outputs were written");
        assert!(
            run.leftover_temp_files.is_empty(),
            "{case}: left {:?}",
            run.leftover_temp_files
        );
    }
    counted.assert_untouched("a bad input").await;
    standins.figure(&format!(
        "bad inputs: {} cases, each exit 1 with one ::error naming the input, 0 AWS calls",
        cases.len()
    ));
}

/// A bad `.github/deploy.toml`, the way the runner finds it (in the workspace, the working
/// directory): each case fails with the file, line and column and what would be right, and
/// nothing reaches AWS or the OIDC endpoint.
#[tokio::test(flavor = "multi_thread")]
async fn bad_config_files_fail_with_where_and_no_aws_call() {
    let standins = StandIns::get();
    let counted = Counted::start().await;
    let valid = "[defaults]\naws-region = \"us-east-2\"\necr-repository = \"back-end\"\n\n\
                 [environments.staging]\nbranches = [\"*\"]\n";
    let cases: Vec<(&str, String, &str)> = vec![
        ("not TOML", "[defaults\n".into(), ":1:"),
        (
            "an unknown table",
            "[default]\n".into(),
            "unknown table `default` (did you mean `defaults`?)",
        ),
        (
            "a misspelt input",
            format!("{valid}ecs-service = [\"api\"]\n"),
            ":7:1: [environments.staging] unknown key `ecs-service` (did you mean `ecs-services`?)",
        ),
        (
            "a float",
            format!("{valid}wait-timeout-minutes = 2.5\n"),
            ":7:1:",
        ),
        (
            "a tag that is not a string",
            format!("{valid}tag = 3\n"),
            "`environments.staging.tag` is not a string",
        ),
        (
            "the token in the file",
            format!("[defaults]\ngithub-token = \"ghs_x\"\n{}", &valid[11..]),
            ":2:1: [defaults] `github-token` cannot be set in the file",
        ),
        (
            "a bad glob",
            "[environments.x]\nbranches = [\"[\"]\n".into(),
            "is not a glob",
        ),
        (
            "no environment for the branch",
            "[environments.prod]\nbranches = [\"main\"]\n".into(),
            "the rules: prod (main)",
        ),
        (
            "a bad tag",
            "[environments.x]\nbranches = [\"*\"]\ntag = \"no spaces please\"\n".into(),
            "cannot be an image tag",
        ),
        (
            "a misspelt container key",
            format!(
                "{valid}[environments.staging.containers.api]\nenvironment = {{ A = \"1\" }}\n"
            ),
            "unknown key `environment` (did you mean `environment-variables`?)",
        ),
        (
            "a bad value the file set",
            format!("{valid}cache = \"s3\"\n"),
            "(set in ./.github/deploy.toml [environments.staging], line 7)",
        ),
    ];
    for (case, text, expected) in &cases {
        let mut action = ActionRun::new(&standins, "refs/heads/feature/x", &unique("run"), &[]);
        action.without_iam_policy("refused before any AWS call, which the counting proxy proves");
        action.remove("INPUT_AWS-REGION");
        counted.point(&mut action);
        action.config_file(text, &[]);
        let run = action.run();
        assert_eq!(run.code, 1, "{case}: {}", run.log());
        let error = run.the_error(case);
        assert!(
            error.contains(expected),
            "{case}: expected `{expected}` in {error}"
        );
        assert!(
            error.contains("deploy.toml"),
            "{case}: no file named in {error}"
        );
        assert!(error.contains("hint: "), "{case}: no hint in {error}");
    }
    counted.assert_untouched("a bad file").await;
    standins.figure(&format!(
        "bad config files: {} cases, each exit 1 naming file:line:column, 0 AWS calls",
        cases.len()
    ));
}
