use super::*;

#[test]
fn the_arm64_image_of_an_index_is_read_and_attestations_skipped() {
    let index = serde_json::json!({"manifests": [
        {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
    ]});
    assert_eq!(
        platform_manifest(index.to_string().as_bytes())
            .unwrap()
            .as_deref(),
        Some("sha256:arm")
    );
    let amd_only = serde_json::json!({"manifests": [
        {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
    ]});
    assert_eq!(
        platform_manifest(amd_only.to_string().as_bytes())
            .unwrap()
            .as_deref(),
        Some("sha256:amd")
    );
    let single = serde_json::json!({"config": {"digest": "sha256:cfg"}, "layers": []});
    assert_eq!(
        platform_manifest(single.to_string().as_bytes()).unwrap(),
        None
    );
    assert_eq!(
        config_digest(single.to_string().as_bytes()).unwrap(),
        "sha256:cfg"
    );
}

#[test]
fn the_revision_label_and_a_config_that_does_not_hash_to_its_digest() {
    let sha = "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c";
    let config = serde_json::json!({"config": {"Labels": {REVISION_LABEL: sha}}}).to_string();
    assert_eq!(revision(config.as_bytes()).unwrap().as_deref(), Some(sha));
    // Whoever pushed the image chose the label: only a commit id is taken.
    for label in [
        "4f2a9c1",
        "main...evil/../../user",
        "4F2A9C1D0E8B7A6C5D4E3F2A1B0C9D8E7F6A5B4C",
    ] {
        let config = serde_json::json!({"config": {"Labels": {REVISION_LABEL: label}}});
        assert_eq!(
            revision(config.to_string().as_bytes()).unwrap(),
            None,
            "{label}"
        );
    }
    assert_eq!(revision(b"{\"config\":{}}").unwrap(), None);
    let digest = format!("sha256:{:x}", Sha256::digest(config.as_bytes()));
    assert!(checked(config.as_bytes(), &digest).is_ok());
    let error = checked(b"{}", &digest).unwrap_err().to_string();
    assert!(error.contains("does not match its digest"), "{error}");
}

/// An image whose config ECR will not hand out (GetDownloadUrlForLayer denied): a promotion that
/// verifies the commit fails with the cause; one with `verify-promoted-commit: false` reads the
/// image anyway and says why it has no commit.
#[tokio::test]
async fn an_unreadable_config_fails_a_verified_promotion_only() {
    use aws_sdk_ecr::operation::batch_get_image::BatchGetImageOutput;
    use aws_sdk_ecr::operation::get_download_url_for_layer::GetDownloadUrlForLayerError;
    use aws_sdk_ecr::types::{Image, ImageIdentifier};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    let manifest = serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"digest": "sha256:c0ffee", "size": 2}, "layers": []})
    .to_string();
    let found = mock!(aws_sdk_ecr::Client::batch_get_image).then_output(move || {
        BatchGetImageOutput::builder()
            .images(
                Image::builder()
                    .image_id(
                        ImageIdentifier::builder()
                            .image_digest("sha256:top")
                            .build(),
                    )
                    .image_manifest(manifest.clone())
                    .build(),
            )
            .build()
    });
    let denied = mock!(aws_sdk_ecr::Client::get_download_url_for_layer).then_error(|| {
        GetDownloadUrlForLayerError::generic(
            aws_smithy_types::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: ecr:GetDownloadUrlForLayer")
                .build(),
        )
    });
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&found, &denied]);

    let error = with_ecr(&ecr, None, "back-end", "staging", ConfigNeed::Required)
        .await
        .unwrap_err();
    assert!(
        crate::error::one_line(&error)
            .contains("ECR GetDownloadUrlForLayer back-end@sha256:c0ffee"),
        "{error:#}"
    );

    let read = with_ecr(&ecr, None, "back-end", "staging", ConfigNeed::Optional)
        .await
        .unwrap();
    assert_eq!(read.digest, "sha256:top");
    assert_eq!(read.revision, None);
    assert!(
        read.config_error
            .as_deref()
            .is_some_and(|why| why.contains("AccessDeniedException")),
        "{read:?}"
    );
}
