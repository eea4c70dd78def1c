//! Building for another CPU: which target platforms need emulation on this machine, and
//! registering qemu with the kernel's binfmt_misc when they do — what setup-qemu-action did.

use super::docker::Docker;
use crate::console::Console;
use std::path::Path;

/// The platform of the machine (or runner) we run on.
pub fn host_platform() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        "arm" => "linux/arm/v7",
        "x86" => "linux/386",
        "powerpc64" => "linux/ppc64le",
        "s390x" => "linux/s390x",
        "riscv64" => "linux/riscv64",
        _ => "linux/amd64",
    }
}

/// The binfmt_misc entry that runs `platform`'s binaries, e.g. `qemu-aarch64`.
pub fn binfmt_entry(platform: &str) -> Option<&'static str> {
    Some(match platform {
        "linux/arm64" | "linux/arm64/v8" => "qemu-aarch64",
        "linux/amd64" => "qemu-x86_64",
        "linux/arm/v7" | "linux/arm/v6" => "qemu-arm",
        "linux/386" => "qemu-i386",
        "linux/ppc64le" => "qemu-ppc64le",
        "linux/s390x" => "qemu-s390x",
        "linux/riscv64" => "qemu-riscv64",
        _ => return None,
    })
}

/// The image that registers qemu with the kernel (what setup-qemu-action runs), pinned by
/// digest: it runs `--privileged`, so a moved tag must not choose what runs.
pub const BINFMT_IMAGE: &str = "tonistiigi/binfmt:qemu-v9.2.2@sha256:1b804311fe87047a4c96d38b4b3ef6f62fca8cd125265917a9e3dc3c996c39e6";

/// Where the build runs, to ask it what it can run.
#[derive(Debug, Clone, Copy)]
pub enum BuildHost<'a> {
    /// A buildx builder (`None`: the current one): `buildx inspect --bootstrap` lists the
    /// platforms its BuildKit runs, natively or through the emulators the kernel has.
    Buildx(Option<&'a str>),
    /// The engine's own BuildKit: its daemon's platform, plus what binfmt_misc shows when it is
    /// visible from here (inside the action's container it is not).
    Engine,
}

/// What we know about the platforms a build host can run.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    /// The builder said so.
    Platforms(Vec<String>),
    /// Only the daemon's own platform is certain; `binfmt` lists the emulated ones when the
    /// kernel's table is visible.
    Daemon {
        platform: String,
        binfmt: Option<Vec<String>>,
    },
}

/// What to do about the target platforms the build host cannot run.
#[derive(Debug, PartialEq, Eq)]
pub enum Emulation {
    /// Everything runs (natively or through qemu already registered).
    Ready,
    /// These are missing: register qemu for them.
    Register(Vec<String>),
    /// These may be missing and we cannot see from here.
    Unknown(Vec<String>),
}

/// The decision, from what the build host told us.
pub fn decide(targets: &[String], known: &Known) -> Emulation {
    let runs = |platform: &str| match known {
        Known::Platforms(platforms) => platforms.iter().any(|p| same_platform(p, platform)),
        Known::Daemon {
            platform: own,
            binfmt,
        } => {
            same_platform(own, platform)
                || (own == "linux/amd64" && platform == "linux/386")
                || binfmt.as_ref().is_some_and(|entries| {
                    binfmt_entry(platform).is_some_and(|entry| entries.iter().any(|e| e == entry))
                })
        }
    };
    let missing: Vec<String> = targets.iter().filter(|t| !runs(t)).cloned().collect();
    match (missing.is_empty(), known) {
        (true, _) => Emulation::Ready,
        (false, Known::Daemon { binfmt: None, .. }) => Emulation::Unknown(missing),
        (false, _) => Emulation::Register(missing),
    }
}

/// `linux/arm64` and `linux/arm64/v8` are one platform.
fn same_platform(a: &str, b: &str) -> bool {
    let normal = |p: &str| {
        p.trim()
            .trim_end_matches('*')
            .trim_end_matches("/v8")
            .to_string()
    };
    normal(a) == normal(b)
}

/// The platforms of a `docker buildx inspect` answer (`Platforms: linux/amd64, linux/arm64*`).
pub fn platforms_of_inspect(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Platforms:"))
        .flat_map(|list| list.split(','))
        .map(|p| p.trim().trim_end_matches('*').to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Make sure the build host can run every target platform: ask it, say when emulation makes
/// the build slow, and register qemu (with the pinned [`BINFMT_IMAGE`]) only for platforms it
/// really lacks. No privileged container runs on a host that has what it needs.
pub async fn ensure_emulation(
    docker: &Docker,
    platforms: &[String],
    host: BuildHost<'_>,
    setup_qemu: bool,
    console: &Console,
) {
    let known = match host {
        BuildHost::Buildx(name) => {
            let mut args = vec!["buildx", "inspect", "--bootstrap"];
            args.extend(name);
            match docker.run(&args, None, false).await {
                Ok(output) => Known::Platforms(platforms_of_inspect(&output.stdout)),
                Err(error) => {
                    console.warning(
                        "qemu",
                        &format!(
                            "could not ask the builder which platforms it runs: {}",
                            crate::error::one_line(&error)
                        ),
                    );
                    return;
                }
            }
        }
        BuildHost::Engine => Known::Daemon {
            platform: daemon_platform(docker).await,
            binfmt: visible_binfmt_entries(Path::new("/proc/sys/fs/binfmt_misc")),
        },
    };
    apply(docker, platforms, &known, setup_qemu, console).await;
}

/// The daemon's `os/arch` (it may be another machine than ours), else this machine's.
async fn daemon_platform(docker: &Docker) -> String {
    docker
        .run(
            &["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"],
            None,
            false,
        )
        .await
        .ok()
        .map(|output| output.stdout.trim().to_string())
        .filter(|platform| platform.starts_with("linux/"))
        .unwrap_or_else(|| host_platform().to_string())
}

/// The binfmt_misc entries, when the kernel's table is mounted where we can read it.
fn visible_binfmt_entries(binfmt: &Path) -> Option<Vec<String>> {
    if !binfmt.join("status").exists() {
        return None;
    }
    let entries = std::fs::read_dir(binfmt).ok()?;
    Some(
        entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("qemu-"))
            .collect(),
    )
}

async fn apply(
    docker: &Docker,
    platforms: &[String],
    known: &Known,
    setup_qemu: bool,
    console: &Console,
) {
    let native = match known {
        Known::Daemon { platform, .. } => platform.as_str(),
        Known::Platforms(listed) => listed.first().map_or(host_platform(), String::as_str),
    };
    if platforms.iter().any(|p| same_platform(p, "linux/arm64"))
        && !same_platform(native, "linux/arm64")
    {
        console.notice(
            "arm64 under emulation",
            &format!(
                "building linux/arm64 on a {native} machine runs every RUN step under qemu; a native arm64 runner \
                 (`runs-on: ubuntu-24.04-arm`) or an arm64 BuildKit (`builder: tcp://…`) builds much faster"
            ),
        );
    }
    let missing = match decide(platforms, known) {
        Emulation::Ready => return,
        Emulation::Unknown(missing) => {
            console.line(&format!(
                "cannot see from here whether the daemon's kernel runs {} (binfmt_misc is not visible inside \
                 this container); if RUN steps fail with `exec format error`, register qemu on the runner",
                missing.join(", ")
            ));
            return;
        }
        Emulation::Register(missing) if !setup_qemu => {
            console.warning(
                "qemu",
                &format!(
                    "the builder cannot run {} and setup-qemu is false: RUN steps for it will fail with \
                     `exec format error`; register qemu on the runner, use a native builder, or set setup-qemu",
                    missing.join(", ")
                ),
            );
            return;
        }
        Emulation::Register(missing) => missing,
    };
    let architectures: Vec<&str> = missing
        .iter()
        .filter_map(|platform| binfmt_entry(platform))
        .map(|entry| entry.trim_start_matches("qemu-"))
        .collect();
    if architectures.is_empty() {
        return;
    }
    let install = architectures.join(",");
    let registered = docker
        .run(
            &[
                "run",
                "--privileged",
                "--rm",
                BINFMT_IMAGE,
                "--install",
                &install,
            ],
            None,
            false,
        )
        .await;
    match registered {
        Ok(_) => console.line(&format!("registered qemu for {install}")),
        Err(error) => console.warning(
            "qemu",
            &format!(
                "could not register qemu for {install} ({}); RUN steps for {} will fail with `exec format error`",
                crate::error::one_line(&error),
                missing.join(", ")
            ),
        ),
    }
}

#[cfg(test)]
#[path = "platform_tests.rs"]
mod tests;
