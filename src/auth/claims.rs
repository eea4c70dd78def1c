//! What the OIDC token says about this run, and what a trust policy must say to accept it.
//!
//! The claims are decoded without checking the signature: STS verifies it, and we only use
//! them to explain. The token itself is never printed.

use crate::console::Console;
use serde::Deserialize;

/// The claims that decide whether a trust policy matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "audience")]
    pub aud: String,
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default, rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub job_workflow_ref: String,
    #[serde(default)]
    pub event_name: String,
    #[serde(default)]
    pub repository_owner_id: String,
    #[serde(default)]
    pub exp: u64,
}

/// `aud` is a string or a list of strings.
fn audience<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Audience::deserialize(deserializer)? {
        Audience::One(one) => one,
        Audience::Many(many) => many.join(","),
    })
}

impl Claims {
    /// Read the claims of a JWT; `None` when it is not one.
    pub fn of(token: &str) -> Option<Self> {
        jsonwebtoken::dangerous::insecure_decode_claims(token).ok()
    }

    /// Print the claims inside a log group.
    pub fn print(&self, console: &Console) {
        let _group = console.group("OIDC token claims");
        let fields: [(&str, &str); 9] = [
            ("sub", &self.sub),
            ("aud", &self.aud),
            ("iss", &self.iss),
            ("repository", &self.repository),
            ("ref", &self.git_ref),
            (
                "environment",
                self.environment.as_deref().unwrap_or("(none)"),
            ),
            ("job_workflow_ref", &self.job_workflow_ref),
            ("event_name", &self.event_name),
            ("repository_owner_id", &self.repository_owner_id),
        ];
        for (name, value) in fields {
            console.line(&format!("{name}: {value}"));
        }
        console.line(&format!("exp: {}", self.exp));
    }

    /// Why a trust policy may have refused this token, and the conditions that would accept it.
    pub fn access_denied_explanation(&self, role_arn: &str) -> String {
        let repository = if self.repository.is_empty() {
            self.sub
                .strip_prefix("repo:")
                .and_then(|rest| rest.split(':').next())
                .unwrap_or("ORG/REPO")
                .to_string()
        } else {
            self.repository.clone()
        };
        let mut text = format!(
            "The role's trust policy did not accept this run's token.\n  sub = {}\n  aud = {}\n\
             A trust policy that accepts exactly this run has:\n  \
             \"StringEquals\": {{ \"token.actions.githubusercontent.com:aud\": \"{}\", \
             \"token.actions.githubusercontent.com:sub\": \"{}\" }}\n\
             and one that accepts every ref of the repository:\n  \
             \"StringLike\": {{ \"token.actions.githubusercontent.com:sub\": \"repo:{repository}:*\" }}\n\
             Check the trust policy of {role_arn} for the usual causes:",
            self.sub, self.aud, self.aud, self.sub
        );
        if self.sub.contains(":environment:") {
            text.push_str(&format!(
                "\n  - this job uses `environment: {}`, so sub is `…:environment:{}`, not `…:ref:refs/heads/…`",
                self.environment.as_deref().unwrap_or("?"),
                self.environment.as_deref().unwrap_or("NAME")
            ));
        } else {
            text.push_str("\n  - a job with `environment:` gets sub `repo:ORG/REPO:environment:NAME`, not `…:ref:…`");
        }
        text.push_str(
            "\n  - org and repository names are matched case-sensitively\
             \n  - repositories created since mid-2026 may use the immutable form `repo:ORG@ID/REPO@ID:…`\
             \n  - the audience condition must equal the `audience` input (default sts.amazonaws.com)",
        );
        text
    }
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
