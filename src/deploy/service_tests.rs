//! A service's rollout through sequences no stand-in produces: failures, rollbacks, evidence.

use super::*;
use crate::console::Mode;
use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::OutputLogEvent;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{
    Container, ContainerDefinition, Deployment, DeploymentRolloutState, LogConfiguration,
    LogDriver, Service, Task, TaskDefinition, TaskStopCode,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const OLD: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:7";
const NEW: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:8";
const TASK: &str = "arn:aws:ecs:us-east-2:123456789012:task/back-end-staging/0f1e2d3c";

/// The deployment the service ran before ours.
const BEFORE: &str = "ecs-svc/1111";
/// Ours, as UpdateService to NEW answers.
const OURS: &str = "ecs-svc/2222";
/// A rollback to OLD: a new deployment (ours, or ECS's circuit breaker).
const BACK: &str = "ecs-svc/3333";

/// A service whose PRIMARY deployment is `id` on `td`.
fn service(td: &str, id: &str, state: DeploymentRolloutState, running: i32) -> Service {
    Service::builder()
        .service_name("api")
        .task_definition(td)
        .desired_count(1)
        .running_count(running)
        .deployments(deployment(id, td, "PRIMARY", state, running))
        .build()
}

fn deployment(
    id: &str,
    td: &str,
    status: &str,
    state: DeploymentRolloutState,
    running: i32,
) -> Deployment {
    Deployment::builder()
        .id(id)
        .status(status)
        .task_definition(td)
        .desired_count(1)
        .running_count(running)
        .pending_count(1 - running)
        .rollout_state(state)
        .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
        .build()
}

fn described(service: Service) -> DescribeServicesOutput {
    DescribeServicesOutput::builder().services(service).build()
}

fn task_definition(arn: &str) -> TaskDefinition {
    TaskDefinition::builder()
        .task_definition_arn(arn)
        .family("back-end")
        .container_definitions(
            ContainerDefinition::builder()
                .name("api")
                .image("r/back-end@sha256:1")
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/back-end-staging")
                        .options("awslogs-stream-prefix", "ecs")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build()
}

fn target() -> Target {
    Target {
        service: service(OLD, BEFORE, DeploymentRolloutState::Completed, 1),
        running: task_definition(OLD),
        serving: OLD.into(),
        base: task_definition(OLD),
        tags: Vec::new(),
        containers: vec!["api".into()],
        // Read long ago: the rollout checks again that the service is idle.
        described_at: std::time::Instant::now() - Duration::from_secs(600),
        deployment_configuration: None,
    }
}

fn ours() -> NewRevision {
    NewRevision {
        arn: NEW.into(),
        task_definition: task_definition(NEW),
        changed: vec!["api".into()],
    }
}

fn settings(rollback: bool) -> RolloutSettings {
    RolloutSettings {
        wait_through_bake: false,
        cluster: "back-end-staging".into(),
        poller: std::sync::Arc::new(wait::Poller::new("back-end-staging", vec!["api".into()])),
        journal: Journal::default(),
        wait_timeout: Some(Duration::from_secs(600)),
        rollback_on_failure: rollback,
        evidence_in_summary: false,
        force_new_deployment: false,
        pause_checks: crate::deploy::pause::PauseChecks::default(),
    }
}

fn stopped_task() -> DescribeTasksOutput {
    DescribeTasksOutput::builder()
        .tasks(
            Task::builder()
                .task_arn(TASK)
                .task_definition_arn(NEW)
                .stopped_reason("Essential container in task exited")
                .stop_code(TaskStopCode::EssentialContainerExited)
                .containers(
                    Container::builder()
                        .name("api")
                        .exit_code(1)
                        .reason("OutOfMemoryError")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn log_lines() -> GetLogEventsOutput {
    GetLogEventsOutput::builder()
        .events(
            OutputLogEvent::builder()
                .message("panic: JWT_SECRET_KEY is not set")
                .build(),
        )
        .build()
}

/// UpdateService for `api` in the cluster to `revision`, forced or not: a rule that matched any
/// update would pass a rollback to the wrong revision.
/// The answer names the new PRIMARY deployment, `deployment_id`, as ECS's does.
fn update_to(
    revision: &'static str,
    forced: Option<bool>,
    deployment_id: &'static str,
) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::update_service)
        .match_requests(move |request| {
            request.cluster() == Some("back-end-staging")
                && request.service() == Some("api")
                && request.task_definition() == Some(revision)
                && request.force_new_deployment() == forced
        })
        .then_output(move || {
            UpdateServiceOutput::builder()
                .service(service(
                    revision,
                    deployment_id,
                    DeploymentRolloutState::InProgress,
                    0,
                ))
                .build()
        })
}

/// ListTasks of `api`'s stopped tasks (the evidence), answering `arns`.
fn stopped_tasks_of_api(arns: &'static [&'static str]) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_ecs::Client::list_tasks)
        .match_requests(|request| {
            request.cluster() == Some("back-end-staging")
                && request.service_name() == Some("api")
                && request.desired_status() == Some(&aws_sdk_ecs::types::DesiredStatus::Stopped)
        })
        .then_output(|| {
            ListTasksOutput::builder()
                .set_task_arns(Some(arns.iter().map(|a| a.to_string()).collect()))
                .build()
        })
}

macro_rules! ecs_client {
    ($($rule:expr),*) => {
        crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [$(&$rule),*], |config| {
            config.retry_config(aws_sdk_ecs::config::retry::RetryConfig::disabled())
        }))
    };
}

#[tokio::test(start_paused = true)]
async fn a_failed_rollout_is_explained_and_rolled_back_and_still_fails() {
    use DeploymentRolloutState::*;
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| described(service(OLD, BEFORE, Completed, 1))) // idle before ours
        .output(|| described(service(NEW, OURS, InProgress, 0)))
        .output(|| described(service(NEW, OURS, Failed, 0))) // our deployment failed
        .output(|| described(service(NEW, OURS, Failed, 0))) // where is it now? still ours
        .output(|| described(service(OLD, BACK, InProgress, 0))) // our rollback
        .output(|| described(service(OLD, BACK, Completed, 1)))
        .build();
    let update = update_to(NEW, Some(false), OURS);
    let rollback = update_to(OLD, None, BACK);
    let list = stopped_tasks_of_api(&[TASK]);
    let tasks = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(stopped_task);
    let log = mock!(aws_sdk_cloudwatchlogs::Client::get_log_events)
        .match_requests(|request| request.log_stream_name() == Some("ecs/api/0f1e2d3c"))
        .then_output(log_lines);
    let ecs = ecs_client!(describe, update, rollback, list, tasks);
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&log]);
    let console = Console::new(Mode::Plain);

    let rollout = roll_one(
        &ecs,
        &logs,
        &settings(true),
        &target(),
        Some(ours()),
        &console,
    )
    .await
    .unwrap();

    assert_eq!(update.num_calls(), 1, "our update");
    assert_eq!(
        rollback.num_calls(),
        1,
        "the rollback, to the revision it ran before"
    );
    assert_eq!(list.num_calls(), 1, "the stopped tasks were read");
    let failure = rollout
        .outcome
        .failure()
        .expect("the step fails even after a good rollback");
    assert!(failure.rolled_back);
    assert_eq!(failure.left_on, OLD);
    assert!(
        failure
            .reason
            .contains("rolled back to revision back-end:7"),
        "{}",
        failure.reason
    );
    let evidence = failure.evidence.as_deref().unwrap();
    assert!(
        evidence.contains("Essential container in task exited (EssentialContainerExited)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("container api: exit code 1, reason: OutOfMemoryError"),
        "{evidence}"
    );
    // The log lines are application output: in the step log only (not with
    // evidence-in-summary off), a CloudWatch link everywhere else.
    assert!(
        !evidence.contains("panic: JWT_SECRET_KEY is not set"),
        "{evidence}"
    );
    assert!(
        evidence.contains("logs of api: https://us-east-1.console.aws.amazon.com/cloudwatch/"),
        "{evidence}"
    );
    assert_eq!(failure.log_lines, None);
}

#[tokio::test(start_paused = true)]
async fn a_circuit_breaker_rollback_fails_without_a_second_rollback() {
    use DeploymentRolloutState::*;
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| described(service(OLD, BEFORE, Completed, 1)))
        .output(|| described(service(NEW, OURS, InProgress, 0)))
        // ECS rolled back: ours FAILED, a new PRIMARY on the old revision, fully running.
        .output(|| {
            let mut rolled_back = service(OLD, BACK, Completed, 1);
            rolled_back
                .deployments
                .get_or_insert_default()
                .push(deployment(OURS, NEW, "ACTIVE", Failed, 0));
            described(rolled_back)
        })
        .repeatedly()
        .build();
    let update = update_to(NEW, Some(false), OURS);
    let list = stopped_tasks_of_api(&[]);
    let ecs = ecs_client!(describe, update, list);
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []);
    let rollout = roll_one(
        &ecs,
        &logs,
        &settings(true),
        &target(),
        Some(ours()),
        &Console::new(Mode::Plain),
    )
    .await
    .unwrap();
    assert_eq!(
        update.num_calls(),
        1,
        "ECS already rolled back: no second update"
    );
    let failure = rollout.outcome.failure().unwrap();
    assert!(failure.reason.contains("rolled back"), "{}", failure.reason);
    assert!(failure.rolled_back);
    assert_eq!(failure.left_on, OLD);
    assert_eq!(failure.evidence, None, "no task of ours stopped");
}

#[tokio::test(start_paused = true)]
async fn without_rollback_the_service_is_left_on_our_revision_and_says_so() {
    use DeploymentRolloutState::*;
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| described(service(OLD, BEFORE, Completed, 1)))
        .output(|| described(service(NEW, OURS, InProgress, 0)))
        .repeatedly()
        .build();
    let update = update_to(NEW, Some(false), OURS);
    let list = stopped_tasks_of_api(&[]);
    let ecs = ecs_client!(describe, update, list);
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []);
    let mut settings = settings(false);
    settings.wait_timeout = Some(Duration::from_secs(120));
    let rollout = roll_one(
        &ecs,
        &logs,
        &settings,
        &target(),
        Some(ours()),
        &Console::new(Mode::Plain),
    )
    .await
    .unwrap();
    let failure = rollout.outcome.failure().unwrap();
    assert!(
        failure.reason.contains("within 2 minutes"),
        "{}",
        failure.reason
    );
    assert!(!failure.rolled_back);
    assert_eq!(failure.left_on, NEW);
    assert_eq!(update.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_changed_by_someone_else_is_not_overwritten() {
    use DeploymentRolloutState::*;
    let other = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:9";
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .then_output(move || described(service(other, "ecs-svc/9999", Completed, 1)));
    let update = update_to(NEW, Some(false), OURS);
    let ecs = ecs_client!(describe, update);
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []);
    let error = roll_one(
        &ecs,
        &logs,
        &settings(true),
        &target(),
        Some(ours()),
        &Console::new(Mode::Plain),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("nothing was changed"), "{error}");
    assert_eq!(update.num_calls(), 0);
}

#[test]
fn log_streams_follow_the_awslogs_naming() {
    let task = stopped_task().tasks()[0].clone();
    assert_eq!(
        evidence::log_streams(&task_definition(NEW), task.task_arn().unwrap()),
        vec![(
            "api".to_string(),
            "/ecs/back-end-staging".to_string(),
            "ecs/api/0f1e2d3c".to_string()
        )]
    );
}
