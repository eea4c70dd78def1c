//! Checks for single values: regions, ARNs, repository names, tags, platforms, booleans.
//! Each returns what is wrong in words, and the caller names the input.

use std::time::Duration;

/// `us-east-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`.
pub fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if well_formed {
        Ok(())
    } else {
        Err(format!("`{region}` is not an AWS region"))
    }
}

/// `arn:aws:iam::123456789012:role/NAME` (also with a path, and the aws-cn / aws-us-gov
/// partitions). Returns the account id.
pub fn check_role_arn(arn: &str) -> Result<String, String> {
    let bad = || format!("`{arn}` is not an IAM role ARN");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let valid = prefix == "arn"
        && matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .and_then(|path| path.rsplit('/').next())
            .is_some_and(|name| {
                !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            });
    if valid {
        Ok(account.to_string())
    } else {
        Err(bad())
    }
}

/// ECR repository names: lowercase path components of `[a-z0-9]` joined by `.`, `_`, `-`.
pub fn check_repository(name: &str) -> Result<(), String> {
    let component_ok = |component: &str| {
        !component.is_empty()
            && component.split(['.', '_', '-']).all(|run| {
                !run.is_empty()
                    && run
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    };
    if (2..=256).contains(&name.len()) && name.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not an ECR repository name (lowercase letters, digits, and `.`, `_`, `-`, `/` between them; 2 to 256 characters)"
        ))
    }
}

pub use crate::branches::check_docker_tag;

/// The platforms BuildKit can build for.
pub const KNOWN_PLATFORMS: &[&str] = &[
    "linux/arm64",
    "linux/amd64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
];

pub fn check_platform(platform: &str) -> Result<(), String> {
    let normalised = match platform {
        "linux/arm64/v8" => "linux/arm64",
        other => other,
    };
    if KNOWN_PLATFORMS.contains(&normalised) {
        Ok(())
    } else {
        Err(format!("`{platform}` is not a known platform"))
    }
}

/// `true` / `false`, in the spellings @actions/core's getBooleanInput accepts.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        other => Err(format!("`{other}` is not a boolean")),
    }
}

/// Whole minutes within `range`.
pub fn parse_minutes(text: &str, range: std::ops::RangeInclusive<u64>) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(minutes) if range.contains(&minutes) => Ok(Duration::from_secs(minutes * 60)),
        Ok(minutes) => Err(format!("{minutes} is out of range")),
        Err(_) => Err(format!("`{text}` is not a whole number of minutes")),
    }
}

/// Items one a line or comma-separated, trimmed, empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// STS role session names allow `[\w+=,.@-]`, 2 to 64 characters: replace anything else.
pub fn sanitise_session_name(name: &str) -> String {
    let mut clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while clean.len() < 2 {
        clean.push('-');
    }
    clean
}

use serde_json::{Value, json};

/// Timestamps the CLI prints as ISO strings where the wire protocol has epoch seconds; they
/// are read-only and never copied, so they are dropped.
const TIMESTAMPS: &[&str] = &["registeredAt", "deregisteredAt", "deleteRequestedAt"];

/// Check that `text` is a task definition document (as `aws ecs describe-task-definition`
/// prints it, with or without the wrapper); returns it as DescribeTaskDefinition's response body.
pub fn task_definition_document(text: &str) -> Result<String, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| format!("is not JSON ({error})"))?;
    let (mut task_definition, tags) = match value.get("taskDefinition") {
        Some(inner) => (
            inner.clone(),
            value.get("tags").cloned().unwrap_or(json!([])),
        ),
        None => (value, json!([])),
    };
    let Some(object) = task_definition.as_object_mut() else {
        return Err("is not a JSON object".into());
    };
    if !object
        .get("containerDefinitions")
        .is_some_and(Value::is_array)
    {
        return Err("has no `containerDefinitions` list".into());
    }
    for key in TIMESTAMPS {
        object.remove(*key);
    }
    Ok(json!({ "taskDefinition": task_definition, "tags": tags }).to_string())
}

/// The AWS partition of a region: `aws-cn` in China, `aws-us-gov` in GovCloud, else `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The DNS suffix of AWS endpoints (ECR registries among them) in a region.
pub fn dns_suffix(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    }
}

/// The audience the action asks the OIDC token for by default: the STS of the region's
/// partition (`sts.amazonaws.com.cn` in China).
pub fn default_audience(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "sts.amazonaws.com.cn",
        _ => "sts.amazonaws.com",
    }
}

/// A 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.chars().all(|c| c.is_ascii_digit())
}

/// Whether a variable's name looks like it holds a secret (`*TOKEN*`, `*SECRET*`,
/// `*PASSWORD*`, `*_KEY`).
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD"]
        .iter()
        .any(|word| name.contains(word))
        || name.ends_with("_KEY")
}

/// The account and region of an ECR registry host: `ACCOUNT.dkr.ecr.REGION.amazonaws.com`
/// (`.amazonaws.com.cn` in China), the FIPS form `ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com`,
/// and the dual-stack forms `ACCOUNT.dkr-ecr.REGION.on.aws` / `ACCOUNT.dkr-ecr-fips.REGION.on.aws`.
pub fn ecr_registry(host: &str) -> Option<(String, String)> {
    let (account, rest) = host.split_once('.')?;
    if !is_account_id(account) {
        return None;
    }
    let region = ["dkr.ecr.", "dkr.ecr-fips."]
        .iter()
        .find_map(|prefix| {
            let rest = rest.strip_prefix(prefix)?;
            rest.strip_suffix(".amazonaws.com")
                .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
        })
        .or_else(|| {
            ["dkr-ecr.", "dkr-ecr-fips."]
                .iter()
                .find_map(|prefix| rest.strip_prefix(prefix)?.strip_suffix(".on.aws"))
        })?;
    check_region(region).ok()?;
    Some((account.to_string(), region.to_string()))
}

/// Whether a registry host (`host` or `host:port`) is this machine: an IP address in
/// 127.0.0.0/8, `::1` (as `[::1]`), or exactly `localhost` — not every name that starts with
/// `127.` or `localhost`. Loopback registries are spoken to over plain HTTP.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, after)) if after.is_empty() || after.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
                name
            }
            Some(_) => return false,
            None => host,
        }
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
