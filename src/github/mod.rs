//! The GitHub API, through octocrab with the API base from `GITHUB_API_URL` (so GitHub
//! Enterprise Server works, and tests point it at a local server): Deployments and their
//! statuses, and the checks gate before a release.

pub mod ancestry;
pub mod checks;
pub mod deployments;

use crate::plan::GitHubPlan;
use anyhow::{Context, Result};
use secrecy::ExposeSecret;
use std::time::Duration;

/// A client for the run's repository.
#[derive(Debug, Clone)]
pub struct GitHub {
    pub client: octocrab::Octocrab,
    /// The same, without octocrab's retries (it retries any request on a 5xx, a POST too): for
    /// requests that must not be sent twice blindly, such as creating a deployment.
    pub once: octocrab::Octocrab,
    pub owner: String,
    pub repo: String,
}

impl GitHub {
    pub fn new(plan: &GitHubPlan) -> Result<Self> {
        let (owner, repo) = plan
            .repository
            .split_once('/')
            .context("GITHUB_REPOSITORY is not OWNER/REPO")?;
        let builder = || {
            octocrab::Octocrab::builder()
                .base_uri(plan.api_url.as_str())
                .context("GITHUB_API_URL is not a URL")
                .map(|builder| {
                    builder
                        .personal_token(plan.token.expose_secret().to_string())
                        .set_connect_timeout(Some(Duration::from_secs(10)))
                        .set_read_timeout(Some(Duration::from_secs(30)))
                })
        };
        let client = builder()?.build().context("creating the GitHub client")?;
        let once = builder()?
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .build()
            .context("creating the GitHub client")?;
        Ok(Self {
            client,
            once,
            owner: owner.to_string(),
            repo: repo.to_string(),
        })
    }

    pub fn route(&self, path: &str) -> String {
        format!("/repos/{}/{}/{path}", self.owner, self.repo)
    }
}

/// The HTTP status GitHub answered with, when it answered.
pub fn status_of(error: &octocrab::Error) -> Option<u16> {
    match error {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    }
}

/// GitHub's own message, or octocrab's description of the failure.
pub fn describe(error: &octocrab::Error) -> String {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            format!("{} ({})", source.message, source.status_code)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
