//! Sentry release and deploy markers, through Sentry's REST API (the calls sentry-cli makes,
//! `src/api/mod.rs` of getsentry/sentry-cli):
//!
//! - after the push, `POST /api/0/organizations/{org}/releases/` with the version, the projects
//!   and the commit as a `refs` entry (Sentry's repository integration fetches the rest); a
//!   release that exists already is fine (Sentry answers 208 with it). A repository Sentry has
//!   no integration for makes Sentry refuse the whole request (400 `{"refs": […]}`,
//!   getsentry/sentry `organization_releases.py`): the release is then created without the ref;
//! - after a successful rollout, `PUT …/releases/{version}/` with `dateReleased` (finalize) and
//!   `POST …/releases/{version}/deploys/` with the environment, the run's URL and the rollout's
//!   start and finish times.
//!
//! Sentry is a report, not a gate: every failure is a warning with Sentry's own message and what
//! to check, and the deploy goes on. Creating and finalizing a release are idempotent, so they are
//! retried on a 5xx or a timeout; creating a deploy is not (a retry after a lost answer would
//! record the deploy twice), so it is retried only when the request never left this machine.

use crate::console::{Console, clip};
use crate::plan::SentryPlan;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::time::{Duration, SystemTime};

const ATTEMPTS: u32 = 3;

/// What Sentry was told, for the summary and the `sentry-release` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentryReport {
    pub version: String,
    /// The release's page in Sentry.
    pub link: String,
    pub environment: String,
    pub deploy: DeployMarker,
}

/// Whether Sentry got the deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "why", rename_all = "kebab-case")]
pub enum DeployMarker {
    /// Not yet: the rollout has not ended (or the run stopped before it did).
    Pending,
    Recorded,
    /// No deploy was recorded, and why (a failed rollout, nothing rolled, Sentry failing).
    NotRecorded(String),
}

/// A request that failed, in the user's words.
#[derive(Debug)]
struct Refused {
    message: String,
    hint: String,
    /// Sentry's objection to the `refs` of a release (a 400 naming them), when that was it.
    refs: Option<String>,
}

pub struct Sentry<'a> {
    plan: &'a SentryPlan,
    http: reqwest::Client,
    /// Pause between attempts (tests make it short).
    backoff: Duration,
}

impl<'a> Sentry<'a> {
    /// The client for `plan`, if Sentry is on; a client that cannot be built (no TLS roots)
    /// is a warning like any other Sentry failure.
    pub fn new(plan: Option<&'a SentryPlan>, console: &Console) -> Option<Self> {
        let plan = plan?;
        let built = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("deploy-action/", env!("CARGO_PKG_VERSION")))
            .build();
        match built {
            Ok(http) => Some(Self {
                plan,
                http,
                backoff: Duration::from_secs(1),
            }),
            Err(error) => {
                console.warning(
                    "sentry",
                    &format!("no HTTP client for Sentry ({error}): Sentry is off"),
                );
                None
            }
        }
    }

    #[cfg(test)]
    fn quick(plan: &'a SentryPlan) -> Option<Self> {
        Self::new(Some(plan), &Console::new(crate::console::Mode::Plain)).map(|sentry| Self {
            backoff: Duration::from_millis(10),
            ..sentry
        })
    }

    /// Create the release of `commit` (version: `sentry-version`, else the commit) for every
    /// project, with the commit as its ref; `None` when Sentry refused, after a warning that
    /// says why.
    pub async fn create_release(&self, commit: &str, console: &Console) -> Option<SentryReport> {
        let version = self.plan.version.as_deref().unwrap_or(commit);
        let mut body = serde_json::json!({
            "version": version,
            "projects": self.plan.projects,
        });
        if let Some(repository) = &self.plan.repository {
            body["refs"] = serde_json::json!([{"repository": repository, "commit": commit}]);
        }
        let url = self.api(&["organizations", &self.plan.org, "releases", ""]);
        let mut sent = self.send(reqwest::Method::POST, &url, &body, true).await;
        let retried = matches!(&sent, Err(Refused { refs: Some(_), .. }));
        if let Err(Refused {
            refs: Some(why), ..
        }) = &sent
        {
            // Without the ref Sentry lists no commits for the release, but errors still get it.
            console.warning(
                "sentry",
                &format!(
                    "Sentry would not take the commit reference ({why}); the release is created without it. \
                     Connect the repository in Sentry's GitHub integration to see the release's commits"
                ),
            );
            if let Some(object) = body.as_object_mut() {
                object.remove("refs");
            }
            sent = self.send(reqwest::Method::POST, &url, &body, true).await;
        }
        match sent {
            Ok(status) => {
                console.line(&release_line(version, &self.plan.projects, status, retried));
                Some(SentryReport {
                    version: version.to_string(),
                    link: self.link(version),
                    environment: self.plan.environment.clone(),
                    deploy: DeployMarker::Pending,
                })
            }
            Err(refused) => {
                warn(console, "creating the release", &refused);
                None
            }
        }
    }

    /// After the rollout: a successful one (`not_deployed` is `None`) records the deploy (and,
    /// with `finalize`, marks the release released); otherwise none is recorded, and the report
    /// says why.
    pub async fn after_rollout(
        &self,
        report: &mut SentryReport,
        not_deployed: Option<String>,
        started: SystemTime,
        run_url: Option<&str>,
        finalize: bool,
        console: &Console,
    ) {
        match not_deployed {
            None => {
                let _group = console.group("sentry deploy");
                self.record_deploy(report, started, run_url, finalize, console)
                    .await;
            }
            Some(why) => report.deploy = DeployMarker::NotRecorded(why),
        }
    }

    /// Finalize the release (when asked) and record the deploy to the environment.
    async fn record_deploy(
        &self,
        report: &mut SentryReport,
        started: SystemTime,
        run_url: Option<&str>,
        finalize: bool,
        console: &Console,
    ) {
        let version = report.version.clone();
        let finished = SystemTime::now();
        if finalize {
            let release = self.api(&["organizations", &self.plan.org, "releases", &version, ""]);
            let released = serde_json::json!({"dateReleased": timestamp(finished)});
            if let Err(refused) = self
                .send(reqwest::Method::PUT, &release, &released, true)
                .await
            {
                // A release left unfinalized still takes the deploy: go on.
                warn(console, "finalizing the release", &refused);
            }
        }
        let mut deploy = serde_json::json!({
            "environment": self.plan.environment,
            "dateStarted": timestamp(started),
            "dateFinished": timestamp(finished),
            "projects": self.plan.projects,
        });
        if let Some(url) = run_url {
            deploy["url"] = serde_json::json!(url);
        }
        let deploys = self.api(&[
            "organizations",
            &self.plan.org,
            "releases",
            &version,
            "deploys",
            "",
        ]);
        report.deploy = match self
            .send(reqwest::Method::POST, &deploys, &deploy, false)
            .await
        {
            Ok(_) => {
                console.line(&format!(
                    "Sentry deploy of {version} to {} recorded",
                    self.plan.environment
                ));
                DeployMarker::Recorded
            }
            Err(refused) => {
                warn(console, "recording the deploy", &refused);
                DeployMarker::NotRecorded(format!("Sentry refused it: {}", refused.message))
            }
        };
    }

    /// `{url}api/0/{segments…}`, each segment percent-encoded (a version may hold `@` or `+`).
    fn api(&self, segments: &[&str]) -> url::Url {
        let mut url = self.plan.url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "0"]).extend(segments);
        }
        url
    }

    /// The release's page: `{url}organizations/{org}/releases/{version}/`.
    fn link(&self, version: &str) -> String {
        let mut url = self.plan.url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["organizations", &self.plan.org, "releases", version, ""]);
        }
        url.to_string()
    }

    /// Send `body`; the status on success. `idempotent`: retried on a 5xx, 429 or a timeout;
    /// otherwise only when the connection was never made.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &url::Url,
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Result<u16, Refused> {
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(self.plan.token.expose_secret())
                .json(body)
                .send()
                .await;
            let retry = match &sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    idempotent && (status >= 500 || status == 429)
                }
                Err(error) => error.is_connect() || (idempotent && error.is_timeout()),
            };
            if retry && attempt < ATTEMPTS {
                tracing::debug!(attempt, %url, "Sentry request failed; retrying");
                tokio::time::sleep(self.backoff * attempt).await;
                attempt += 1;
                continue;
            }
            return match sent {
                Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    Err(self.refused(status, &body))
                }
                Err(error) => Err(Refused {
                    message: format!("{} did not answer: {error}", self.plan.url),
                    hint: "check sentry-url and that Sentry is reachable from the runner".into(),
                    refs: None,
                }),
            };
        }
    }

    fn refused(&self, status: u16, body: &str) -> Refused {
        // Sentry's errors are `{"detail": "…"}`, or per field (`{"refs": ["…"]}`); anything else
        // is shown as it came.
        let json = serde_json::from_str::<serde_json::Value>(body).ok();
        let detail = json
            .as_ref()
            .and_then(|value| value["detail"].as_str().map(str::to_string))
            .unwrap_or_else(|| clip(body.trim(), 300).to_string());
        let refs = json
            .as_ref()
            .filter(|_| status == 400)
            .and_then(|value| value["refs"].as_array())
            .map(|why| {
                why.iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        let org = &self.plan.org;
        let hint = match status {
            401 => "SENTRY_AUTH_TOKEN was not accepted: create an organization token (or a user token with `project:releases`) and store it as a secret".to_string(),
            403 => format!("the token may not write releases in `{org}`: it needs `project:releases` (org:ci for organization tokens)"),
            404 => format!("Sentry at {} has no organization `{org}` or no project {}: check sentry-org, sentry-projects and sentry-url", self.plan.url, self.plan.projects.join(", ")),
            _ if status >= 500 => "Sentry had a problem; the release can be recorded later with `sentry-cli releases new` / `deploys new`".to_string(),
            _ => "check the sentry-* inputs".to_string(),
        };
        Refused {
            message: format!("Sentry answered {status}: {detail}"),
            hint,
            refs,
        }
    }
}

/// What became of the release, in the log. Sentry answers 208 when the release existed — but it
/// creates the release before it rejects unknown `refs` (getsentry/sentry
/// `organization_releases.py`: the release is saved, then `set_refs` raises `InvalidRepository`),
/// so after a retry without refs a 208 may be this run's own release: not "exists already".
pub fn release_line(version: &str, projects: &[String], status: u16, retried: bool) -> String {
    let what = match (status, retried) {
        (208, false) => "exists already",
        (208, true) => "is there (created by the first request, or before)",
        _ => "created",
    };
    format!(
        "Sentry release {version} {what} for {}",
        projects.join(", ")
    )
}

fn warn(console: &Console, doing: &str, refused: &Refused) {
    console.warning(
        "sentry",
        &format!(
            "{doing} failed; the deploy goes on. {} ({})",
            refused.message, refused.hint
        ),
    );
}

/// RFC 3339, as Sentry's `date*` fields take it.
fn timestamp(time: SystemTime) -> String {
    aws_smithy_types::DateTime::from(time)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
