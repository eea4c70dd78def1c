use super::*;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_smithy_mocks::{RuleMode, mock, mock_client};

/// CloudWatch answers an empty page with a token while it scans: the events after it count.
#[tokio::test]
async fn an_empty_page_with_a_token_is_not_the_end() {
    let pages = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .sequence()
        .output(|| {
            FilterLogEventsOutput::builder()
                .next_token("scan-on")
                .build()
        })
        .output(|| {
            FilterLogEventsOutput::builder()
                .events(
                    FilteredLogEvent::builder()
                        .timestamp(7)
                        .event_id("e1")
                        .message("Booting worker\n")
                        .build(),
                )
                .build()
        })
        .build();
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&pages]);
    let source = LogSource {
        container: "api".into(),
        group: "/ecs/back-end".into(),
        stream_prefix: Some("ecs/api/".into()),
        region: None,
    };
    let lines = fetch(&logs, &source, 0).await.unwrap();
    let seen: Vec<_> = lines
        .iter()
        .map(|line| {
            (
                line.timestamp,
                line.id.as_str(),
                line.container.as_str(),
                line.message.as_str(),
                line.time.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(7, "e1", "api", "Booting worker", "1970-01-01T00:00:00.007Z")]
    );
    assert_eq!(pages.num_calls(), 2);
}

#[test]
fn durations() {
    assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
    assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(parse_since("45"), Ok(Duration::from_secs(2700)));
    assert!(parse_since("soon").is_err());
    assert!(parse_since("3w").is_err());
}
