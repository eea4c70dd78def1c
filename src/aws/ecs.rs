//! The one ECS adapter: every ECS call the product makes goes through [`Ecs`], so there is one
//! place to read what the action asks of ECS (and `iam-policy` scans one file), and every
//! failure reads the same way — the call, the resource it was about, and AWS's code, message
//! and request id ([`crate::error::aws_error`]).
//!
//! Methods take and return the SDK's own types: the decisions about them (is this rollout
//! done, what does the new revision change) are pure functions elsewhere.

use crate::error::{aws_error, aws_failure};
use anyhow::{Context, Result};
use aws_sdk_ecs::config::http::{HttpRequest, HttpResponse};
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, DesiredStatus, Failure, Service, ServiceDeployment,
    ServiceDeploymentBrief, StopServiceDeploymentStopType, Tag, Task, TaskDefinition,
    TaskDefinitionField, TaskOverride,
};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_types::body::SdkBody;

/// DescribeServices takes at most this many services a call (API reference).
pub const DESCRIBE_SERVICES_LIMIT: usize = 10;

/// The ECS client of a session (or of a test's mock).
#[derive(Debug, Clone)]
pub struct Ecs {
    ecs: aws_sdk_ecs::Client,
}

impl From<aws_sdk_ecs::Client> for Ecs {
    fn from(ecs: aws_sdk_ecs::Client) -> Self {
        Self { ecs }
    }
}

/// What UpdateService changes: the revision, and whether to start a deployment even when the
/// revision is the one running (`None`: not said, ECS's default).
#[derive(Debug, Clone, Copy)]
pub struct ServiceUpdate<'a> {
    pub cluster: &'a str,
    pub service: &'a str,
    pub task_definition: &'a str,
    pub force_new_deployment: Option<bool>,
    /// The whole deployment configuration to set with the update; `None` keeps the service's.
    pub deployment_configuration: Option<&'a aws_sdk_ecs::types::DeploymentConfiguration>,
}

/// A one-off task, placed as `like` places its tasks (launch type or capacity providers,
/// network configuration, platform version).
#[derive(Debug, Clone, Copy)]
pub struct OneOffTask<'a> {
    pub cluster: &'a str,
    pub task_definition: &'a str,
    pub like: &'a Service,
    pub started_by: &'a str,
    pub overrides: &'a TaskOverride,
}

impl Ecs {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        aws_sdk_ecs::Client::new(config).into()
    }

    /// The services and the failures (unknown names) of one DescribeServices per 10 names, the
    /// API's limit.
    pub async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<(Vec<Service>, Vec<Failure>)> {
        let mut services = Vec::new();
        let mut failures = Vec::new();
        for chunk in names.chunks(DESCRIBE_SERVICES_LIMIT) {
            let answer = self
                .ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|error| {
                    aws_failure(format!("ECS DescribeServices in cluster {cluster}"), &error)
                })?;
            services.extend(answer.services().iter().cloned());
            failures.extend(answer.failures().iter().cloned());
        }
        Ok((services, failures))
    }

    /// The named services, each of which must exist: an operation on a service that is not
    /// there stops before it does anything, naming every name ECS did not find.
    pub async fn existing_services(&self, cluster: &str, names: &[String]) -> Result<Vec<Service>> {
        let (services, failures) = self.describe_services(cluster, names).await?;
        if failures.is_empty() {
            return Ok(services);
        }
        // ECS answers with the services' ARNs; the names are what the person typed.
        let names: Vec<&str> = failures
            .iter()
            .map(|failure| {
                let arn = failure.arn().unwrap_or("?");
                arn.rsplit('/').next().unwrap_or(arn)
            })
            .collect();
        let mut reasons: Vec<&str> = failures
            .iter()
            .map(|failure| failure.reason().unwrap_or("not found"))
            .collect();
        reasons.dedup();
        let (noun, verb) = if names.len() == 1 {
            ("service", "is")
        } else {
            ("services", "are")
        };
        Err(crate::error::Problem::new(format!(
            "{noun} {} {verb} not in cluster {cluster} (ECS: {})",
            names.join(", "),
            reasons.join(", ")
        ))
        .hint(format!(
            "check `ecs-services` and `ecs-cluster` (or the environment picked): `aws ecs list-services --cluster {cluster}` lists the cluster's services"
        ))
        .into())
    }

    /// A revision (`family:N` or its ARN).
    pub async fn task_definition(&self, revision: &str) -> Result<TaskDefinition> {
        Ok(self.describe_task_definition(revision, false).await?.0)
    }

    /// A revision with its tags (a new revision copies them; rollback reads ours).
    pub async fn task_definition_with_tags(
        &self,
        revision: &str,
    ) -> Result<(TaskDefinition, Vec<Tag>)> {
        self.describe_task_definition(revision, true).await
    }

    async fn describe_task_definition(
        &self,
        revision: &str,
        with_tags: bool,
    ) -> Result<(TaskDefinition, Vec<Tag>)> {
        let answer = self
            .ecs
            .describe_task_definition()
            .task_definition(revision)
            .set_include(with_tags.then(|| vec![TaskDefinitionField::Tags]))
            .send()
            .await
            .map_err(|error| {
                aws_failure(format!("ECS DescribeTaskDefinition {revision}"), &error)
            })?;
        let task_definition = answer.task_definition().cloned().with_context(|| {
            format!("DescribeTaskDefinition {revision} returned no task definition")
        })?;
        Ok((task_definition, answer.tags().to_vec()))
    }

    /// Register `task_definition` (every writable field, see [`register_request`]) with `tags`.
    pub async fn register(
        &self,
        task_definition: &TaskDefinition,
        tags: &[Tag],
    ) -> Result<TaskDefinition> {
        let family = task_definition.family().unwrap_or("?");
        register_request(self.ecs.register_task_definition(), task_definition, tags)
            .send()
            .await
            .map_err(|error| {
                aws_failure(format!("ECS RegisterTaskDefinition of {family}"), &error)
            })?
            .task_definition()
            .cloned()
            .context("RegisterTaskDefinition returned no task definition")
    }

    /// UpdateService; the service as ECS answered (its deployments name the one it started).
    pub async fn update_service(&self, update: ServiceUpdate<'_>) -> Result<Option<Service>> {
        let answer = self
            .ecs
            .update_service()
            .cluster(update.cluster)
            .service(update.service)
            .task_definition(update.task_definition)
            .set_force_new_deployment(update.force_new_deployment)
            .set_deployment_configuration(update.deployment_configuration.cloned())
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!(
                        "ECS UpdateService {} (cluster {})",
                        update.service, update.cluster
                    ),
                    &error,
                )
            })?;
        Ok(answer.service().cloned())
    }

    /// Service deployments by ARN (DescribeServiceDeployments: the lifecycle stage, status,
    /// rollback and alarms of a deployment under ECS's own strategies).
    pub async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> Result<Vec<ServiceDeployment>> {
        let answer = self
            .ecs
            .describe_service_deployments()
            .set_service_deployment_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!("ECS DescribeServiceDeployments {}", arns.join(", ")),
                    &error,
                )
            })?;
        Ok(answer.service_deployments().to_vec())
    }

    /// The service's deployments, newest first (ListServiceDeployments: the last 90 days).
    pub async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Vec<ServiceDeploymentBrief>> {
        let answer = self
            .ecs
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!("ECS ListServiceDeployments {service} (cluster {cluster})"),
                    &error,
                )
            })?;
        Ok(answer.service_deployments().to_vec())
    }

    /// StopServiceDeployment with ROLLBACK: ECS puts the source revision back by the same
    /// strategy (an UpdateService back would start a second deployment of the old revision).
    pub async fn roll_back_service_deployment(&self, arn: &str) -> Result<()> {
        self.ecs
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!("ECS StopServiceDeployment {arn} (ROLLBACK)"),
                    &error,
                )
            })?;
        Ok(())
    }

    /// ContinueServiceDeployment: the deployment paused at pause hook `hook_id` goes on to its
    /// next stage (CONTINUE) or back to its source revision (ROLLBACK).
    pub async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: DeploymentLifecycleHookAction,
    ) -> Result<()> {
        self.ecs
            .continue_service_deployment()
            .service_deployment_arn(arn)
            .hook_id(hook_id)
            .action(action.clone())
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!(
                        "ECS ContinueServiceDeployment {arn} (hook {hook_id}, {})",
                        action.as_str()
                    ),
                    &error,
                )
            })?;
        Ok(())
    }

    /// RunTask of one task; the task's ARN, or ECS's failures when it started none.
    pub async fn run_task(
        &self,
        task: OneOffTask<'_>,
    ) -> Result<std::result::Result<String, Vec<Failure>>> {
        let strategy = task.like.capacity_provider_strategy();
        let answer = self
            .ecs
            .run_task()
            .cluster(task.cluster)
            .task_definition(task.task_definition)
            .count(1)
            .started_by(task.started_by)
            // A capacity provider strategy and a launch type exclude each other.
            .set_launch_type(if strategy.is_empty() {
                task.like.launch_type().cloned()
            } else {
                None
            })
            .set_capacity_provider_strategy((!strategy.is_empty()).then(|| strategy.to_vec()))
            .set_network_configuration(task.like.network_configuration().cloned())
            .set_platform_version(task.like.platform_version().map(str::to_string))
            .overrides(task.overrides.clone())
            .send()
            .await
            .map_err(|error| {
                aws_failure(format!("ECS RunTask of {}", task.task_definition), &error)
            })?;
        Ok(match answer.tasks().first().and_then(|t| t.task_arn()) {
            Some(arn) => Ok(arn.to_string()),
            None => Err(answer.failures().to_vec()),
        })
    }

    /// DescribeTasks of up to 100 tasks (the API's limit; more are left out).
    pub async fn describe_tasks(&self, cluster: &str, arns: &[String]) -> Result<Vec<Task>> {
        let answer = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns.iter().take(100).cloned().collect()))
            .send()
            .await
            .map_err(|error| {
                aws_failure(format!("ECS DescribeTasks in cluster {cluster}"), &error)
            })?;
        Ok(answer.tasks().to_vec())
    }

    /// StopTask, with the reason ECS shows on the task.
    pub async fn stop_task(&self, cluster: &str, task: &str, reason: &str) -> Result<()> {
        self.ecs
            .stop_task()
            .cluster(cluster)
            .task(task)
            .reason(reason)
            .send()
            .await
            .map_err(|error| aws_failure(format!("ECS StopTask {task}"), &error))?;
        Ok(())
    }

    /// The ARNs of a service's stopped tasks (ECS keeps them about an hour).
    pub async fn stopped_tasks(&self, cluster: &str, service: &str) -> Result<Vec<String>> {
        let answer = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(DesiredStatus::Stopped)
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    format!("ECS ListTasks of {service} (cluster {cluster})"),
                    &error,
                )
            })?;
        Ok(answer.task_arns().to_vec())
    }

    /// Every service ARN of `cluster`, all pages.
    pub async fn list_services(&self, cluster: &str) -> Result<Vec<String>> {
        let mut listed = Vec::new();
        let mut pages = self
            .ecs
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|error| aws_failure(format!("ECS ListServices of {cluster}"), &error))?;
            listed.extend(page.service_arns().iter().cloned());
        }
        Ok(listed)
    }

    /// DeregisterTaskDefinition: the revision becomes INACTIVE.
    pub async fn deregister(&self, revision: &str) -> Result<()> {
        self.ecs
            .deregister_task_definition()
            .task_definition(revision)
            .send()
            .await
            .map_err(|error| {
                aws_failure(format!("ECS DeregisterTaskDefinition {revision}"), &error)
            })?;
        Ok(())
    }
}

/// RegisterTaskDefinition from a described task definition: every field RegisterTaskDefinition
/// accepts is copied (new fields keep appearing: `enableFaultInjection` broke allow-list
/// tools); the read-only ones (ARN, revision, status, requiresAttributes, compatibilities,
/// registered/deregistered/deleteRequested timestamps, registeredBy) are not.
pub fn register_request(
    request: RegisterTaskDefinitionFluentBuilder,
    task_definition: &TaskDefinition,
    tags: &[Tag],
) -> RegisterTaskDefinitionFluentBuilder {
    let td = task_definition.clone();
    #[allow(deprecated)] // Elastic Inference is retired, but a definition that has it keeps it.
    request
        .set_family(td.family)
        .set_task_role_arn(td.task_role_arn)
        .set_execution_role_arn(td.execution_role_arn)
        .set_network_mode(td.network_mode)
        .set_container_definitions(td.container_definitions)
        .set_volumes(non_empty(td.volumes))
        .set_placement_constraints(non_empty(td.placement_constraints))
        .set_requires_compatibilities(non_empty(td.requires_compatibilities))
        .set_cpu(td.cpu)
        .set_memory(td.memory)
        .set_pid_mode(td.pid_mode)
        .set_ipc_mode(td.ipc_mode)
        .set_proxy_configuration(td.proxy_configuration)
        .set_inference_accelerators(non_empty(td.inference_accelerators))
        .set_ephemeral_storage(td.ephemeral_storage)
        .set_runtime_platform(td.runtime_platform)
        .set_enable_fault_injection(td.enable_fault_injection)
        .set_tags(non_empty(Some(tags.to_vec())))
}

/// ECS rejects empty lists in some fields it reports as empty lists: send `None` instead.
fn non_empty<T>(list: Option<Vec<T>>) -> Option<Vec<T>> {
    list.filter(|items| !items.is_empty())
}

/// A DescribeTaskDefinition answer (JSON, as the API sends it) read into the SDK's types by the
/// SDK's own deserializer: a client whose "HTTP connection" answers with `document`. The SDK's
/// types have no serde, and a hand-written model would drop every field it does not know.
pub async fn decode_task_definition(
    document: String,
) -> std::result::Result<(TaskDefinition, Vec<Tag>), String> {
    let connector = SharedHttpConnector::new(AnswerWith(document));
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new("us-east-1"))
        .endpoint_url("http://task-definition.file.invalid")
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "file", "file", None, None, "file",
        ))
        .http_client(http_client_fn(move |_, _| connector.clone()))
        .build();
    let parsed = aws_sdk_ecs::Client::from_conf(config)
        .describe_task_definition()
        .task_definition("file")
        .send()
        .await
        .map_err(|error| aws_error(&error))?;
    let task_definition = parsed
        .task_definition()
        .cloned()
        .ok_or_else(|| "holds no task definition".to_string())?;
    Ok((task_definition, parsed.tags().to_vec()))
}

#[derive(Debug)]
struct AnswerWith(String);

impl HttpConnector for AnswerWith {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        #[allow(clippy::expect_used)] // 200 is a status code, always.
        let status = 200.try_into().expect("200 is a status code");
        let response = HttpResponse::new(status, SdkBody::from(self.0.clone()));
        HttpConnectorFuture::ready(Ok(response))
    }
}
