//! The stand-ins' addresses and the calls that script, seed and read them.

use super::*;

/// The stand-ins' addresses, from the env file `scripts/standins up` writes.
pub struct StandIns {
    pub vars: HashMap<String, String>,
}

impl StandIns {
    pub fn get() -> Self {
        let path = std::env::var("DEPLOY_ACTION_STANDINS")
            .unwrap_or_else(|_| "/var/tmp/deploy-action-standins".into());
        let file = Path::new(&path).join("env");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
            panic!(
                "the end-to-end tests need the local stand-ins, and {} is missing: run them with `scripts/test` \
                 (or start them with `scripts/standins up`)",
                file.display()
            )
        });
        let vars = text
            .lines()
            .filter_map(|line| line.strip_prefix("export "))
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_string(), value.trim_matches('\'').to_string()))
            .collect();
        Self { vars }
    }

    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from the stand-ins' env file"))
    }

    pub fn registry(&self) -> &str {
        self.var("DEPLOY_ACTION_TEST_REGISTRY")
    }

    pub fn oidc_request_token(&self) -> String {
        read_trimmed(self.var("DEPLOY_ACTION_TEST_OIDC_REQUEST_TOKEN_FILE"))
    }

    /// Every JWT the OIDC stand-in has issued so far. A missing record fails the test: a leak
    /// scan over no tokens would pass whatever leaked.
    pub fn issued_tokens(&self) -> Vec<String> {
        let file = self.var("DEPLOY_ACTION_TEST_OIDC_ISSUED_FILE");
        std::fs::read_to_string(file)
            .unwrap_or_else(|error| panic!("the OIDC stand-in's record {file}: {error}"))
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The JWTs issued for `audience` (their `aud` claim).
    pub fn issued_tokens_for(&self, audience: &str) -> Vec<String> {
        self.issued_tokens()
            .into_iter()
            .filter(|jwt| claims_of(jwt)["aud"] == audience)
            .collect()
    }

    async fn config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.var("DEPLOY_ACTION_TEST_MOTO"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await
    }

    pub async fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.config().await)
    }

    /// An ECR repository in moto (the API side; the images go to the real registry).
    pub async fn ecr_repository(&self, name: &str, immutable: bool) {
        let mutability = if immutable {
            aws_sdk_ecr::types::ImageTagMutability::Immutable
        } else {
            aws_sdk_ecr::types::ImageTagMutability::Mutable
        };
        self.ecr()
            .await
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(mutability)
            .send()
            .await
            .unwrap();
    }

    /// `role` trusts what `deploy-action iam-policy --document trust ARGS` prints: the strict
    /// stand-in evaluates it on each AssumeRoleWithWebIdentity of the role, against the token's
    /// claims, as STS does (moto's STS takes any token).
    pub fn trust(&self, role: &str, args: &[&str]) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_deploy-action"))
            .args(iam_policy_command("back-end", "trust"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "iam-policy printed no trust policy: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        self.tell_strict_aws(
            "trust-policy",
            &serde_json::json!({"role": role, "policy": policy}),
        );
    }

    /// POST `body` to the strict AWS stand-in's `/_stand-in/WHAT` (a policy it holds runs to).
    pub fn tell_strict_aws(&self, what: &str, body: &serde_json::Value) {
        let posted = std::process::Command::new("curl")
            .args(["-sf", "-X", "POST", "--data-binary", &body.to_string()])
            .arg(format!("{}/_stand-in/{what}", self.var("AWS_ENDPOINT_URL")))
            .output()
            .unwrap();
        assert!(
            posted.status.success(),
            "the strict stand-in took no {what}: {}",
            String::from_utf8_lossy(&posted.stderr)
        );
    }

    /// Blob uploads the registry has started for `repository` so far (from its request log).
    pub fn blob_uploads(&self, repository: &str) -> usize {
        let log_file = Path::new(self.var("DEPLOY_ACTION_STANDINS_DIR")).join("registry.log");
        // Access-log lines: `"POST /v2/REPO/blobs/uploads/ HTTP/1.1" 202` starts an upload (a
        // cross-repository mount answers 201, an existing layer is only HEADed).
        let started = format!("\"POST /v2/{repository}/blobs/uploads/ HTTP/1.1\" 202 ");
        // A missing log fails the test: "0 uploads" must be counted, not assumed.
        std::fs::read_to_string(&log_file)
            .unwrap_or_else(|error| panic!("the registry's log {}: {error}", log_file.display()))
            .lines()
            .filter(|line| line.contains(&started))
            .count()
    }

    /// How the strict ECS stand-in ends the next rollout of `service`: `completed`, `failed`
    /// (no automatic rollback), `rollback` (a circuit-breaker rollback) or `stuck` (in progress
    /// for ever, its tasks failing: no circuit breaker), after `polls` DescribeServices and
    /// `stale_reads` answers with the service as it was.
    pub async fn script_rollout(&self, service: &str, outcome: &str, polls: u32, stale_reads: u32) {
        self.post_script(serde_json::json!({
            "service": service, "outcome": outcome, "polls": polls, "stale_reads": stale_reads
        }))
        .await;
    }

    /// The next rollout of `service` fails: a task of the new revision stopped, its `container`
    /// exited with `exit_code`; the task's id is `task_id` (its log stream names it).
    pub async fn script_crash(
        &self,
        service: &str,
        container: &str,
        exit_code: i32,
        task_id: &str,
    ) {
        self.post_script(serde_json::json!({
            "service": service, "outcome": "failed", "polls": 1, "stale_reads": 0,
            "crashed": {"container": container, "exit_code": exit_code, "task_id": task_id,
                        "reason": "Essential container in task exited"}
        }))
        .await;
    }

    /// A subnet and the security group of moto's default VPC in the region (EC2's query API,
    /// which moto answers unsigned; the region comes from the credential scope, as moto reads
    /// it). moto's CreateService wants the group, which AWS would default.
    pub async fn default_network(&self) -> (String, String) {
        let subnet = self
            .ec2_query(
                "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true",
                r"<subnetId>(subnet-[0-9a-f]+)</subnetId>",
            )
            .await;
        let group = self
            .ec2_query(
                "Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-name&Filter.1.Value.1=default",
                r"<groupId>(sg-[0-9a-f]+)</groupId>",
            )
            .await;
        (subnet, group)
    }

    async fn ec2_query(&self, form: &str, pattern: &str) -> String {
        let answer = reqwest::Client::new()
            .post(self.var("DEPLOY_ACTION_TEST_MOTO"))
            .header(
                "Authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/{REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0"
                ),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        regex::Regex::new(pattern)
            .unwrap()
            .captures(&answer)
            .unwrap_or_else(|| panic!("moto's EC2 has no {pattern} in {REGION}: {answer}"))[1]
            .to_string()
    }

    /// Store a blob (an image's config) for the strict stand-in's GetDownloadUrlForLayer, which
    /// moto lacks (`scripts/aws_proxy.py`); its `sha256:` digest.
    pub async fn ecr_layer(&self, repository: &str, content: &[u8]) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(content));
        self.post_stand_in(
            "ecr-layer",
            &serde_json::json!({
                "repositoryName": repository,
                "digest": digest,
                "content": base64::engine::general_purpose::STANDARD.encode(content),
            }),
        )
        .await;
        digest
    }

    /// Post a script to the strict ECS stand-in (`scripts/ecs_deployments.py` says which).
    pub async fn post_script(&self, body: serde_json::Value) {
        self.post_stand_in("ecs-script", &body).await;
    }

    /// POST `body` to the strict stand-in's `/_stand-in/PATH`; it must take it.
    async fn post_stand_in(&self, path: &str, body: &serde_json::Value) {
        let url = format!("{}/_stand-in/{path}", self.var("AWS_ENDPOINT_URL"));
        let response = reqwest::Client::new()
            .post(url)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// Record a measured figure; `scripts/test` prints them all at the end.
    pub fn figure(&self, line: &str) {
        use std::io::Write;
        let path = Path::new(self.var("DEPLOY_ACTION_STANDINS_DIR")).join("figures.txt");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
        eprintln!("figure: {line}");
    }

    /// ECS through the strict stand-in, as the action sees it (service deployments, strategies).
    pub async fn strict_ecs(&self) -> aws_sdk_ecs::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.var("AWS_ENDPOINT_URL"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await;
        aws_sdk_ecs::Client::new(&config)
    }

    pub async fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.moto_config().await)
    }

    /// CloudWatch Logs at moto, to plant what a container wrote.
    pub async fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.moto_config().await)
    }

    /// Plant `lines` in the CloudWatch stream `group`/`stream` (both created), a millisecond
    /// apart and ending a second ago: what a container wrote.
    pub async fn plant_log_lines(&self, group: &str, stream: &str, lines: &[&str]) {
        let logs = self.logs().await;
        // A second stream in the group finds it there.
        if let Err(error) = logs.create_log_group().log_group_name(group).send().await {
            let code = aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::code(&error);
            assert_eq!(code, Some("ResourceAlreadyExistsException"), "{error:?}");
        }
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        for (offset, line) in (0_i64..).zip(lines) {
            logs.put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .log_events(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(now - 1000 + offset)
                        .message(*line)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    }

    async fn moto_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.var("DEPLOY_ACTION_TEST_MOTO"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await
    }

    /// moto's records of the role sessions named `session_name`, oldest first.
    pub async fn assumed_roles(&self, session_name: &str) -> Vec<serde_json::Value> {
        let url = format!("{}/moto-api/data.json", self.var("DEPLOY_ACTION_TEST_MOTO"));
        let data: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        data["sts"]["AssumedRole"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|role| role["session_name"] == session_name)
            .collect()
    }

    /// moto's record of an assumed-role session: (access key id, secret key, session token).
    pub async fn assumed_role_secrets(&self, session_name: &str) -> Vec<String> {
        let roles = self.assumed_roles(session_name).await;
        let role = roles
            .last()
            .unwrap_or_else(|| panic!("moto has no session {session_name}"));
        ["access_key_id", "secret_access_key", "session_token"]
            .iter()
            .map(|key| role[key].as_str().unwrap().to_string())
            .collect()
    }
}

/// `value` for a URL's query.
pub fn url_encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The claims of a JWT, unverified (the stand-in signed it; tests only read it).
pub fn claims_of(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub(crate) fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}",
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `deploy-action iam-policy` for the tests' repository, account and region: the command a
/// person runs for these runs, printing `document` for ECR repository `repository`.
pub fn iam_policy_command(repository: &str, document: &str) -> Vec<String> {
    [
        "iam-policy",
        "--repository",
        "operationcode/back-end",
        "--account",
        "123456789012",
        "--region",
        REGION,
        "--ecr-repository",
        repository,
        "--document",
        document,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
