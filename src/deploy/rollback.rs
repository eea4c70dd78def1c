//! Putting services back on a revision and waiting for it: one move, [`put_back`], for the
//! failed rollout (`service::after_failure`), `mode: rollback` and `deploy-action rollback`.
//!
//! "Back" is exact: every revision the action registers carries a `deploy-action:replaces`
//! tag naming the revision it replaced ([`replaced_by`]) — a rollback reads that tag and never
//! guesses "revision − 1". `--to` names the revision when there is no tag. A revision that was
//! deregistered (`deregister-previous`) is registered again first ([`restorable`]).

use super::service::RolloutSettings;
use super::task_definition::{COMMIT_TAG, REPLACES_TAG};
use super::wait::{self, EventLog, Followed, Verdict};
use super::{Journal, Outcome, Rollout, revision_of};
use crate::aws::Ecs;
use crate::aws::ecs::ServiceUpdate;
use crate::console::Console;
use crate::error::Problem;
use anyhow::{Result, anyhow};
use aws_sdk_ecs::types::{Service, TaskDefinitionStatus};
use std::time::Duration;

/// How long a rollback is waited for when the plan does not say (`wait: false`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// One service to move from `from` back to `to`.
#[derive(Debug, Clone, Copy)]
pub struct PutBack<'a> {
    pub service: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

/// How a [`put_back`] ended.
#[derive(Debug)]
pub enum Restored {
    /// UpdateService refused: the service is where it was.
    Refused(anyhow::Error),
    /// Updated to `revision` (ECS's full ARN of `to`); the wait ended with `verdict`.
    Waited { revision: String, verdict: Verdict },
    /// Updated to `revision`, but the wait could not follow it.
    Unfollowed {
        revision: String,
        error: anyhow::Error,
    },
}

/// UpdateService to `back.to` (recorded in the journal), then wait for that deployment.
pub async fn put_back(
    ecs: &Ecs,
    settings: &RolloutSettings,
    back: PutBack<'_>,
    events: &mut EventLog,
    console: &Console,
) -> Restored {
    let update = ServiceUpdate {
        cluster: &settings.cluster,
        service: back.service,
        task_definition: back.to,
        force_new_deployment: None,
        deployment_configuration: None,
    };
    let answer = match ecs.update_service(update).await {
        Ok(answer) => answer,
        Err(error) => return Restored::Refused(error),
    };
    // ECS answers with the full ARN; the revision may have been named as FAMILY:N.
    let revision = answer
        .as_ref()
        .and_then(|service| service.task_definition())
        .unwrap_or(back.to)
        .to_string();
    settings.record(back.service, back.from, &revision);
    let followed = Followed::from_update(answer.as_ref(), &revision);
    let timeout = settings.wait_timeout.unwrap_or(DEFAULT_TIMEOUT);
    match wait::wait_for_rollout(
        ecs,
        &settings.poller,
        back.service,
        &followed,
        timeout,
        events,
        console,
    )
    .await
    {
        Ok(verdict) => Restored::Waited { revision, verdict },
        Err(error) => Restored::Unfollowed { revision, error },
    }
}

/// Put every service of `rollout` back (on `to`, or on what its running revision replaced)
/// and wait; what happened to each, as a rollout. Every target is decided before any service
/// moves. The action's `mode: rollback` and the CLI's `rollback` both come here.
pub async fn roll_back(
    ecs: &Ecs,
    rollout: &crate::plan::RolloutPlan,
    to: Option<&str>,
    journal: &Journal,
    console: &Console,
) -> Result<Vec<Rollout>> {
    let services = ecs
        .existing_services(&rollout.cluster, &rollout.services)
        .await?;
    for service in &services {
        // CODE_DEPLOY and EXTERNAL services take no revision through UpdateService, back or not.
        super::check_controller(service)?;
    }
    let mut moves = Vec::new();
    let mut stops = Vec::new();
    // Services that go back to the same INACTIVE revision share one registration of it.
    let mut restored: std::collections::BTreeMap<String, String> =
        std::collections::BTreeMap::new();
    for service in &services {
        let name = service.service_name().unwrap_or_default().to_string();
        let running = service.task_definition().unwrap_or_default().to_string();
        // Mid-way through ECS's own blue/green, linear or canary deployment (its bake
        // included), ECS rolls it back by its strategy: an UpdateService would start a second
        // deployment over the first.
        if to.is_none()
            && let Some(arn) = ongoing_service_deployment(ecs, service).await?
        {
            stops.push((name, running, arn));
            continue;
        }
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
        let target = match restored.get(&target) {
            Some(again) => again.clone(),
            None => {
                let again = restorable(ecs, &target, console).await?;
                restored.insert(target, again.clone());
                again
            }
        };
        moves.push((name, running, target));
    }
    let settings = RolloutSettings::for_services(rollout, rollout.services.clone(), journal);
    let mut done = Vec::new();
    let timeout = rollout.wait_timeout.unwrap_or(Duration::from_secs(1800));
    for (name, running, arn) in stops {
        let started = std::time::Instant::now();
        if !super::native::roll_back(ecs, &name, &arn, timeout, console).await? {
            return Err(Problem::new(format!(
                "{name}: ECS's rollback of service deployment {arn} did not finish"
            ))
            .hint("`deploy-action status` shows where it stands")
            .into());
        }
        let back = settings.poller.describe(ecs, &name).await?;
        let revision = back.task_definition().unwrap_or_default().to_string();
        console.line(&format!(
            "{name}: back on {} (ECS rolled its deployment back)",
            revision_of(&revision)
        ));
        let (up, desired) = (back.running_count(), back.desired_count());
        done.push(back_on(
            name,
            running,
            revision,
            (up, desired),
            started,
            Vec::new(),
        ));
    }
    for (name, running, target) in moves {
        console.line(&format!(
            "{name}: {} → {}",
            revision_of(&running),
            revision_of(&target)
        ));
        let started = std::time::Instant::now();
        let mut events = EventLog::default();
        let back = PutBack {
            service: &name,
            from: &running,
            to: &target,
        };
        let (revision, verdict) = match put_back(ecs, &settings, back, &mut events, console).await {
            Restored::Waited { revision, verdict } => (revision, verdict),
            Restored::Refused(error) | Restored::Unfollowed { error, .. } => return Err(error),
        };
        match verdict {
            Verdict::Done {
                running: up,
                desired,
            } => {
                console.line(&format!(
                    "{name}: back on {} ({up}/{desired} running)",
                    revision_of(&revision)
                ));
                done.push(back_on(
                    name,
                    running,
                    revision,
                    (up, desired),
                    started,
                    events.printed,
                ));
            }
            Verdict::Failed(reason) | Verdict::TimedOut(reason) => {
                return Err(
                    Problem::new(format!("rolling {name} back to {revision}: {reason}"))
                        .hint("the service events above say why")
                        .into(),
                );
            }
        }
    }
    // In the order the services were named, whichever way each went back.
    done.sort_by_key(|back| {
        rollout
            .services
            .iter()
            .position(|name| name.rsplit('/').next() == Some(back.service.as_str()))
    });
    Ok(done)
}

/// A service back on `revision` with `running` of `desired` tasks.
fn back_on(
    service: String,
    from: String,
    revision: String,
    (running, desired): (i32, i32),
    started: std::time::Instant,
    events: Vec<String>,
) -> Rollout {
    Rollout {
        service,
        previous_task_definition: from,
        task_definition: revision,
        changed_containers: Vec::new(),
        outcome: Outcome::Completed { running, desired },
        duration: started.elapsed(),
        events,
    }
}

/// The service deployment of ECS's own strategy that is still going on the service (its bake
/// included), if any.
async fn ongoing_service_deployment(ecs: &Ecs, service: &Service) -> Result<Option<String>> {
    let (Some(_), Some(arn)) = (
        super::native::native_strategy(service),
        service.current_service_deployment(),
    ) else {
        return Ok(None);
    };
    let found = ecs.describe_service_deployments(&[arn.to_string()]).await?;
    Ok(found
        .first()
        .filter(|deployment| {
            matches!(
                super::native::assess(deployment),
                super::native::Standing::Going | super::native::Standing::Baking
            )
        })
        .map(|_| arn.to_string()))
}

/// A revision a service can be put on. ECS refuses an INACTIVE one ("you can't update an
/// existing service to reference an INACTIVE task definition", DeregisterTaskDefinition in the
/// API reference) — which is what `deregister-previous` makes of the revision a deploy replaced —
/// so an INACTIVE revision's definition is registered again, with its tags, as a new revision.
async fn restorable(ecs: &Ecs, revision: &str, console: &Console) -> Result<String> {
    let (task_definition, tags) = ecs.task_definition_with_tags(revision).await?;
    if task_definition.status() != Some(&TaskDefinitionStatus::Inactive) {
        return Ok(revision.to_string());
    }
    let again = ecs.register(&task_definition, &tags).await?;
    let arn = again
        .task_definition_arn()
        .ok_or_else(|| anyhow!("RegisterTaskDefinition of {revision} returned no ARN"))?
        .to_string();
    console.line(&format!(
        "{} is INACTIVE (deregistered), and ECS runs no service on it: registered its definition again as {}",
        revision_of(revision),
        revision_of(&arn)
    ));
    Ok(arn)
}

/// The revision `running` replaced, from its `deploy-action:replaces` tag.
pub async fn replaced_by(ecs: &Ecs, running: &str) -> Result<Option<String>> {
    tag_of(ecs, running, REPLACES_TAG).await
}

/// The commit a revision the action registered was deployed from (its `deploy-action:commit`
/// tag); `None` for a revision registered by anything else.
pub async fn commit_of(ecs: &Ecs, revision: &str) -> Result<Option<String>> {
    tag_of(ecs, revision, COMMIT_TAG).await
}

async fn tag_of(ecs: &Ecs, revision: &str, key: &str) -> Result<Option<String>> {
    let (_, tags) = ecs.task_definition_with_tags(revision).await?;
    Ok(tags
        .iter()
        .find(|tag| tag.key() == Some(key))
        .and_then(|tag| tag.value())
        .map(str::to_string))
}
