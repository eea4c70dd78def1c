//! The sample apps, and readers for the registry and the engine's images.

use super::*;

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
