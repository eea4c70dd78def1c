//! `scripts/aws_proxy.py` in front of moto, injecting faults.

use super::*;

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

    /// How many `operation` calls reached the proxy.
    pub fn count(&self, operation: &str) -> usize {
        self.calls().iter().filter(|c| *c == operation).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
