//! Stage 5, deploy: roll each ECS service to a new task-definition revision pinned to the
//! pushed digest, and (when asked) wait until that revision is what the service runs.
//!
//! Per service: DescribeServices → DescribeTaskDefinition (with tags) → render →
//! RegisterTaskDefinition → UpdateService → wait.

pub mod task_definition;
pub mod wait;

use crate::auth::AwsSession;
use crate::console::Console;
use crate::error::Problem;
use crate::image::PushedImage;
use crate::plan::{Plan, RolloutPlan};
use anyhow::{Context, Result, anyhow};
use aws_sdk_ecs::error::DisplayErrorContext;
use aws_sdk_ecs::types::TaskDefinitionField;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use wait::Progress;

/// What happened to one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub service: String,
    pub previous_task_definition: String,
    pub task_definition: String,
    pub changed_containers: Vec<String>,
    pub outcome: Outcome,
    pub duration: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The new revision runs with every desired task.
    Completed {
        running: i32,
        desired: i32,
    },
    /// Updated, not waited for (`wait: false`).
    Started,
    /// The service already ran this digest: nothing registered, nothing updated.
    AlreadyCurrent,
    Failed(String),
}

/// Before anything is built or pushed: every planned service exists, and the containers to
/// update can be found in the task definition it runs. Read-only.
pub async fn preflight(plan: &Plan, session: &AwsSession) -> Result<()> {
    let Some(rollout) = &plan.rollout else {
        return Ok(());
    };
    let ecs = aws_sdk_ecs::Client::new(&session.config);
    for service_name in &rollout.services {
        let service = describe_service(&ecs, &rollout.cluster, service_name).await?;
        let arn = service
            .task_definition()
            .context("the service has no task definition")?;
        let described = ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|error| {
                anyhow!(
                    "ECS DescribeTaskDefinition {arn}: {}",
                    DisplayErrorContext(&error)
                )
            })?;
        let task_definition = described
            .task_definition()
            .context("ECS returned no task definition")?;
        // Any registry host will do: selection by default compares the repository path.
        let probe = format!(
            "{}/{}@sha256:{}",
            host_of(task_definition, &plan.image.repository),
            plan.image.repository,
            "0".repeat(64)
        );
        task_definition::render(task_definition, &rollout.container_names, &probe)
            .with_context(|| format!("checking service {service_name}"))?;
    }
    Ok(())
}

/// The registry host the task definition already uses for `repository`, if any.
fn host_of(task_definition: &aws_sdk_ecs::types::TaskDefinition, repository: &str) -> String {
    task_definition
        .container_definitions()
        .iter()
        .filter_map(|c| c.image())
        .map(task_definition::image_name)
        .find_map(|name| name.strip_suffix(&format!("/{repository}")))
        .unwrap_or("registry")
        .to_string()
}

async fn describe_service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service_name: &str,
) -> Result<aws_sdk_ecs::types::Service> {
    let described = ecs
        .describe_services()
        .cluster(cluster)
        .services(service_name)
        .send()
        .await
        .map_err(|error| anyhow!("ECS DescribeServices: {}", DisplayErrorContext(&error)))?;
    if let Some(service) = described
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE"))
    {
        return Ok(service.clone());
    }
    let reasons: Vec<String> = described
        .failures()
        .iter()
        .map(|f| f.reason().unwrap_or("MISSING").to_string())
        .collect();
    Err(Problem::new(format!(
        "service {service_name} is not in cluster {cluster} ({})",
        if reasons.is_empty() {
            "INACTIVE".into()
        } else {
            reasons.join(", ")
        }
    ))
    .hint("check ecs-cluster and ecs-services (names are case-sensitive) and aws-region")
    .into())
}

/// Roll every planned service. Stops at the first service that cannot be updated; a
/// rollout that fails while waiting is reported in its `Rollout`.
pub async fn roll_out(
    plan: &Plan,
    session: &AwsSession,
    image: &PushedImage,
    console: &Console,
) -> Result<Vec<Rollout>> {
    let Some(rollout) = &plan.rollout else {
        return Ok(Vec::new());
    };
    let ecs = aws_sdk_ecs::Client::new(&session.config);
    let mut results = Vec::new();
    for service in &rollout.services {
        let result = roll_one(&ecs, rollout, service, image, console)
            .await
            .with_context(|| format!("rolling out {service} in {}", rollout.cluster))?;
        results.push(result);
    }
    Ok(results)
}

async fn roll_one(
    ecs: &aws_sdk_ecs::Client,
    rollout: &RolloutPlan,
    service_name: &str,
    image: &PushedImage,
    console: &Console,
) -> Result<Rollout> {
    let started = Instant::now();
    let cluster = rollout.cluster.as_str();
    let service = describe_service(ecs, cluster, service_name).await?;
    let previous = service
        .task_definition()
        .context("the service has no task definition")?
        .to_string();
    let mut seen_events = HashSet::new();
    wait::remember_events(&service, &mut seen_events);

    let current = ecs
        .describe_task_definition()
        .task_definition(&previous)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|error| {
            anyhow!(
                "ECS DescribeTaskDefinition {previous}: {}",
                DisplayErrorContext(&error)
            )
        })?;
    let task_definition = current
        .task_definition()
        .context("ECS returned no task definition")?;
    let rendered = task_definition::render(
        task_definition,
        &rollout.container_names,
        &image.pinned_reference(),
    )?;
    if rendered.changed.is_empty() {
        console.line(&format!(
            "{service_name} already runs {} ({previous}): nothing to do",
            image.pinned_reference()
        ));
        return Ok(Rollout {
            service: service_name.to_string(),
            task_definition: previous.clone(),
            previous_task_definition: previous,
            changed_containers: Vec::new(),
            outcome: Outcome::AlreadyCurrent,
            duration: started.elapsed(),
        });
    }

    let registered = task_definition::register_request(
        ecs.register_task_definition(),
        &rendered.task_definition,
        current.tags(),
    )
    .send()
    .await
    .map_err(|error| {
        anyhow!(
            "ECS RegisterTaskDefinition: {}",
            DisplayErrorContext(&error)
        )
    })?;
    let new_arn = registered
        .task_definition()
        .and_then(|td| td.task_definition_arn())
        .context("RegisterTaskDefinition returned no ARN")?
        .to_string();
    console.line(&format!(
        "{service_name}: registered {new_arn} ({} → {})",
        rendered.changed.join(", "),
        image.pinned_reference()
    ));

    ecs.update_service()
        .cluster(cluster)
        .service(service_name)
        .task_definition(&new_arn)
        .send()
        .await
        .map_err(|error| anyhow!("ECS UpdateService: {}", DisplayErrorContext(&error)))?;
    console.line(&format!("{service_name}: updated to {new_arn}"));

    let outcome = match rollout.wait_timeout {
        None => Outcome::Started,
        Some(timeout) => {
            match wait::wait_for_rollout(
                ecs,
                cluster,
                service_name,
                &new_arn,
                timeout,
                &mut seen_events,
                console,
            )
            .await?
            {
                Progress::Done { running, desired } => Outcome::Completed { running, desired },
                Progress::Failed(reason) => Outcome::Failed(reason),
                Progress::Waiting { .. } => {
                    unreachable!("wait_for_rollout returns only final states")
                }
            }
        }
    };
    Ok(Rollout {
        service: service_name.to_string(),
        previous_task_definition: previous,
        task_definition: new_arn,
        changed_containers: rendered.changed,
        outcome,
        duration: started.elapsed(),
    })
}
