//! Service deployments through sequences the stand-in takes minutes for, on a paused clock.

use super::*;
use crate::console::Mode;
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
use aws_sdk_ecs::operation::stop_service_deployment::StopServiceDeploymentOutput;
use aws_sdk_ecs::types::{Rollback, ServiceDeploymentAlarms, ServiceRevisionSummary};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const ARN: &str = "arn:aws:ecs:us-east-2:123456789012:service-deployment/back-end/api/Nk2H";

fn deployment(status: Status, stage: Stage) -> ServiceDeployment {
    ServiceDeployment::builder()
        .service_deployment_arn(ARN)
        .status(status)
        .lifecycle_stage(stage)
        .deployment_configuration(
            DeploymentConfiguration::builder()
                .strategy(DeploymentStrategy::BlueGreen)
                .bake_time_in_minutes(30)
                .build(),
        )
        .target_service_revision(
            ServiceRevisionSummary::builder()
                .arn("arn:aws:ecs:us-east-2:123456789012:service-revision/back-end/api/8")
                .requested_task_count(2)
                .running_task_count(2)
                .build(),
        )
        .build()
}

fn answer(deployment: ServiceDeployment) -> DescribeServiceDeploymentsOutput {
    DescribeServiceDeploymentsOutput::builder()
        .service_deployments(deployment)
        .build()
}

#[test]
fn a_deployment_in_its_bake_is_in_production_and_a_rollback_names_the_alarm() {
    assert_eq!(
        assess(&deployment(Status::InProgress, Stage::ScaleUp)),
        Standing::Going
    );
    assert_eq!(
        assess(&deployment(Status::InProgress, Stage::BakeTime)),
        Standing::Baking
    );
    assert_eq!(
        assess(&deployment(Status::Successful, Stage::CleanUp)),
        Standing::Succeeded
    );
    let mut rolled_back = deployment(Status::RollbackSuccessful, Stage::BakeTime);
    rolled_back.alarms = Some(
        ServiceDeploymentAlarms::builder()
            .alarm_names("api-5xx")
            .triggered_alarm_names("api-5xx")
            .build(),
    );
    rolled_back.rollback = Some(
        Rollback::builder()
            .reason("Service deployment rolled back because of alarm api-5xx")
            .build(),
    );
    assert_eq!(
        assess(&rolled_back),
        Standing::RolledBack {
            reason: "alarm api-5xx fired; Service deployment rolled back because of alarm api-5xx"
                .into(),
            finished: true,
        }
    );
    assert!(matches!(
        assess(&deployment(Status::RollbackInProgress, Stage::BakeTime)),
        Standing::RolledBack {
            finished: false,
            ..
        }
    ));
}

/// A 30-minute bake with a 2-minute timeout: the step ends as the bake begins, with when it
/// ends; ECS's rollback is followed to its end and never doubled.
#[tokio::test(start_paused = true)]
async fn following_ends_at_the_bake_or_at_ecs_rollback() {
    let walk = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .output(|| answer(deployment(Status::InProgress, Stage::PreScaleUp)))
        .output(|| answer(deployment(Status::InProgress, Stage::ScaleUp)))
        .output(|| {
            answer(deployment(
                Status::InProgress,
                Stage::ProductionTrafficShift,
            ))
        })
        .output(|| answer(deployment(Status::InProgress, Stage::BakeTime)))
        .build();
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&walk]));
    let following = Following {
        service: "api",
        arn: ARN,
        timeout: Duration::from_secs(120),
        deadline: Instant::now() + Duration::from_secs(120),
        through_bake: false,
        answered: &[],
    };
    let console = Console::new(Mode::Plain);
    match follow(&ecs, &following, &console).await.unwrap() {
        Ending::Baking { until } => assert!(until.is_some_and(|until| until.ends_with('Z'))),
        other => panic!("{other:?}"),
    }
    assert_eq!(walk.num_calls(), 4);

    let rolled = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .output(|| answer(deployment(Status::RollbackInProgress, Stage::BakeTime)))
        .output(|| answer(deployment(Status::RollbackSuccessful, Stage::BakeTime)))
        .build();
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rolled]));
    assert!(matches!(
        follow(&ecs, &following, &console).await.unwrap(),
        Ending::RolledBackByEcs { .. }
    ));
}

/// A green revision that never scales up: at the timeout, StopServiceDeployment(ROLLBACK), and
/// ECS's rollback is followed to ROLLBACK_SUCCESSFUL.
#[tokio::test(start_paused = true)]
async fn a_deployment_that_never_reaches_production_times_out_and_is_rolled_back_by_ecs() {
    let stuck = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .then_output(|| answer(deployment(Status::InProgress, Stage::ScaleUp)));
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&stuck]));
    let following = Following {
        service: "api",
        arn: ARN,
        timeout: Duration::from_secs(120),
        deadline: Instant::now() + Duration::from_secs(120),
        through_bake: false,
        answered: &[],
    };
    let console = Console::new(Mode::Plain);
    let ending = follow(&ecs, &following, &console).await.unwrap();
    assert!(
        matches!(&ending, Ending::TimedOut(reason) if reason.contains("did not reach production traffic within 2 minutes")),
        "{ending:?}"
    );
    let stop = mock!(aws_sdk_ecs::Client::stop_service_deployment)
        .match_requests(|request| {
            request.service_deployment_arn() == Some(ARN)
                && request.stop_type()
                    == Some(&aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
        })
        .then_output(|| StopServiceDeploymentOutput::builder().build());
    let back = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .output(|| answer(deployment(Status::RollbackInProgress, Stage::ScaleUp)))
        .output(|| answer(deployment(Status::RollbackSuccessful, Stage::CleanUp)))
        .build();
    let ecs = Ecs::from(mock_client!(
        aws_sdk_ecs,
        RuleMode::Sequential,
        [&stop, &back]
    ));
    assert!(
        roll_back(&ecs, "api", ARN, Duration::from_secs(120), &console)
            .await
            .unwrap()
    );
    assert_eq!(stop.num_calls(), 1);
}

/// Without `currentServiceDeployment` in UpdateService's answer: the newest service deployment
/// created after the update — an older one (yesterday's release) is never taken for ours.
#[tokio::test(start_paused = true)]
async fn our_service_deployment_is_found_by_its_creation_time() {
    use aws_sdk_ecs::operation::list_service_deployments::ListServiceDeploymentsOutput;
    use aws_sdk_ecs::types::ServiceDeploymentBrief;
    let since = Since::now();
    let brief = |arn: &str, age: i64| {
        ServiceDeploymentBrief::builder()
            .service_deployment_arn(arn)
            .created_at(aws_smithy_types::DateTime::from_secs(since.0 - age))
            .build()
    };
    let yesterday = brief("arn:…/yesterday", 86_400);
    let ours = brief("arn:…/ours", 1);
    let old = yesterday.clone();
    let listed = mock!(aws_sdk_ecs::Client::list_service_deployments)
        .sequence()
        .output(move || {
            ListServiceDeploymentsOutput::builder()
                .service_deployments(old.clone())
                .build()
        })
        .output(move || {
            ListServiceDeploymentsOutput::builder()
                .service_deployments(yesterday.clone())
                .service_deployments(ours.clone())
                .build()
        })
        .build();
    let ecs = Ecs::from(mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&listed]));
    let found = find(
        &ecs,
        "back-end",
        "api",
        None,
        since,
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(found, "arn:…/ours");
    assert_eq!(listed.num_calls(), 2);
}
