//! The plan in words: what `dry-run` and the log's plan group print.

use super::{AuthPlan, Plan, Work};
use std::fmt;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "environment:  {}", self.environment_tag)?;
        if let Some(config) = &self.config {
            writeln!(
                f,
                "config:       {} (environment {})",
                config.path.display(),
                config.environment
            )?;
            for (input, origin) in &config.origins {
                writeln!(f, "  {input:<28} from {origin}")?;
            }
        }
        writeln!(
            f,
            "commit:       {} ({})",
            self.source.sha, self.source.git_ref
        )?;
        writeln!(f, "region:       {}", self.region)?;
        match &self.auth {
            AuthPlan::Ambient => writeln!(f, "credentials:  ambient (default credential chain)")?,
            AuthPlan::WebIdentity(identity) => writeln!(
                f,
                "credentials:  assume {} with the GitHub OIDC token (audience {}, session {}, {} s, renewed before expiry)",
                identity.role_arn,
                identity.audience,
                identity.session_name,
                identity.duration_seconds
            )?,
        }
        if self.export_credentials_to.is_some() {
            writeln!(
                f,
                "export:       AWS credentials to GITHUB_ENV for later steps"
            )?;
        }
        let registry = self
            .image
            .registry_override
            .as_deref()
            .unwrap_or("<account's ECR registry>");
        for tag in &self.image.tags {
            writeln!(
                f,
                "push:         {registry}/{}:{tag}",
                self.image.repository
            )?;
        }
        match &self.work {
            Work::Build(build) => {
                writeln!(
                    f,
                    "build:        {} (dockerfile {}{}) for {}, cache {}",
                    build.context.display(),
                    build.dockerfile.display(),
                    build
                        .target
                        .as_deref()
                        .map(|t| format!(", target {t}"))
                        .unwrap_or_default(),
                    build.platforms.join(", "),
                    format!("{:?}", build.cache).to_lowercase()
                )?;
                if !build.secrets.is_empty() {
                    let ids: Vec<&str> = build.secrets.iter().map(|(id, _)| id.as_str()).collect();
                    writeln!(f, "secrets:      {}", ids.join(", "))?;
                }
            }
            Work::Rollback => writeln!(
                f,
                "rollback:     each service back on the revision its current one replaced (its deploy-action:replaces tag); nothing is built or pushed"
            )?,
            Work::Promote { from, verify } => {
                writeln!(
                    f,
                    "promote:      {registry}/{}:{from} to the tags above, without a rebuild (the sha- tag stays where it is)",
                    self.image.repository
                )?;
                writeln!(
                    f,
                    "verify:       {}",
                    if *verify {
                        format!(
                            "the image's commit (its revision label) must be in the history of {}",
                            self.source.sha
                        )
                    } else {
                        "off: the image's commit is not checked".to_string()
                    }
                )?;
            }
        }
        if self.image.create_repository {
            writeln!(f, "repository:   created when missing")?;
        }
        match &self.rollout {
            None => writeln!(f, "deploy:       none (no ecs-cluster given)")?,
            Some(rollout) => {
                let containers = if rollout.container_names.is_empty() {
                    format!("containers using {}", self.image.repository)
                } else {
                    rollout.container_names.join(", ")
                };
                writeln!(
                    f,
                    "deploy:       {} in cluster {} ({containers}), pinned by digest",
                    rollout.services.join(", "),
                    rollout.cluster
                )?;
                match rollout.wait_timeout {
                    Some(timeout) => writeln!(
                        f,
                        "wait:         up to {} minutes; on failure {}",
                        timeout.as_secs() / 60,
                        if rollout.rollback_on_failure {
                            "roll back to the previous revision"
                        } else {
                            "leave the service as it is"
                        }
                    )?,
                    None => writeln!(f, "wait:         no")?,
                }
                if let Some(change) = &rollout.strategy {
                    writeln!(
                        f,
                        "strategy:     {change} — set on each service with its update, its other deployment settings kept"
                    )?;
                }
                if let Some(file) = &rollout.task_definition_file {
                    writeln!(f, "render from:  {}", file.display())?;
                }
                if let Some(check) = &rollout.health_check {
                    writeln!(
                        f,
                        "check:        GET {} until 2xx, up to {} s",
                        check.url,
                        check.timeout.as_secs()
                    )?;
                }
                if let Some(check) = &rollout.test_traffic_check {
                    writeln!(
                        f,
                        "pause gate:   at a pause hook before production traffic, GET {} until 2xx, up to {} s; then continue, else roll back",
                        check.url,
                        check.timeout.as_secs()
                    )?;
                }
            }
        }
        if let Some(sentry) = &self.sentry {
            writeln!(
                f,
                "sentry:       release {} of {} in {} at {}; deploy to {} after a successful rollout",
                sentry.version.as_deref().unwrap_or("<the image's commit>"),
                sentry.projects.join(", "),
                sentry.org,
                sentry.url,
                sentry.environment
            )?;
        }
        Ok(())
    }
}
