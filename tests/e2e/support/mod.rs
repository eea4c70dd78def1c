//! What the end-to-end tests need, by concern: the stand-ins started by `scripts/standins up`
//! (`standins`), ECS worlds (`world`), a run of the binary as the runner runs a container
//! action (`action_run`) and what it left (`finished`), the registry and images (`images`), and
//! the fault proxy (`fault_proxy`).

#![allow(dead_code)] // Each test uses a part.

use crate::runner_container;
use aws_credential_types::Credentials;
use aws_sdk_ecs::types::{ContainerDefinition, KeyValuePair, Tag, TaskDefinition};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const REGION: &str = "us-east-2";
/// `GITHUB_SHA` of every [`ActionRun`] unless a test sets another.
pub const RUN_SHA: &str = "4f2a9c1d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/GitHubActions-Deploy";
/// What moto's ECR GetAuthorizationToken decodes to, after `AWS:`.
pub const ECR_PASSWORD: &str = "123456789012-auth-token";
pub const SIDECAR_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0";

mod action_run;
mod fault_proxy;
mod finished;
mod images;
mod standins;
mod world;

pub use action_run::*;
pub use fault_proxy::*;
pub(crate) use finished::*;
pub use images::*;
pub use standins::*;
pub use world::*;

#[cfg(test)]
mod self_tests {
    use super::*;

    /// "Nothing was pushed" must not pass because the registry failed.
    #[tokio::test]
    #[should_panic(expected = "the registry answered 500")]
    async fn registry_tags_fail_on_anything_but_404() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500).set_body_string("down"))
            .mount(&server)
            .await;
        let host = server.address().to_string();
        Registry { host: &host }.tags("back-end").await;
    }

    #[tokio::test]
    async fn registry_tags_are_none_for_an_unknown_repository() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&server)
            .await;
        let host = server.address().to_string();
        assert!(Registry { host: &host }.tags("back-end").await.is_empty());
    }
}
