use super::*;

/// A builder container made for the run goes when the run is dropped half-way (a cancel),
/// by name, without buildx's state; one removed the ordinary way, one we did not create,
/// and a remote endpoint's leave nothing to remove.
#[test]
fn a_created_builder_is_removed_when_the_run_is_dropped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("calls");
    let script = dir.path().join("docker");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" >> '{}'\n", record.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = Docker::with_program(script).unwrap();
    let ours = BuildxBuilder {
        name: Some("deploy-action-42-1-0a1b2c3d".into()),
        created: true,
    };
    drop(Leftover::of(&docker, &ours, false));
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "rm --force buildx_buildkit_deploy-action-42-1-0a1b2c3d0\n\
         volume rm --force buildx_buildkit_deploy-action-42-1-0a1b2c3d0_state\n"
    );
    std::fs::remove_file(&record).unwrap();
    Leftover::of(&docker, &ours, false).disarm();
    drop(Leftover::of(&docker, &ours, true));
    let current = BuildxBuilder {
        name: None,
        created: false,
    };
    drop(Leftover::of(&docker, &current, false));
    assert!(!record.exists(), "removed something it should not have");
}

#[test]
fn builder_commands() {
    assert_eq!(
        create_args("deploy-action-7", None, false, None).join(" "),
        "buildx create --name deploy-action-7 --driver docker-container --bootstrap"
    );
    assert_eq!(
        create_args("deploy-action-7", None, true, None).join(" "),
        "buildx create --name deploy-action-7 --driver docker-container --driver-opt network=host --bootstrap"
    );
    assert_eq!(
        create_args(
            "deploy-action-7",
            Some("tcp://buildkit-arm64:1234"),
            true,
            None
        )
        .join(" "),
        "buildx create --name deploy-action-7 --driver remote tcp://buildkit-arm64:1234 --bootstrap"
    );
    let tls = TlsFiles {
        ca: "/c/ca.pem".into(),
        cert: "/c/cert.pem".into(),
        key: "/c/key.pem".into(),
    };
    assert_eq!(
        create_args(
            "deploy-action-7",
            Some("tcp://buildkit-arm64:1234"),
            false,
            Some(&tls)
        )
        .join(" "),
        "buildx create --name deploy-action-7 --driver remote --driver-opt \
         cacert=/c/ca.pem,cert=/c/cert.pem,key=/c/key.pem tcp://buildkit-arm64:1234 --bootstrap"
    );
    assert_eq!(
        driver_of("Name:   default\nDriver: docker\n"),
        Some("docker")
    );
    assert_eq!(
        driver_of("Name: x\nDriver: docker-container\n"),
        Some("docker-container")
    );
}

#[test]
fn the_docker_driver_does_one_platform_and_no_exported_cache() {
    let build = |platforms: &[&str]| crate::plan::BuildPlan {
        platforms: platforms.iter().map(|p| p.to_string()).collect(),
        ..crate::image::build::tests::plan()
    };
    let registry = Cache::Registry {
        reference: "r/back-end:buildcache-prod".into(),
    };
    let gha = Cache::Gha {
        scope: "back-end-prod".into(),
        version: 2,
    };
    let inline = Cache::Inline {
        from: "r/back-end:prod".into(),
    };
    let table = [
        (build(&["linux/arm64"]), Cache::None, false),
        (build(&["linux/arm64"]), inline, false),
        (build(&["linux/arm64"]), registry, true),
        (build(&["linux/arm64"]), gha, true),
        (build(&["linux/arm64", "linux/amd64"]), Cache::None, true),
    ];
    for (plan, cache, expected) in table {
        assert_eq!(
            needs_container_driver(&plan, &cache),
            expected,
            "{:?} {cache:?}",
            plan.platforms
        );
    }
}
