use super::*;

#[test]
fn binfmt_entries_are_named_as_the_kernel_names_them() {
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

#[test]
fn the_builders_platforms_decide() {
    let arm64 = vec!["linux/arm64".to_string()];
    let listed = |p: &[&str]| Known::Platforms(p.iter().map(|s| s.to_string()).collect());
    // An amd64 builder whose kernel has qemu registered lists arm64: nothing to register.
    assert_eq!(
        decide(
            &arm64,
            &listed(&["linux/amd64", "linux/386", "linux/arm64"])
        ),
        Emulation::Ready
    );
    assert_eq!(
        decide(&arm64, &listed(&["linux/amd64", "linux/arm64/v8*"])),
        Emulation::Ready
    );
    assert_eq!(
        decide(&arm64, &listed(&["linux/amd64", "linux/386"])),
        Emulation::Register(arm64.clone())
    );
    // An arm64 daemon: native, whatever binfmt_misc says.
    let daemon = |platform: &str, binfmt: Option<&[&str]>| Known::Daemon {
        platform: platform.into(),
        binfmt: binfmt.map(|b| b.iter().map(|s| s.to_string()).collect()),
    };
    assert_eq!(
        decide(&arm64, &daemon("linux/arm64", None)),
        Emulation::Ready
    );
    assert_eq!(
        decide(&arm64, &daemon("linux/amd64", Some(&["qemu-aarch64"]))),
        Emulation::Ready
    );
    assert_eq!(
        decide(&arm64, &daemon("linux/amd64", Some(&[])),),
        Emulation::Register(arm64.clone())
    );
    // Inside the action's container the table is not visible: say so, run nothing privileged.
    assert_eq!(
        decide(&arm64, &daemon("linux/amd64", None)),
        Emulation::Unknown(arm64.clone())
    );
}

#[test]
fn buildx_inspect_platforms_are_read() {
    let output = "Name:          deploy-action-1\nDriver:        docker-container\n\nNodes:\nName:      deploy-action-10\nStatus:    running\nPlatforms: linux/amd64, linux/amd64/v2, linux/386, linux/arm64*\n";
    assert_eq!(
        platforms_of_inspect(output),
        vec!["linux/amd64", "linux/amd64/v2", "linux/386", "linux/arm64"]
    );
}

#[tokio::test]
async fn qemu_is_registered_with_the_pinned_image_only_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (docker, record) = recording_docker(dir.path());
    let console = Console::new(crate::console::Mode::Plain);
    let arm64 = vec!["linux/arm64".to_string()];
    let platforms = |p: &[&str]| Known::Platforms(p.iter().map(|s| s.to_string()).collect());

    apply(
        &docker,
        &arm64,
        &platforms(&["linux/amd64", "linux/arm64"]),
        true,
        &console,
    )
    .await;
    assert!(
        !record.exists(),
        "no privileged run when the builder has arm64"
    );
    // Turned off: never a privileged container, even when arm64 is missing.
    apply(
        &docker,
        &arm64,
        &platforms(&["linux/amd64"]),
        false,
        &console,
    )
    .await;
    assert!(!record.exists(), "setup-qemu: false ran the helper");

    apply(
        &docker,
        &arm64,
        &platforms(&["linux/amd64"]),
        true,
        &console,
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        format!("run --privileged --rm {BINFMT_IMAGE} --install aarch64\n")
    );
    assert!(BINFMT_IMAGE.contains("@sha256:"), "pinned by digest");
}
