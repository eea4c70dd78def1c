//! The buildx builder for this run — what setup-buildx-action did: use the one asked for,
//! or the current one when it can do the job, else a `docker-container` builder made for this
//! run and removed afterwards — also when the run is cancelled in the middle of the build
//! ([`Leftover`]).

use super::build::Cache;
use super::docker::Docker;
use crate::console::Console;
use crate::error::Problem;
use crate::plan::{BuildPlan, BuilderChoice};
use anyhow::{Context, Result};

/// A builder in use; `created` ones are removed by [`BuildxBuilder::remove`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildxBuilder {
    /// `None`: the current builder.
    pub name: Option<String>,
    pub created: bool,
}

/// Whether the build needs more than buildx's `docker` driver offers: it exports no cache
/// (but inline) and builds one platform.
pub fn needs_container_driver(build: &BuildPlan, cache: &Cache) -> bool {
    build.platforms.len() > 1 || matches!(cache, Cache::Gha { .. } | Cache::Registry { .. })
}

/// `docker buildx create` for a builder of this run; `host_network` for a docker-container
/// builder that must reach a registry on this machine.
pub fn create_args(
    name: &str,
    endpoint: Option<&str>,
    host_network: bool,
    tls: Option<&TlsFiles>,
) -> Vec<String> {
    let mut args: Vec<String> = ["buildx", "create", "--name", name]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match endpoint {
        Some(endpoint) => {
            args.extend(["--driver".into(), "remote".into()]);
            if let Some(tls) = tls {
                // The remote driver's mutual TLS options (docker/buildx driver/remote).
                args.extend([
                    "--driver-opt".into(),
                    format!(
                        "cacert={},cert={},key={}",
                        tls.ca.display(),
                        tls.cert.display(),
                        tls.key.display()
                    ),
                ]);
            }
            args.push(endpoint.to_string());
        }
        None => {
            args.extend(["--driver".into(), "docker-container".into()]);
            if host_network {
                args.extend(["--driver-opt".into(), "network=host".into()]);
            }
        }
    }
    args.push("--bootstrap".into());
    args
}

/// The TLS material for a remote builder, as files in the run's private docker config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: std::path::PathBuf,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Write `tls` into the private config directory (0600), for `--driver-opt`.
fn write_tls(docker: &Docker, tls: &crate::plan::BuildkitTls) -> Result<TlsFiles> {
    use secrecy::ExposeSecret;
    use std::os::unix::fs::OpenOptionsExt;
    let write = |name: &str, text: &str| -> Result<std::path::PathBuf> {
        let path = docker.config_dir().join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        Ok(path)
    };
    Ok(TlsFiles {
        ca: write("buildkit-ca.pem", &tls.ca)?,
        cert: write("buildkit-cert.pem", &tls.cert)?,
        key: write("buildkit-key.pem", tls.key.expose_secret())?,
    })
}

/// The driver of the current builder, from `docker buildx inspect`.
pub fn driver_of(inspect_output: &str) -> Option<&str> {
    inspect_output
        .lines()
        .find_map(|line| line.trim().strip_prefix("Driver:"))
        .map(str::trim)
}

pub async fn prepare(
    docker: &Docker,
    build: &BuildPlan,
    cache: &Cache,
    host_network: bool,
    console: &Console,
) -> Result<BuildxBuilder> {
    let current = BuildxBuilder {
        name: None,
        created: false,
    };
    match &build.builder {
        Some(BuilderChoice::Named(name)) => {
            docker
                .run(&["buildx", "inspect", name], None, false)
                .await
                .map_err(|inspect| {
                    Problem::new(format!(
                        "there is no buildx builder `{name}` ({})",
                        crate::error::one_line(&inspect)
                    ))
                    .hint(
                    "a builder made by an earlier step is not visible inside a container action; \
                     use `builder: tcp://…` for a remote BuildKit",
                )
                })?;
            Ok(BuildxBuilder {
                name: Some(name.clone()),
                created: false,
            })
        }
        Some(BuilderChoice::Endpoint(endpoint)) => {
            let tls = build
                .buildkit_tls
                .as_ref()
                .map(|tls| write_tls(docker, tls))
                .transpose()?;
            let builder = create(
                docker,
                &build.builder_name,
                Some(endpoint),
                false,
                tls.as_ref(),
            )
            .await?;
            console.line(&format!("building on {endpoint}"));
            Ok(builder)
        }
        None if !needs_container_driver(build, cache) => Ok(current),
        None => {
            let inspect = docker.run(&["buildx", "inspect"], None, false).await?;
            if driver_of(&inspect.stdout) != Some("docker") {
                return Ok(current);
            }
            create(docker, &build.builder_name, None, host_network, None).await
        }
    }
}

/// A builder for this run: on `endpoint` (remote driver), or a `docker-container` one.
async fn create(
    docker: &Docker,
    name: &str,
    endpoint: Option<&str>,
    host_network: bool,
    tls: Option<&TlsFiles>,
) -> Result<BuildxBuilder> {
    let args = create_args(name, endpoint, host_network, tls);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    docker
        .run(&args, None, true)
        .await
        .with_context(|| match endpoint {
            Some(endpoint) => format!("connecting to the BuildKit at {endpoint}"),
            None => {
                "creating a docker-container builder for the cache or several platforms".to_string()
            }
        })?;
    Ok(BuildxBuilder {
        name: Some(name.to_string()),
        created: true,
    })
}

/// The BuildKit container (and its state volume) of a `docker-container` builder this run
/// created, removed when this is dropped unless [`Leftover::disarm`]ed: a cancelled run drops
/// the build half-way, and the builder must not outlive it on the runner's daemon. Removed
/// with plain `docker rm`, which needs no buildx state (that lives in the private config).
/// buildx names a builder's node `<name>0` and its container `buildx_buildkit_<node>`
/// (docker/buildx `builder/node.go`), its state volume `buildx_buildkit_<node>_state`
/// (`driver/docker-container`).
pub struct Leftover {
    program: std::path::PathBuf,
    container: Option<String>,
}

impl Leftover {
    pub fn of(docker: &Docker, builder: &BuildxBuilder, endpoint: bool) -> Self {
        let container = match (builder.created, &builder.name, endpoint) {
            (true, Some(name), false) => Some(format!("buildx_buildkit_{name}0")),
            _ => None,
        };
        Self {
            program: docker.program().to_path_buf(),
            container,
        }
    }

    /// The builder was removed the ordinary way.
    pub fn disarm(mut self) {
        self.container = None;
    }

    /// The commands that remove the leftover builder.
    pub fn commands(&self) -> Vec<Vec<String>> {
        self.container
            .iter()
            .flat_map(|container| {
                [
                    vec!["rm".into(), "--force".into(), container.clone()],
                    vec![
                        "volume".into(),
                        "rm".into(),
                        "--force".into(),
                        format!("{container}_state"),
                    ],
                ]
            })
            .collect()
    }
}

impl Drop for Leftover {
    fn drop(&mut self) {
        for args in self.commands() {
            // Blocking, and short: this runs while the runtime winds down after a cancel.
            let _ = std::process::Command::new(&self.program)
                .args(&args)
                .env_clear()
                .envs(super::docker::passed_env())
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl BuildxBuilder {
    /// Remove a builder made for this run (its container goes with it).
    pub async fn remove(&self, docker: &Docker, console: &Console) {
        if let (true, Some(name)) = (self.created, &self.name)
            && let Err(error) = docker.run(&["buildx", "rm", name], None, false).await
        {
            console.warning(
                "buildx",
                &format!(
                    "could not remove builder {name}: {}",
                    crate::error::one_line(&error)
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "buildx_tests.rs"]
mod tests;
