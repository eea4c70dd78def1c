//! `deploy-action logs`: the CloudWatch lines of the services' containers — found from the
//! running task definition's `awslogs` options (group, region, stream prefix) — like
//! `aws logs tail GROUP [--follow]`, without knowing the group's name.

use crate::console::Console;
use crate::deploy::task_definition::{LogSource, log_sources};
use anyhow::Result;
use std::collections::HashMap;
use std::time::Duration;

/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub async fn run(
    request: &crate::Request,
    since: Duration,
    follow: bool,
    console: &Console,
) -> Result<()> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = crate::aws::Ecs::new(&session.config);
    let (services, _) = ecs
        .describe_services(&rollout.cluster, &rollout.services)
        .await?;
    let mut sources = Vec::new();
    for service in &services {
        let task_definition = super::running_task_definition(&ecs, service).await?;
        for source in log_sources(&task_definition) {
            // Without a stream prefix the streams cannot be told apart from other tasks'.
            if source.stream_prefix.is_some() && !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    if sources.is_empty() {
        console.line(
            "no container of these services logs with the awslogs driver and a stream prefix",
        );
        return Ok(());
    }
    // A container may log to another region than the services run in (`awslogs-region`).
    let mut clients: HashMap<Option<String>, aws_sdk_cloudwatchlogs::Client> = HashMap::new();
    for source in &sources {
        console.line(&format!(
            "── {} in {} ({}*)",
            source.container,
            source.group,
            source.stream_prefix.as_deref().unwrap_or_default()
        ));
        clients.entry(source.region.clone()).or_insert_with(|| {
            let mut config = aws_sdk_cloudwatchlogs::config::Builder::from(&session.config);
            if let Some(region) = &source.region {
                config = config.region(aws_sdk_cloudwatchlogs::config::Region::new(region.clone()));
            }
            aws_sdk_cloudwatchlogs::Client::from_conf(config.build())
        });
    }
    let now_ms = |offset: Duration| -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.saturating_sub(offset).as_millis()).unwrap_or(i64::MAX)
    };
    let mut start = now_ms(since);
    // Events at `start` come again in the next round: remember their ids (only theirs, so a
    // long `--follow` does not grow without end).
    let mut seen: HashMap<String, i64> = HashMap::new();
    loop {
        let mut lines = Vec::new();
        for source in &sources {
            if let Some(logs) = clients.get(&source.region) {
                lines.extend(fetch(logs, source, start).await?);
            }
        }
        lines.sort_by_key(|line| line.0);
        for (timestamp, id, text) in lines {
            if seen.insert(id, timestamp).is_none() {
                // Application output: text from outside.
                console.line(&text);
                start = start.max(timestamp);
            }
        }
        if !follow {
            return Ok(());
        }
        seen.retain(|_, timestamp| *timestamp >= start);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// Pages of one FilterLogEvents scan at most (each up to 1 MB or 10,000 events).
const MAX_PAGES: usize = 200;

/// `(timestamp, event id, "[container] message")` of the events from `start` on. A page may be
/// empty and still carry a `nextToken`: the scan goes on until there is no token (the API
/// reference: "If the results don't include a nextToken, then pagination is finished";
/// awslabs/cloudwatch-logs-customize-alarms#8 shows the empty pages).
async fn fetch(
    logs: &aws_sdk_cloudwatchlogs::Client,
    source: &LogSource,
    start: i64,
) -> Result<Vec<(i64, String, String)>> {
    let mut lines = Vec::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let page = logs
            .filter_log_events()
            .log_group_name(&source.group)
            .set_log_stream_name_prefix(source.stream_prefix.clone())
            .start_time(start)
            .set_next_token(token)
            .send()
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "CloudWatch Logs FilterLogEvents {}: {}",
                    source.group,
                    crate::error::aws_error(&error)
                )
            })?;
        for event in page.events() {
            lines.push((
                event.timestamp().unwrap_or_default(),
                event.event_id().unwrap_or_default().to_string(),
                format!(
                    "[{}] {}",
                    source.container,
                    event.message().unwrap_or_default().trim_end()
                ),
            ));
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(lines)
}

/// `10m`, `2h`, `30s`, `1d`: how far back to start.
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let count: u64 = number
        .parse()
        .map_err(|error| format!("`{text}` is not a duration such as 10m, 2h or 1d ({error})"))?;
    let seconds = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit is s, m, h or d")),
    };
    Ok(Duration::from_secs(count * seconds))
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
