//! The preflight against ECS answers as the real API gives them (aws-smithy-mocks): it refuses
//! more than 10 services a DescribeServices call, which moto does not.

use super::*;
use crate::inputs::{InputArgs, Inputs, RunContext};
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::types::ContainerDefinition;
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const TD: &str = "arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:7";

fn plan(services: &[String]) -> Plan {
    let args = InputArgs {
        aws_region: Some("us-east-2".into()),
        ecr_repository: Some("back-end".into()),
        context: Some("examples/app".into()),
        ecs_cluster: Some("c".into()),
        ecs_services: Some(services.join(",")),
        ..Default::default()
    };
    let run = RunContext {
        git_ref: Some("refs/heads/main".into()),
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..Default::default()
    };
    crate::plan::resolve(
        &Inputs {
            args,
            run,
            github_token: None,
            sentry_token: None,
        },
        crate::plan::Intent::AsGiven,
    )
    .unwrap()
}

#[tokio::test]
async fn services_are_described_ten_at_a_time() {
    let names: Vec<String> = (0..23).map(|i| format!("svc-{i}")).collect();
    let answer = mock!(aws_sdk_ecs::Client::describe_services)
        // The real API refuses more than 10 services a call; here no rule would answer one.
        .match_requests(|request| request.services().len() <= 10)
        .then_compute_response(|request| {
            let services = request
                .services()
                .iter()
                .map(|name| {
                    Service::builder()
                        .service_name(name)
                        .status("ACTIVE")
                        .task_definition(TD)
                        .build()
                })
                .collect();
            aws_smithy_mocks::MockResponse::Output(
                DescribeServicesOutput::builder()
                    .set_services(Some(services))
                    .build(),
            )
        });
    let task_definition = mock!(aws_sdk_ecs::Client::describe_task_definition).then_output(|| {
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                TaskDefinition::builder()
                    .task_definition_arn(TD)
                    .family("back-end")
                    .container_definitions(
                        ContainerDefinition::builder()
                            .name("api")
                            .image("r/back-end:prod")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let ecs = crate::aws::Ecs::from(mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&answer, &task_definition]
    ));
    let found = targets(&ecs, &plan(&names)).await.unwrap();
    assert_eq!(found.len(), 23);
    assert_eq!(answer.num_calls(), 3, "10 + 10 + 3");
    assert_eq!(
        task_definition.num_calls(),
        1,
        "one shared revision is described once"
    );
    assert_eq!(found[22].name(), "svc-22");
}

/// A canary whose first share bakes 20 minutes cannot reach production traffic within a
/// 10-minute wait: refused before building, with the wait that would do.
#[test]
fn a_wait_shorter_than_the_strategy_takes_is_refused() {
    use aws_sdk_ecs::types::{CanaryConfiguration, DeploymentConfiguration, DeploymentStrategy};
    let mut plan = plan(&["api".to_string()]);
    let rollout = plan.rollout.as_mut().unwrap();
    rollout.wait_timeout = Some(std::time::Duration::from_secs(10 * 60));
    let canary = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::Canary)
        .canary_configuration(
            CanaryConfiguration::builder()
                .canary_percent(5.0)
                .canary_bake_time_in_minutes(20)
                .build(),
        )
        .bake_time_in_minutes(60)
        .build();
    let refused = check_wait("api", &canary, rollout).unwrap_err();
    let error = format!("{refused:#}");
    assert!(
        error
            .contains("at least 20 minutes until production traffic is wholly on the new revision")
            && error.contains("longer than wait-timeout-minutes (10)"),
        "{error}"
    );
    assert!(
        crate::error::hint_of(&refused).is_some_and(|hint| hint.contains("at least 25")),
        "{refused:?}"
    );
    rollout.wait_timeout = Some(std::time::Duration::from_secs(30 * 60));
    check_wait("api", &canary, rollout).unwrap();
    // Waiting the bake out too: 20 + 60 minutes.
    rollout.wait_through_bake = true;
    let error = format!("{:#}", check_wait("api", &canary, rollout).unwrap_err());
    assert!(
        error.contains("at least 80 minutes to the end of its bake"),
        "{error}"
    );
    // Not waiting at all: nothing to time out.
    rollout.wait_timeout = None;
    check_wait("api", &canary, rollout).unwrap();
}
