//! One service's rollout, start to finish: wait for an earlier deployment, update, follow ours,
//! and on failure collect the evidence and roll back.

use super::rollback::{PutBack, Restored, put_back};
use super::wait::{self, EventLog, Followed, Verdict};
use super::{
    Failure, Journal, NewRevision, Outcome, Rollout, Target, Update, evidence, native, revision_of,
};
use crate::aws::Ecs;
use crate::aws::ecs::ServiceUpdate;
use crate::console::Console;
use crate::error::{Problem, one_line};
use crate::plan::RolloutPlan;
use anyhow::{Result, anyhow};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What every service's rollout shares.
#[derive(Debug, Clone)]
pub struct RolloutSettings {
    pub cluster: String,
    /// The run's shared DescribeServices.
    pub poller: std::sync::Arc<wait::Poller>,
    /// Where each update is recorded as it happens.
    pub journal: Journal,
    pub wait_timeout: Option<Duration>,
    pub rollback_on_failure: bool,
    pub evidence_in_summary: bool,
    pub force_new_deployment: bool,
    /// Under ECS's own strategies: wait until the bake ends, not only until production traffic
    /// moved.
    pub wait_through_bake: bool,
    /// What a pause hook's gate checks (`test-traffic-url`, `health-check-url`).
    pub pause_checks: super::pause::PauseChecks,
}

impl RolloutSettings {
    /// The settings of one run's rollouts: `targets` share one poller, and every update
    /// (ours and our rollbacks) goes into `journal`.
    pub fn new(plan: &RolloutPlan, targets: &[Target], journal: &Journal) -> Self {
        let names = targets.iter().map(|t| t.name().to_string()).collect();
        Self::for_services(plan, names, journal)
    }

    /// The settings for rolling `names` (their poller shares reads) of the plan's cluster.
    pub fn for_services(plan: &RolloutPlan, names: Vec<String>, journal: &Journal) -> Self {
        Self {
            cluster: plan.cluster.clone(),
            poller: std::sync::Arc::new(wait::Poller::new(&plan.cluster, names)),
            journal: journal.clone(),
            wait_timeout: plan.wait_timeout,
            rollback_on_failure: plan.rollback_on_failure,
            evidence_in_summary: plan.evidence_in_summary,
            force_new_deployment: plan.force_new_deployment,
            wait_through_bake: plan.wait_through_bake,
            pause_checks: super::pause::PauseChecks::of(plan),
        }
    }

    pub fn record(&self, service: &str, previous: &str, revision: &str) {
        self.journal.record(Update {
            cluster: self.cluster.clone(),
            service: service.to_string(),
            previous: previous.to_string(),
            revision: revision.to_string(),
        });
    }
}

/// Roll every target at once; each gets its own result, in the order of `targets`.
pub async fn roll_all(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    targets: Vec<Target>,
    revisions: &BTreeMap<String, Option<NewRevision>>,
    console: &Console,
) -> Result<Vec<Rollout>> {
    let mut running = tokio::task::JoinSet::new();
    let count = targets.len();
    for (index, target) in targets.into_iter().enumerate() {
        let revision = revisions.get(&target.base_key()).cloned().flatten();
        let (ecs, logs, settings, console) =
            (ecs.clone(), logs.clone(), settings.clone(), *console);
        running.spawn(async move {
            let rollout = roll_one(&ecs, &logs, &settings, &target, revision, &console).await;
            let rollout = match rollout {
                Ok(rollout) => rollout,
                Err(error) => unfinished(&ecs, &settings, &target, error, &console).await,
            };
            (index, rollout)
        });
    }
    let mut results: Vec<Option<Rollout>> = vec![None; count];
    while let Some(joined) = running.join_next().await {
        let (index, rollout) = joined.map_err(|error| anyhow!("a rollout task died: {error}"))?;
        results[index] = Some(rollout);
    }
    Ok(results.into_iter().flatten().collect())
}

/// An AWS call failed part-way: say where the service is now.
async fn unfinished(
    ecs: &Ecs,
    settings: &RolloutSettings,
    target: &Target,
    error: anyhow::Error,
    console: &Console,
) -> Rollout {
    let previous = target.task_definition_arn().to_string();
    let left_on = match settings.poller.describe(ecs, target.name()).await {
        Ok(service) => service.task_definition().unwrap_or("unknown").to_string(),
        Err(_) => "unknown (describe the service to see)".to_string(),
    };
    let reason = one_line(&error);
    console.line(&format!("{}: {reason}", target.name()));
    Rollout {
        service: target.name().to_string(),
        task_definition: left_on.clone(),
        changed_containers: Vec::new(),
        outcome: Outcome::Failed(Failure {
            reason: match crate::error::hint_of(&error) {
                Some(hint) => format!("{reason} ({hint})"),
                None => reason,
            },
            evidence: None,
            log_lines: None,
            rolled_back: left_on == previous,
            left_on,
        }),
        previous_task_definition: previous,
        duration: Duration::ZERO,
        events: Vec::new(),
    }
}

pub async fn roll_one(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    target: &Target,
    revision: Option<NewRevision>,
    console: &Console,
) -> Result<Rollout> {
    let started = Instant::now();
    let name = target.name();
    let running = target.task_definition_arn().to_string();
    // What this rollout replaces and a rollback goes back to: the revision that serves — never
    // a failing deployment's (a hotfix over a stuck deployment supersedes it).
    let previous = target.serving.clone();
    let mut events = EventLog::default();
    events.remember(&target.service);
    let finish = |task_definition: String,
                  changed: Vec<String>,
                  outcome: Outcome,
                  events: EventLog| Rollout {
        service: name.to_string(),
        previous_task_definition: previous.clone(),
        task_definition,
        changed_containers: changed,
        outcome,
        duration: started.elapsed(),
        events: events.printed,
    };
    let ours = match revision {
        Some(revision) => revision,
        None if !settings.force_new_deployment => {
            console.line(&format!(
                "{name} already runs this image ({running}): nothing to do"
            ));
            return Ok(finish(
                running.clone(),
                Vec::new(),
                Outcome::AlreadyCurrent,
                events,
            ));
        }
        // Forced: a new deployment of the revision it runs.
        None => NewRevision {
            arn: running.clone(),
            task_definition: target.running.clone(),
            changed: Vec::new(),
        },
    };

    // The preflight's read stands for the idle check while it is seconds old and showed no
    // other deployment (a promotion gets here in well under a second): one call fewer.
    let fresh = target.described_at.elapsed() < Duration::from_secs(10)
        && wait::busy(&target.service).is_none();
    if let Some(timeout) = settings.wait_timeout.filter(|_| !fresh) {
        let idle =
            wait::wait_until_idle(ecs, &settings.poller, name, timeout, &mut events, console)
                .await?;
        let now = idle.task_definition().unwrap_or_default();
        if now != running {
            return Err(Problem::new(format!(
                "{name} moved from {running} to {now} while we were building; nothing was changed"
            ))
            .hint(
                "another deploy changed the service; use `concurrency:` in the workflow and re-run",
            )
            .into());
        }
    }
    let updated = ecs
        .update_service(ServiceUpdate {
            cluster: &settings.cluster,
            service: name,
            task_definition: &ours.arn,
            force_new_deployment: Some(settings.force_new_deployment || ours.arn == running),
            deployment_configuration: target.deployment_configuration.as_ref(),
        })
        .await?;
    // Followed by the id UpdateService answered with (as amazon-ecs-deploy-task-definition
    // does): DescribeServices right after may not show it yet, and a forced redeploy shares
    // its revision with the deployment before it.
    settings.record(name, &previous, &ours.arn);
    let followed = Followed::from_update(updated.as_ref(), &ours.arn);
    console.line(&match &followed.deployment_id {
        Some(id) => format!("{name}: updated to {} (deployment {id})", ours.arn),
        None => format!("{name}: updated to {}", ours.arn),
    });
    if let Some(configuration) = &target.deployment_configuration {
        console.line(&format!(
            "{name}: deployment strategy set with the update: {}",
            super::strategy::describe(configuration)
        ));
    }

    let Some(timeout) = settings.wait_timeout else {
        return Ok(finish(
            ours.arn.clone(),
            ours.changed.clone(),
            Outcome::Started,
            events,
        ));
    };
    // ECS's own blue/green, linear or canary: followed as a service deployment.
    if let Some(strategy) = native::strategy_of(target.configuration()) {
        let native = NativeRollout {
            service: name,
            previous: &previous,
            ours: &ours,
            strategy: strategy.as_str(),
            updated: updated.as_ref(),
            timeout,
        };
        let outcome = follow_native(ecs, logs, settings, native, console).await;
        return Ok(finish(
            ours.arn.clone(),
            ours.changed.clone(),
            outcome,
            events,
        ));
    }
    let verdict = match wait::wait_for_rollout(
        ecs,
        &settings.poller,
        name,
        &followed,
        timeout,
        &mut events,
        console,
    )
    .await
    {
        Ok(verdict) => verdict,
        // The update went through: that is known, whatever a later (possibly stale) read says.
        Err(error) => {
            let failure = Failure {
                reason: format!(
                    "updated to {}, but its rollout could not be followed: {}",
                    ours.arn,
                    one_line(&error)
                ),
                evidence: None,
                log_lines: None,
                left_on: ours.arn.clone(),
                rolled_back: false,
            };
            console.line(&format!("{name}: {}", failure.reason));
            return Ok(finish(
                ours.arn.clone(),
                ours.changed.clone(),
                Outcome::Failed(failure),
                events,
            ));
        }
    };
    let outcome = match verdict {
        Verdict::Done { running, desired } => {
            console.line(&format!(
                "{name}: {} runs {running}/{desired} tasks",
                ours.arn
            ));
            Outcome::Completed { running, desired }
        }
        Verdict::Failed(reason) | Verdict::TimedOut(reason) => {
            let failed = FailedRollout {
                service: name,
                previous: &previous,
                ours: &ours,
                reason,
            };
            let failure = after_failure(ecs, logs, settings, failed, &mut events, console).await;
            Outcome::Failed(failure)
        }
    };
    Ok(finish(
        ours.arn.clone(),
        ours.changed.clone(),
        outcome,
        events,
    ))
}

/// A rollout under ECS's own strategy, just updated.
struct NativeRollout<'a> {
    service: &'a str,
    previous: &'a str,
    ours: &'a NewRevision,
    strategy: &'a str,
    updated: Option<&'a aws_sdk_ecs::types::Service>,
    timeout: Duration,
}

/// Follow the service deployment our UpdateService started to production traffic (or, with
/// `wait-through-bake`, to its end). ECS's own rollback fails the step naming why, and is never
/// doubled; our timeout rolls back with StopServiceDeployment(ROLLBACK).
async fn follow_native(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    native: NativeRollout<'_>,
    console: &Console,
) -> Outcome {
    let NativeRollout {
        service: name,
        previous,
        ours,
        strategy,
        updated,
        timeout,
    } = native;
    let failed = |reason: String, left_on: &str, evidence: (Option<String>, Option<String>)| {
        console.line(&format!("{name}: {reason}"));
        Outcome::Failed(Failure {
            reason,
            evidence: evidence.0,
            log_lines: evidence.1,
            rolled_back: left_on == previous,
            left_on: left_on.to_string(),
        })
    };
    let since = native::Since::now();
    let arn = match native::find(
        ecs,
        &settings.cluster,
        name,
        updated,
        since,
        wait::VISIBILITY_GRACE,
    )
    .await
    {
        Ok(arn) => arn,
        Err(error) => {
            return failed(
                format!(
                    "updated to {} ({strategy}), but its service deployment could not be followed: {}",
                    ours.arn,
                    one_line(&error)
                ),
                &ours.arn,
                (None, None),
            );
        }
    };
    console.line(&format!("{name}: {strategy} service deployment {arn}"));
    let ending = follow_through_pauses(ecs, settings, (name, &arn), timeout, console).await;
    let serving = |fallback: &str| {
        let fallback = fallback.to_string();
        async move {
            settings
                .poller
                .describe(ecs, name)
                .await
                .ok()
                .and_then(|service| service.task_definition().map(str::to_string))
                .unwrap_or(fallback)
        }
    };
    match ending {
        native::Ending::Succeeded { running, desired } => {
            console.line(&format!(
                "{name}: {} runs {running}/{desired} tasks ({strategy} deployment successful)",
                ours.arn
            ));
            Outcome::Completed { running, desired }
        }
        native::Ending::Baking { until } => {
            console.line(&format!(
                "{name}: production traffic is on {}; ECS bakes it{} and rolls back by itself if an alarm fires",
                revision_of(&ours.arn),
                until
                    .as_deref()
                    .map(|until| format!(" until {until}"))
                    .unwrap_or_default()
            ));
            Outcome::Baking {
                strategy: strategy.to_string(),
                until,
                service_deployment: arn,
            }
        }
        native::Ending::RolledBackAtPause { reason, finished } => {
            let evidence = collect_evidence(ecs, logs, settings, name, ours, console).await;
            let now = serving(&ours.arn).await;
            let reason = if finished {
                format!(
                    "{reason}; rolled back with ContinueServiceDeployment (ROLLBACK), ECS put revision {} back",
                    revision_of(&now)
                )
            } else {
                format!("{reason}; ECS's rollback did not finish in time")
            };
            failed(reason, &now, evidence)
        }
        // follow_through_pauses answers every pause; were one returned, it is left paused.
        native::Ending::Paused(pause) => {
            let now = serving(&ours.arn).await;
            failed(
                format!("its service deployment was left {}", pause.describe()),
                &now,
                (None, None),
            )
        }
        native::Ending::RolledBackByEcs { reason } => {
            let evidence = collect_evidence(ecs, logs, settings, name, ours, console).await;
            let now = serving(previous).await;
            failed(
                format!(
                    "ECS rolled back its {strategy} deployment: {reason}; {name} runs {} again",
                    revision_of(&now)
                ),
                &now,
                evidence,
            )
        }
        native::Ending::Ended(reason) => {
            let evidence = collect_evidence(ecs, logs, settings, name, ours, console).await;
            let now = serving(&ours.arn).await;
            failed(reason, &now, evidence)
        }
        native::Ending::TimedOut(reason) => {
            let evidence = collect_evidence(ecs, logs, settings, name, ours, console).await;
            if !settings.rollback_on_failure {
                let now = serving(&ours.arn).await;
                return failed(reason, &now, evidence);
            }
            let rolled = native::roll_back(ecs, name, &arn, timeout, console).await;
            let now = serving(&ours.arn).await;
            let reason = match rolled {
                Ok(true) => format!(
                    "{reason}; rolled back with StopServiceDeployment (ROLLBACK), ECS put revision {} back",
                    revision_of(&now)
                ),
                Ok(false) => format!(
                    "{reason}; StopServiceDeployment (ROLLBACK) was asked for, and ECS's rollback did not finish in time"
                ),
                Err(error) => format!("{reason}; the rollback failed: {}", one_line(&error)),
            };
            failed(reason, &now, evidence)
        }
    }
}

/// Follow the service deployment to its end as [`native::follow`] sees it, deciding at each
/// pause hook ([`super::pause::decide`]): continued, rolled back, or left to a person (then
/// followed on, under the same deadline). It never returns [`native::Ending::Paused`].
async fn follow_through_pauses(
    ecs: &Ecs,
    settings: &RolloutSettings,
    (name, arn): (&str, &str),
    timeout: Duration,
    console: &Console,
) -> native::Ending {
    let deadline = tokio::time::Instant::now() + timeout;
    let held = super::pause::Held {
        cluster: &settings.cluster,
        service: name,
        arn,
    };
    let mut answered = Vec::new();
    loop {
        let following = native::Following {
            service: name,
            arn,
            timeout,
            deadline,
            through_bake: settings.wait_through_bake,
            answered: &answered,
        };
        let could_not = |error: anyhow::Error| {
            native::Ending::Ended(format!(
                "its service deployment could not be followed: {}",
                one_line(&error)
            ))
        };
        let pause = match native::follow(ecs, &following, console).await {
            Ok(native::Ending::Paused(pause)) => pause,
            Ok(ending) => return ending,
            Err(error) => return could_not(error),
        };
        let checks = &settings.pause_checks;
        // A rollback is followed as long as the whole wait may take, as after our timeout.
        let decided = super::pause::decide(ecs, held, &pause, checks, timeout, console).await;
        match decided {
            Ok(super::pause::Decision::Continued | super::pause::Decision::LeftToAPerson) => {
                answered.push(pause.hook_id);
            }
            Ok(super::pause::Decision::RolledBack { reason, finished }) => {
                return native::Ending::RolledBackAtPause { reason, finished };
            }
            Err(error) => return could_not(error),
        }
    }
}

/// The stopped tasks of our revision and their last log lines, printed to the step log; the
/// brief for the report, and the log lines for the summary when evidence-in-summary says so.
async fn collect_evidence(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    name: &str,
    ours: &NewRevision,
    console: &Console,
) -> (Option<String>, Option<String>) {
    let found =
        match evidence::stopped_tasks(ecs, logs, &settings.cluster, name, &ours.task_definition)
            .await
        {
            Ok(found) => found,
            Err(error) => Some(evidence::Evidence {
                brief: format!(
                    "(could not collect the stopped tasks: {})",
                    one_line(&error)
                ),
                log_lines: String::new(),
            }),
        };
    // Everything goes to the step log (each line neutralised); the log lines — application
    // output — go nowhere else unless evidence-in-summary says so.
    if let Some(found) = &found {
        let _group = console.group(&format!("why {name} failed"));
        found.brief.lines().for_each(|line| console.line(line));
        found.log_lines.lines().for_each(|line| console.line(line));
    }
    let brief = found.as_ref().map(|found| found.brief.clone());
    let log_lines = found
        .filter(|found| settings.evidence_in_summary && !found.log_lines.is_empty())
        .map(|found| found.log_lines);
    (brief, log_lines)
}

/// A rollout that did not complete: what is needed to explain and repair it.
pub struct FailedRollout<'a> {
    pub service: &'a str,
    /// The revision the service ran before.
    pub previous: &'a str,
    pub ours: &'a NewRevision,
    pub reason: String,
}

/// Collect the evidence, then put the previous revision back unless ECS already did.
pub async fn after_failure(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    settings: &RolloutSettings,
    failed: FailedRollout<'_>,
    events: &mut EventLog,
    console: &Console,
) -> Failure {
    let FailedRollout {
        service: name,
        previous,
        ours,
        reason,
    } = failed;
    let (evidence, log_lines) = collect_evidence(ecs, logs, settings, name, ours, console).await;
    let now = settings
        .poller
        .describe(ecs, name)
        .await
        .ok()
        .and_then(|service| service.task_definition().map(str::to_string))
        .unwrap_or_else(|| ours.arn.clone());
    let failure = |reason: String, left_on: &str| Failure {
        reason,
        evidence: evidence.clone(),
        log_lines: log_lines.clone(),
        rolled_back: left_on == previous,
        left_on: left_on.to_string(),
    };
    if now != ours.arn || previous == ours.arn || !settings.rollback_on_failure {
        return failure(reason, &now);
    }
    console.line(&format!("{name}: rolling back to {previous}"));
    let back = PutBack {
        service: name,
        from: &ours.arn,
        to: previous,
    };
    match put_back(ecs, settings, back, events, console).await {
        Restored::Refused(error) => failure(
            format!(
                "{reason}; the rollback to {previous} failed: {}",
                one_line(&error)
            ),
            &ours.arn,
        ),
        Restored::Waited {
            verdict: Verdict::Done { .. },
            ..
        } => {
            console.line(&format!("{name}: rolled back to {}", revision_of(previous)));
            failure(
                format!(
                    "{reason}; rolled back to revision {}",
                    revision_of(previous)
                ),
                previous,
            )
        }
        Restored::Waited {
            verdict: Verdict::Failed(why) | Verdict::TimedOut(why),
            ..
        } => failure(
            format!("{reason}; the rollback to {previous} did not complete: {why}"),
            previous,
        ),
        Restored::Unfollowed { error, .. } => failure(
            format!(
                "{reason}; the rollback to {previous} could not be followed: {}",
                one_line(&error)
            ),
            previous,
        ),
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
