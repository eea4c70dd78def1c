//! Stage 5, deploy: roll each ECS service to a new task-definition revision pinned to the
//! pushed digest, and (when asked) wait until that revision is what the service runs.
//!
//! preflight (before anything is built): DescribeServices → DescribeTaskDefinition (with tags)
//! → render check. Then: render → RegisterTaskDefinition once per base revision → per service,
//! concurrently: wait for an earlier deployment → UpdateService → wait for *our* deployment →
//! on failure, evidence and rollback → after success, health check and housekeeping.

pub mod command;
pub mod diff;
pub mod evidence;
pub mod health;
pub mod native;
pub mod one_off;
pub mod pause;
pub mod post_rollout;
pub mod rollback;
pub mod service;
pub mod strategy;
pub mod task_definition;
pub mod task_definition_file;
pub mod wait;

use crate::auth::AwsSession;
use crate::aws::Ecs;
use crate::console::Console;
use crate::error::Problem;
use crate::image::PushedImage;
use crate::plan::Plan;
use anyhow::{Context, Result};
use aws_sdk_ecs::types::{Service, Tag, TaskDefinition};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `arn:…:task-definition/back-end:7` → `back-end:7`.
pub fn revision_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// A service this run updated, as UpdateService answered: what a cancelled run must report,
/// since ECS goes on rolling it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub cluster: String,
    pub service: String,
    pub previous: String,
    pub revision: String,
}

/// A one-off task this run started and has not seen stop: a cancelled run stops it.
#[derive(Debug, Clone)]
pub struct RunningTask {
    pub ecs: Ecs,
    pub cluster: String,
    pub task_arn: String,
    /// What started it: `pre-deploy-command`, `deploy-action run`.
    pub what: &'static str,
}

/// What this run changed so far, shared with the report: it outlives a run that is cancelled in
/// the middle of its rollouts or of a one-off task.
#[derive(Debug, Clone, Default)]
pub struct Journal(std::sync::Arc<std::sync::Mutex<Changes>>);

#[derive(Debug, Default)]
struct Changes {
    updates: Vec<Update>,
    running_task: Option<RunningTask>,
}

impl Journal {
    fn changes(&self) -> std::sync::MutexGuard<'_, Changes> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn record(&self, update: Update) {
        self.changes().updates.push(update);
    }

    pub fn updates(&self) -> Vec<Update> {
        self.changes().updates.clone()
    }

    /// A one-off task started (`Some`) or was seen to stop (`None`).
    pub fn set_running_task(&self, task: Option<RunningTask>) {
        self.changes().running_task = task;
    }

    pub fn running_task(&self) -> Option<RunningTask> {
        self.changes().running_task.clone()
    }
}

/// The base key of every target rendered from the `task-definition` file.
const FILE_BASE: &str = "the task-definition file";

/// A service to roll, as it was before we changed anything.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: Service,
    /// The revision the service runs now.
    pub running: TaskDefinition,
    /// The revision that serves: `running`, unless its deployment is failing (then the one
    /// before it). The new revision replaces this one, and a rollback goes back to it.
    pub serving: String,
    /// What the new revision is rendered from: `running`, or the `task-definition` file.
    pub base: TaskDefinition,
    /// The tags the new revision gets.
    pub tags: Vec<Tag>,
    /// The containers the new revision points at the image, chosen once per base revision.
    pub containers: Vec<String>,
    /// When `service` was read: a read seconds old is the idle check itself.
    pub described_at: std::time::Instant,
    /// The deployment configuration the update sets (the service's own with the run's
    /// strategy settings in it); `None` when the run asks for none.
    pub deployment_configuration: Option<aws_sdk_ecs::types::DeploymentConfiguration>,
}

impl Target {
    pub fn name(&self) -> &str {
        self.service.service_name().unwrap_or_default()
    }

    /// The ARN of the revision the service runs now.
    pub fn task_definition_arn(&self) -> &str {
        self.running.task_definition_arn().unwrap_or_default()
    }

    /// The deployment configuration the rollout runs under: the one it sets, else the
    /// service's.
    pub fn configuration(&self) -> Option<&aws_sdk_ecs::types::DeploymentConfiguration> {
        self.deployment_configuration
            .as_ref()
            .or(self.service.deployment_configuration())
    }

    /// Targets with the same key get the same new revision.
    pub fn base_key(&self) -> String {
        if self.base == self.running {
            self.task_definition_arn().to_string()
        } else {
            FILE_BASE.to_string()
        }
    }
}

/// What happened to one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollout {
    /// Named by the record that holds it (`report::ServiceRelease`).
    #[serde(skip)]
    pub service: String,
    pub previous_task_definition: String,
    pub task_definition: String,
    pub changed_containers: Vec<String>,
    pub outcome: Outcome,
    #[serde(rename = "seconds", serialize_with = "crate::json::seconds")]
    pub duration: Duration,
    /// Service events seen while rolling, oldest first.
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    /// The new revision runs with every desired task.
    Completed {
        running: i32,
        desired: i32,
    },
    /// Under ECS's own strategy, production traffic is wholly on the new revision and ECS bakes
    /// it (both revisions run; ECS rolls back by itself if an alarm fires). Not waited out unless
    /// asked.
    Baking {
        strategy: String,
        /// When the bake ends at the latest (UTC, RFC 3339), when the deployment says.
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        service_deployment: String,
    },
    /// Updated, not waited for (`wait: false`).
    Started,
    /// The service already ran this digest: nothing registered, nothing updated.
    AlreadyCurrent,
    Failed(Failure),
}

/// A failed rollout, with why and where the service was left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub reason: String,
    /// Stopped tasks, exit codes, and links to their logs in CloudWatch.
    pub evidence: Option<String>,
    /// The crashed containers' last log lines, for the summary: only with evidence-in-summary
    /// (they are always in the step log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_lines: Option<String>,
    /// The revision the service runs now (as far as ECS says).
    pub left_on: String,
    /// Whether that is the previous revision again (ECS's circuit breaker or our rollback).
    pub rolled_back: bool,
}

impl Rollout {
    /// `service: why (the service now runs …)` and the evidence, when the rollout failed.
    pub fn failure_text(&self) -> Option<String> {
        let failure = self.outcome.failure()?;
        let mut text = format!(
            "{}: {} (the service now runs {})",
            self.service, failure.reason, failure.left_on
        );
        if let Some(evidence) = &failure.evidence {
            text.push('\n');
            text.push_str(evidence.trim_end());
        }
        Some(text)
    }
}

impl Outcome {
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}

/// Before anything is built or pushed: every planned service exists, and the containers to
/// update can be found in the task definition it runs. Read-only.
pub async fn preflight(plan: &Plan, session: &AwsSession) -> Result<Vec<Target>> {
    targets(&Ecs::new(&session.config), plan).await
}

/// The planned services with the revisions they run and the one to render from.
async fn targets(ecs: &Ecs, plan: &Plan) -> Result<Vec<Target>> {
    let Some(rollout) = &plan.rollout else {
        return Ok(Vec::new());
    };
    let described_at = std::time::Instant::now();
    let (described, failures) = ecs
        .describe_services(&rollout.cluster, &rollout.services)
        .await?;
    let file = match &rollout.task_definition_file {
        Some(path) => Some(task_definition_file::load(path).await?),
        None => None,
    };
    let mut task_definitions: BTreeMap<String, (TaskDefinition, Vec<Tag>)> = BTreeMap::new();
    let mut selections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut targets = Vec::new();
    for name in &rollout.services {
        let service = described
            .iter()
            .find(|s| {
                s.service_name() == Some(name.as_str()) || s.service_arn() == Some(name.as_str())
            })
            .filter(|s| s.status() != Some("INACTIVE"))
            .ok_or_else(|| missing_service(name, &rollout.cluster, &failures))?;
        check_controller(service)?;
        let deployment_configuration = rollout
            .strategy
            .as_ref()
            .map(|change| strategy::merged(service.deployment_configuration(), change));
        if let Some(configuration) = deployment_configuration
            .as_ref()
            .or(service.deployment_configuration())
        {
            strategy::check(service, configuration)?;
            check_wait(name, configuration, rollout)?;
        }
        pause::check_test_traffic(
            service,
            deployment_configuration
                .as_ref()
                .or(service.deployment_configuration()),
            rollout,
        )?;
        let arn = service
            .task_definition()
            .context("the service has no task definition")?
            .to_string();
        if !task_definitions.contains_key(&arn) {
            let current = ecs.task_definition_with_tags(&arn).await?;
            task_definitions.insert(arn.clone(), current);
        }
        let (running, running_tags) = task_definitions[&arn].clone();
        let (base, tags) = file.clone().unwrap_or((running.clone(), running_tags));
        let base_key = if file.is_some() {
            FILE_BASE.to_string()
        } else {
            arn.clone()
        };
        let containers = match selections.get(&base_key) {
            Some(selected) => selected.clone(),
            None => {
                // The registry host the task definition uses for the repository: the
                // selection compares `host/repo`, and the pushed host may differ (a pull
                // through cache, another account's registry).
                let repository = format!(
                    "{}/{}",
                    registry_in(&base, &plan.image.repository),
                    plan.image.repository
                );
                let selected =
                    task_definition::select(&base, &rollout.container_names, &repository)
                        .with_context(|| format!("checking service {name}"))?;
                task_definition::check_edits(&base, &rollout.edits)
                    .with_context(|| format!("checking service {name}"))?;
                if let Some(container) = rollout
                    .pre_deploy
                    .as_ref()
                    .and_then(|p| p.container.as_deref())
                {
                    task_definition::check_container(&base, container, "pre-deploy-container")
                        .with_context(|| format!("checking service {name}"))?;
                }
                selections.insert(base_key, selected.clone());
                selected
            }
        };
        targets.push(Target {
            serving: wait::serving_revision(service),
            service: service.clone(),
            running,
            base,
            tags,
            containers,
            described_at,
            deployment_configuration,
        });
    }
    Ok(targets)
}

/// A wait shorter than the least time ECS takes to move production traffic under the
/// strategy would time out and roll back a healthy release: said before anything is built.
fn check_wait(
    name: &str,
    configuration: &aws_sdk_ecs::types::DeploymentConfiguration,
    rollout: &crate::plan::RolloutPlan,
) -> Result<()> {
    let Some(timeout) = rollout.wait_timeout else {
        return Ok(());
    };
    let least = strategy::least_awaited(configuration, rollout.wait_through_bake);
    if least <= timeout {
        return Ok(());
    }
    let awaited = if rollout.wait_through_bake {
        "to the end of its bake (wait-through-bake)"
    } else {
        "until production traffic is wholly on the new revision"
    };
    Err(Problem::new(format!(
        "service {name} deploys with {}, so ECS takes at least {} minutes {awaited} — longer \
         than wait-timeout-minutes ({}): the step would time out and roll back a healthy \
         release; nothing was built or pushed",
        strategy::describe(configuration),
        least.as_secs() / 60,
        timeout.as_secs() / 60
    ))
    .hint(format!(
        "set wait-timeout-minutes to at least {} (plus the time the tasks take to start)",
        least.as_secs() / 60 + 5
    ))
    .into())
}

fn missing_service(
    name: &str,
    cluster: &str,
    failures: &[aws_sdk_ecs::types::Failure],
) -> anyhow::Error {
    let reason = failures
        .iter()
        .find(|f| {
            f.arn()
                .is_some_and(|arn| arn.ends_with(&format!("/{name}")) || arn == name)
        })
        .and_then(|f| f.reason())
        .unwrap_or("INACTIVE");
    Problem::new(format!(
        "service {name} is not in cluster {cluster} ({reason})"
    ))
    .hint("check ecs-cluster and ecs-services (names are case-sensitive) and aws-region")
    .into()
}

/// Only services on the ECS deployment controller take a new revision through UpdateService:
/// ECS refuses it for CODE_DEPLOY (blue/green) and EXTERNAL ones. Said before anything is built.
pub(crate) fn check_controller(service: &Service) -> Result<()> {
    use aws_sdk_ecs::types::DeploymentControllerType;
    let name = service.service_name().unwrap_or_default();
    let controller = service
        .deployment_controller()
        .map(|c| c.r#type().clone())
        .unwrap_or(DeploymentControllerType::Ecs);
    let instead = match controller {
        DeploymentControllerType::Ecs => return Ok(()),
        DeploymentControllerType::CodeDeploy => {
            "deploy it through CodeDeploy (an AppSpec and a CodeDeploy deployment, as \
             aws-actions/amazon-ecs-deploy-task-definition does with `codedeploy-appspec`), \
             or move the service to the ECS deployment controller"
        }
        _ => {
            "an EXTERNAL controller deploys through task sets (CreateTaskSet); use the tool that \
             manages them, or move the service to the ECS deployment controller"
        }
    };
    Err(Problem::new(format!(
        "service {name} uses the {} deployment controller, and ECS refuses new task definitions \
         for it through UpdateService; nothing was built or pushed",
        controller.as_str()
    ))
    .hint(instead)
    .into())
}

/// The registry host the task definition already uses for `repository`, if any.
fn registry_in(task_definition: &TaskDefinition, repository: &str) -> String {
    task_definition
        .container_definitions()
        .iter()
        .filter_map(|c| c.image())
        .map(task_definition::image_name)
        .find_map(|name| name.strip_suffix(&format!("/{repository}")))
        .unwrap_or("registry")
        .to_string()
}

/// Roll every target: one new revision per distinct base revision, then every service at once.
pub async fn roll_out(
    plan: &Plan,
    session: &AwsSession,
    image: &PushedImage,
    targets: Vec<Target>,
    journal: &Journal,
    pre_deployed: &mut Option<one_off::OneOff>,
    console: &Console,
) -> Result<Vec<Rollout>> {
    let Some(rollout) = &plan.rollout else {
        return Ok(Vec::new());
    };
    let ecs = Ecs::new(&session.config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&session.config);
    let revisions = register_revisions(
        &ecs,
        &targets,
        image,
        &rollout.edits,
        // A promoted image's own commit, when it says which.
        image.revision.as_deref().unwrap_or(&plan.source.sha),
        console,
    )
    .await?;
    if let Some(pre) = &rollout.pre_deploy {
        let done = pre_deploy(
            &ecs,
            &logs,
            plan,
            &rollout.cluster,
            pre,
            &targets,
            &revisions,
            journal,
            console,
        )
        .await?;
        let succeeded = done.succeeded();
        *pre_deployed = Some(done.clone());
        if !succeeded {
            return Err(one_off::failure(&done, &pre.command));
        }
    }
    let settings = service::RolloutSettings::new(rollout, &targets, journal);
    let mut rollouts =
        service::roll_all(&ecs, &logs, &settings, targets, &revisions, console).await?;
    if let Some(check) = &rollout.health_check {
        post_rollout::check_health(
            &ecs,
            &logs,
            &settings,
            check,
            &mut rollouts,
            &revisions,
            console,
        )
        .await?;
    }
    if rollout.deregister_previous {
        post_rollout::deregister_replaced(&ecs, &rollout.cluster, &rollouts, console).await;
    }
    Ok(rollouts)
}

/// Run `pre-deploy-command` once, on the revision the first service is about to run (the new
/// one; the current one when nothing changed), with that service's placement.
#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename these.
async fn pre_deploy(
    ecs: &Ecs,
    logs: &aws_sdk_cloudwatchlogs::Client,
    plan: &Plan,
    cluster: &str,
    pre: &crate::plan::PreDeploy,
    targets: &[Target],
    revisions: &BTreeMap<String, Option<NewRevision>>,
    journal: &Journal,
    console: &Console,
) -> Result<one_off::OneOff> {
    let _group = console.group("pre-deploy");
    let target = targets
        .first()
        .context("no service to run the pre-deploy command with")?;
    let (task_definition, changed) =
        match revisions.get(&target.base_key()).and_then(Option::as_ref) {
            Some(new) => (&new.task_definition, new.changed.clone()),
            None => (&target.running, Vec::new()),
        };
    let container = pre
        .container
        .clone()
        .or_else(|| target.containers.first().cloned())
        .or_else(|| changed.first().cloned())
        .context(
            "no container to run the pre-deploy command in: name one with pre-deploy-container",
        )?;
    // A named container was checked against the base revision in the preflight; the revision
    // here is rendered from that base and has the same containers.
    let run = plan
        .source
        .run_url
        .as_deref()
        .and_then(|url| url.rsplit('/').next())
        .unwrap_or("local");
    let started_by: String = format!("deploy-action-{run}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(128)
        .collect();
    let request = one_off::TaskRequest {
        cluster,
        service: &target.service,
        task_definition,
        container: &container,
        command: &pre.command,
        text: pre.text.as_deref(),
        what: "pre-deploy-command",
        started_by,
        timeout: pre.timeout,
        journal,
    };
    one_off::run(ecs, logs, &request, console)
        .await
        .map_err(|error| match error.downcast::<Problem>() {
            Ok(problem) => Problem {
                message: format!("{}; no service was updated", problem.message),
                ..problem
            }
            .into(),
            Err(error) => error.context("pre-deploy-command; no service was updated"),
        })
}

/// What `pre-deploy-command` will execute, and in which container: entryPoint + command of the
/// container it runs in (the new revision is rendered from `base`, whose entryPoints it keeps).
pub fn pre_deploy_invocation(plan: &Plan, targets: &[Target]) -> Option<String> {
    let pre = plan.rollout.as_ref()?.pre_deploy.as_ref()?;
    let target = targets.first()?;
    let container = pre
        .container
        .clone()
        .or_else(|| target.containers.first().cloned())?;
    let entry_point = target
        .base
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some(container.as_str()))
        .map(aws_sdk_ecs::types::ContainerDefinition::entry_point)
        .filter(|entry_point| !entry_point.is_empty());
    let runs = command::invocation(entry_point, &pre.command, pre.text.as_deref());
    Some(format!(
        "pre-deploy-command runs in {container}: {}",
        runs.described()
    ))
}

/// The new revision for each base revision: `None` when the base already runs the image.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub arn: String,
    pub task_definition: TaskDefinition,
    pub changed: Vec<String>,
}

/// Services that run the same revision share one new revision.
async fn register_revisions(
    ecs: &Ecs,
    targets: &[Target],
    image: &PushedImage,
    edits: &crate::plan::containers::ContainerEdits,
    commit: &str,
    console: &Console,
) -> Result<BTreeMap<String, Option<NewRevision>>> {
    let mut revisions = BTreeMap::new();
    for target in targets {
        let base = target.base_key();
        if revisions.contains_key(&base) {
            continue;
        }
        let rendered = task_definition::pin(
            &target.base,
            &target.containers,
            &image.pinned_reference(),
            edits,
        );
        // Nothing RegisterTaskDefinition takes would differ from what runs: no new revision.
        if diff::changes(&target.running, &rendered.task_definition).is_empty() {
            revisions.insert(base, None);
            continue;
        }
        let (tags, dropped) = task_definition::revision_tags(&target.tags, &target.serving, commit);
        if !dropped.is_empty() {
            console.warning(
                "task-definition tags",
                &format!(
                    "{} has {} tags and ECS allows {}: the new revision leaves out {} to carry deploy-action:replaces and deploy-action:commit (what rollback reads)",
                    revision_of(target.task_definition_arn()),
                    target.tags.len(),
                    task_definition::MAX_TAGS,
                    dropped.join(", ")
                ),
            );
        }
        let task_definition = ecs.register(&rendered.task_definition, &tags).await?;
        let arn = task_definition
            .task_definition_arn()
            .context("RegisterTaskDefinition returned no ARN")?
            .to_string();
        console.line(&format!(
            "registered {arn} from {base} ({} → {})",
            rendered.changed.join(", "),
            image.pinned_reference()
        ));
        revisions.insert(
            base,
            Some(NewRevision {
                arn,
                task_definition,
                changed: rendered.changed,
            }),
        );
    }
    Ok(revisions)
}

/// What a real run would do to each service, for `dry-run`: the fields of the new revision
/// that would differ from what the service runs, and the update.
pub fn dry_run(plan: &Plan, targets: &[Target]) -> Result<String> {
    let Some(rollout) = &plan.rollout else {
        return Ok(String::new());
    };
    let mut text = String::new();
    if let Some(runs) = pre_deploy_invocation(plan, targets) {
        text.push_str(&format!("{runs}\n"));
    }
    for target in targets {
        let pinned = format!(
            "{}/{}@<digest of this build>",
            registry_in(&target.base, &plan.image.repository),
            plan.image.repository
        );
        let rendered =
            task_definition::pin(&target.base, &target.containers, &pinned, &rollout.edits);
        let changes = diff::changes(&target.running, &rendered.task_definition);
        let running = revision_of(target.task_definition_arn());
        text.push_str(&format!("service {} (runs {running}):\n", target.name()));
        if changes.is_empty() {
            text.push_str("  nothing would change\n");
            continue;
        }
        for change in &changes {
            text.push_str(&format!(
                "  {}: {} → {}\n",
                change.field, change.before, change.after
            ));
        }
        if let Some(configuration) = target.configuration() {
            let whose = if target.deployment_configuration.is_some() {
                "set by this deploy"
            } else {
                "the service's"
            };
            text.push_str(&format!(
                "  strategy: {} ({whose})\n",
                strategy::describe(configuration)
            ));
        }
        let native = target
            .configuration()
            .filter(|c| native::strategy_of(Some(c)).is_some());
        let wait = match (rollout.wait_timeout, native) {
            (Some(timeout), Some(configuration)) => format!(
                "wait up to {} minutes {} (ECS takes at least {} minutes)",
                timeout.as_secs() / 60,
                if rollout.wait_through_bake {
                    "to the end of the bake"
                } else {
                    "until production traffic is on the new revision and the bake begins"
                },
                strategy::least_awaited(configuration, rollout.wait_through_bake).as_secs() / 60
            ),
            (Some(timeout), None) => format!("wait up to {} minutes", timeout.as_secs() / 60),
            (None, _) => "not wait".into(),
        };
        text.push_str(&format!(
            "  would register a new revision of {}, update the service to it and {wait}\n",
            target.base.family().unwrap_or("?")
        ));
    }
    Ok(text)
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod preflight_tests;
