//! `deploy-action continue [--rollback]`: each service's current service deployment, when a
//! PAUSE lifecycle hook holds it, continued (ContinueServiceDeployment CONTINUE) — the step that
//! follows it in the workflow then goes on — or rolled back (ROLLBACK, followed here to
//! ROLLBACK_SUCCESSFUL). A service that is not paused is named with where it is, and nothing is
//! sent for it.

use crate::aws::Ecs;
use crate::console::Console;
use crate::deploy::native::{self, Standing};
use crate::error::Problem;
use anyhow::Result;
use aws_sdk_ecs::types::DeploymentLifecycleHookAction as Action;
use std::time::Duration;

pub async fn run(request: &crate::Request, rollback: bool, console: &Console) -> Result<()> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = Ecs::new(&session.config);
    let (services, failures) = ecs
        .describe_services(&rollout.cluster, &rollout.services)
        .await?;
    if let Some(failure) = failures.first() {
        return Err(Problem::new(format!(
            "service {} is not in cluster {} ({}); nothing was continued",
            failure.arn().unwrap_or("?"),
            rollout.cluster,
            failure.reason().unwrap_or("not found")
        ))
        .hint("check --ecs-cluster and --ecs-services (or the --env you picked)")
        .into());
    }
    let action = if rollback {
        Action::Rollback
    } else {
        Action::Continue
    };
    let mut acted = Vec::new();
    let mut elsewhere = Vec::new();
    for service in &services {
        let name = service.service_name().unwrap_or("?");
        let Some(arn) = service.current_service_deployment() else {
            elsewhere.push(format!("{name}: no service deployment"));
            continue;
        };
        let found = ecs.describe_service_deployments(&[arn.to_string()]).await?;
        let Some(deployment) = found.first() else {
            elsewhere.push(format!("{name}: service deployment {arn} not found"));
            continue;
        };
        let Standing::Paused(pause) = native::assess(deployment) else {
            elsewhere.push(format!(
                "{name}: not paused ({})",
                native::stage_line(deployment)
            ));
            continue;
        };
        ecs.continue_service_deployment(arn, &pause.hook_id, action.clone())
            .await?;
        console.line(&format!(
            "{name}: {} at {} → {} (ContinueServiceDeployment, hook {})",
            pause.describe(),
            pause.stage,
            action.as_str(),
            pause.hook_id
        ));
        acted.push((name.to_string(), arn.to_string()));
    }
    for line in &elsewhere {
        console.line(line);
    }
    if acted.is_empty() {
        return Err(Problem::new(
            "no deployment of these services is paused at a pause hook; nothing was sent",
        )
        .hint("`deploy-action status` shows where each service's deployment is")
        .into());
    }
    if rollback {
        for (name, arn) in &acted {
            let finished = native::rollback_finished(&ecs, arn, Duration::from_secs(600)).await?;
            console.line(&if finished {
                format!("{name}: ECS rolled its deployment back (ROLLBACK_SUCCESSFUL)")
            } else {
                format!("{name}: ECS's rollback did not finish within 10 minutes; `deploy-action status` follows it")
            });
        }
    }
    Ok(())
}
