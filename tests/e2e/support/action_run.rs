//! One run of the binary, as the runner starts a container action.

use super::*;

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
    /// Why this run goes without an IAM policy (see [`ActionRun::without_iam_policy`]).
    unenforced: Option<String>,
    /// Roles the run's policy passes when `iam-policy` cannot read them from the services (a
    /// run about a service that is not there): `--pass-role`, as a person would name them.
    pub pass_roles: Vec<String>,
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
        // Every other input of action.yml (a unit test holds NAMES to it), as the runner passes
        // an input not given: its default, `""` (actions/runner `Handler.AddInputsToEnvironment`).
        for name in deploy_action::inputs::InputArgs::NAMES {
            let key = format!("INPUT_{}", name.to_uppercase());
            if !env.iter().any(|(k, _)| *k == key) {
                env.push((key, String::new()));
            }
        }
        Self {
            dir,
            env,
            raw_env: Vec::new(),
            container: None,
            from_config_file: Vec::new(),
            unenforced: None,
            pass_roles: Vec::new(),
            strict_aws: standins.var("AWS_ENDPOINT_URL").to_string(),
            denied_actions: Vec::new(),
        }
    }

    /// The value the run has for `key`, from its environment or its config file; an empty
    /// value is no value (an input not given).
    fn get(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .chain(self.from_config_file.iter())
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
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

    /// The job runs in GitHub environment `name`: its OIDC token's subject is
    /// `repo:R:environment:NAME` (GitHub's OIDC docs, "Example subject claims").
    pub fn in_github_environment(&mut self, name: &str) {
        let url = format!(
            "{}&environment={name}",
            self.get("ACTIONS_ID_TOKEN_REQUEST_URL").unwrap()
        );
        self.set("ACTIONS_ID_TOKEN_REQUEST_URL", &url);
    }

    /// This run goes without a permissions policy, and says why: it assumes no role (ambient
    /// credentials), or its inputs are refused before any AWS call. Every other run is enforced,
    /// and a run the harness cannot give a policy fails instead of running with every right.
    pub fn without_iam_policy(&mut self, why: &str) {
        self.unenforced = Some(why.to_string());
    }

    /// A run that assumes a role runs under exactly the permissions policy `deploy-action
    /// iam-policy` prints for its inputs: the strict stand-in enforces it for the run's role
    /// session, as IAM would (a call the policy misses fails the test's run).
    fn run_under_its_iam_policy(&self) {
        if self.unenforced.is_some() {
            return;
        }
        assert!(
            self.get("INPUT_ROLE-TO-ASSUME").is_some(),
            "this run assumes no role, so no IAM policy is enforced: say why with without_iam_policy"
        );
        let repository = self.get("INPUT_ECR-REPOSITORY").unwrap_or_else(|| {
            panic!("no ecr-repository, so no IAM policy can be printed: say why with without_iam_policy")
        });
        let session = match self.get("INPUT_ROLE-SESSION-NAME") {
            Some(name) => name.to_string(),
            None => format!("deploy-action-{}", self.get("GITHUB_RUN_ID").unwrap_or("")),
        };
        let mut args = iam_policy_command(repository, "permissions");
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
        if self.get("INPUT_DEREGISTER-PREVIOUS") == Some("true") {
            args.push("--deregister-previous".into());
        }
        for role in &self.pass_roles {
            args.extend(["--pass-role".into(), role.clone()]);
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
        let print = |args: &[String]| {
            Command::new(env!("CARGO_BIN_EXE_deploy-action"))
                .args(args)
                .env("AWS_ENDPOINT_URL", &self.strict_aws)
                .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEPOLICY")
                .env("AWS_SECRET_ACCESS_KEY", "policy-secret")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .output()
                .unwrap()
        };
        let output = print(&args);
        assert!(
            output.status.success(),
            "`deploy-action {}` printed no policy for this run (inputs the action refuses? then say so \
             with without_iam_policy): {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
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
        StandIns::get().tell_strict_aws(
            "iam-policy",
            &serde_json::json!({"session": session, "policy": policy}),
        );
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// `key` not set; an input not given, which the runner passes as `""`.
    pub fn remove(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
        if key.starts_with("INPUT_") {
            self.env.push((key.into(), String::new()));
        }
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
    /// Started as [`ActionRun::spawn`], its output read as it comes: for a test that acts on
    /// what the step printed, as a person does (continue a pause once the step says how).
    pub fn spawn_watched(&self) -> Watched {
        use std::io::Read;
        let mut child = self.spawn();
        let stdout = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut pipe = child.stdout.take().unwrap();
        let sink = stdout.clone();
        let stdout_reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut chunk) {
                if read == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..read]);
            }
        });
        let mut pipe = child.stderr.take().unwrap();
        let stderr_reader = std::thread::spawn(move || {
            let mut stderr = Vec::new();
            let _ = pipe.read_to_end(&mut stderr);
            stderr
        });
        Watched {
            child,
            stdout,
            stdout_reader,
            stderr_reader,
        }
    }

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

/// A run whose stdout is read while it runs (see [`ActionRun::spawn_watched`]).
pub struct Watched {
    child: std::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    stdout_reader: std::thread::JoinHandle<()>,
    stderr_reader: std::thread::JoinHandle<Vec<u8>>,
}

impl Watched {
    /// Wait until the step has printed `needle`; fails if it exits first or `limit` passes.
    pub async fn printed(&mut self, needle: &str, limit: std::time::Duration) {
        let started = std::time::Instant::now();
        loop {
            let printed = String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned();
            if printed.contains(needle) {
                return;
            }
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && started.elapsed() < limit,
                "the step did not print {needle:?} (exited: {exited:?}):\n{printed}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The step's end, as [`std::process::Child::wait_with_output`] gives it.
    pub fn output(mut self) -> std::process::Output {
        let status = self.child.wait().unwrap();
        self.stdout_reader.join().unwrap();
        let stderr = self.stderr_reader.join().unwrap();
        let stdout = std::mem::take(&mut *self.stdout.lock().unwrap());
        std::process::Output {
            status,
            stdout,
            stderr,
        }
    }
}
