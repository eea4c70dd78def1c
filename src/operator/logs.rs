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

/// One CloudWatch event of a container, as `logs --output json` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// When the app logged it, RFC 3339 UTC.
    pub time: String,
    pub container: String,
    pub group: String,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    timestamp: i64,
    #[serde(skip)]
    id: String,
}

/// What `logs --output json` prints (without `--follow`; with it, one [`LogLine`] a line).
#[derive(Debug, Default, serde::Serialize)]
pub struct LogsRecord {
    /// Where the lines come from: `{container, group, stream_prefix, region}`.
    pub sources: Vec<LogSourceRecord>,
    pub events: Vec<LogLine>,
}

#[derive(Debug, serde::Serialize)]
pub struct LogSourceRecord {
    pub container: String,
    pub group: String,
    pub stream_prefix: Option<String>,
    pub region: Option<String>,
}

pub async fn run(
    request: &crate::Request,
    since: Duration,
    follow: bool,
    console: &Console,
) -> Result<LogsRecord> {
    let json = request.format == crate::plan::OutputFormat::Json;
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = crate::aws::Ecs::new(&session.config);
    let services = ecs
        .existing_services(&rollout.cluster, &rollout.services)
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
    let mut record = LogsRecord {
        sources: sources
            .iter()
            .map(|source| LogSourceRecord {
                container: source.container.clone(),
                group: source.group.clone(),
                stream_prefix: source.stream_prefix.clone(),
                region: source.region.clone(),
            })
            .collect(),
        events: Vec::new(),
    };
    if sources.is_empty() {
        console.line(
            "no container of these services logs with the awslogs driver and a stream prefix",
        );
        return Ok(record);
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
        lines.sort_by_key(|line| line.timestamp);
        for line in lines {
            if seen.insert(line.id.clone(), line.timestamp).is_none() {
                start = start.max(line.timestamp);
                match (json, follow) {
                    // Application output: text from outside, so through the console.
                    (false, _) => console.line(&format!("[{}] {}", line.container, line.message)),
                    // A follow never ends: one JSON object a line, as it comes.
                    (true, true) => println!("{}", serde_json::to_string(&line)?),
                    (true, false) => record.events.push(line),
                }
            }
        }
        if !follow {
            return Ok(record);
        }
        seen.retain(|_, timestamp| *timestamp >= start);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// Pages of one FilterLogEvents scan at most (each up to 1 MB or 10,000 events).
const MAX_PAGES: usize = 200;

/// The events from `start` on. A page may be
/// empty and still carry a `nextToken`: the scan goes on until there is no token (the API
/// reference: "If the results don't include a nextToken, then pagination is finished";
/// awslabs/cloudwatch-logs-customize-alarms#8 shows the empty pages).
async fn fetch(
    logs: &aws_sdk_cloudwatchlogs::Client,
    source: &LogSource,
    start: i64,
) -> Result<Vec<LogLine>> {
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
                crate::error::aws_failure(
                    format!("CloudWatch Logs FilterLogEvents {}", source.group),
                    &error,
                )
            })?;
        for event in page.events() {
            let timestamp = event.timestamp().unwrap_or_default();
            lines.push(LogLine {
                time: aws_smithy_types::DateTime::from_millis(timestamp)
                    .fmt(aws_smithy_types::date_time::Format::DateTime)
                    .unwrap_or_default(),
                container: source.container.clone(),
                group: source.group.clone(),
                stream: event.log_stream_name().unwrap_or_default().to_string(),
                message: event.message().unwrap_or_default().trim_end().to_string(),
                timestamp,
                id: event.event_id().unwrap_or_default().to_string(),
            });
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
