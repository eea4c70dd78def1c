//! Resolving the GitHub inputs: Deployments, the checks gate, the token and API base.

use super::{PlanError, parse_count, parse_flag};
use crate::inputs::Inputs;
use secrecy::SecretString;
use std::time::Duration;

/// What to do on GitHub; `None` in the plan when nothing is.
#[derive(Debug, Clone)]
pub struct GitHubPlan {
    /// `GITHUB_API_URL`, e.g. `https://api.github.com`.
    pub api_url: String,
    pub token: SecretString,
    /// `OWNER/REPO`
    pub repository: String,
    pub deployment: Option<DeploymentPlan>,
    /// `wait-for-checks`: how long to wait for the other checks before pushing.
    pub checks_timeout: Option<Duration>,
    /// The commit whose checks are waited for: a pull request's head commit, else the run's.
    pub checks_commit: Option<String>,
    /// `required-checks`: only these must pass (each must report); empty = every check.
    pub required_checks: Vec<String>,
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentPlan {
    /// The GitHub environment (`github-environment`): protection rules, deployments.
    pub github_environment: String,
    pub environment_url: Option<String>,
    pub production: bool,
}

/// `compare_commits`: a promotion that checks its image's commit on GitHub — it uses the token
/// when there is one, and goes on without (with a warning) when there is none.
pub(super) fn resolve_github(
    inputs: &Inputs,
    environment_tag: &str,
    compare_commits: bool,
) -> Result<Option<GitHubPlan>, PlanError> {
    let args = &inputs.args;
    let deployment = parse_flag(&args.github_deployment, "github-deployment", false)?;
    let checks = parse_flag(&args.wait_for_checks, "wait-for-checks", false)?;
    let checks_minutes = parse_count(
        &args.checks_timeout_minutes,
        "checks-timeout-minutes",
        30,
        1..=360,
    )?;
    if let Some(url) = &args.environment_url
        && url::Url::parse(url).is_err()
    {
        return Err(PlanError::new(
            "environment-url",
            format!("`{url}` is not a URL"),
            "e.g. https://staging.example.org",
        ));
    }
    if !checks
        && args
            .required_checks
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty())
    {
        return Err(PlanError::new(
            "required-checks",
            "names checks, but wait-for-checks is not true: nothing would wait for them",
            "`wait-for-checks: true` with it, or drop required-checks",
        ));
    }
    let repository = inputs
        .run
        .repository
        .clone()
        .filter(|repository| repository.split('/').count() == 2);
    if !deployment && !checks {
        return Ok(
            match (compare_commits, inputs.github_token.clone(), repository) {
                (true, Some(token), Some(repository)) => Some(GitHubPlan {
                    api_url: api_url(inputs),
                    token,
                    repository,
                    deployment: None,
                    checks_timeout: None,
                    checks_commit: None,
                    required_checks: Vec::new(),
                    run_id: inputs.run.run_id.clone(),
                }),
                _ => None,
            },
        );
    }
    let input = if deployment {
        "github-deployment"
    } else {
        "wait-for-checks"
    };
    let token = inputs.github_token.clone().ok_or_else(|| {
        PlanError::new(
            input,
            "needs a GitHub token, and github-token is empty",
            "`github-token: ${{ github.token }}` (the action's default) with `permissions: deployments: write` / `checks: read`",
        )
    })?;
    let repository = repository.ok_or_else(|| {
        PlanError::new(
            input,
            "needs GITHUB_REPOSITORY (OWNER/REPO)",
            "run inside a workflow",
        )
    })?;
    let production = environment_tag == "prod";
    let environment = args.github_environment.clone().unwrap_or_else(|| {
        if production {
            "production".to_string()
        } else {
            environment_tag.to_string()
        }
    });
    Ok(Some(GitHubPlan {
        api_url: api_url(inputs),
        token,
        repository,
        deployment: deployment.then(|| DeploymentPlan {
            github_environment: environment,
            environment_url: args.environment_url.clone(),
            production,
        }),
        checks_timeout: checks.then(|| Duration::from_secs(u64::from(checks_minutes) * 60)),
        checks_commit: inputs.run.pull_request_head_sha.clone(),
        required_checks: args
            .required_checks
            .as_deref()
            .unwrap_or_default()
            .split(['\n', ','])
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect(),
        run_id: inputs.run.run_id.clone(),
    }))
}

fn api_url(inputs: &Inputs) -> String {
    inputs
        .run
        .api_url
        .clone()
        .unwrap_or_else(|| "https://api.github.com".into())
}

/// The verbosities `log-level` accepts; `main` sets up logging with them before `plan` runs.
pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// `log-level`: our own verbosity (dependencies stay at `warn`, so no SDK trace can print a
/// request's headers or body).
pub(super) fn check_log_level(inputs: &Inputs) -> Result<(), PlanError> {
    match inputs.args.log_level.as_deref() {
        Some(level) if !LOG_LEVELS.contains(&level) => Err(PlanError::new(
            "log-level",
            format!("`{level}` is not a log level"),
            LOG_LEVELS.join(", "),
        )),
        _ => Ok(()),
    }
}
