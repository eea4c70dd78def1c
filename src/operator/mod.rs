//! Commands for people at a terminal, reading the same config file as the action, with their
//! own (ambient) AWS credentials: `status` (what each service runs, and how its deployments
//! stand), `logs` (its containers' CloudWatch lines, `--follow` like `aws logs tail`) and
//! `rollback` (each service back on the revision its current one replaced), `continue` (a
//! deployment paused at a pause hook, on or back). They run with a
//! person's credentials, so they are not part of what the action's IAM policy allows.

pub mod logs;
pub mod resume;
pub mod rollback;
pub mod run;
pub mod status;

use crate::auth::AwsSession;
use crate::console::Console;
use crate::error::Problem;
use crate::plan::{Plan, RolloutPlan};
use anyhow::{Context, Result};

/// The plan (for `--env` or the ref), its rollout, and a session with ambient credentials.
pub async fn prepare(request: &crate::Request, console: &Console) -> Result<(Plan, AwsSession)> {
    let mut plan = crate::plan::resolve_in(
        &request.inputs,
        request.intent,
        request.config_environment.as_deref(),
    )
    .map_err(anyhow::Error::from)?;
    // An operation never hands credentials on to later steps.
    plan.export_credentials_to = None;
    if plan.rollout.is_none() {
        return Err(Problem::new("no ECS services to look at: the plan has no ecs-cluster and ecs-services")
            .hint("pick an environment of the config file that has them (--env NAME), or give --ecs-cluster and --ecs-services")
            .into());
    }
    let session = crate::auth::authenticate(&plan, console)
        .await
        .context("getting AWS credentials")?;
    Ok((plan, session))
}

/// The task definition `service` runs now.
pub async fn running_task_definition(
    ecs: &crate::aws::Ecs,
    service: &aws_sdk_ecs::types::Service,
) -> Result<aws_sdk_ecs::types::TaskDefinition> {
    ecs.task_definition(service.task_definition().unwrap_or_default())
        .await
}

/// Whether `image` is the app's own: in the repository the plan names (`--ecr-repository` or
/// the config file's). Without one named, no image is.
pub fn is_apps_image(plan: &Plan, image: &str) -> bool {
    let repository = &plan.image.repository;
    !repository.is_empty()
        && crate::deploy::task_definition::image_name(image).ends_with(&format!("/{repository}"))
}

/// The rollout part of a plan [`prepare`] accepted.
pub fn rollout(plan: &Plan) -> Result<&RolloutPlan> {
    plan.rollout
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the plan has no services"))
}
