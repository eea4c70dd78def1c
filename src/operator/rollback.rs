//! `deploy-action rollback`: put each service back on the revision it ran before the last
//! deploy and wait for it. "Before" is exact: every revision the action registers carries a
//! `deploy-action:replaces` tag naming the revision it replaced — rollback reads that tag and
//! never guesses "revision − 1". `--to` names the revision when there is no tag.

use crate::console::Console;
use crate::deploy::task_definition::{COMMIT_TAG, REPLACES_TAG};
use crate::deploy::wait::{self, EventLog, Followed, Poller, Verdict};
use crate::deploy::{Outcome, Rollout, revision_of};
use crate::error::Problem;
use anyhow::{Context, Result, anyhow};
use aws_sdk_ecs::types::TaskDefinitionField;
use std::time::Duration;

pub async fn run(request: &crate::Request, to: Option<&str>, console: &Console) -> Result<()> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = aws_sdk_ecs::Client::new(&session.config);
    let started = std::time::SystemTime::now();
    let rollouts = roll_back(&ecs, rollout, to, console).await?;
    if let Some(sentry) = crate::sentry::Sentry::new(plan.sentry.as_ref(), console) {
        let mut release = crate::report::Release::planned(&plan);
        release.rolled(rollouts);
        tell_sentry(&sentry, &ecs, &mut release, started, &plan, console).await;
    }
    Ok(())
}

/// Put every service of `rollout` back (on `to`, or on what its running revision replaced)
/// and wait; what happened to each, as a rollout. Every target is decided before any service
/// moves. The action's `mode: rollback` and the CLI's `rollback` both come here.
pub async fn roll_back(
    ecs: &aws_sdk_ecs::Client,
    rollout: &crate::plan::RolloutPlan,
    to: Option<&str>,
    console: &Console,
) -> Result<Vec<Rollout>> {
    let (services, failures) =
        wait::describe_services(ecs, &rollout.cluster, &rollout.services).await?;
    if let Some(failure) = failures.first() {
        return Err(anyhow!(
            "{}: {}",
            failure.arn().unwrap_or("a service"),
            failure.reason().unwrap_or("not found")
        ));
    }
    let mut moves = Vec::new();
    for service in &services {
        let name = service.service_name().unwrap_or_default().to_string();
        let running = service.task_definition().unwrap_or_default().to_string();
        let target = match to {
            Some(revision) => revision.to_string(),
            None => replaced_by(ecs, &running).await?.ok_or_else(|| {
                Problem::new(format!(
                    "{name} runs {}, which has no {REPLACES_TAG} tag: deploy-action did not register it, so \
                     the revision before it is not known",
                    revision_of(&running)
                ))
                .hint(format!(
                    "name the revision to go back to: --to {}:N",
                    revision_of(&running).split(':').next().unwrap_or("FAMILY")
                ))
            })?,
        };
        moves.push((name, running, target));
    }
    let poller = Poller::new(&rollout.cluster, rollout.services.clone());
    let timeout = rollout.wait_timeout.unwrap_or(Duration::from_secs(30 * 60));
    let mut done = Vec::new();
    for (name, running, target) in moves {
        console.line(&format!(
            "{name}: {} → {}",
            revision_of(&running),
            revision_of(&target)
        ));
        let started = std::time::Instant::now();
        let answer = ecs
            .update_service()
            .cluster(&rollout.cluster)
            .service(&name)
            .task_definition(&target)
            .send()
            .await
            .map_err(|error| {
                anyhow!(
                    "ECS UpdateService {name}: {}",
                    crate::error::aws_error(&error)
                )
            })?;
        // ECS answers with the full ARN; the revision may have been named as FAMILY:N.
        let target = answer
            .service()
            .and_then(|s| s.task_definition())
            .unwrap_or(&target)
            .to_string();
        let followed = Followed::from_update(answer.service(), &target);
        let mut events = EventLog::default();
        match wait::wait_for_rollout(
            ecs,
            &poller,
            &name,
            &followed,
            timeout,
            &mut events,
            console,
        )
        .await?
        {
            Verdict::Done {
                running: up,
                desired,
            } => {
                console.line(&format!(
                    "{name}: back on {} ({up}/{desired} running)",
                    revision_of(&target)
                ));
                done.push(Rollout {
                    service: name,
                    previous_task_definition: running,
                    task_definition: target,
                    changed_containers: Vec::new(),
                    outcome: Outcome::Completed {
                        running: up,
                        desired,
                    },
                    duration: started.elapsed(),
                    events: events.printed,
                });
            }
            Verdict::Failed(reason) | Verdict::TimedOut(reason) => {
                return Err(
                    Problem::new(format!("rolling {name} back to {target}: {reason}"))
                        .hint("the service events above say why")
                        .into(),
                );
            }
        }
    }
    Ok(done)
}

/// The revision `running` replaced, from its `deploy-action:replaces` tag.
async fn replaced_by(ecs: &aws_sdk_ecs::Client, running: &str) -> Result<Option<String>> {
    tag_of(ecs, running, REPLACES_TAG).await
}

/// The commit a revision the action registered was deployed from (its `deploy-action:commit`
/// tag); `None` for a revision registered by anything else.
pub async fn commit_of(ecs: &aws_sdk_ecs::Client, revision: &str) -> Result<Option<String>> {
    tag_of(ecs, revision, COMMIT_TAG).await
}

async fn tag_of(ecs: &aws_sdk_ecs::Client, revision: &str, key: &str) -> Result<Option<String>> {
    let described = ecs
        .describe_task_definition()
        .task_definition(revision)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .with_context(|| format!("ECS DescribeTaskDefinition {revision}"))?;
    Ok(described
        .tags()
        .iter()
        .find(|tag| tag.key() == Some(key))
        .and_then(|tag| tag.value())
        .map(str::to_string))
}

/// After a rollback (`mode: rollback`, or the CLI with Sentry configured), Sentry learns that the environment runs the release of the commit
/// the services went back to (their revisions' `deploy-action:commit` tag). That release is
/// older: it gets the deploy, not a new `dateReleased`.
pub async fn tell_sentry(
    sentry: &crate::sentry::Sentry<'_>,
    ecs: &aws_sdk_ecs::Client,
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
    sentry
        .after_rollout(release, started, run_url, false, console)
        .await;
}
