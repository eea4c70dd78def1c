//! Which build cache a run uses: the `cache` input resolved against the builder at hand and
//! what the runner offers. Each branch or environment gets its own gha scope, so branches stop
//! overwriting each other's cache.

use super::build::{Builder, Cache};
use crate::plan::CacheMode;

/// The cache, and a note when it differs from what was asked for.
pub fn resolve(
    mode: CacheMode,
    builder: Builder,
    gha_available: bool,
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
    match (mode, builder) {
        (CacheMode::None, _) => (Cache::None, None),
        (CacheMode::Auto | CacheMode::Gha, Builder::Buildx) if gha_available => {
            (Cache::Gha { scope }, None)
        }
        (CacheMode::Auto | CacheMode::Registry, Builder::Buildx) => (registry, None),
        (CacheMode::Auto | CacheMode::Registry, Builder::EngineBuildKit) => (inline, None),
        (CacheMode::Gha, Builder::Buildx) => (
            registry,
            Some("cache: gha needs the runner's cache service (ACTIONS_RUNTIME_TOKEN and a cache URL), which this step did not get; using the registry cache".into()),
        ),
        (CacheMode::Gha, Builder::EngineBuildKit) => (
            inline,
            Some("cache: gha needs docker buildx, which this machine lacks; using the inline cache of the previous image".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution() {
        let repo = "123.dkr.ecr.us-east-2.amazonaws.com/back-end";
        let gha = Cache::Gha {
            scope: "back-end-staging".into(),
        };
        let registry = Cache::Registry {
            reference: format!("{repo}:buildcache-staging"),
        };
        let inline = Cache::Inline {
            from: format!("{repo}:staging"),
        };
        let table = [
            (CacheMode::Auto, Builder::Buildx, true, gha.clone(), false),
            (
                CacheMode::Auto,
                Builder::Buildx,
                false,
                registry.clone(),
                false,
            ),
            (
                CacheMode::Auto,
                Builder::EngineBuildKit,
                true,
                inline.clone(),
                false,
            ),
            (CacheMode::Gha, Builder::Buildx, true, gha, false),
            (
                CacheMode::Gha,
                Builder::Buildx,
                false,
                registry.clone(),
                true,
            ),
            (
                CacheMode::Gha,
                Builder::EngineBuildKit,
                true,
                inline.clone(),
                true,
            ),
            (CacheMode::Registry, Builder::Buildx, true, registry, false),
            (
                CacheMode::Registry,
                Builder::EngineBuildKit,
                false,
                inline,
                false,
            ),
            (CacheMode::None, Builder::Buildx, true, Cache::None, false),
        ];
        for (mode, builder, available, expected, noted) in table {
            let (cache, note) = resolve(mode, builder, available, repo, "staging");
            assert_eq!(cache, expected, "{mode:?} {builder:?} {available}");
            assert_eq!(note.is_some(), noted, "{mode:?} {builder:?} {available}");
        }
    }
}
