//! The `docker` CLI as a subprocess, with a private config directory.
//!
//! Every command runs with `DOCKER_CONFIG` pointing at a directory made for this run (0700,
//! removed when the run ends, on success and on failure), so the registry login never lands
//! in `$HOME/.docker` and never outlives the step. Output is streamed to the log as it comes
//! and its tail kept as evidence when the command fails.
//!
//! The CLI sees only the environment it needs ([`PASSED_ENV`]): never the GitHub token, the
//! OIDC request token, AWS credentials or the inputs — a plugin or a `RUN` step's output has no
//! way to them.

use crate::error::Problem;
use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// Lines of output kept to explain a failed command.
const EVIDENCE_LINES: usize = 40;

/// The environment variables the docker CLI and its buildx plugin are given; nothing else is.
/// The daemon's address and TLS settings, proxies and CA bundles, the temp directory — and, only
/// for the gha cache with a builder on this machine, [`ACTIONS_CACHE_ENV`].
pub const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_API_VERSION",
    "BUILDKIT_PROGRESS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// The Actions cache service's URL and token: buildx's `type=gha` cache reads them from the
/// environment. `ACTIONS_RUNTIME_TOKEN` is the same access token as the OIDC request token
/// (actions/runner `ContainerActionHandler`), so it goes to the docker CLI only when the gha
/// cache is used, and that never with a remote BuildKit (`cache::CacheContext::remote_builder`).
pub const ACTIONS_CACHE_ENV: &[&str] = &[
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_CACHE_URL",
    "ACTIONS_RESULTS_URL",
    "ACTIONS_CACHE_SERVICE_V2",
];

pub struct Docker {
    program: PathBuf,
    config: tempfile::TempDir,
    /// Whether the commands get [`ACTIONS_CACHE_ENV`].
    actions_cache: bool,
}

/// What a finished command printed.
pub struct CommandOutput {
    pub stdout: String,
}

impl Docker {
    /// The CLI the plan chose (see [`crate::plan::DockerCli`]).
    pub fn new(cli: &crate::plan::DockerCli) -> Result<Self> {
        let docker = Self::with_program(cli.program.clone())?;
        if cli.user_plugins {
            link_cli_plugins(docker.config.path());
        }
        Ok(docker)
    }

    /// The CLI at `program`, with a private config directory of its own (and no plugins but
    /// the system's).
    pub fn with_program(program: PathBuf) -> Result<Self> {
        // Only we may read the registry login: 0700 (docker writes config.json as 0600).
        let config = tempfile::Builder::new()
            .prefix("deploy-action-docker-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("creating a private DOCKER_CONFIG directory")?;
        Ok(Self {
            program,
            config,
            actions_cache: false,
        })
    }

    /// Give later commands the Actions cache service's URL and token (the gha cache).
    pub fn pass_actions_cache(&mut self, pass: bool) {
        self.actions_cache = pass;
    }

    pub fn config_dir(&self) -> &Path {
        self.config.path()
    }

    /// `docker buildx version`'s answer, when buildx is available to this CLI.
    pub async fn buildx_version(&self) -> Option<String> {
        let output = self
            .command(&["buildx", "version"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .await
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// `docker login --password-stdin`: the password never appears on a command line.
    pub async fn login(&self, host: &str, username: &str, password: &SecretString) -> Result<()> {
        self.run(
            &["login", "--username", username, "--password-stdin", host],
            Some(password),
            false,
        )
        .await
        .with_context(|| format!("logging in to {host}"))?;
        Ok(())
    }

    /// Run `docker ARGS…`, streaming its output to the log when `echo` is set.
    pub async fn run(
        &self,
        args: &[&str],
        stdin: Option<&SecretString>,
        echo: bool,
    ) -> Result<CommandOutput> {
        // Arguments never hold a secret: passwords go through stdin, build secrets through files.
        tracing::debug!(program = %self.program.display(), ?args, "running docker");
        let started = std::time::Instant::now();
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| {
                Problem::new(format!(
                    "could not start `{}`: {error}",
                    self.program.display()
                ))
                .hint("install the Docker CLI (outside a runner, DEPLOY_ACTION_DOCKER may name it)")
            })?;
        if let (Some(secret), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(secret.expose_secret().as_bytes()).await?;
            pipe.shutdown().await?;
        }
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let stderr = child.stderr.take().context("no stderr pipe")?;
        let (out_lines, err_lines) =
            tokio::join!(read_lines(stdout, echo), read_lines(stderr, echo));
        let status = child.wait().await?;
        // scripts/bench subtracts this from the wall time to get the orchestration overhead.
        tracing::debug!(
            command = args.first().copied().unwrap_or_default(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "docker finished"
        );
        if status.success() {
            return Ok(CommandOutput {
                stdout: out_lines.join("\n"),
            });
        }
        let mut evidence: VecDeque<&String> = out_lines.iter().chain(err_lines.iter()).collect();
        while evidence.len() > EVIDENCE_LINES {
            evidence.pop_front();
        }
        let evidence: Vec<&str> = evidence.iter().map(|line| line.as_str()).collect();
        Err(Problem::new(format!(
            "`docker {}` failed ({status}); its last output:\n{}",
            args.first().copied().unwrap_or_default(),
            evidence.join("\n")
        ))
        .into())
    }

    /// The program, for a cleanup that cannot wait for the async runtime.
    pub fn program(&self) -> &Path {
        &self.program
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .env_clear()
            .envs(passed_env())
            .envs(
                ACTIONS_CACHE_ENV
                    .iter()
                    .filter(|_| self.actions_cache)
                    .filter_map(|key| std::env::var_os(key).map(|value| (*key, value))),
            )
            .env("DOCKER_CONFIG", self.config.path())
            .env("DOCKER_BUILDKIT", "1")
            .kill_on_drop(true);
        command
    }
}

/// This process's values of [`PASSED_ENV`].
pub fn passed_env() -> impl Iterator<Item = (&'static str, std::ffi::OsString)> {
    PASSED_ENV
        .iter()
        .filter_map(|key| std::env::var_os(key).map(|value| (*key, value)))
}

/// Read a pipe line by line, echoing each to the log.
async fn read_lines(pipe: impl tokio::io::AsyncRead + Unpin, echo: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut reader = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        if echo {
            // Build output is the built code's output: never a workflow command.
            for piece in crate::console::neutralised_lines(&line) {
                crate::progress::print(&format!("  {piece}"), false);
            }
        }
        lines.push(line);
    }
    lines
}

/// The user's CLI plugins (buildx) live under the default config directory; keep them
/// reachable from the private one.
fn link_cli_plugins(config: &Path) {
    let home_plugins = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")))
        .map(|dir| dir.join("cli-plugins"));
    if let Some(plugins) = home_plugins.filter(|dir| dir.is_dir()) {
        // Without the link buildx may be missing and we fall back to `docker build`: not fatal.
        let _ = std::os::unix::fs::symlink(plugins, config.join("cli-plugins"));
    }
}

#[cfg(test)]
#[path = "docker_tests.rs"]
mod tests;
