//! `deploy-action rollback`: put each service back on the revision it ran before the last
//! deploy and wait for it ([`crate::deploy::rollback::roll_back`], which `mode: rollback` and a
//! failed rollout share), then tell Sentry which release runs again.

use crate::aws::Ecs;
use crate::console::Console;
use crate::deploy::rollback::{commit_of, roll_back};
use anyhow::Result;

/// What `rollback --output json` prints: each service with the rollout back (from which
/// revision, to which, and how it ended).
#[derive(Debug, serde::Serialize)]
pub struct RollbackRecord {
    pub cluster: String,
    pub services: Vec<crate::report::release::ServiceRelease>,
}

pub async fn run(
    request: &crate::Request,
    to: Option<&str>,
    console: &Console,
) -> Result<RollbackRecord> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = Ecs::new(&session.config);
    let started = std::time::SystemTime::now();
    let journal = crate::deploy::Journal::default();
    let rollouts = roll_back(&ecs, rollout, to, &journal, console).await?;
    let record = RollbackRecord {
        cluster: rollout.cluster.clone(),
        services: rollouts
            .iter()
            .map(|rolled| crate::report::release::ServiceRelease {
                service: rolled.service.clone(),
                rollout: Some(rolled.clone()),
            })
            .collect(),
    };
    if let Some(sentry) = crate::sentry::Sentry::new(plan.sentry.as_ref(), console) {
        let mut release = crate::report::Release::planned(&plan);
        release.rolled(rollouts);
        tell_sentry(&sentry, &ecs, &mut release, started, &plan, console).await;
    }
    Ok(record)
}

/// After a rollback (`mode: rollback`, or the CLI with Sentry configured), Sentry learns that the environment runs the release of the commit
/// the services went back to (their revisions' `deploy-action:commit` tag). That release is
/// older: it gets the deploy, not a new `dateReleased`.
pub async fn tell_sentry(
    sentry: &crate::sentry::Sentry<'_>,
    ecs: &Ecs,
    release: &mut crate::report::Release,
    started: std::time::SystemTime,
    plan: &crate::plan::Plan,
    console: &Console,
) {
    if plan.sentry.as_ref().is_some_and(|s| s.version.is_some()) {
        // A version named by the workflow is the new one's: the old one's is not known here.
        console.warning(
            "sentry-version",
            "names the release a deploy creates; the release rolled back to is not known by that name, so no Sentry deploy is recorded",
        );
        return;
    }
    let mut commits = std::collections::BTreeSet::new();
    let targets: Vec<String> = release
        .rollouts()
        .map(|rollout| rollout.task_definition.clone())
        .collect();
    for target in &targets {
        match commit_of(ecs, target).await {
            Ok(Some(commit)) => {
                commits.insert(commit);
            }
            Ok(None) | Err(_) => {
                commits.clear();
                break;
            }
        }
    }
    let mut commits = commits.into_iter();
    let (Some(commit), None) = (commits.next(), commits.next()) else {
        console.warning(
            "sentry",
            "no Sentry deploy recorded: the revisions rolled back to do not name one commit (deploy-action:commit tag)",
        );
        return;
    };
    release.sentry = sentry.create_release(&commit, console).await;
    let run_url = plan.source.run_url.as_deref();
    release
        .tell_sentry(sentry, started, run_url, false, console)
        .await;
}
