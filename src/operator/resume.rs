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

/// What `continue --output json` prints.
#[derive(Debug, serde::Serialize)]
pub struct ContinueRecord {
    /// `CONTINUE` or `ROLLBACK`, as sent to ContinueServiceDeployment.
    pub action: String,
    pub services: Vec<Continued>,
    /// The services that were not paused, with where their deployment is; nothing was sent.
    pub not_paused: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Continued {
    pub service: String,
    pub service_deployment: String,
    pub hook: String,
    pub stage: String,
    /// After a ROLLBACK: whether ECS finished it (ROLLBACK_SUCCESSFUL) within 10 minutes.
    pub rolled_back: Option<bool>,
}

pub async fn run(
    request: &crate::Request,
    rollback: bool,
    console: &Console,
) -> Result<ContinueRecord> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = Ecs::new(&session.config);
    let services = ecs
        .existing_services(&rollout.cluster, &rollout.services)
        .await?;
    let action = if rollback {
        Action::Rollback
    } else {
        Action::Continue
    };
    let mut acted: Vec<Continued> = Vec::new();
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
        acted.push(Continued {
            service: name.to_string(),
            service_deployment: arn.to_string(),
            hook: pause.hook_id.clone(),
            stage: pause.stage.clone(),
            rolled_back: None,
        });
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
        for continued in &mut acted {
            let finished = native::rollback_finished(
                &ecs,
                &continued.service_deployment,
                Duration::from_secs(600),
            )
            .await?;
            let name = &continued.service;
            console.line(&if finished {
                format!("{name}: ECS rolled its deployment back (ROLLBACK_SUCCESSFUL)")
            } else {
                format!("{name}: ECS's rollback did not finish within 10 minutes; `deploy-action status` follows it")
            });
            continued.rolled_back = Some(finished);
        }
    }
    Ok(ContinueRecord {
        action: action.as_str().to_string(),
        services: acted,
        not_paused: elsewhere,
    })
}
