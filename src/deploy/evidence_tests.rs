use super::{console_link, logs_for};

#[test]
fn links_open_the_stream_in_the_cloudwatch_console() {
    assert_eq!(
        console_link("us-east-2", "/ecs/back-end-staging", "ecs/api/0f1e2d3c"),
        "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2\
         #logsV2:log-groups/log-group/$252Fecs$252Fback-end-staging/log-events/ecs$252Fapi$252F0f1e2d3c"
    );
    assert!(
        console_link("cn-north-1", "g", "s")
            .starts_with("https://cn-north-1.console.amazonaws.cn/")
    );
}

/// A container that logs to another region is read there; one that names the client's own
/// region (or none) uses the client as it is.
#[test]
fn each_container_is_read_in_its_awslogs_region() {
    use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration, LogDriver, TaskDefinition};
    let container = |name: &str, region: &str| {
        ContainerDefinition::builder()
            .name(name)
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", "/ecs/app")
                    .options("awslogs-region", region)
                    .options("awslogs-stream-prefix", "ecs")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let td = TaskDefinition::builder()
        .container_definitions(container("api", "eu-west-1"))
        .container_definitions(container("worker", "us-east-2"))
        .build();
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-2"))
        .build();
    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(config);
    let region = |container: &str| {
        logs_for(&logs, &td, container)
            .config()
            .region()
            .map(ToString::to_string)
    };
    assert_eq!(region("api").as_deref(), Some("eu-west-1"));
    assert_eq!(region("worker").as_deref(), Some("us-east-2"));
    assert_eq!(region("sidecar").as_deref(), Some("us-east-2"));
}
