//! One-off tasks through sequences the stand-in would take minutes for: the timeout.

use super::*;
use crate::console::Mode;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::run_task::RunTaskOutput;
use aws_sdk_ecs::operation::stop_task::StopTaskOutput;
use aws_sdk_ecs::types::{ContainerDefinition, Task};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const TASK: &str = "arn:aws:ecs:us-east-2:123456789012:task/back-end-staging/0f1e2d3c";

/// The revision the task runs: one container, `api`.
fn revision() -> TaskDefinition {
    TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:8")
        .container_definitions(ContainerDefinition::builder().name("api").build())
        .build()
}

/// A pre-deploy task of `command` in `api`, with two minutes to run.
fn request<'a>(
    service: &'a Service,
    task_definition: &'a TaskDefinition,
    command: &'a [String],
    journal: &'a crate::deploy::Journal,
) -> TaskRequest<'a> {
    TaskRequest {
        cluster: "back-end-staging",
        service,
        task_definition,
        container: "api",
        command,
        text: None,
        what: "pre-deploy-command",
        started_by: "deploy-action-local".into(),
        timeout: Duration::from_secs(120),
        journal,
    }
}

fn running() -> Task {
    Task::builder()
        .task_arn(TASK)
        .last_status("RUNNING")
        .build()
}

/// A migration that hangs: at its timeout the task is stopped with a reason that names us, the
/// journal forgets it (a cancel now has nothing to stop), and the failure says it did not finish
/// — not "exit code none".
#[tokio::test(start_paused = true)]
async fn a_task_that_outlives_its_timeout_is_stopped() {
    let run_task = mock!(aws_sdk_ecs::Client::run_task)
        .then_output(|| RunTaskOutput::builder().tasks(running()).build());
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .then_output(|| DescribeTasksOutput::builder().tasks(running()).build());
    let stop = mock!(aws_sdk_ecs::Client::stop_task)
        .match_requests(|request| {
            request.task() == Some(TASK)
                && request
                    .reason()
                    .is_some_and(|reason| reason.contains("pre-deploy-command timed out"))
        })
        .then_output(|| StopTaskOutput::builder().build());
    let ecs = crate::aws::Ecs::from(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&run_task, &describe, &stop]
    ));
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []);
    let (service, task_definition) = (Service::builder().service_name("api").build(), revision());
    let journal = crate::deploy::Journal::default();
    let command = ["sleep".to_string(), "infinity".to_string()];
    let request = request(&service, &task_definition, &command, &journal);
    let done = run(&ecs, &logs, &request, &Console::new(Mode::Plain))
        .await
        .unwrap();
    assert!(done.timed_out, "{done:?}");
    assert_eq!(done.exit_code, None);
    assert_eq!(stop.num_calls(), 1);
    assert!(
        describe.num_calls() >= 40,
        "polled {} times",
        describe.num_calls()
    );
    assert!(journal.running_task().is_none());
    let error = failure(&done, &command).to_string();
    assert!(
        error.starts_with(
            "pre-deploy-command `sleep infinity` did not finish in 0f1e2d3c (api): timed out after 2 minutes; deploy-action stopped it"
        ) && error.ends_with("; no service was updated"),
        "{error}"
    );
}

/// While the task runs the journal holds it, so a cancel can stop it.
#[tokio::test(start_paused = true)]
async fn a_running_task_is_in_the_journal_until_it_stops() {
    let run_task = mock!(aws_sdk_ecs::Client::run_task)
        .then_output(|| RunTaskOutput::builder().tasks(running()).build());
    let journal = crate::deploy::Journal::default();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let describe = {
        let journal = journal.clone();
        let seen = seen.clone();
        mock!(aws_sdk_ecs::Client::describe_tasks).then_output(move || {
            *seen.lock().unwrap() = journal.running_task().map(|task| task.task_arn);
            DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .task_arn(TASK)
                        .last_status("STOPPED")
                        .containers(
                            aws_sdk_ecs::types::Container::builder()
                                .name("api")
                                .exit_code(0)
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
    };
    let ecs = crate::aws::Ecs::from(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&run_task, &describe]
    ));
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, []);
    let (service, task_definition) = (Service::builder().service_name("api").build(), revision());
    let command = ["true".to_string()];
    let request = request(&service, &task_definition, &command, &journal);
    let done = run(&ecs, &logs, &request, &Console::new(Mode::Plain))
        .await
        .unwrap();
    assert!(done.succeeded());
    assert_eq!(seen.lock().unwrap().as_deref(), Some(TASK));
    assert!(journal.running_task().is_none());
}
