//! Least privilege from what runs: the roles the services' task definitions pass to their tasks
//! and the log groups their containers write to, read with the person's own credentials, so the
//! printed policy's `iam:PassRole` and `logs:GetLogEvents` name exactly those.
//!
//! Only the credentials a person at a terminal has are tried — environment variables and the
//! profile files (`AWS_PROFILE`, SSO included) — not the instance metadata service, whose
//! timeouts would stall a command that otherwise answers at once.

use super::PolicyRequest;
use anyhow::{Result, anyhow};
use aws_config::BehaviorVersion;
use aws_config::meta::credentials::CredentialsProviderChain;
use std::collections::BTreeSet;
use std::time::Duration;

/// What the services' current task definitions use.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Task and execution roles (ARNs).
    pub roles: BTreeSet<String>,
    /// `awslogs-group` of every container that logs to CloudWatch, `REGION:GROUP` when its
    /// `awslogs-region` is not the services' region.
    pub log_groups: BTreeSet<String>,
    /// The task definitions' families.
    pub families: BTreeSet<String>,
}

/// Fill what the request leaves to the default (`--pass-role`, `--log-group`) from the services'
/// task definitions; a note (for stderr) says what was read, or why nothing was.
pub async fn fill(request: &mut PolicyRequest) -> Option<String> {
    let cluster = request.cluster.clone()?;
    let wanted = request.pass_roles.is_empty() || request.log_groups.is_empty();
    if request.offline || request.services.is_empty() || !wanted {
        return None;
    }
    let read = tokio::time::timeout(
        Duration::from_secs(30),
        read(&request.region, &cluster, &request.services),
    )
    .await
    .unwrap_or_else(|_| Err(anyhow!("no answer within 30 s")));
    let facts = match read {
        Ok(facts) => facts,
        Err(error) => {
            return Some(format!(
                "note: could not read the services' task definitions ({error:#}); run with credentials \
                 (environment or profile) that may describe the services, or name the roles with --pass-role \
                 (logs:GetLogEvents stays on /ecs/* unless --log-group names the groups)"
            ));
        }
    };
    request.task_families = facts.families.iter().cloned().collect();
    let mut said = Vec::new();
    if request.pass_roles.is_empty() {
        request.passes_no_role = facts.roles.is_empty();
        request.pass_roles = facts.roles.iter().cloned().collect();
        said.push(if facts.roles.is_empty() {
            "iam:PassRole left out (the task definitions name no task or execution role)"
                .to_string()
        } else {
            format!(
                "iam:PassRole only on {}",
                facts.roles.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        });
    }
    if request.log_groups.is_empty() && !facts.log_groups.is_empty() {
        request.log_groups = facts.log_groups.iter().cloned().collect();
        said.push(format!(
            "logs:GetLogEvents only in {}",
            request.log_groups.join(", ")
        ));
    }
    Some(format!(
        "note: read from the services' task definitions in {cluster}: {}. Print the policy again when a \
         task definition changes its roles or log groups (--offline skips the reading)",
        said.join("; ")
    ))
}

/// DescribeServices, then DescribeTaskDefinition of each revision they run.
pub async fn read(region: &str, cluster: &str, services: &[String]) -> Result<ServiceFacts> {
    let credentials = CredentialsProviderChain::first_try(
        "Environment",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else(
        "Profile",
        aws_config::profile::ProfileFileCredentialsProvider::builder().build(),
    );
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(credentials)
        .load()
        .await;
    let ecs = crate::aws::Ecs::new(&config);
    let mut facts = ServiceFacts::default();
    let (described, failures) = ecs.describe_services(cluster, services).await?;
    if let Some(missing) = failures.first() {
        return Err(anyhow!(
            "{} in {cluster}: {}",
            missing.arn().unwrap_or("a service"),
            missing.reason().unwrap_or("not found")
        ));
    }
    let revisions: BTreeSet<String> = described
        .iter()
        .filter_map(|service| service.task_definition().map(str::to_string))
        .collect();
    for revision in revisions {
        let task_definition = ecs.task_definition(&revision).await?;
        facts
            .families
            .extend(task_definition.family().map(str::to_string));
        facts.roles.extend(
            [
                task_definition.task_role_arn(),
                task_definition.execution_role_arn(),
            ]
            .into_iter()
            .flatten()
            .map(str::to_string),
        );
        // A container logging to another region (`awslogs-region`) is read there.
        facts.log_groups.extend(
            crate::deploy::task_definition::log_sources(&task_definition)
                .into_iter()
                .map(|source| match source.region {
                    Some(other) if other != region => format!("{other}:{}", source.group),
                    _ => source.group,
                }),
        );
    }
    Ok(facts)
}
