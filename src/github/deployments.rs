//! GitHub Deployments: a deployment of the commit to the environment, `in_progress` while the
//! rollout runs, `success` or `failure` at the end, linked to the run's log.

use super::{GitHub, describe, status_of};
use crate::console::{Console, clip};
use crate::plan::DeploymentPlan;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Created {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct Listed {
    id: u64,
    #[serde(default)]
    payload: serde_json::Value,
}

/// Attempts at creating a deployment, each after looking for one a failed attempt made.
const CREATE_ATTEMPTS: u32 = 3;

/// A GitHub deployment that follows the rollout. It owns its client (a cheap clone), so the
/// report can settle it after the pipeline, whatever stage the run ended in.
pub struct Tracked {
    github: GitHub,
    pub id: u64,
    log_url: Option<String>,
    environment_url: Option<String>,
}

/// Create the deployment and set it `in_progress`; `None` when GitHub refused (a warning).
pub async fn start(
    github: &GitHub,
    wanted: &DeploymentPlan,
    sha: &str,
    run_id: Option<&str>,
    log_url: Option<&str>,
    console: &Console,
) -> Option<Tracked> {
    let id = create(
        github,
        sha,
        &wanted.github_environment,
        wanted.production,
        run_id,
        console,
    )
    .await?;
    set_status(
        github,
        id,
        "in_progress",
        log_url,
        None,
        "rolling out",
        console,
    )
    .await;
    Some(Tracked {
        github: github.clone(),
        id,
        log_url: log_url.map(str::to_string),
        environment_url: wanted.environment_url.clone(),
    })
}

impl Tracked {
    /// `success` with `deployed`, or `failure` with why.
    pub async fn finish(&self, failure: Option<&str>, deployed: &str, console: &Console) {
        let (state, description) = match failure {
            None => ("success", deployed),
            Some(why) => ("failure", why),
        };
        set_status(
            &self.github,
            self.id,
            state,
            self.log_url.as_deref(),
            self.environment_url.as_deref(),
            description,
            console,
        )
        .await;
    }
}

/// Create the deployment, once: a POST that failed with a 5xx or in transit may still have
/// created it, so before another attempt the deployments of the commit and environment are
/// searched for this run's (its id is in the payload). A missing permission is a warning, not a
/// failed deploy.
pub async fn create(
    github: &GitHub,
    sha: &str,
    environment: &str,
    production: bool,
    run_id: Option<&str>,
    console: &Console,
) -> Option<u64> {
    let body = json!({
        "ref": sha,
        "environment": environment,
        "auto_merge": false,
        // deploy-action's own gate (wait-for-checks) decides; GitHub's would refuse while this job runs.
        "required_contexts": [],
        "production_environment": production,
        "description": format!("deploy-action: {environment}"),
        "payload": { "deploy_action_run": run_id },
    });
    let mut attempt = 1;
    loop {
        let error = match github
            .once
            .post::<_, Created>(github.route("deployments"), Some(&body))
            .await
        {
            Ok(created) => {
                console.line(&format!(
                    "GitHub deployment {} to {environment}",
                    created.id
                ));
                return Some(created.id);
            }
            Err(error) => error,
        };
        let may_exist = status_of(&error).is_none_or(|status| status >= 500);
        if !may_exist || attempt >= CREATE_ATTEMPTS {
            warn(&error, "create a GitHub deployment", console);
            return None;
        }
        if let Some(id) = made_by_this_run(github, sha, environment, run_id).await {
            console.line(&format!(
                "GitHub deployment {id} to {environment} (created although GitHub answered {})",
                describe(&error)
            ));
            return Some(id);
        }
        attempt += 1;
    }
}

/// The deployment of `sha` to `environment` that this run created, if GitHub lists one.
async fn made_by_this_run(
    github: &GitHub,
    sha: &str,
    environment: &str,
    run_id: Option<&str>,
) -> Option<u64> {
    let run_id = run_id?;
    let route = github.route(&format!(
        "deployments?sha={sha}&environment={}&per_page=100",
        url::form_urlencoded::byte_serialize(environment.as_bytes()).collect::<String>()
    ));
    let listed: Vec<Listed> = github.client.get(route, None::<&()>).await.ok()?;
    listed
        .into_iter()
        .find(|deployment| deployment.payload["deploy_action_run"] == run_id)
        .map(|deployment| deployment.id)
}

/// Set the deployment's state (`in_progress`, `success`, `failure`).
pub async fn set_status(
    github: &GitHub,
    id: u64,
    state: &str,
    log_url: Option<&str>,
    environment_url: Option<&str>,
    description: &str,
    console: &Console,
) {
    let description = one_line(description);
    let mut body = json!({ "state": state, "description": clip(&description, 140) });
    if let Some(url) = log_url {
        body["log_url"] = json!(url);
    }
    if let Some(url) = environment_url {
        body["environment_url"] = json!(url);
    }
    let route = github.route(&format!("deployments/{id}/statuses"));
    if let Err(error) = github
        .client
        .post::<_, serde_json::Value>(route, Some(&body))
        .await
    {
        warn(
            &error,
            &format!("set GitHub deployment {id} to {state}"),
            console,
        );
    }
}

/// A status's description as GitHub shows it: one line of at most 140 characters (the API's
/// limit). A failure's message can hold a task's output over many lines; its first line alone
/// would often say nothing, so the lines are joined and control characters dropped.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn warn(error: &octocrab::Error, what: &str, console: &Console) {
    let message = match status_of(error) {
        Some(403) | Some(404) => format!(
            "could not {what}: {}; give the job `permissions: deployments: write` (the deploy goes on)",
            describe(error)
        ),
        _ => format!("could not {what}: {} (the deploy goes on)", describe(error)),
    };
    console.warning("GitHub deployment", &message);
}
