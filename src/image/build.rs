//! How the image is built: the argument lists for the two builders, and reading the digest
//! back. Pure functions, so they are table-tested.

use crate::plan::BuildPlan;

/// Which builder this machine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// `docker buildx build --push`: several platforms, digest in a metadata file.
    Buildx,
    /// BuildKit through the engine (`DOCKER_BUILDKIT=1 docker build`) and `docker push`.
    EngineBuildKit,
}

/// `docker buildx build … --push --metadata-file FILE CONTEXT`.
pub fn buildx_args(build: &BuildPlan, references: &[String], metadata_file: &str) -> Vec<String> {
    let mut args = vec![
        "buildx".to_string(),
        "build".to_string(),
        "--platform".to_string(),
        build.platforms.join(","),
        "--push".to_string(),
        // Attestations turn the image into an index that some consumers reject.
        "--provenance=false".to_string(),
        "--metadata-file".to_string(),
        metadata_file.to_string(),
    ];
    args.extend(common_args(build, references));
    args
}

/// `docker build --platform P -t … CONTEXT` (BuildKit through the engine: one platform).
pub fn engine_build_args(build: &BuildPlan, references: &[String]) -> Vec<String> {
    let mut args = vec![
        "build".to_string(),
        "--platform".to_string(),
        build.platforms.join(","),
    ];
    args.extend(common_args(build, references));
    args
}

fn common_args(build: &BuildPlan, references: &[String]) -> Vec<String> {
    let mut args = Vec::new();
    for reference in references {
        args.extend(["--tag".to_string(), reference.clone()]);
    }
    for (key, value) in &build.build_args {
        args.extend(["--build-arg".to_string(), format!("{key}={value}")]);
    }
    args.extend([
        "--file".to_string(),
        build.dockerfile.display().to_string(),
        build.context.display().to_string(),
    ]);
    args
}

/// The digest in `docker push` output: `staging: digest: sha256:… size: 527`.
pub fn digest_from_push_output(output: &str) -> Option<String> {
    output.lines().rev().find_map(|line| {
        let (_, rest) = line.split_once("digest: ")?;
        let digest = rest.split_whitespace().next()?;
        is_digest(digest).then(|| digest.to_string())
    })
}

/// The digest in buildx's `--metadata-file`.
pub fn digest_from_metadata(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let digest = value.get("containerimage.digest")?.as_str()?;
    is_digest(digest).then(|| digest.to_string())
}

pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn build() -> BuildPlan {
        BuildPlan {
            context: PathBuf::from("app"),
            dockerfile: PathBuf::from("app/Dockerfile"),
            platforms: vec!["linux/arm64".into()],
            build_args: vec![("VERSION".into(), "1.2".into())],
        }
    }

    #[test]
    fn engine_build_arguments() {
        let refs = vec![
            "r/back-end:prod".to_string(),
            "r/back-end:sha-0123456".to_string(),
        ];
        assert_eq!(
            engine_build_args(&build(), &refs).join(" "),
            "build --platform linux/arm64 --tag r/back-end:prod --tag r/back-end:sha-0123456 \
             --build-arg VERSION=1.2 --file app/Dockerfile app"
        );
    }

    #[test]
    fn buildx_arguments_push_with_metadata() {
        let refs = vec!["r/back-end:prod".to_string()];
        let args = buildx_args(&build(), &refs, "/tmp/meta.json").join(" ");
        assert!(args.starts_with("buildx build --platform linux/arm64 --push --provenance=false --metadata-file /tmp/meta.json"));
        assert!(args.ends_with("--file app/Dockerfile app"));
    }

    #[test]
    fn digests_are_read_back() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let push = format!(
            "The push refers to repository [r/back-end]\nprod: digest: {digest} size: 527\n"
        );
        assert_eq!(digest_from_push_output(&push), Some(digest.clone()));
        assert_eq!(digest_from_push_output("no digest here"), None);
        let metadata = format!(r#"{{"containerimage.digest": "{digest}", "image.name": "x"}}"#);
        assert_eq!(digest_from_metadata(&metadata), Some(digest));
        assert_eq!(
            digest_from_metadata(r#"{"containerimage.digest": "sha256:short"}"#),
            None
        );
    }
}
