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

/// The target platforms this machine cannot run natively.
pub fn emulated<'a>(platforms: &'a [String], host: &str) -> Vec<&'a str> {
    platforms
        .iter()
        .map(String::as_str)
        .filter(|platform| {
            *platform != host && !(host == "linux/amd64" && *platform == "linux/386")
        })
        .collect()
}

/// Say that emulation is slow, and make sure qemu is registered for every emulated platform.
pub async fn ensure_emulation(docker: &Docker, platforms: &[String], console: &Console) {
    let binfmt = Path::new("/proc/sys/fs/binfmt_misc");
    ensure_emulation_on(docker, platforms, host_platform(), binfmt, console).await;
}

/// [`ensure_emulation`] for a `host` platform whose kernel lists its binfmt entries in `binfmt`.
async fn ensure_emulation_on(
    docker: &Docker,
    platforms: &[String],
    host: &str,
    binfmt: &Path,
    console: &Console,
) {
    let emulated = emulated(platforms, host);
    if emulated.is_empty() {
        return;
    }
    if emulated.contains(&"linux/arm64") {
        console.notice(
            "arm64 under emulation",
            &format!(
                "building linux/arm64 on a {host} machine runs every RUN step under qemu; a native arm64 runner \
                 (`runs-on: ubuntu-24.04-arm`) or an arm64 BuildKit (`builder: tcp://…`) builds much faster"
            ),
        );
    }
    let missing: Vec<&str> = emulated
        .iter()
        .filter_map(|platform| binfmt_entry(platform))
        .filter(|entry| !binfmt.join(entry).exists())
        .collect();
    if missing.is_empty() {
        return;
    }
    // The image setup-qemu-action uses; it registers the entries in the host's kernel.
    let architectures: Vec<&str> = missing
        .iter()
        .map(|entry| entry.trim_start_matches("qemu-"))
        .collect();
    let install = architectures.join(",");
    let registered = docker
        .run(
            &[
                "run",
                "--privileged",
                "--rm",
                "tonistiigi/binfmt",
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
                emulated.join(", ")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_is_needed_for_foreign_platforms_only() {
        let platforms = vec!["linux/arm64".to_string(), "linux/amd64".to_string()];
        assert_eq!(emulated(&platforms, "linux/amd64"), vec!["linux/arm64"]);
        assert_eq!(emulated(&platforms, "linux/arm64"), vec!["linux/amd64"]);
        assert_eq!(binfmt_entry("linux/arm64"), Some("qemu-aarch64"));
        assert_eq!(binfmt_entry("windows/amd64"), None);
    }

    /// A docker CLI that records its arguments, one call a line.
    fn recording_docker(dir: &Path) -> (Docker, std::path::PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let record = dir.join("calls");
        let script = dir.join("docker");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$*\" >> '{}'\n", record.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (Docker::with_program(script).unwrap(), record)
    }

    #[tokio::test]
    async fn qemu_is_registered_only_for_a_missing_entry() {
        let dir = tempfile::tempdir().unwrap();
        let binfmt = dir.path().join("binfmt_misc");
        std::fs::create_dir(&binfmt).unwrap();
        let (docker, record) = recording_docker(dir.path());
        let console = Console::new(crate::console::Mode::Plain);
        let arm64 = vec!["linux/arm64".to_string()];

        // Native: nothing to do.
        ensure_emulation_on(&docker, &arm64, "linux/arm64", &binfmt, &console).await;
        assert!(!record.exists(), "no docker call on an arm64 host");

        // Emulated and not registered: the setup-qemu-action image registers it.
        ensure_emulation_on(&docker, &arm64, "linux/amd64", &binfmt, &console).await;
        assert_eq!(
            std::fs::read_to_string(&record).unwrap(),
            "run --privileged --rm tonistiigi/binfmt --install aarch64\n"
        );

        // Registered already: no second call.
        std::fs::write(binfmt.join("qemu-aarch64"), "enabled\n").unwrap();
        ensure_emulation_on(&docker, &arm64, "linux/amd64", &binfmt, &console).await;
        assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 1);
    }
}
