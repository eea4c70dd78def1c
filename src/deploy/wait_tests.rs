//! The polling loop against rollout sequences no stand-in can produce (aws-smithy-mocks).

use super::*;
use crate::console::Mode;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::types::{Deployment, ServiceEvent};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const OURS: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:8";
const OLD: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:7";

fn answer(
    service_td: &str,
    deployment_td: &str,
    state: DeploymentRolloutState,
    running: i32,
    event: &str,
) -> DescribeServicesOutput {
    let deployment = Deployment::builder()
        .id("ecs-svc/1")
        .status("PRIMARY")
        .task_definition(deployment_td)
        .desired_count(2)
        .running_count(running)
        .pending_count(2 - running)
        .rollout_state(state)
        .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
        .build();
    let service = Service::builder()
        .service_name("api")
        .task_definition(service_td)
        .deployments(deployment)
        .events(
            ServiceEvent::builder()
                .id(event)
                .message(format!("event {event}"))
                .build(),
        )
        .desired_count(2)
        .running_count(running)
        .build();
    DescribeServicesOutput::builder().services(service).build()
}

async fn wait(client: &aws_sdk_ecs::Client, timeout: Duration) -> (Result<Verdict>, Duration) {
    let started = Instant::now();
    let mut seen = EventLog::default();
    let result = wait_for_rollout(
        client,
        "cluster",
        "api",
        OURS,
        timeout,
        &mut seen,
        &Console::new(Mode::Plain),
    )
    .await;
    (result, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn completion_is_noticed_at_the_next_quick_poll() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OURS, OURS, InProgress, 0, "1"))
        .times(3)
        .output(|| answer(OURS, OURS, Completed, 2, "2"))
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let (result, elapsed) = wait(&client, Duration::from_secs(600)).await;
    assert_eq!(
        result.unwrap(),
        Verdict::Done {
            running: 2,
            desired: 2
        }
    );
    assert_eq!(rule.num_calls(), 4);
    // Three 2-second sleeps: the step returns within seconds of ECS saying COMPLETED.
    assert_eq!(elapsed, Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn a_circuit_breaker_rollback_is_a_failure_not_a_success() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OURS, OURS, InProgress, 0, "1"))
        // Rolled back: a new PRIMARY deployment on the old revision, fully running.
        .output(|| answer(OLD, OLD, Completed, 2, "2"))
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let (result, _) = wait(&client, Duration::from_secs(600)).await;
    match result.unwrap() {
        Verdict::Failed(reason) => assert!(reason.contains("rolled back"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_deployment_carries_its_reason() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OURS, OURS, Failed, 0, "1"))
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let (result, _) = wait(&client, Duration::from_secs(600)).await;
    assert_eq!(
        result.unwrap(),
        Verdict::Failed("the deployment ecs-svc/1 failed: ECS deployment circuit breaker: tasks failed to start.".into())
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_at_the_timeout() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OURS, OURS, InProgress, 1, "1"))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let (result, elapsed) = wait(&client, Duration::from_secs(5 * 60)).await;
    match result.unwrap() {
        Verdict::TimedOut(reason) => {
            assert!(
                reason.contains("within 5 minutes") && reason.contains("1 running"),
                "{reason}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_secs(300) && elapsed < Duration::from_secs(320),
        "{elapsed:?}"
    );
    // Quick polls for 30 s, a short ramp, then every 15 s: at most 40 polls, not 150.
    assert!(rule.num_calls() <= 40, "{} polls", rule.num_calls());
}

#[tokio::test(start_paused = true)]
async fn an_earlier_deployment_is_waited_for_before_ours() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OLD, OLD, InProgress, 1, "1"))
        .times(2)
        .output(|| answer(OLD, OLD, Completed, 2, "2"))
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let mut events = EventLog::default();
    let console = Console::new(Mode::Plain);
    let service = wait_until_idle(
        &client,
        "cluster",
        "api",
        Duration::from_secs(600),
        &mut events,
        &console,
    )
    .await
    .unwrap();
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(service.task_definition(), Some(OLD));
    assert_eq!(
        events.printed,
        vec!["event 2"],
        "only events after the first look are printed"
    );

    let stuck = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OLD, OLD, InProgress, 1, "1"))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&stuck]);
    let error = wait_until_idle(
        &client,
        "cluster",
        "api",
        Duration::from_secs(60),
        &mut events,
        &console,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("nothing was changed"), "{error}");
}

/// For scripts/bench: a rollout that completes at a known instant, and how long after it the
/// wait returns, for completion times across the poll schedule.
#[tokio::test(start_paused = true)]
async fn detection_latency_figures() {
    use DeploymentRolloutState::*;
    let mut worst_early = Duration::ZERO;
    for completes_at in [1u64, 5, 13, 29, 31, 45, 90, 600] {
        let start = Instant::now();
        let done_at = Duration::from_secs(completes_at);
        let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(move || {
            if start.elapsed() >= done_at {
                answer(OURS, OURS, Completed, 2, "2")
            } else {
                answer(OURS, OURS, InProgress, 1, "1")
            }
        });
        let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
        let (result, elapsed) = wait(&client, Duration::from_secs(3600)).await;
        assert!(matches!(result.unwrap(), Verdict::Done { .. }));
        let latency = elapsed - done_at;
        if completes_at < 30 {
            worst_early = worst_early.max(latency);
        }
        println!(
            "detection latency: rollout completes at {completes_at:>3}s → noticed {:.1}s later ({} polls)",
            latency.as_secs_f64(),
            rule.num_calls()
        );
        assert!(latency <= Duration::from_secs(15));
    }
    assert!(worst_early <= Duration::from_secs(2), "{worst_early:?}");
}
