//! `deploy-action logs`: the CloudWatch lines of the services' containers — found from the
//! running task definition's `awslogs` options (group, region, stream prefix) — like
//! `aws logs tail GROUP [--follow]`, without knowing the group's name.

use crate::console::Console;
use anyhow::Result;
use aws_sdk_ecs::types::LogDriver;
use std::collections::HashSet;
use std::time::Duration;

/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// Where one container logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    pub container: String,
    pub group: String,
    /// `<prefix>/<container>/`: every task's stream of this container.
    pub stream_prefix: String,
    pub region: Option<String>,
}

pub async fn run(
    request: &crate::Request,
    since: Duration,
    follow: bool,
    console: &Console,
) -> Result<()> {
    let (plan, session) = super::prepare(request, console).await?;
    let rollout = super::rollout(&plan)?;
    let ecs = aws_sdk_ecs::Client::new(&session.config);
    let (services, _) =
        crate::deploy::wait::describe_services(&ecs, &rollout.cluster, &rollout.services).await?;
    let mut sources = Vec::new();
    for service in &services {
        let task_definition = super::running_task_definition(&ecs, service).await?;
        for source in sources_of(&task_definition) {
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    if sources.is_empty() {
        console.line("no container of these services logs with the awslogs driver");
        return Ok(());
    }
    for source in &sources {
        console.line(&format!(
            "── {} in {} ({}*)",
            source.container, source.group, source.stream_prefix
        ));
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(&session.config);
    let now_ms = |offset: Duration| -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.saturating_sub(offset).as_millis()).unwrap_or(i64::MAX)
    };
    let mut start = now_ms(since);
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let mut lines = Vec::new();
        for source in &sources {
            lines.extend(fetch(&logs, source, start).await?);
        }
        lines.sort_by_key(|line| line.0);
        for (timestamp, id, text) in lines {
            if seen.insert(id) {
                // Application output: text from outside.
                console.line(&text);
                start = start.max(timestamp);
            }
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// `(timestamp, event id, "[container] message")` of the events from `start` on.
async fn fetch(
    logs: &aws_sdk_cloudwatchlogs::Client,
    source: &LogSource,
    start: i64,
) -> Result<Vec<(i64, String, String)>> {
    let mut lines = Vec::new();
    let mut token = None;
    loop {
        let page = logs
            .filter_log_events()
            .log_group_name(&source.group)
            .log_stream_name_prefix(&source.stream_prefix)
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
        if token.is_none() || page.events().is_empty() {
            return Ok(lines);
        }
    }
}

/// The containers of `task_definition` that log with `awslogs`.
pub fn sources_of(task_definition: &aws_sdk_ecs::types::TaskDefinition) -> Vec<LogSource> {
    task_definition
        .container_definitions()
        .iter()
        .filter_map(|container| {
            let config = container.log_configuration()?;
            if config.log_driver() != &LogDriver::Awslogs {
                return None;
            }
            let options = config.options()?;
            let name = container.name()?;
            let prefix = options.get("awslogs-stream-prefix")?;
            Some(LogSource {
                container: name.to_string(),
                group: options.get("awslogs-group")?.clone(),
                stream_prefix: format!("{prefix}/{name}/"),
                region: options.get("awslogs-region").cloned(),
            })
        })
        .collect()
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
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_since("45"), Ok(Duration::from_secs(2700)));
        assert!(parse_since("soon").is_err());
        assert!(parse_since("3w").is_err());
    }
}
