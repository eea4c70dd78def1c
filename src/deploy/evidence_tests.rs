use super::console_link;

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
