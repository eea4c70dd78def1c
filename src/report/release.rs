//! The record of one run: what it set out to do and what became of it.
//!
//! Every path through the pipeline — success, a failure at any stage, a dry run — fills one
//! `Release`, and [`super::finish`] turns it into the step's outputs, the job summary, the GitHub
//! deployment status and what a terminal sees. It is `Serialize` (`--output json`) and its
//! `Display` is the terminal report.

use crate::deploy::{Outcome, Rollout, revision_of};
use crate::error::{hint_of, one_line};
use crate::image::build::Builder;
use crate::image::{Origin, PushedImage, describe_cache};
use crate::plan::Plan;
use serde::Serialize;
use std::fmt;

/// The stages of the pipeline, in order: where a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Plan,
    ChecksGate,
    Auth,
    Preflight,
    Repository,
    Image,
    Deploy,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Plan => "plan",
            Stage::ChecksGate => "checks gate",
            Stage::Auth => "auth",
            Stage::Preflight => "preflight",
            Stage::Repository => "repository",
            Stage::Image => "image",
            Stage::Deploy => "deploy",
        })
    }
}

/// A run that stopped: the stage, and the error as the user will read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageFailure {
    pub stage: Stage,
    pub message: String,
    pub hint: Option<String>,
}

impl StageFailure {
    pub fn new(stage: Stage, error: &anyhow::Error) -> Self {
        Self {
            stage,
            message: one_line(error),
            hint: hint_of(error).map(str::to_string),
        }
    }
}

/// A planned service and, once it was rolled, its rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRelease {
    pub service: String,
    pub rollout: Option<Rollout>,
}

/// What a dry run found: the plan in words, and what would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRun {
    pub plan: String,
    pub changes: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Release {
    /// The environment tag (`prod`, `staging`); unknown when the inputs were wrong.
    pub environment: Option<String>,
    pub commit: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub aws_account_id: Option<String>,
    /// The image this run pushed or promoted.
    pub image: Option<PushedImage>,
    /// The services the plan names, in its order; empty when nothing is to be rolled.
    pub services: Vec<ServiceRelease>,
    pub github_deployment_id: Option<u64>,
    /// The Sentry release (and deploy) this run made, when Sentry is on and it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentry: Option<crate::sentry::SentryReport>,
    /// The pre-deploy command's task, when one ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_deploy: Option<crate::deploy::one_off::OneOff>,
    /// Where the settings came from, when a config file was read:
    /// `(input, "input" or "deploy.toml [environments.prod] line 9")`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ConfigRecord>,
    pub dry_run: Option<DryRun>,
    pub failure: Option<StageFailure>,
    /// The stage the run is in (where a cancellation finds it).
    #[serde(skip)]
    pub reached: Option<Stage>,
}

/// The config file a run read, and where each setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigRecord {
    pub file: String,
    pub environment: String,
    pub origins: Vec<(String, String)>,
}

/// `rollout-result`: what became of the rollout as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutResult {
    Success,
    Failure,
    /// Updated, not waited for (`wait: false`).
    Started,
    /// Nothing to roll (no `ecs-services`).
    Skipped,
}

impl RolloutResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutResult::Success => "success",
            RolloutResult::Failure => "failure",
            RolloutResult::Started => "started",
            RolloutResult::Skipped => "skipped",
        }
    }
}

impl Release {
    /// The plan's identity and the services it will roll, none rolled yet.
    pub fn planned(plan: &Plan) -> Self {
        Self {
            environment: Some(plan.environment_tag.clone()),
            commit: Some(plan.source.sha.clone()),
            git_ref: Some(plan.source.git_ref.clone()),
            services: plan
                .rollout
                .iter()
                .flat_map(|rollout| &rollout.services)
                .map(|service| ServiceRelease {
                    service: service.clone(),
                    rollout: None,
                })
                .collect(),
            settings: plan.config.as_ref().map(|config| ConfigRecord {
                file: config.path.display().to_string(),
                environment: config.environment.clone(),
                origins: config
                    .origins
                    .iter()
                    .map(|(input, origin)| ((*input).to_string(), origin.clone()))
                    .collect(),
            }),
            ..Self::default()
        }
    }

    /// Record the rollouts, one per planned service in the plan's order.
    pub fn rolled(&mut self, rollouts: Vec<Rollout>) {
        for (service, rollout) in self.services.iter_mut().zip(rollouts) {
            service.rollout = Some(rollout);
        }
    }

    pub fn rollouts(&self) -> impl Iterator<Item = &Rollout> {
        self.services.iter().filter_map(|s| s.rollout.as_ref())
    }

    /// The run stopped while making its plan: nothing was read or changed.
    pub fn stopped_at_plan(&self) -> bool {
        self.failure
            .as_ref()
            .is_some_and(|failure| failure.stage == Stage::Plan)
    }

    /// Each failed rollout in words, with its evidence.
    pub fn rollout_failures(&self) -> Vec<String> {
        self.rollouts().filter_map(Rollout::failure_text).collect()
    }

    /// `None` when there is nothing true to say: the inputs were wrong, it was a dry run, or
    /// the run stopped before any service was touched.
    pub fn rollout_result(&self) -> Option<RolloutResult> {
        if self.environment.is_none() || self.dry_run.is_some() {
            return None;
        }
        if self.services.is_empty() {
            return Some(RolloutResult::Skipped);
        }
        let failed_in_deploy = self
            .failure
            .as_ref()
            .is_some_and(|failure| failure.stage == Stage::Deploy);
        let rollouts: Vec<&Rollout> = self.rollouts().collect();
        if failed_in_deploy || rollouts.iter().any(|r| r.outcome.failure().is_some()) {
            Some(RolloutResult::Failure)
        } else if rollouts.is_empty() {
            None
        } else if rollouts
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Started))
        {
            Some(RolloutResult::Started)
        } else {
            Some(RolloutResult::Success)
        }
    }

    /// The step outputs this run has values for, in the order action.yml lists them.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let mut outputs = Vec::new();
        if let Some(environment) = &self.environment {
            outputs.push(("environment", environment.clone()));
        }
        if let Some(image) = &self.image {
            outputs.push(("image", image.pinned_reference()));
            outputs.push(("digest", image.digest.clone()));
            outputs.push(("tags", image.tags.join("\n")));
            if let Some(revision) = &image.revision {
                outputs.push(("image-revision", revision.clone()));
            }
        }
        let rollouts: Vec<&Rollout> = self.rollouts().collect();
        if !rollouts.is_empty() {
            let arns: Vec<&str> = rollouts
                .iter()
                .map(|r| r.task_definition.as_str())
                .collect();
            outputs.push(("task-definition-arns", arns.join("\n")));
        }
        if let Some(account) = &self.aws_account_id {
            outputs.push(("aws-account-id", account.clone()));
        }
        if let Some(result) = self.rollout_result() {
            outputs.push(("rollout-result", result.as_str().to_string()));
        }
        if !rollouts.is_empty() {
            let previous: Vec<&str> = rollouts
                .iter()
                .map(|r| r.previous_task_definition.as_str())
                .collect();
            outputs.push(("previous-task-definition-arns", previous.join("\n")));
        }
        if let Some(id) = self.github_deployment_id {
            outputs.push(("github-deployment-id", id.to_string()));
        }
        if let Some(done) = &self.pre_deploy {
            outputs.push(("pre-deploy-task-arn", done.task_arn.clone()));
            outputs.push((
                "pre-deploy-exit-code",
                done.exit_code
                    .map(|code| code.to_string())
                    .unwrap_or_default(),
            ));
        }
        if let Some(sentry) = &self.sentry {
            outputs.push(("sentry-release", sentry.version.clone()));
        }
        outputs
    }

    /// The record as JSON, with `rollout_result` (derived, so not a field) added.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Record<'a> {
            #[serde(flatten)]
            release: &'a Release,
            rollout_result: Option<RolloutResult>,
        }
        let record = Record {
            release: self,
            rollout_result: self.rollout_result(),
        };
        // Plain data (strings, numbers, lists): serialising it cannot fail.
        serde_json::to_string_pretty(&record).unwrap_or_else(|error| {
            format!("{{\"error\": \"the record could not be serialised: {error}\"}}")
        })
    }
}

/// How the image was made, in a few words.
pub fn origin_text(image: &PushedImage) -> String {
    let seconds = image.build_time.as_secs_f64();
    match &image.origin {
        Origin::Built {
            builder,
            cache,
            cache_note,
            platforms,
        } => format!(
            "{} for {} in {seconds:.1}s, {}{}",
            match builder {
                Builder::Buildx => "buildx",
                Builder::EngineBuildKit => "BuildKit (docker build)",
            },
            platforms.join(", "),
            describe_cache(cache),
            cache_note
                .as_deref()
                .map(|note| format!(" ({})", note.trim_start_matches("cache: ")))
                .unwrap_or_default()
        ),
        Origin::Reused { tag } => format!(
            "this commit's earlier build, under the immutable `{tag}` (no other tag can move in the repository), no rebuild"
        ),
        Origin::Promoted { from } => format!(
            "promoted from `{from}` (built from {}) in {seconds:.1}s, no rebuild",
            image.revision.as_deref().map_or_else(
                || "an unknown commit".to_string(),
                |sha| format!("commit {sha}")
            )
        ),
    }
}

/// Why no Sentry deploy is recorded for a rollout that did not succeed.
pub fn not_deployed(result: Option<RolloutResult>) -> String {
    match result {
        None | Some(RolloutResult::Skipped) => "no ECS service was rolled out".into(),
        Some(RolloutResult::Started) => "the rollout was started, not waited for".into(),
        Some(RolloutResult::Failure) => "the rollout failed".into(),
        Some(RolloutResult::Success) => "the rollout succeeded".into(),
    }
}

impl Release {
    /// After the rollout, Sentry learns of it: a deploy when it succeeded (with `finalize`,
    /// the release is marked released), and the record says why there is none otherwise.
    pub async fn tell_sentry(
        &mut self,
        sentry: &crate::sentry::Sentry<'_>,
        started: std::time::SystemTime,
        run_url: Option<&str>,
        finalize: bool,
        console: &crate::console::Console,
    ) {
        let outcome = self.rollout_result();
        let not_deployed = (outcome != Some(RolloutResult::Success)).then(|| not_deployed(outcome));
        if let Some(report) = self.sentry.as_mut() {
            sentry
                .after_rollout(report, not_deployed, started, run_url, finalize, console)
                .await;
        }
    }
}

/// What became of the Sentry deploy, in a few words.
pub fn sentry_deploy_text(sentry: &crate::sentry::SentryReport) -> String {
    use crate::sentry::DeployMarker;
    match &sentry.deploy {
        DeployMarker::Recorded => format!("deploy to {} recorded", sentry.environment),
        DeployMarker::NotRecorded(why) => format!("no deploy recorded: {why}"),
        DeployMarker::Pending => {
            "no deploy recorded: the run stopped before the rollout ended".into()
        }
    }
}

/// A rollout's result in a few words.
pub fn outcome_text(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed { running, desired } => {
            format!("completed ({running}/{desired} running)")
        }
        Outcome::Baking {
            strategy, until, ..
        } => format!(
            "in production, baking ({strategy}){} — ECS rolls back by itself if an alarm fires",
            until
                .as_deref()
                .map(|until| format!(" until {until}"))
                .unwrap_or_default()
        ),
        Outcome::Started => "started (not waited for)".into(),
        Outcome::AlreadyCurrent => "already running this image".into(),
        Outcome::Failed(failure) => format!(
            "failed: {} — now on {}{}",
            failure.reason,
            revision_of(&failure.left_on),
            if failure.rolled_back {
                " (rolled back)"
            } else {
                ""
            }
        ),
    }
}

/// The terminal report: a verdict line, then what was released where. It follows the log, so it
/// repeats nothing the log just said: a dry run's changes were listed in its stage, and a
/// failure's error and hint are printed once, by `main`, right after the report.
impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A run that stopped before its plan was made knows no environment.
        let environment = self
            .environment
            .as_deref()
            .map(|environment| format!(" ({environment})"))
            .unwrap_or_default();
        let verdict = match (&self.failure, &self.dry_run) {
            (Some(failure), _) => format!("✘ failed at {}{environment}", failure.stage),
            (None, Some(_)) => format!("dry run{environment}: nothing was changed"),
            (None, None) => format!(
                "✔ released to {}",
                self.environment.as_deref().unwrap_or("?")
            ),
        };
        writeln!(f, "{verdict}")?;
        if let (Some(commit), Some(git_ref)) = (&self.commit, &self.git_ref) {
            writeln!(f, "  commit     {commit} ({git_ref})")?;
        }
        if let Some(image) = &self.image {
            writeln!(f, "  image      {}", image.pinned_reference())?;
            writeln!(f, "  tags       {}", image.tags.join(", "))?;
            writeln!(f, "  how        {}", origin_text(image))?;
        }
        for service in &self.services {
            match &service.rollout {
                Some(rollout) => writeln!(
                    f,
                    "  service    {}: {} → {}, {} in {:.0}s",
                    service.service,
                    revision_of(&rollout.previous_task_definition),
                    revision_of(&rollout.task_definition),
                    outcome_text(&rollout.outcome),
                    rollout.duration.as_secs_f64()
                )?,
                None if self.dry_run.is_none() => {
                    writeln!(f, "  service    {}: not touched", service.service)?;
                }
                None => {}
            }
        }
        if let Some(id) = self.github_deployment_id {
            writeln!(f, "  github     deployment {id}")?;
        }
        if let Some(sentry) = &self.sentry {
            writeln!(
                f,
                "  sentry     release {} ({}); {}",
                sentry.version,
                sentry.link,
                sentry_deploy_text(sentry)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "release_tests.rs"]
mod tests;
