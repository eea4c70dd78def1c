//! What the end-to-end tests need: the stand-ins started by `scripts/standins up`, a way to
//! run the binary as the runner runs a container action, and readers for the registry, moto
//! and the runner's files.

#![allow(dead_code)] // Each test uses a part.

use crate::runner_container;
use aws_credential_types::Credentials;
use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Tag, TaskDefinition};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const REGION: &str = "us-east-2";
/// `GITHUB_SHA` of every [`ActionRun`] unless a test sets another.
pub const RUN_SHA: &str = "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/GitHubActions-Deploy";
/// What moto's ECR GetAuthorizationToken decodes to, after `AWS:`.
pub const ECR_PASSWORD: &str = "123456789012-auth-token";
pub const SIDECAR_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0";

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
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
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

fn read_trimmed(path: &str) -> String {
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

/// A cluster with one service whose task definition runs `image` in `api` next to a sidecar.
pub struct EcsWorld {
    pub cluster: String,
    pub service: String,
    pub task_definition: TaskDefinition,
}

impl EcsWorld {
    pub async fn create(ecs: &aws_sdk_ecs::Client, image: &str) -> Self {
        Self::create_with(ecs, image, None, None).await
    }

    /// A new ECR repository `name-…` and a one-service world on its staging image, the service
    /// running with `launch_type`; the world and the repository's name.
    pub async fn with_repository(
        standins: &StandIns,
        name: &str,
        launch_type: Option<aws_sdk_ecs::types::LaunchType>,
    ) -> (Self, String) {
        let ecs = standins.ecs().await;
        let repository = unique(name);
        standins.ecr_repository(&repository, false).await;
        let image = format!("{}/{repository}:staging", standins.registry());
        // Fargate takes only awsvpc tasks, which need a subnet: the default VPC's.
        let fargate = launch_type == Some(aws_sdk_ecs::types::LaunchType::Fargate);
        let network = if fargate {
            Some(standins.default_network().await)
        } else {
            None
        };
        (
            Self::create_with(&ecs, &image, launch_type, network).await,
            repository,
        )
    }

    /// A world whose service runs with `launch_type` (FARGATE: moto starts one-off tasks of it
    /// without container instances). With `network` (subnet, security group) the task
    /// definition is awsvpc and Fargate compatible, as Fargate requires, and the service runs
    /// its tasks there.
    pub async fn create_with(
        ecs: &aws_sdk_ecs::Client,
        image: &str,
        launch_type: Option<aws_sdk_ecs::types::LaunchType>,
        network: Option<(String, String)>,
    ) -> Self {
        let cluster = unique("e2e-cluster");
        let service = unique("e2e-service");
        ecs.create_cluster()
            .cluster_name(&cluster)
            .send()
            .await
            .unwrap();
        let family = unique("e2e-family");
        let registered = ecs
            .register_task_definition()
            .family(&family)
            .network_mode(if network.is_some() {
                aws_sdk_ecs::types::NetworkMode::Awsvpc
            } else {
                aws_sdk_ecs::types::NetworkMode::Bridge
            })
            .set_requires_compatibilities(
                network
                    .as_ref()
                    .map(|_| vec![aws_sdk_ecs::types::Compatibility::Fargate]),
            )
            .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("api")
                    .image(image)
                    .essential(true)
                    .memory(256)
                    .log_configuration(
                        aws_sdk_ecs::types::LogConfiguration::builder()
                            .log_driver(aws_sdk_ecs::types::LogDriver::Awslogs)
                            .options("awslogs-group", format!("/ecs/{family}"))
                            .options("awslogs-region", REGION)
                            .options("awslogs-stream-prefix", "ecs")
                            .build()
                            .unwrap(),
                    )
                    .environment(
                        KeyValuePair::builder()
                            .name("LOG_LEVEL")
                            .value("info")
                            .build(),
                    )
                    .environment(
                        KeyValuePair::builder()
                            .name("JWT_PUBLIC_KEY")
                            .value("-----BEGIN PUBLIC KEY----- (the seed's old key)")
                            .build(),
                    )
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("otel")
                    .image(SIDECAR_IMAGE)
                    .essential(false)
                    .memory(128)
                    .build(),
            )
            .tags(Tag::builder().key("team").value("backend").build())
            .send()
            .await
            .unwrap();
        let task_definition = registered.task_definition().unwrap().clone();
        ecs.create_service()
            .cluster(&cluster)
            .service_name(&service)
            .task_definition(task_definition.task_definition_arn().unwrap())
            .desired_count(1)
            .set_launch_type(launch_type)
            .set_network_configuration(network.map(|(subnet, group)| {
                aws_sdk_ecs::types::NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                            .subnets(subnet)
                            .security_groups(group)
                            .build()
                            .unwrap(),
                    )
                    .build()
            }))
            .send()
            .await
            .unwrap();
        Self {
            cluster,
            service,
            task_definition,
        }
    }

    /// The `api` container of the revision `run` registered, which the service runs now.
    pub async fn new_api_container(
        &self,
        ecs: &aws_sdk_ecs::Client,
        run: &Finished,
    ) -> ContainerDefinition {
        let registered = &run.outputs["task-definition-arns"];
        assert_eq!(
            self.running(ecs).await.as_deref(),
            Some(registered.as_str()),
            "{} does not run what the run registered",
            self.service
        );
        ecs.describe_task_definition()
            .task_definition(registered)
            .send()
            .await
            .unwrap()
            .task_definition()
            .unwrap()
            .container_definitions()[0]
            .clone()
    }

    /// The task definition the world's service runs now.
    pub async fn running(&self, ecs: &aws_sdk_ecs::Client) -> Option<String> {
        let described = ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(&self.service)
            .send()
            .await
            .unwrap();
        described.services()[0]
            .task_definition()
            .map(str::to_string)
    }

    /// Another service in the cluster, on the same task definition.
    pub async fn add_service(&self, ecs: &aws_sdk_ecs::Client) -> String {
        let service = unique("e2e-service");
        ecs.create_service()
            .cluster(&self.cluster)
            .service_name(&service)
            .task_definition(self.task_definition.task_definition_arn().unwrap())
            .desired_count(1)
            .send()
            .await
            .unwrap();
        service
    }
}

/// The inputs of a deploy of `repository` to the world's one service, and `extra` ones.
pub fn deploy_inputs<'a>(
    repository: &'a str,
    world: &'a EcsWorld,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut inputs = vec![
        ("ecr-repository", repository),
        ("ecs-cluster", world.cluster.as_str()),
        ("ecs-services", world.service.as_str()),
    ];
    inputs.extend_from_slice(extra);
    inputs
}

/// A world (see [`EcsWorld::with_repository`]) after one staging deploy: the world, the
/// repository, the revision it started on and the one the deploy registered.
pub async fn deployed_once(standins: &StandIns, name: &str) -> (EcsWorld, String, String, String) {
    let (world, repository) = EcsWorld::with_repository(standins, name, None).await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let run = staging_deploy(standins, &repository, &world, &[]).run();
    assert_eq!(run.code, 0, "{}", run.log());
    let deployed = world.running(&standins.ecs().await).await.unwrap();
    assert_ne!(deployed, first, "the deploy registered no revision");
    (world, repository, first, deployed)
}

/// A staging deploy (a push to a feature branch) of `repository` to the world's service.
pub fn staging_deploy(
    standins: &StandIns,
    repository: &str,
    world: &EcsWorld,
    extra: &[(&str, &str)],
) -> ActionRun {
    ActionRun::new(
        standins,
        "refs/heads/feature/staging",
        &unique("run"),
        &deploy_inputs(repository, world, extra),
    )
}

/// One run of the binary, as the runner starts a container action: environment only.
/// How a run is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The binary as a process of this machine, environment only.
    Host,
    /// PID 1 of a container started as the runner starts a container action.
    RunnerContainer,
}

pub struct ActionRun {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    /// The strict stand-in, which enforces the run's IAM policy.
    strict_aws: String,
    /// Actions taken out of the run's generated policy (to see a denied call reported).
    pub denied_actions: Vec<String>,
    /// Values that are not UTF-8.
    pub raw_env: Vec<(String, std::ffi::OsString)>,
    /// The container's name when the run is a container started as the runner starts one
    /// (`in_container`); a host process otherwise.
    container: Option<String>,
    /// See [`ActionRun::set_in_config_file`].
    from_config_file: Vec<(String, String)>,
}

pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: HashMap<String, String>,
    pub outputs_raw: String,
    pub summary: String,
    /// What the run wrote to `GITHUB_ENV`.
    pub env_file: String,
    /// Files left in the run's TMPDIR (the private docker config must be gone).
    pub leftover_temp_files: Vec<PathBuf>,
}

impl ActionRun {
    /// A push of `git_ref` with OIDC, the stand-ins' endpoints and the given inputs.
    ///
    /// The run's directory is laid out as the runner lays out its temp directory for a container
    /// action: `file_commands/` (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STEP_SUMMARY), `workflow/`
    /// (the event payload), `home/`, `workspace/`; `tmp/` is the host run's TMPDIR.
    pub fn new(standins: &StandIns, git_ref: &str, run_id: &str, inputs: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "tmp",
            "file_commands",
            "workflow",
            "home",
            "workspace",
            "bin",
        ] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        // In a runner the action runs the `docker` on its PATH (DEPLOY_ACTION_DOCKER is ignored
        // there): the stand-ins' CLI comes first on the run's PATH.
        std::os::unix::fs::symlink(
            standins.var("DEPLOY_ACTION_DOCKER"),
            dir.path().join("bin/docker"),
        )
        .unwrap();
        let event = serde_json::json!({"head_commit": {"timestamp": "2026-11-20T09:30:00+01:00"}});
        std::fs::write(dir.path().join("workflow/event.json"), event.to_string()).unwrap();
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                format!(
                    "{}:{}",
                    dir.path().join("bin").display(),
                    std::env::var("PATH").unwrap()
                ),
            ),
            ("HOME".into(), dir.path().join("home").display().to_string()),
            (
                "TMPDIR".into(),
                dir.path().join("tmp").display().to_string(),
            ),
            ("GITHUB_ACTIONS".into(), "true".into()),
            (
                "GITHUB_EVENT_PATH".into(),
                dir.path().join("workflow/event.json").display().to_string(),
            ),
            ("GITHUB_REF".into(), git_ref.into()),
            (
                "GITHUB_REF_NAME".into(),
                git_ref.rsplit('/').next().unwrap().into(),
            ),
            ("GITHUB_SHA".into(), RUN_SHA.into()),
            ("GITHUB_REPOSITORY".into(), "operationcode/back-end".into()),
            ("GITHUB_RUN_ID".into(), run_id.into()),
            ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
            (
                "GITHUB_OUTPUT".into(),
                dir.path()
                    .join("file_commands/output")
                    .display()
                    .to_string(),
            ),
            (
                "GITHUB_STEP_SUMMARY".into(),
                dir.path()
                    .join("file_commands/summary")
                    .display()
                    .to_string(),
            ),
            (
                "GITHUB_ENV".into(),
                dir.path().join("file_commands/env").display().to_string(),
            ),
            // The runner's URL is opaque to the action (it appends `&audience=`); the stand-in
            // reads the job's ref from it, as the real endpoint knows the job it serves.
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                format!(
                    "{}&ref={}",
                    standins.var("DEPLOY_ACTION_TEST_OIDC_URL"),
                    url_encoded(git_ref)
                ),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                standins.oidc_request_token(),
            ),
            ("INPUT_AWS-REGION".into(), REGION.into()),
            ("INPUT_ROLE-TO-ASSUME".into(), ROLE.into()),
            ("INPUT_REGISTRY".into(), standins.registry().into()),
            ("INPUT_CONTEXT".into(), app_dir().display().to_string()),
        ];
        for key in [
            "AWS_ENDPOINT_URL",
            "AWS_EC2_METADATA_DISABLED",
            "DOCKER_HOST",
        ] {
            env.push((key.into(), standins.var(key).into()));
        }
        for (name, value) in inputs {
            env.push((format!("INPUT_{}", name.to_uppercase()), value.to_string()));
        }
        Self {
            dir,
            env,
            raw_env: Vec::new(),
            container: None,
            from_config_file: Vec::new(),
            strict_aws: standins.var("AWS_ENDPOINT_URL").to_string(),
            denied_actions: Vec::new(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .chain(self.from_config_file.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Inputs the run takes from its config file rather than its environment: the harness
    /// needs them to register the run's IAM policy (as the user would with `iam-policy`).
    pub fn set_in_config_file(&mut self, input: &str, value: &str) {
        self.remove(&format!("INPUT_{}", input.to_uppercase()));
        self.from_config_file
            .push((format!("INPUT_{}", input.to_uppercase()), value.to_string()));
    }

    /// Write `.github/deploy.toml` where the run will look for it (its working directory: the
    /// workspace in container mode, so choose the mode first), and note the inputs it sets
    /// ([`Self::set_in_config_file`]).
    pub fn config_file(&mut self, text: &str, sets: &[(&str, &str)]) {
        let dir = match self.container {
            Some(_) => self.dir.path().join("workspace/.github"),
            None => self.dir.path().join(".github"),
        };
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("deploy.toml"), text).unwrap();
        for (input, value) in sets {
            self.set_in_config_file(input, value);
        }
    }

    /// A run that assumes a role runs under exactly the permissions policy `deploy-action
    /// iam-policy` prints for its inputs: the strict stand-in enforces it for the run's role
    /// session, as IAM would (a call the policy misses fails the test's run).
    fn run_under_its_iam_policy(&self) {
        if self.get("INPUT_ROLE-TO-ASSUME").is_none() {
            return;
        }
        let Some(repository) = self.get("INPUT_ECR-REPOSITORY") else {
            return;
        };
        let session = match self.get("INPUT_ROLE-SESSION-NAME") {
            Some(name) => name.to_string(),
            None => format!("deploy-action-{}", self.get("GITHUB_RUN_ID").unwrap_or("")),
        };
        let mut args: Vec<String> = [
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
            "permissions",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(cluster) = self.get("INPUT_ECS-CLUSTER") {
            args.extend(["--cluster".into(), cluster.into()]);
            for service in self
                .get("INPUT_ECS-SERVICES")
                .unwrap_or("")
                .split([',', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                args.extend(["--service".into(), service.into()]);
            }
        }
        if self.get("INPUT_CREATE-REPOSITORY") == Some("true") {
            args.push("--create-repository".into());
        }
        if self.get("INPUT_PRE-DEPLOY-COMMAND").is_some() {
            args.push("--pre-deploy".into());
        }
        if let Some(account) = self
            .get("INPUT_REGISTRY")
            .and_then(|host| host.split_once(".dkr.ecr."))
            .map(|(account, _)| account)
        {
            args.extend(["--registry-account".into(), account.into()]);
        }
        // As a person prints it: with credentials that may read the services (the stand-in's,
        // not through a test's fault proxy), so PassRole names exactly the roles they pass.
        let output = Command::new(env!("CARGO_BIN_EXE_deploy-action"))
            .args(&args)
            .env("AWS_ENDPOINT_URL", &self.strict_aws)
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEPOLICY")
            .env("AWS_SECRET_ACCESS_KEY", "policy-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        if !output.status.success() {
            // Inputs the action refuses: it makes no AWS call to authorize.
            return;
        }
        let mut policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        for statement in policy["Statement"].as_array_mut().unwrap() {
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.retain(|a| !self.denied_actions.iter().any(|d| a == d.as_str()));
            } else if self
                .denied_actions
                .iter()
                .any(|d| statement["Action"] == d.as_str())
            {
                statement["Action"] = serde_json::json!([]);
            }
        }
        let body = serde_json::json!({"session": session, "policy": policy}).to_string();
        let posted = Command::new("curl")
            .args(["-sf", "-X", "POST", "--data-binary", &body])
            .arg(format!("{}/_stand-in/iam-policy", self.strict_aws))
            .output()
            .unwrap();
        assert!(
            posted.status.success(),
            "the strict stand-in took no IAM policy: {}",
            String::from_utf8_lossy(&posted.stderr)
        );
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    pub fn remove(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
    }

    pub fn run(&self) -> Finished {
        let output = self.spawn().wait_with_output().unwrap();
        self.finished(output)
    }

    /// Run as PID 1 of a container, started with the runner's `docker run` flags
    /// (`runner_container`), instead of as a host process.
    pub fn in_container(self) -> Self {
        self.in_mode(Mode::RunnerContainer)
    }

    pub fn in_mode(mut self, mode: Mode) -> Self {
        self.container = match mode {
            Mode::Host => None,
            Mode::RunnerContainer => Some(unique("deploy-action-e2e")),
        };
        self
    }

    /// The container's name, in container mode.
    pub fn container_name(&self) -> Option<&str> {
        self.container.as_deref()
    }

    /// Start the run and return at once (to signal it, say).
    pub fn spawn(&self) -> std::process::Child {
        self.run_under_its_iam_policy();
        let mut command = match &self.container {
            Some(name) => {
                assert!(
                    self.raw_env.is_empty(),
                    "container runs take UTF-8 values only"
                );
                runner_container::docker_run(
                    &StandIns::get(),
                    name,
                    self.dir.path(),
                    &self.container_env(),
                )
            }
            None => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_deploy-action"));
                command
                    .env_clear()
                    .envs(self.env.iter().map(|(k, v)| (k, v)))
                    .envs(self.raw_env.iter().map(|(k, v)| (k, v)))
                    .current_dir(self.dir.path());
                command
            }
        };
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The run's environment as the container sees it: host paths of the runner's directories
    /// translated to their mount points (as the runner's `TranslateToContainerPath` does), a
    /// context directory copied into the workspace (users check out and build from there),
    /// and none of the host-process settings (PATH, TMPDIR, the stand-in daemon's address: the
    /// daemon is the mounted `/var/run/docker.sock`, the CLI is the image's own).
    fn container_env(&self) -> Vec<(String, String)> {
        let dir = self.dir.path();
        let translate = |value: &str| -> String {
            for (sub, target) in runner_container::MOUNTS {
                let host = dir.join(sub).display().to_string();
                if let Some(rest) = value.strip_prefix(&host) {
                    return format!("{target}{rest}");
                }
            }
            value.to_string()
        };
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(key, _)| {
                !matches!(
                    key.as_str(),
                    "PATH" | "TMPDIR" | "DOCKER_HOST" | "GITHUB_ACTIONS"
                )
            })
            .map(|(key, value)| {
                let value = if key == "INPUT_CONTEXT" && Path::new(value).is_dir() {
                    self.copied_into_workspace(Path::new(value))
                } else {
                    translate(value)
                };
                (key.clone(), value)
            })
            .collect();
        env.push(("GITHUB_WORKSPACE".into(), "/github/workspace".into()));
        env
    }

    /// Copy `source` into the workspace; its path relative to the working directory.
    fn copied_into_workspace(&self, source: &Path) -> String {
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let target = self.dir.path().join("workspace").join(&name);
        if !target.exists() {
            let copied = Command::new("cp")
                .arg("-r")
                .arg(source)
                .arg(&target)
                .status()
                .unwrap();
            assert!(copied.success());
        }
        name
    }

    /// What a finished run left: its output, outputs, summary and files.
    pub fn finished(&self, output: std::process::Output) -> Finished {
        let outputs_raw = std::fs::read_to_string(self.dir.path().join("file_commands/output"))
            .unwrap_or_default();
        Finished {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs: parse_outputs(&outputs_raw),
            outputs_raw,
            summary: std::fs::read_to_string(self.dir.path().join("file_commands/summary"))
                .unwrap_or_default(),
            env_file: std::fs::read_to_string(self.dir.path().join("file_commands/env"))
                .unwrap_or_default(),
            leftover_temp_files: match &self.container {
                Some(name) => {
                    runner_container::leftover_temp_files_and_remove(&StandIns::get(), name)
                }
                None => std::fs::read_dir(self.dir.path().join("tmp"))
                    .unwrap()
                    .map(|entry| entry.unwrap().path())
                    .collect(),
            },
        }
    }
}

impl Finished {
    pub fn log(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Every workflow command on stdout is one of the action's own: text from outside (build
    /// output, container logs, service events) printed no command. The runner takes `::` after
    /// leading white space, and the legacy `##[` anywhere in a line (actions/runner
    /// `ActionCommandManager.TryProcessCommand`); `markers` are words only the outside text has.
    pub fn assert_no_outside_commands(&self, markers: &[&str]) {
        for line in self.stdout.lines() {
            assert!(
                !line.contains("##["),
                "a legacy command reached the runner: {line}"
            );
            if let Some(command) = line.trim_start().strip_prefix("::") {
                let ours = [
                    "add-mask::",
                    "group::",
                    "endgroup::",
                    "notice ",
                    "warning ",
                    "error ",
                ]
                .iter()
                .any(|ours| command.starts_with(ours));
                assert!(
                    ours && !markers.iter().any(|m| command.contains(m)),
                    "a command from outside reached the runner: {line}"
                );
            }
        }
    }

    /// A secret may appear only in `::add-mask::` lines of stdout, and nowhere else.
    pub fn assert_no_leak(&self, name: &str, secret: &str) {
        assert!(!secret.is_empty(), "{name} is empty");
        for line in self.stdout.lines() {
            // A mask command is the runner's, never shown (a multi-line secret's whole value
            // is masked as well as each line: the line is part of both).
            assert!(
                !line.contains(secret) || line.starts_with("::add-mask::"),
                "{name} leaked on stdout: {line}"
            );
        }
        for (place, text) in [
            ("stderr", &self.stderr),
            ("GITHUB_OUTPUT", &self.outputs_raw),
            ("the summary", &self.summary),
        ] {
            assert!(!text.contains(secret), "{name} leaked in {place}");
        }
    }

    /// The run's one `::error` annotation (a failure is reported once, not piecemeal).
    pub fn the_error(&self, case: &str) -> &str {
        let errors: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {}", self.log());
        errors[0]
    }

    /// Log groups are opened and closed in pairs and never nested (GitHub cannot nest them).
    pub fn assert_groups_balanced(&self) {
        let mut open = false;
        for line in self.stdout.lines() {
            if line.starts_with("::group::") {
                assert!(!open, "a group opened inside another: {line}");
                open = true;
            } else if line == "::endgroup::" {
                assert!(open, "an ::endgroup:: without a group");
                open = false;
            }
        }
        assert!(!open, "a group was left open");
    }

    /// The value was masked, and the mask came before any other appearance.
    pub fn assert_masked(&self, name: &str, secret: &str) {
        let first = self
            .stdout
            .find(secret)
            .unwrap_or_else(|| panic!("{name} was never masked"));
        assert!(
            self.stdout[..first].ends_with("::add-mask::"),
            "{name} appeared before its ::add-mask:: line"
        );
    }

    /// The OIDC request token and every JWT the stand-in ever issued: where one appears, it
    /// was masked first and appears in nothing but its mask line.
    pub fn assert_no_token_leaks(&self, standins: &StandIns) {
        let request_token = standins.oidc_request_token();
        if self.stdout.contains(&request_token) {
            self.assert_masked("the OIDC request token", &request_token);
        }
        self.assert_no_leak("the OIDC request token", &request_token);
        for jwt in standins.issued_tokens() {
            if self.stdout.contains(&jwt) {
                self.assert_masked("an OIDC JWT", &jwt);
            }
            self.assert_no_leak("an OIDC JWT", &jwt);
        }
    }

    /// Every secret of a run that assumed a role as `session`: masked, and nowhere else.
    pub async fn assert_secrets_kept(&self, standins: &StandIns, session: &str) {
        let aws = standins.assumed_role_secrets(session).await;
        let jwt = standins
            .issued_tokens()
            .into_iter()
            .find(|token| self.stdout.contains(token.as_str()))
            .expect("the JWT this run got is masked in its log");
        let secrets = [
            ("the OIDC request token", standins.oidc_request_token()),
            ("the ECR password", ECR_PASSWORD.to_string()),
            ("the AWS access key id", aws[0].clone()),
            ("the AWS secret key", aws[1].clone()),
            ("the AWS session token", aws[2].clone()),
            ("the OIDC JWT", jwt),
        ];
        for (name, secret) in &secrets {
            self.assert_masked(name, secret);
            self.assert_no_leak(name, secret);
        }
    }
}

/// `name=value` and `name<<DELIM … DELIM` entries.
fn parse_outputs(text: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

/// The sample app: `FROM scratch` plus a file.
pub fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/app")
}

/// The registry, read with the same login the action used.
pub struct Registry<'a> {
    pub host: &'a str,
}

impl Registry<'_> {
    fn get(&self, path: &str, accept: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .get(format!("http://{}/v2/{path}", self.host))
            .basic_auth("AWS", Some(ECR_PASSWORD))
            .header("Accept", accept)
    }

    /// The digest `repository:tag` points at.
    pub async fn digest(&self, repository: &str, tag: &str) -> String {
        let response = self
            .get(
                &format!("{repository}/manifests/{tag}"),
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{repository}:{tag}: {}",
            response.status()
        );
        response.headers()["Docker-Content-Digest"]
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The manifest and the image config of `repository@digest`.
    pub async fn manifest_and_config(
        &self,
        repository: &str,
        digest: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        let manifest: serde_json::Value = self
            .get(
                &format!("{repository}/manifests/{digest}"),
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let config_digest = manifest["config"]["digest"].as_str().unwrap().to_string();
        let config: serde_json::Value = self
            .get(&format!("{repository}/blobs/{config_digest}"), "*/*")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (manifest, config)
    }

    /// The image config of `repository@digest`: its `architecture` and `os`.
    pub async fn platform(&self, repository: &str, digest: &str) -> (String, String) {
        let (_, config) = self.manifest_and_config(repository, digest).await;
        let field = |name: &str| config[name].as_str().unwrap().to_string();
        (field("architecture"), field("os"))
    }

    /// The repository's tags; none only when the registry says the repository is unknown (404).
    /// Any other failure fails the test, so "nothing was pushed" cannot pass on a 401 or a 500.
    pub async fn tags(&self, repository: &str) -> Vec<String> {
        let response = self
            .get(&format!("{repository}/tags/list"), "application/json")
            .send()
            .await
            .unwrap();
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        assert!(
            response.status().is_success(),
            "the registry answered {} for the tags of {repository}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        let list: serde_json::Value = response.json().await.unwrap();
        list["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An arm64 app whose image needs RUN steps: a static arm64 program (built here with the cross
/// compiler, since no base image can be pulled) that the Dockerfile runs under qemu.
pub fn arm64_app(dir: &Path) -> PathBuf {
    let app = dir.join("arm64-app");
    std::fs::create_dir_all(&app).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/mkfile.c");
    let status = Command::new("aarch64-linux-gnu-gcc")
        .args(["-static", "-Os", "-o"])
        .arg(app.join("mkfile"))
        .arg(source)
        .status()
        .expect("aarch64-linux-gnu-gcc (scripts/install-deps installs it)");
    assert!(status.success());
    std::fs::write(
        app.join("Dockerfile"),
        "FROM scratch\n\
         COPY mkfile /mkfile\n\
         ARG VERSION=dev\n\
         RUN [\"/mkfile\", \"/built-by-run\"]\n\
         RUN --mount=type=secret,id=token [\"/mkfile\", \"/secret-was-mounted\", \"/run/secrets/token\"]\n\
         LABEL com.example.version=$VERSION\n",
    )
    .unwrap();
    app
}

/// `docker save` of an image in the stand-ins' engine: every layer, uncompressed.
pub fn saved_image(standins: &StandIns, reference: &str) -> Vec<u8> {
    let output = Command::new(standins.var("DEPLOY_ACTION_DOCKER"))
        .env("DOCKER_HOST", standins.var("DOCKER_HOST"))
        .args(["save", reference])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// `scripts/aws_proxy.py` in front of moto, injecting faults; stopped when dropped.
pub struct FaultProxy {
    child: std::process::Child,
    pub url: String,
    log: PathBuf,
    bodies: PathBuf,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    /// `faults` like `UpdateService=503*5`. The proxy picks a free port itself and says which
    /// once it listens, so no other process can take the port in between; a proxy that does not
    /// come up fails the test with its stderr.
    pub fn start(standins: &StandIns, faults: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.txt");
        let bodies = dir.path().join("bodies.jsonl");
        // Both exist from the start: a record that is missing later fails the test.
        std::fs::write(&log, "").unwrap();
        std::fs::write(&bodies, "").unwrap();
        let mut command = Command::new("python3");
        command
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/aws_proxy.py"))
            // In front of the strict stand-in (itself in front of moto), as the action sees AWS.
            .args([
                "--port",
                "0",
                "--upstream",
                standins.var("AWS_ENDPOINT_URL"),
            ])
            .arg("--log")
            .arg(&log)
            .arg("--log-bodies")
            .arg(&bodies)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for fault in faults {
            command.args(["--fault", fault]);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = receiver
            .recv_timeout(std::time::Duration::from_secs(15))
            .unwrap_or_default();
        let Some(address) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the fault proxy did not come up (said {line:?}): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        Self {
            url: format!("http://{address}"),
            child,
            log,
            bodies,
            _dir: dir,
        }
    }

    /// The JSON-protocol requests that reached the proxy: `(operation, request body)`.
    pub fn requests(&self) -> Vec<(String, serde_json::Value)> {
        std::fs::read_to_string(&self.bodies)
            .unwrap()
            .lines()
            .map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    entry["operation"].as_str().unwrap().to_string(),
                    entry["request"].clone(),
                )
            })
            .collect()
    }

    /// The operations that reached the proxy, with `[fault]` after the injected ones.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod self_tests {
    use super::*;

    /// "Nothing was pushed" must not pass because the registry failed.
    #[tokio::test]
    #[should_panic(expected = "the registry answered 500")]
    async fn registry_tags_fail_on_anything_but_404() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500).set_body_string("down"))
            .mount(&server)
            .await;
        let host = server.address().to_string();
        Registry { host: &host }.tags("back-end").await;
    }

    #[tokio::test]
    async fn registry_tags_are_none_for_an_unknown_repository() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        let host = server.address().to_string();
        assert!(Registry { host: &host }.tags("back-end").await.is_empty());
    }
}
