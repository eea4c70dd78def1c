//! How the image is built: the argument lists for the two builders, and reading the digest
//! back. Pure functions, so every combination of options is table-tested.

use crate::plan::BuildPlan;
use std::path::PathBuf;

/// Which builder this machine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    /// `docker buildx build --push`: several platforms, cache backends, digest in a metadata file.
    Buildx,
    /// BuildKit through the engine (`DOCKER_BUILDKIT=1 docker build`) and `docker push`.
    #[serde(rename = "engine-buildkit")]
    EngineBuildKit,
}

/// The build cache this run uses, resolved for the builder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Cache {
    None,
    /// GitHub Actions cache (buildx), one scope per repository and environment, on the
    /// service version the runner offers.
    Gha {
        scope: String,
        version: u8,
    },
    /// A cache image in the repository (buildx), `mode=max`, in a form ECR accepts.
    Registry {
        reference: String,
    },
    /// Cache metadata inside the pushed image, read back from the previous one (engine BuildKit).
    Inline {
        from: String,
    },
}

/// Everything one build needs besides the plan's options.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    pub build: &'a BuildPlan,
    /// `registry/repository:tag` for each tag.
    pub references: Vec<String>,
    /// The plan's labels and the OCI ones.
    pub labels: Vec<(String, String)>,
    /// `(secret id, file holding it)`.
    pub secret_files: Vec<(String, PathBuf)>,
    pub cache: Cache,
    /// `--builder`, for buildx.
    pub builder_name: Option<String>,
}

/// `docker buildx build … --push --metadata-file FILE CONTEXT`.
pub fn buildx_args(request: &BuildRequest, metadata_file: &str) -> Vec<String> {
    let build = request.build;
    let mut args = vec!["buildx".to_string(), "build".to_string()];
    if let Some(name) = &request.builder_name {
        args.extend(["--builder".to_string(), name.clone()]);
    }
    args.extend([
        "--platform".to_string(),
        build.platforms.join(","),
        "--push".to_string(),
        // Attestations turn the image into an index that some consumers reject: opt in only.
        format!("--provenance={}", build.provenance),
        "--metadata-file".to_string(),
        metadata_file.to_string(),
    ]);
    match &request.cache {
        Cache::None | Cache::Inline { .. } => {}
        Cache::Gha { scope, version } => {
            // The runner's cache URLs and token reach buildx through the environment (buildx
            // reads ACTIONS_RESULTS_URL, ACTIONS_CACHE_URL, ACTIONS_RUNTIME_TOKEN), never argv;
            // the version is explicit because a container action never gets
            // ACTIONS_CACHE_SERVICE_V2, from which buildx would otherwise guess it.
            args.extend([
                "--cache-from".to_string(),
                format!("type=gha,version={version},scope={scope}"),
                "--cache-to".to_string(),
                // A cache that cannot be written is a slower next build, never a failed deploy.
                format!("type=gha,version={version},scope={scope},mode=max,ignore-error=true"),
            ]);
        }
        Cache::Registry { reference } => {
            args.extend([
                "--cache-from".to_string(),
                format!("type=registry,ref={reference}"),
                "--cache-to".to_string(),
                // ignore-error: an immutable repository refuses to move the cache tag; that
                // costs the next build its cache, never this deploy.
                format!(
                    "type=registry,ref={reference},mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true"
                ),
            ]);
        }
    }
    args.extend(common_args(request));
    args
}

/// `docker build --platform P -t … CONTEXT` (BuildKit through the engine: one platform).
pub fn engine_build_args(request: &BuildRequest) -> Vec<String> {
    let mut args = vec![
        "build".to_string(),
        "--platform".to_string(),
        request.build.platforms.join(","),
    ];
    if let Cache::Inline { from } = &request.cache {
        args.extend([
            "--cache-from".to_string(),
            from.clone(),
            "--build-arg".to_string(),
            "BUILDKIT_INLINE_CACHE=1".to_string(),
        ]);
    }
    args.extend(common_args(request));
    args
}

fn common_args(request: &BuildRequest) -> Vec<String> {
    let build = request.build;
    let mut args = Vec::new();
    if let Some(target) = &build.target {
        args.extend(["--target".to_string(), target.clone()]);
    }
    for reference in &request.references {
        args.extend(["--tag".to_string(), reference.clone()]);
    }
    for (key, value) in &build.build_args {
        args.extend(["--build-arg".to_string(), format!("{key}={value}")]);
    }
    for (key, value) in &request.labels {
        args.extend(["--label".to_string(), format!("{key}={value}")]);
    }
    for (id, file) in &request.secret_files {
        args.extend([
            "--secret".to_string(),
            format!("id={id},src={}", file.display()),
        ]);
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
#[path = "build_tests.rs"]
pub(crate) mod tests;
