//! `deploy-action status`: per service, the revision it runs, the image (digest and the tags
//! that point at it now), its deployments with rollout state and counts, and the last events.

use crate::console::Console;
use crate::deploy::revision_of;
use anyhow::Result;
use aws_sdk_ecs::types::Service;
use std::fmt::Write;

/// Events shown per service.
const EVENTS: usize = 5;

pub async fn run(request: &crate::Request, console: &Console) -> Result<()> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = crate::aws::Ecs::new(&session.config);
    let ecr = aws_sdk_ecr::Client::new(&session.config);
    let (services, failures) = ecs
        .describe_services(&rollout.cluster, &rollout.services)
        .await?;
    for failure in &failures {
        console.line(&format!(
            "{}: {}",
            failure.arn().unwrap_or("?"),
            failure.reason().unwrap_or("not found")
        ));
    }
    for service in &services {
        let text = describe(&ecs, &ecr, &plan, service).await?;
        for line in text.lines() {
            // Service events and tags are text from outside.
            console.line(line);
        }
    }
    Ok(())
}

async fn describe(
    ecs: &crate::aws::Ecs,
    ecr: &aws_sdk_ecr::Client,
    plan: &crate::plan::Plan,
    service: &Service,
) -> Result<String> {
    let mut text = String::new();
    let name = service.service_name().unwrap_or("?");
    let running = service.task_definition().unwrap_or_default();
    let _ = writeln!(
        text,
        "{name}: runs {} ({}/{} tasks running)",
        revision_of(running),
        service.running_count(),
        service.desired_count()
    );
    let task_definition = super::running_task_definition(ecs, service).await?;
    let repository = &plan.image.repository;
    for container in task_definition.container_definitions() {
        let image = container.image().unwrap_or_default();
        let mut line = format!("  {}: {image}", container.name().unwrap_or("?"));
        let ours =
            crate::deploy::task_definition::image_name(image).ends_with(&format!("/{repository}"));
        if let (true, Some((_, digest))) = (ours, image.split_once('@')) {
            let tags = tags_of(ecr, plan, digest).await;
            let _ = write!(
                line,
                " (tags now: {})",
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                }
            );
        }
        let _ = writeln!(text, "{line}");
    }
    for deployment in service.deployments() {
        let _ = writeln!(
            text,
            "  deployment {} {} {}: {} running, {} pending, {} failed of {} ({})",
            deployment.id().unwrap_or("?"),
            deployment.status().unwrap_or("?"),
            deployment
                .rollout_state()
                .map_or("-", |state| state.as_str()),
            deployment.running_count(),
            deployment.pending_count(),
            deployment.failed_tasks(),
            deployment.desired_count(),
            revision_of(deployment.task_definition().unwrap_or_default())
        );
    }
    if let Some(line) = service_deployment(ecs, service).await {
        let _ = writeln!(text, "  {line}");
    }
    for event in service.events().iter().take(EVENTS) {
        let _ = writeln!(text, "  event: {}", event.message().unwrap_or_default());
    }
    Ok(text)
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
