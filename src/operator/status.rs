//! `deploy-action status`: per service, the revision it runs, the image (digest and the tags
//! that point at it now), its deployments with rollout state and counts, and the last events.

use crate::console::Console;
use crate::deploy::revision_of;
use anyhow::Result;
use aws_sdk_ecs::types::Service;
use std::fmt::Write;

/// Events shown per service.
const EVENTS: usize = 5;

/// What `status --output json` prints: per service what the text shows.
#[derive(Debug, serde::Serialize)]
pub struct StatusRecord {
    pub cluster: String,
    /// Every service named (a name ECS does not find is an error).
    pub services: Vec<ServiceStatus>,
}

#[derive(Debug, serde::Serialize)]
pub struct ServiceStatus {
    pub service: String,
    pub task_definition: String,
    pub running_count: i32,
    pub desired_count: i32,
    pub containers: Vec<ContainerStatus>,
    pub deployments: Vec<DeploymentStatus>,
    /// Under ECS's own strategy, where its current service deployment is.
    pub service_deployment: Option<String>,
    /// The last service events, newest first.
    pub events: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    /// For the app's image pinned by digest: the tags that name that digest now.
    pub tags_now: Option<Vec<String>>,
}

#[derive(Debug, serde::Serialize)]
pub struct DeploymentStatus {
    pub id: String,
    pub status: String,
    pub rollout_state: Option<String>,
    pub task_definition: String,
    pub running_count: i32,
    pub pending_count: i32,
    pub failed_tasks: i32,
    pub desired_count: i32,
}

pub async fn run(request: &crate::Request, console: &Console) -> Result<StatusRecord> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = crate::aws::Ecs::new(&session.config);
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    let services = ecs
        .existing_services(&rollout.cluster, &rollout.services)
        .await?;
    let mut record = StatusRecord {
        cluster: rollout.cluster.clone(),
        services: Vec::new(),
    };
    for service in &services {
        let status = describe(&ecs, &ecr, &plan, service).await?;
        for line in text(&status).lines() {
            // Service events and tags are text from outside.
            console.line(line);
        }
        record.services.push(status);
    }
    Ok(record)
}

async fn describe(
    ecs: &crate::aws::Ecs,
    ecr: &aws_sdk_ecr::Client,
    plan: &crate::plan::Plan,
    service: &Service,
) -> Result<ServiceStatus> {
    let task_definition = super::running_task_definition(ecs, service).await?;
    let mut containers = Vec::new();
    for container in task_definition.container_definitions() {
        let image = container.image().unwrap_or_default();
        let tags_now = match (super::is_apps_image(plan, image), image.split_once('@')) {
            (true, Some((_, digest))) => Some(tags_of(ecr, plan, digest).await),
            _ => None,
        };
        containers.push(ContainerStatus {
            name: container.name().unwrap_or("?").to_string(),
            image: image.to_string(),
            tags_now,
        });
    }
    Ok(ServiceStatus {
        service: service.service_name().unwrap_or("?").to_string(),
        task_definition: service.task_definition().unwrap_or_default().to_string(),
        running_count: service.running_count(),
        desired_count: service.desired_count(),
        containers,
        deployments: service
            .deployments()
            .iter()
            .map(|deployment| DeploymentStatus {
                id: deployment.id().unwrap_or("?").to_string(),
                status: deployment.status().unwrap_or("?").to_string(),
                rollout_state: deployment
                    .rollout_state()
                    .map(|state| state.as_str().to_string()),
                task_definition: deployment.task_definition().unwrap_or_default().to_string(),
                running_count: deployment.running_count(),
                pending_count: deployment.pending_count(),
                failed_tasks: deployment.failed_tasks(),
                desired_count: deployment.desired_count(),
            })
            .collect(),
        service_deployment: service_deployment(ecs, service).await,
        events: service
            .events()
            .iter()
            .take(EVENTS)
            .map(|event| event.message().unwrap_or_default().to_string())
            .collect(),
    })
}

/// The lines `status` prints for one service.
fn text(status: &ServiceStatus) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: runs {} ({}/{} tasks running)",
        status.service,
        revision_of(&status.task_definition),
        status.running_count,
        status.desired_count
    );
    for container in &status.containers {
        let _ = write!(text, "  {}: {}", container.name, container.image);
        if let Some(tags) = &container.tags_now {
            let _ = write!(
                text,
                " (tags now: {})",
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                }
            );
        }
        text.push('\n');
    }
    for deployment in &status.deployments {
        let _ = writeln!(
            text,
            "  deployment {} {} {}: {} running, {} pending, {} failed of {} ({})",
            deployment.id,
            deployment.status,
            deployment.rollout_state.as_deref().unwrap_or("-"),
            deployment.running_count,
            deployment.pending_count,
            deployment.failed_tasks,
            deployment.desired_count,
            revision_of(&deployment.task_definition)
        );
    }
    if let Some(line) = &status.service_deployment {
        let _ = writeln!(text, "  {line}");
    }
    for event in &status.events {
        let _ = writeln!(text, "  event: {event}");
    }
    text
}

/// Under ECS's own strategy, the current service deployment: `BLUE_GREEN service deployment
/// ARN: BAKE_TIME (100% of production traffic on the new revision), bake 30 min`; a read that
/// fails says so instead of hiding the line.
async fn service_deployment(ecs: &crate::aws::Ecs, service: &Service) -> Option<String> {
    let strategy = crate::deploy::native::native_strategy(service)?;
    let arn = service.current_service_deployment()?;
    let found = ecs
        .describe_service_deployments(&[arn.to_string()])
        .await
        .map(|found| found.into_iter().next());
    Some(match found {
        Ok(Some(deployment)) => format!(
            "{} service deployment {arn}: {}{}",
            strategy.as_str(),
            crate::deploy::native::stage_line(&deployment),
            deployment
                .deployment_configuration()
                .and_then(|configuration| configuration.bake_time_in_minutes())
                .map(|minutes| format!(", bake {minutes} min"))
                .unwrap_or_default()
        ),
        Ok(None) => format!("{} service deployment {arn}: not found", strategy.as_str()),
        Err(error) => format!(
            "{} service deployment {arn}: could not be read ({})",
            strategy.as_str(),
            crate::error::one_line(&error)
        ),
    })
}

/// The tags that name `digest` in the plan's repository now (none when ECR cannot say).
async fn tags_of(ecr: &aws_sdk_ecr::Client, plan: &crate::plan::Plan, digest: &str) -> Vec<String> {
    let answer = ecr
        .describe_images()
        .set_registry_id(plan.image.registry_id.clone())
        .repository_name(&plan.image.repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_digest(digest)
                .build(),
        )
        .send()
        .await;
    answer
        .map(|output| {
            output
                .image_details()
                .iter()
                .flat_map(|detail| detail.image_tags().iter().cloned())
                .collect()
        })
        .unwrap_or_default()
}
