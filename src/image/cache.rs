//! Which build cache a run uses: the `cache` input resolved against the builder at hand and
//! what the runner offers. Each branch or environment gets its own gha scope, so branches stop
//! overwriting each other's cache.

use super::build::{Builder, Cache};
use crate::inputs::GhaCache;
use crate::plan::CacheMode;

/// What decides the cache besides the `cache` input.
#[derive(Debug, Clone, Copy)]
pub struct CacheContext {
    pub builder: Builder,
    /// The Actions cache service the runner offers the step.
    pub gha: Option<GhaCache>,
    /// The buildx at hand reads the v2 service's settings (`ACTIONS_RESULTS_URL`): v0.21+.
    pub buildx_reads_v2: bool,
    /// The builder is BuildKit on another machine (`builder: tcp://…`). The gha cache is
    /// exported by BuildKit itself, with the runner's token — the same access token as the OIDC
    /// request token (actions/runner `ContainerActionHandler`) — so it must stay on this machine.
    pub remote_builder: bool,
}

/// The cache, and a note when it differs from what was asked for.
pub fn resolve(
    mode: CacheMode,
    context: CacheContext,
    repository_reference: &str,
    environment_tag: &str,
) -> (Cache, Option<String>) {
    let scope = format!(
        "{}-{environment_tag}",
        repository_reference
            .rsplit('/')
            .next()
            .unwrap_or(repository_reference)
            .replace(':', "-")
    );
    let registry = Cache::Registry {
        reference: format!("{repository_reference}:buildcache-{environment_tag}"),
    };
    let inline = Cache::Inline {
        from: format!("{repository_reference}:{environment_tag}"),
    };
    let gha_usable = match context.gha {
        Some(GhaCache::V2) => context.buildx_reads_v2,
        Some(GhaCache::V1) => true,
        None => false,
    };
    match (mode, context.builder) {
        (CacheMode::Auto | CacheMode::Gha, Builder::Buildx) if context.remote_builder => (
            registry,
            (mode == CacheMode::Gha || gha_usable).then(|| {
                "cache: the gha cache would hand the runner's token (the same token that asks for OIDC tokens) to the remote BuildKit; using the registry cache".into()
            }),
        ),
        (CacheMode::None, _) => (Cache::None, None),
        (CacheMode::Auto | CacheMode::Gha, Builder::Buildx) if gha_usable => (
            Cache::Gha {
                scope,
                version: context.gha.map_or(2, GhaCache::version),
            },
            None,
        ),
        (CacheMode::Auto | CacheMode::Gha, Builder::Buildx) if context.gha == Some(GhaCache::V2) => (
            registry,
            Some(
                "cache: this buildx reads the GitHub cache service v2 (the only one on github.com since April 2025) \
                 from ACTIONS_RESULTS_URL only from v0.21 on, and would silently cache nothing; using the registry \
                 cache — update buildx (the action's image bundles one that can)"
                    .into(),
            ),
        ),
        (CacheMode::Auto | CacheMode::Registry, Builder::Buildx) => (registry, None),
        (CacheMode::Auto | CacheMode::Registry, Builder::EngineBuildKit) => (inline, None),
        (CacheMode::Gha, Builder::Buildx) => (
            registry,
            Some("cache: gha needs the runner's cache service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL), which this step did not get; using the registry cache".into()),
        ),
        (CacheMode::Gha, Builder::EngineBuildKit) => (
            inline,
            Some("cache: gha needs docker buildx, which this machine lacks; using the inline cache of the previous image".into()),
        ),
    }
}

/// Whether `docker buildx version` output names v0.21 or later.
pub fn buildx_reads_gha_v2(version_output: &str) -> bool {
    version_output
        .split_whitespace()
        .find_map(|word| {
            let digits = word.trim_start_matches('v');
            let mut parts = digits.split(['.', '-', '+']);
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            Some((major, minor))
        })
        .is_some_and(|version| version >= (0, 21))
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
