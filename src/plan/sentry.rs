//! Resolving the Sentry inputs: on when `sentry-org` is set; the token comes from
//! `SENTRY_AUTH_TOKEN` (as getsentry/action-release reads it), never from an input.

use super::PlanError;
use super::values::split_list;
use crate::inputs::Inputs;
use secrecy::SecretString;

/// What to tell Sentry; `None` in the plan when `sentry-org` is not set.
#[derive(Debug, Clone)]
pub struct SentryPlan {
    /// The API base, e.g. `https://sentry.io/` (always ending in `/`).
    pub url: url::Url,
    pub org: String,
    pub projects: Vec<String>,
    /// `sentry-version`; `None`: the commit the image was built from, known once it is.
    pub version: Option<String>,
    pub environment: String,
    pub token: SecretString,
    /// `OWNER/REPO`, for the release's commit reference (Sentry's repository integration names
    /// GitHub repositories so).
    pub repository: Option<String>,
}

const SENTRY_INPUTS: &[&str] = &[
    "sentry-projects",
    "sentry-url",
    "sentry-version",
    "sentry-environment",
];

pub(super) fn resolve_sentry(
    inputs: &Inputs,
    environment_tag: &str,
) -> Result<Option<SentryPlan>, PlanError> {
    let args = &inputs.args;
    let Some(org) = args.sentry_org.clone() else {
        let given = [
            &args.sentry_projects,
            &args.sentry_url,
            &args.sentry_version,
            &args.sentry_environment,
        ];
        if let Some((name, _)) = SENTRY_INPUTS
            .iter()
            .zip(given)
            .find(|(_, value)| value.is_some())
        {
            return Err(PlanError::new(
                "sentry-org",
                format!("is empty, but {name} is set: nothing would be sent to Sentry"),
                "set `sentry-org` (your organization's slug) to create Sentry releases, or drop the sentry-* inputs",
            ));
        }
        return Ok(None);
    };
    check_slug(&org).map_err(|why| {
        PlanError::new(
            "sentry-org",
            format!("`{org}` {why}"),
            "the organization's slug, as in https://sentry.io/organizations/SLUG/",
        )
    })?;
    let projects = split_list(args.sentry_projects.as_deref().unwrap_or(""));
    if projects.is_empty() {
        return Err(PlanError::new(
            "sentry-projects",
            "is empty: a Sentry release belongs to one or more projects",
            "the project slugs, one a line, e.g. `back-end`",
        ));
    }
    for project in &projects {
        check_slug(project).map_err(|why| {
            PlanError::new(
                "sentry-projects",
                format!("`{project}` {why}"),
                "project slugs, one a line, e.g. `back-end`",
            )
        })?;
    }
    let url = sentry_url(args.sentry_url.as_deref().unwrap_or("https://sentry.io/"))?;
    if let Some(version) = &args.sentry_version {
        check_version(version).map_err(|why| {
            PlanError::new(
                "sentry-version",
                format!("`{version}` {why}"),
                "e.g. `back-end@1.4.2`, or leave it empty for the commit SHA",
            )
        })?;
    }
    let environment = args
        .sentry_environment
        .clone()
        .or_else(|| args.github_environment.clone())
        .unwrap_or_else(|| {
            if environment_tag == "prod" {
                "production".to_string()
            } else {
                environment_tag.to_string()
            }
        });
    // A default taken from github-environment is that input's mistake.
    let environment_input =
        if args.sentry_environment.is_none() && args.github_environment.is_some() {
            "github-environment"
        } else {
            "sentry-environment"
        };
    check_environment(&environment).map_err(|why| {
        PlanError::new(
            environment_input,
            format!("`{environment}` {why}"),
            "e.g. `production` or `staging`",
        )
    })?;
    // Without a token Sentry is off, with a warning ([`missing_token`]): Sentry is a report, and
    // `status`, `logs` or a local `plan` with the same config file need no Sentry token.
    let Some(token) = inputs.sentry_token.clone() else {
        return Ok(None);
    };
    Ok(Some(SentryPlan {
        url,
        org,
        projects,
        version: args.sentry_version.clone(),
        environment,
        token,
        repository: inputs.run.repository.clone(),
    }))
}

/// The warning for `sentry-org` without `SENTRY_AUTH_TOKEN`.
pub(super) fn missing_token(inputs: &Inputs) -> Option<(&'static str, String)> {
    (inputs.args.sentry_org.is_some() && inputs.sentry_token.is_none()).then(|| {
        (
            "sentry-org",
            "is set, but SENTRY_AUTH_TOKEN is empty: no Sentry release or deploy. Pass the token in the \
             step's env: `SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN }}` (an organization token, or a \
             user token with `project:releases`)"
                .to_string(),
        )
    })
}

/// Sentry's slugs: lowercase letters, digits, `-` and `_`, not only digits.
fn check_slug(slug: &str) -> Result<(), &'static str> {
    let allowed = slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if slug.is_empty() || slug.len() > 50 || !allowed {
        Err("is not a slug (lowercase letters, digits, `-`, `_`)")
    } else if slug.chars().all(|c| c.is_ascii_digit()) {
        Err("is only digits, which Sentry reads as an id, not a slug")
    } else {
        Ok(())
    }
}

/// Sentry refuses versions with white space or slashes, `.`/`..`, or over 200 characters.
fn check_version(version: &str) -> Result<(), &'static str> {
    if version.len() > 200 {
        Err("is longer than 200 characters")
    } else if matches!(version, "." | ".." | "latest") {
        Err("is a name Sentry reserves")
    } else if version
        .chars()
        .any(|c| c.is_whitespace() || c == '/' || c == '\\')
    {
        Err("has white space or a slash, which Sentry refuses")
    } else {
        Ok(())
    }
}

/// Sentry's environment names: no white space or slash, at most 64 characters.
fn check_environment(environment: &str) -> Result<(), &'static str> {
    if environment.is_empty() || environment.len() > 64 {
        Err("must be 1 to 64 characters")
    } else if environment.chars().any(|c| c.is_whitespace() || c == '/') {
        Err("has white space or a slash, which Sentry refuses")
    } else {
        Ok(())
    }
}

/// The API base: HTTPS, or plain HTTP only on this machine (the token is in every request).
fn sentry_url(text: &str) -> Result<url::Url, PlanError> {
    let invalid = |why: String| {
        PlanError::new(
            "sentry-url",
            why,
            "`https://sentry.io/` or your self-hosted Sentry's https:// address",
        )
    };
    let mut url = url::Url::parse(text)
        .map_err(|error| invalid(format!("`{text}` is not a URL ({error})")))?;
    let loopback = url
        .host_str()
        .is_some_and(crate::plan::values::is_loopback_host);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(invalid(format!(
                "`{text}` is not https://: the auth token would travel in clear"
            )));
        }
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
#[path = "sentry_tests.rs"]
mod tests;
