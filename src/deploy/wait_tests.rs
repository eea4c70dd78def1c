//! The polling loop against rollout sequences no stand-in can produce (aws-smithy-mocks).

use super::*;
use crate::console::Mode;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::types::{Deployment, ServiceEvent};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const OURS: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:8";
const OLD: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:7";

/// The deployment UpdateService started.
const OUR_ID: &str = "ecs-svc/1";

/// A service whose only deployment, PRIMARY, rolls `deployment_td`: ours (`ecs-svc/1`) when it
/// rolls OURS, else the one before it.
fn answer(
    service_td: &str,
    deployment_td: &str,
    state: DeploymentRolloutState,
    running: i32,
    event: &str,
) -> DescribeServicesOutput {
    let id = if deployment_td == OURS {
        OUR_ID
    } else {
        "ecs-svc/0"
    };
    let deployment = Deployment::builder()
        .id(id)
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

async fn wait(client: &crate::aws::Ecs, timeout: Duration) -> (Result<Verdict>, Duration) {
    let started = Instant::now();
    let mut seen = EventLog::default();
    let followed = Followed {
        deployment_id: Some(OUR_ID.into()),
        task_definition: OURS.into(),
    };
    let result = wait_for_rollout(
        client,
        &Poller::new("cluster", vec!["api".into()]),
        "api",
        &followed,
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
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
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
        // Rolled back: ours FAILED, a new PRIMARY deployment on the old revision.
        .output(|| {
            let mut answer = answer(OLD, OLD, Completed, 2, "2");
            let ours = Deployment::builder()
                .id(OUR_ID)
                .status("ACTIVE")
                .task_definition(OURS)
                .rollout_state(Failed)
                .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
                .build();
            answer.services.as_mut().unwrap()[0]
                .deployments
                .get_or_insert_default()
                .push(ours);
            answer
        })
        .build();
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
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
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
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
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
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
    // Every 2 s for 30 s, then every 3 s: 15 + 90 polls of one service in five minutes.
    assert!(rule.num_calls() <= 106, "{} polls", rule.num_calls());
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
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
    let mut events = EventLog::default();
    let console = Console::new(Mode::Plain);
    let service = wait_until_idle(
        &client,
        &Poller::new("cluster", vec!["api".into()]),
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
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&stuck]));
    let error = wait_until_idle(
        &client,
        &Poller::new("cluster", vec!["api".into()]),
        "api",
        Duration::from_secs(60),
        &mut events,
        &console,
    )
    .await
    .unwrap_err();
    // Said once: the rollout's report puts the service's name in front.
    assert!(
        error
            .to_string()
            .starts_with("deployment ecs-svc/0 of arn:aws:ecs:")
            && error
                .to_string()
                .contains("still after 1 minutes; nothing was changed"),
        "{error}"
    );
}

/// ECS reads are eventually consistent: the first polls after UpdateService may show the
/// service as it was. That is "not yet", never a rollback.
#[tokio::test(start_paused = true)]
async fn stale_reads_after_the_update_are_not_a_rollback() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OLD, OLD, Completed, 2, "1"))
        .times(3)
        .output(|| answer(OURS, OURS, InProgress, 1, "2"))
        .output(|| answer(OURS, OURS, Completed, 2, "3"))
        .build();
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
    let (result, _) = wait(&client, Duration::from_secs(600)).await;
    assert_eq!(
        result.unwrap(),
        Verdict::Done {
            running: 2,
            desired: 2
        }
    );
    assert_eq!(rule.num_calls(), 5);
}

/// A deployment that never shows up is gone after the grace period, and the failure says what
/// the service shows instead.
#[tokio::test(start_paused = true)]
async fn a_deployment_that_never_shows_is_a_failure_after_the_grace_period() {
    use DeploymentRolloutState::*;
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| answer(OLD, OLD, Completed, 2, "1"))
        .repeatedly()
        .build();
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]));
    let (result, elapsed) = wait(&client, Duration::from_secs(600)).await;
    match result.unwrap() {
        Verdict::Failed(reason) => {
            assert!(
                reason.contains("does not show our deployment ecs-svc/1"),
                "{reason}"
            );
            assert!(
                reason.contains("PRIMARY is deployment ecs-svc/0"),
                "{reason}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(elapsed >= VISIBILITY_GRACE && elapsed < VISIBILITY_GRACE + Duration::from_secs(4));
}

/// For scripts/bench: a rollout that completes at a known instant, and how long after it the
/// wait returns, for completion times across the poll schedule.
#[tokio::test(start_paused = true)]
async fn detection_latency_figures() {
    use DeploymentRolloutState::*;
    let mut worst = Duration::ZERO;
    for completes_at in [1u64, 5, 13, 29, 31, 45, 90, 600, 1800] {
        let start = Instant::now();
        let done_at = Duration::from_secs(completes_at);
        let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(move || {
            if start.elapsed() >= done_at {
                answer(OURS, OURS, Completed, 2, "2")
            } else {
                answer(OURS, OURS, InProgress, 1, "1")
            }
        });
        let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]));
        let (result, elapsed) = wait(&client, Duration::from_secs(3600)).await;
        assert!(matches!(result.unwrap(), Verdict::Done { .. }));
        let latency = elapsed - done_at;
        worst = worst.max(latency);
        println!(
            "detection latency: rollout completes at {completes_at:>3}s → noticed {:.1}s later ({} polls)",
            latency.as_secs_f64(),
            rule.num_calls()
        );
    }
    // Noticed within 3 s however long the rollout took (P2).
    assert!(worst <= Duration::from_secs(3), "{worst:?}");
}

/// Twelve services waited on together: each poll reads them all in two DescribeServices (ten a
/// call, the API's limit), not twelve.
#[tokio::test(start_paused = true)]
async fn services_waited_on_together_share_their_polls() {
    use DeploymentRolloutState::*;
    let names: Vec<String> = (0..12).map(|i| format!("svc-{i}")).collect();
    let started = Instant::now();
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|request| request.services().len() <= 10)
        .then_output(move || {
            // Every service completes 10 s in.
            let state = if started.elapsed() >= Duration::from_secs(10) {
                Completed
            } else {
                InProgress
            };
            let services = (0..12)
                .map(|i| {
                    let mut service =
                        answer(OURS, OURS, state.clone(), 2, "1").services()[0].clone();
                    service.service_name = Some(format!("svc-{i}"));
                    service
                })
                .collect();
            DescribeServicesOutput::builder()
                .set_services(Some(services))
                .build()
        });
    let client = crate::aws::Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]));
    let poller = std::sync::Arc::new(Poller::new("cluster", names.clone()));
    let followed = Followed {
        deployment_id: Some(OUR_ID.into()),
        task_definition: OURS.into(),
    };
    let mut waits = tokio::task::JoinSet::new();
    for name in names {
        let (client, poller, followed) = (client.clone(), poller.clone(), followed.clone());
        waits.spawn(async move {
            let mut events = EventLog::default();
            wait_for_rollout(
                &client,
                &poller,
                &name,
                &followed,
                Duration::from_secs(600),
                &mut events,
                &Console::new(Mode::Plain),
            )
            .await
        });
    }
    while let Some(result) = waits.join_next().await {
        assert!(matches!(result.unwrap().unwrap(), Verdict::Done { .. }));
    }
    // Polls at 0, 2, 4, 6, 8 and 10 s: six polls, two calls each.
    assert!(
        rule.num_calls() <= 12,
        "{} DescribeServices for 6 polls of 12 services",
        rule.num_calls()
    );
}

/// The pure decisions: "done, failed or still going", a failing deployment, the serving revision.
mod decisions {
    use super::super::*;
    use DeploymentRolloutState::*;
    use aws_sdk_ecs::types::Deployment;

    const OURS: &str = "arn:td/back-end:8";
    const OLD: &str = "arn:td/back-end:7";
    const OUR_ID: &str = "ecs-svc/ours";

    fn deployment(
        id: &str,
        status: &str,
        td: &str,
        state: Option<DeploymentRolloutState>,
        running: i32,
        pending: i32,
    ) -> Deployment {
        let mut builder = Deployment::builder()
            .id(id)
            .status(status)
            .task_definition(td)
            .desired_count(2)
            .running_count(running)
            .pending_count(pending)
            .rollout_state_reason("reason");
        if let Some(state) = state {
            builder = builder.rollout_state(state);
        }
        builder.build()
    }

    fn service(td: &str, deployments: Vec<Deployment>, running: i32) -> Service {
        Service::builder()
            .service_name("api")
            .task_definition(td)
            .set_deployments(Some(deployments))
            .desired_count(2)
            .running_count(running)
            .pending_count(2 - running)
            .build()
    }

    fn outcome(progress: Progress) -> &'static str {
        match progress {
            Progress::Done { .. } => "done",
            Progress::Waiting { .. } => "waiting",
            Progress::NotVisible(_) => "not visible",
            Progress::Failed(_) => "failed",
        }
    }

    /// Failing means in progress with failed tasks and none running: ECS keeps such a
    /// deployment IN_PROGRESS without the circuit breaker ("Deployment", API reference). A
    /// slow but healthy one, or one whose failures are behind it, is waited for as before.
    #[test]
    fn a_failing_deployment_is_told_from_a_progressing_one() {
        let with_failures = |running, failed| {
            let mut primary = deployment(OUR_ID, "PRIMARY", OURS, Some(InProgress), running, 2);
            primary.failed_tasks = failed;
            service(
                OURS,
                vec![
                    primary,
                    deployment("ecs-svc/old", "ACTIVE", OLD, Some(Completed), 2, 0),
                ],
                2,
            )
        };
        let stuck = with_failures(0, 3);
        let found = failing(&stuck).unwrap();
        assert_eq!((found.id.as_str(), found.failed_tasks), (OUR_ID, 3));
        assert_eq!(serving_revision(&stuck), OLD, "never the failing revision");
        assert!(
            found
                .to_string()
                .contains("back-end:8 is failing (3 failed tasks, none running")
        );
        for (why, service) in [
            ("no task failed yet", with_failures(0, 0)),
            ("some of it runs", with_failures(1, 2)),
        ] {
            assert_eq!(failing(&service), None, "{why}");
            assert_eq!(serving_revision(&service), OURS, "{why}");
            assert!(busy(&service).is_some(), "{why}: still waited for");
        }
        // No failed-task count, but ECS's event says its tasks keep failing to start.
        let mut said = with_failures(0, 0);
        said.events = Some(vec![
            aws_sdk_ecs::types::ServiceEvent::builder()
                .id("e1")
                .message("(service api) is unable to consistently start tasks successfully.")
                .build(),
        ]);
        assert!(failing(&said).is_some(), "the event alone says it");
        // An event from before this deployment started is about an earlier one.
        let at = aws_sdk_ecs::primitives::DateTime::from_secs;
        said.deployments.as_mut().unwrap()[0].created_at = Some(at(2_000));
        said.events.as_mut().unwrap()[0].created_at = Some(at(1_000));
        assert_eq!(failing(&said), None, "an older event");
        let mut circuit_breaker = with_failures(0, 3);
        circuit_breaker.deployments.as_mut().unwrap()[0].rollout_state = Some(Failed);
        assert_eq!(
            failing(&circuit_breaker),
            None,
            "a FAILED deployment has ended"
        );
    }

    /// Followed by the id UpdateService answered with (ECS's documented way; the official
    /// deploy action does the same).
    #[test]
    fn decisions_by_deployment_id() {
        let followed = Followed {
            deployment_id: Some(OUR_ID.into()),
            task_definition: OURS.into(),
        };
        let ours =
            |state, running, pending| deployment(OUR_ID, "PRIMARY", OURS, state, running, pending);
        let table = [
            (
                "completed",
                service(OURS, vec![ours(Some(Completed), 2, 0)], 2),
                "done",
            ),
            (
                "in progress, the old one draining",
                service(
                    OURS,
                    vec![
                        ours(Some(InProgress), 1, 1),
                        deployment("ecs-svc/old", "ACTIVE", OLD, Some(Completed), 2, 0),
                    ],
                    3,
                ),
                "waiting",
            ),
            (
                "failed",
                service(OURS, vec![ours(Some(Failed), 0, 0)], 0),
                "failed",
            ),
            (
                "circuit-breaker rollback: ours FAILED, a new PRIMARY on the old revision",
                service(
                    OLD,
                    vec![
                        deployment("ecs-svc/back", "PRIMARY", OLD, Some(InProgress), 1, 1),
                        deployment(OUR_ID, "ACTIVE", OURS, Some(Failed), 0, 0),
                    ],
                    1,
                ),
                "failed",
            ),
            (
                "a newer deploy replaced ours",
                service(
                    "arn:td/back-end:9",
                    vec![
                        deployment(
                            "ecs-svc/newer",
                            "PRIMARY",
                            "arn:td/back-end:9",
                            Some(InProgress),
                            0,
                            2,
                        ),
                        deployment(OUR_ID, "ACTIVE", OURS, Some(InProgress), 1, 0),
                    ],
                    1,
                ),
                "failed",
            ),
            (
                "a stale read: the old revision and its deployment",
                service(
                    OLD,
                    vec![deployment(
                        "ecs-svc/old",
                        "PRIMARY",
                        OLD,
                        Some(Completed),
                        2,
                        0,
                    )],
                    2,
                ),
                "not visible",
            ),
            (
                "a forced redeploy: the COMPLETED deployment before ours shares the revision",
                service(
                    OURS,
                    vec![
                        ours(Some(InProgress), 0, 2),
                        deployment("ecs-svc/before", "ACTIVE", OURS, Some(Completed), 2, 0),
                    ],
                    2,
                ),
                "waiting",
            ),
            (
                "no rollout state, only ours, all running",
                service(OURS, vec![ours(None, 2, 0)], 2),
                "done",
            ),
            (
                "no rollout state, the old one draining",
                service(
                    OURS,
                    vec![
                        ours(None, 2, 0),
                        deployment("ecs-svc/old", "ACTIVE", OLD, None, 1, 0),
                    ],
                    3,
                ),
                "waiting",
            ),
        ];
        for (case, service, expected) in table {
            assert_eq!(outcome(assess(&service, &followed)), expected, "{case}");
        }
    }

    /// Without an id (an answer that named no deployment of ours): judged by the revision, and
    /// another revision is "not visible yet", never at once a rollback.
    #[test]
    fn decisions_by_revision() {
        let followed = Followed {
            deployment_id: None,
            task_definition: OURS.into(),
        };
        let table = [
            (
                "the old revision (a stale read, or a rollback: the grace period decides)",
                service(
                    OLD,
                    vec![deployment(
                        "ecs-svc/old",
                        "PRIMARY",
                        OLD,
                        Some(InProgress),
                        2,
                        0,
                    )],
                    2,
                ),
                "not visible",
            ),
            (
                "a deployment of ours completed",
                service(
                    OURS,
                    vec![deployment(
                        "ecs-svc/x",
                        "PRIMARY",
                        OURS,
                        Some(Completed),
                        2,
                        0,
                    )],
                    2,
                ),
                "done",
            ),
            (
                "no deployment on ours, counts match",
                service(
                    OURS,
                    vec![deployment(
                        "ecs-svc/old",
                        "PRIMARY",
                        OLD,
                        Some(Completed),
                        2,
                        0,
                    )],
                    2,
                ),
                "done",
            ),
            (
                "no deployment on ours, counts short",
                service(
                    OURS,
                    vec![deployment(
                        "ecs-svc/old",
                        "PRIMARY",
                        OLD,
                        Some(Completed),
                        2,
                        0,
                    )],
                    1,
                ),
                "waiting",
            ),
        ];
        for (case, service, expected) in table {
            assert_eq!(outcome(assess(&service, &followed)), expected, "{case}");
        }
    }

    #[test]
    fn the_id_comes_from_the_primary_deployment_of_our_revision() {
        let answer = service(
            OURS,
            vec![
                deployment("ecs-svc/old", "ACTIVE", OURS, Some(Completed), 2, 0),
                deployment(OUR_ID, "PRIMARY", OURS, Some(InProgress), 0, 0),
            ],
            2,
        );
        assert_eq!(
            Followed::from_update(Some(&answer), OURS)
                .deployment_id
                .as_deref(),
            Some(OUR_ID)
        );
        // A PRIMARY of another revision (moto: its CreateService deployment) is not ours.
        let stand_in = service(
            OURS,
            vec![deployment("ecs-svc/create", "PRIMARY", OLD, None, 2, 0)],
            2,
        );
        assert_eq!(
            Followed::from_update(Some(&stand_in), OURS).deployment_id,
            None
        );
        assert_eq!(Followed::from_update(None, OURS).deployment_id, None);
    }

    #[test]
    fn polls_every_two_then_three_seconds() {
        assert_eq!(poll_delay(Duration::ZERO), Duration::from_secs(2));
        assert_eq!(poll_delay(Duration::from_secs(29)), Duration::from_secs(2));
        assert_eq!(poll_delay(Duration::from_secs(60)), Duration::from_secs(3));
        assert_eq!(
            poll_delay(Duration::from_secs(3600)),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn by_revision_all_running_but_one_more_pending_is_waiting() {
        let followed = Followed {
            deployment_id: None,
            task_definition: OURS.into(),
        };
        let mut pending = service(
            OURS,
            vec![deployment(
                "ecs-svc/old",
                "PRIMARY",
                OLD,
                Some(Completed),
                2,
                0,
            )],
            2,
        );
        pending.pending_count = 1;
        assert_eq!(outcome(assess(&pending, &followed)), "waiting");
    }

    #[test]
    fn a_service_is_busy_while_another_deployment_runs_or_drains() {
        let idle = service(
            OLD,
            vec![deployment(
                "ecs-svc/old",
                "PRIMARY",
                OLD,
                Some(Completed),
                2,
                0,
            )],
            2,
        );
        assert_eq!(busy(&idle), None);
        let rolling = service(
            OLD,
            vec![deployment(
                "ecs-svc/old",
                "PRIMARY",
                OLD,
                Some(InProgress),
                1,
                1,
            )],
            1,
        );
        assert!(
            busy(&rolling)
                .unwrap()
                .contains("ecs-svc/old of arn:td/back-end:7 is still in progress")
        );
        let draining = service(
            OURS,
            vec![
                deployment(OUR_ID, "PRIMARY", OURS, None, 2, 0),
                deployment("ecs-svc/old", "ACTIVE", OLD, None, 1, 0),
            ],
            3,
        );
        assert!(
            busy(&draining)
                .unwrap()
                .contains("2 deployments are still active")
        );
    }
}
