//! Running the action the way the GitHub runner runs a container action: the binary as PID 1 of
//! a container started with `docker run`, beside the runner's file-command directories and the
//! host daemon's socket.
//!
//! The flags are those of actions/runner (v2.33x):
//! - `src/Runner.Worker/Handlers/ContainerActionHandler.cs` mounts `/var/run/docker.sock`,
//!   `<temp>/_github_home` → `/github/home` (and sets `HOME` to it), `_github_workflow` →
//!   `/github/workflow`, `_runner_file_commands` → `/github/file_commands`, the workspace →
//!   `/github/workspace` (the working directory), translates every environment value that names
//!   one of those host paths to its container path, and adds `ACTIONS_RUNTIME_URL`,
//!   `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_CACHE_URL` (when given) and the OIDC request pair.
//! - `src/Runner.Worker/Container/DockerCommandManager.cs` `DockerRun`: `docker run --name …
//!   --label … --workdir /github/workspace --rm -e NAME …` (names only: the values come from
//!   the `docker run` process's environment, never the command line) `-e GITHUB_ACTIONS=true
//!   -e CI=true --network … -v … IMAGE`.
//!
//! Two deliberate differences: `--network host` instead of the job's bridge network (the
//! stand-ins listen on 127.0.0.1 of this machine), and no `--rm` — the harness reads the
//! container's file changes (`docker diff`: the private docker config must be gone from its
//! `/tmp`) and then removes it.
//!
//! No image can be pulled here, so the action image is assembled from this build: the test's
//! binary (stripped), the shared libraries it and the stand-ins' docker CLI link, CA
//! certificates and `/tmp`, imported with `docker import` — what the release Dockerfile puts in
//! its `FROM scratch` image, with the engine's CLI in place of the bundled one.

use crate::support::StandIns;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where the runner mounts each of its host directories (relative to the run's directory).
pub const MOUNTS: [(&str, &str); 4] = [
    ("home", "/github/home"),
    ("workflow", "/github/workflow"),
    ("file_commands", "/github/file_commands"),
    ("workspace", "/github/workspace"),
];

/// The stand-in daemon's CLI, as the harness (the "runner") uses it.
pub fn host_docker(standins: &StandIns) -> Command {
    let mut command = Command::new(standins.var("DEPLOY_ACTION_DOCKER"));
    command.env("DOCKER_HOST", standins.var("DOCKER_HOST"));
    command
}

/// The action image, built once per test binary (and reused across runs of the same binary).
pub fn action_image(standins: &StandIns) -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| build_action_image(standins))
}

fn build_action_image(standins: &StandIns) -> String {
    let binary = Path::new(env!("CARGO_BIN_EXE_deploy-action"));
    let metadata = std::fs::metadata(binary).unwrap();
    let modified = metadata
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tag = format!(
        "deploy-action-e2e:{:x}-{:x}",
        metadata.len(),
        modified % (1 << 48)
    );
    let exists = host_docker(standins)
        .args(["image", "inspect", "--format", "{{.Id}}", &tag])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    if exists.success() {
        return tag;
    }

    let rootfs = tempfile::tempdir().unwrap();
    let root = rootfs.path();
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(root.join("etc/ssl/certs")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(root.join("usr/local/bin/deploy-action"))
        .arg(binary)
        .status()
        .unwrap();
    assert!(stripped.success(), "strip failed");
    let docker_cli = PathBuf::from(standins.var("DEPLOY_ACTION_DOCKER"));
    std::fs::copy(&docker_cli, root.join("usr/local/bin/docker")).unwrap();
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        root.join("etc/ssl/certs/ca-certificates.crt"),
    )
    .unwrap();
    for library in linked_libraries(binary)
        .into_iter()
        .chain(linked_libraries(&docker_cli))
    {
        let target = root.join(library.strip_prefix("/").unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        // `copy` follows symlinks: the file itself lands under the name the loader asks for.
        std::fs::copy(&library, &target).unwrap();
    }

    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-cf", "-", "."])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let imported = host_docker(standins)
        .args([
            "import",
            "--change",
            r#"ENTRYPOINT ["/usr/local/bin/deploy-action"]"#,
            "--change",
            "ENV PATH=/usr/local/bin DOCKER_CLI_HINTS=false",
            "-",
            &tag,
        ])
        .stdin(tar.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(tar.wait().unwrap().success());
    assert!(
        imported.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&imported.stderr)
    );
    tag
}

/// The shared libraries `ldd` says `binary` loads.
fn linked_libraries(binary: &Path) -> Vec<PathBuf> {
    let ldd = Command::new("ldd").arg(binary).output().unwrap();
    String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|word| word.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// `docker run` as the runner does it, for a run laid out in `dir` with environment `env`
/// (host paths in values already translated); the container is named `name`.
pub fn docker_run(
    standins: &StandIns,
    name: &str,
    dir: &Path,
    env: &[(String, String)],
) -> Command {
    let mut command = host_docker(standins);
    command.args([
        "run",
        "--name",
        name,
        "--label",
        "deploy-action-e2e",
        "--workdir",
        "/github/workspace",
    ]);
    for (key, _) in env {
        command.arg("-e").arg(key);
    }
    command.args(["-e", "GITHUB_ACTIONS=true", "-e", "CI=true"]);
    command.args(["--network", "host"]);
    let socket = standins
        .var("DOCKER_HOST")
        .strip_prefix("unix://")
        .unwrap()
        .to_string();
    command
        .arg("-v")
        .arg(format!("{socket}:/var/run/docker.sock"));
    for (sub, target) in MOUNTS {
        command
            .arg("-v")
            .arg(format!("{}:{target}", dir.join(sub).display()));
    }
    command.arg(action_image(standins));
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// Files the run left in its container's `/tmp`, then the container removed.
pub fn leftover_temp_files_and_remove(standins: &StandIns, name: &str) -> Vec<PathBuf> {
    let diff = host_docker(standins).args(["diff", name]).output().unwrap();
    let _ = host_docker(standins)
        .args(["rm", "--force", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    String::from_utf8_lossy(&diff.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("A /tmp/"))
        .map(|path| Path::new("/tmp").join(path))
        .collect()
}

/// Stop the run's container as `docker stop` does: SIGTERM to PID 1, a kill after `grace`.
pub fn docker_stop(standins: &StandIns, name: &str, grace_seconds: u32) {
    let stopped = host_docker(standins)
        .args(["stop", "--time", &grace_seconds.to_string(), name])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(stopped.success(), "docker stop {name} failed");
}
