use super::*;
use crate::plan::CacheMode;

/// A one-platform build plan, for the image module's tests.
pub(crate) fn plan() -> BuildPlan {
    BuildPlan {
        context: PathBuf::from("app"),
        dockerfile: PathBuf::from("app/Dockerfile"),
        target: None,
        platforms: vec!["linux/arm64".into()],
        build_args: vec![("VERSION".into(), "1.2".into())],
        labels: Vec::new(),
        secrets: Vec::new(),
        provenance: false,
        cache: CacheMode::Auto,
        gha_cache: None,
        builder: None,
        path: crate::plan::BuildPath::Auto,
        docker: crate::plan::DockerCli {
            program: "docker".into(),
            user_plugins: false,
        },
        buildkit_tls: None,
        setup_qemu: true,
        builder_name: "deploy-action-42-1-0a1b2c3d".into(),
    }
}

fn request(build: &BuildPlan, cache: Cache) -> BuildRequest<'_> {
    BuildRequest {
        build,
        references: vec!["r/back-end:prod".into(), "r/back-end:sha-0123456".into()],
        labels: vec![("org.opencontainers.image.revision".into(), "0123456".into())],
        secret_files: Vec::new(),
        cache,
        builder_name: None,
    }
}

const TAIL: &str = "--tag r/back-end:prod --tag r/back-end:sha-0123456 --build-arg VERSION=1.2 \
     --label org.opencontainers.image.revision=0123456 --file app/Dockerfile app";

#[test]
fn buildx_argument_lists() {
    let base = plan();
    let multi = BuildPlan {
        platforms: vec!["linux/arm64".into(), "linux/amd64".into()],
        provenance: true,
        target: Some("runtime".into()),
        ..plan()
    };
    let table: Vec<(&str, BuildRequest, String)> = vec![
        (
            "no cache",
            request(&base, Cache::None),
            format!(
                "buildx build --platform linux/arm64 --push --provenance=false --metadata-file /m.json {TAIL}"
            ),
        ),
        (
            "gha cache, scoped per environment",
            request(
                &base,
                Cache::Gha {
                    scope: "back-end-prod".into(),
                    version: 2,
                },
            ),
            format!(
                "buildx build --platform linux/arm64 --push --provenance=false --metadata-file /m.json \
                 --cache-from type=gha,version=2,scope=back-end-prod \
                 --cache-to type=gha,version=2,scope=back-end-prod,mode=max,ignore-error=true {TAIL}"
            ),
        ),
        (
            "registry cache ECR accepts",
            request(
                &base,
                Cache::Registry {
                    reference: "r/back-end:buildcache-prod".into(),
                },
            ),
            format!(
                "buildx build --platform linux/arm64 --push --provenance=false --metadata-file /m.json \
                 --cache-from type=registry,ref=r/back-end:buildcache-prod \
                 --cache-to type=registry,ref=r/back-end:buildcache-prod,mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true {TAIL}"
            ),
        ),
        (
            "two platforms, provenance, a target, a named builder",
            BuildRequest {
                builder_name: Some("arm-fleet".into()),
                ..request(&multi, Cache::None)
            },
            format!(
                "buildx build --builder arm-fleet --platform linux/arm64,linux/amd64 --push --provenance=true \
                 --metadata-file /m.json --target runtime {TAIL}"
            ),
        ),
        (
            "a build secret from a file",
            BuildRequest {
                secret_files: vec![("npm".into(), PathBuf::from("/private/secret-npm"))],
                ..request(&base, Cache::None)
            },
            format!(
                "buildx build --platform linux/arm64 --push --provenance=false --metadata-file /m.json {}",
                TAIL.replace("--file", "--secret id=npm,src=/private/secret-npm --file")
            ),
        ),
    ];
    for (case, request, expected) in table {
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(buildx_args(&request, "/m.json"), expected, "{case}");
    }
}

#[test]
fn engine_argument_lists() {
    let base = plan();
    assert_eq!(
        engine_build_args(&request(&base, Cache::None)).join(" "),
        format!("build --platform linux/arm64 {TAIL}")
    );
    assert_eq!(
        engine_build_args(&request(
            &base,
            Cache::Inline {
                from: "r/back-end:prod".into()
            }
        ))
        .join(" "),
        format!(
            "build --platform linux/arm64 --cache-from r/back-end:prod --build-arg BUILDKIT_INLINE_CACHE=1 {TAIL}"
        )
    );
}

#[test]
fn digests_are_read_back() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let push =
        format!("The push refers to repository [r/back-end]\nprod: digest: {digest} size: 527\n");
    assert_eq!(digest_from_push_output(&push), Some(digest.clone()));
    assert_eq!(digest_from_push_output("no digest here"), None);
    let metadata = format!(r#"{{"containerimage.digest": "{digest}", "image.name": "x"}}"#);
    assert_eq!(digest_from_metadata(&metadata), Some(digest));
    assert_eq!(
        digest_from_metadata(r#"{"containerimage.digest": "sha256:short"}"#),
        None
    );
}

#[test]
fn a_digest_is_sha256_and_64_hex_digits() {
    let hex = "0123456789abcdef".repeat(4);
    assert!(is_digest(&format!("sha256:{hex}")));
    assert!(!is_digest(&format!("sha256:{}", &hex[1..])), "63 digits");
    assert!(!is_digest(&format!("sha256:{}", "g".repeat(64))), "not hex");
    assert!(!is_digest(&format!("sha512:{hex}")));
}
