use super::*;

#[test]
fn resolution() {
    let repo = "123.dkr.ecr.us-east-2.amazonaws.com/back-end";
    let gha = |version| Cache::Gha {
        scope: "back-end-staging".into(),
        version,
    };
    let registry = Cache::Registry {
        reference: format!("{repo}:buildcache-staging"),
    };
    let inline = Cache::Inline {
        from: format!("{repo}:staging"),
    };
    let (buildx, engine) = (Builder::Buildx, Builder::EngineBuildKit);
    let (v1, v2) = (Some(GhaCache::V1), Some(GhaCache::V2));
    // (mode, builder, service offered, buildx reads v2, cache, noted)
    let table = [
        (CacheMode::Auto, buildx, v2, true, gha(2), false),
        // GitHub Enterprise Server: only the v1 service.
        (CacheMode::Auto, buildx, v1, false, gha(1), false),
        // An old buildx on github.com would drop the cache silently: registry, said so.
        (CacheMode::Auto, buildx, v2, false, registry.clone(), true),
        (CacheMode::Auto, buildx, None, true, registry.clone(), false),
        (CacheMode::Auto, engine, v2, false, inline.clone(), false),
        (CacheMode::Gha, buildx, v2, true, gha(2), false),
        (CacheMode::Gha, buildx, None, true, registry.clone(), true),
        (CacheMode::Gha, engine, v2, false, inline.clone(), true),
        (CacheMode::Registry, buildx, v2, true, registry, false),
        (CacheMode::Registry, engine, None, false, inline, false),
        (CacheMode::None, buildx, v2, true, Cache::None, false),
    ];
    for (mode, builder, gha, buildx_reads_v2, expected, noted) in table {
        let context = CacheContext {
            builder,
            gha,
            buildx_reads_v2,
            remote_builder: false,
        };
        let (cache, note) = resolve(mode, context, repo, "staging");
        assert_eq!(cache, expected, "{mode:?} {context:?}");
        assert_eq!(note.is_some(), noted, "{mode:?} {context:?}");
    }
}

/// A remote BuildKit never gets the gha cache: it would carry the runner's token there.
#[test]
fn a_remote_builder_gets_no_gha_cache() {
    let repo = "127.0.0.1:5000/back-end";
    for mode in [CacheMode::Auto, CacheMode::Gha] {
        let context = CacheContext {
            builder: Builder::Buildx,
            gha: Some(GhaCache::V2),
            buildx_reads_v2: true,
            remote_builder: true,
        };
        let (cache, note) = resolve(mode, context, repo, "staging");
        assert!(
            matches!(cache, Cache::Registry { .. }),
            "{mode:?}: {cache:?}"
        );
        assert!(
            note.is_some_and(|n| n.contains("remote BuildKit")),
            "{mode:?}"
        );
    }
}

#[test]
fn buildx_versions() {
    assert!(buildx_reads_gha_v2("github.com/docker/buildx v0.21.0 fake"));
    assert!(buildx_reads_gha_v2(
        "github.com/docker/buildx 0.23.0+ds1 0.23.0"
    ));
    assert!(buildx_reads_gha_v2("github.com/docker/buildx v1.0.0 abc"));
    assert!(!buildx_reads_gha_v2(
        "github.com/docker/buildx v0.19.3 48d6a39"
    ));
    assert!(!buildx_reads_gha_v2("no version here"));
}
