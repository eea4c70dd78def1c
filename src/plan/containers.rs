//! What a rollout changes in containers besides the image: environment variables set,
//! secrets set (by reference: `valueFrom`, never a value), names removed — from the inputs
//! `environment-variables`, `secrets` and `unset` (every container the rollout points at the
//! image), or from the config file's `[environments.NAME.containers.CONTAINER]` tables.

use super::PlanError;
use super::values;

/// The changes to one container (or to every selected one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerChanges {
    /// `KEY=value` to set; an existing variable of that name is replaced.
    pub environment: Vec<(String, String)>,
    /// `KEY=valueFrom` (a Secrets Manager secret ARN, an SSM parameter ARN or name).
    pub secrets: Vec<(String, String)>,
    /// Names to remove, as a variable or as a secret.
    pub unset: Vec<String>,
}

impl ContainerChanges {
    pub fn is_empty(&self) -> bool {
        self.environment.is_empty() && self.secrets.is_empty() && self.unset.is_empty()
    }

    /// `self`, then `later` on top (a later setting of a name wins).
    fn then(&self, later: &ContainerChanges) -> ContainerChanges {
        let mut merged = self.clone();
        merged.environment.extend(later.environment.iter().cloned());
        merged.secrets.extend(later.secrets.iter().cloned());
        merged.unset.extend(later.unset.iter().cloned());
        merged
    }
}

/// Every container change of a rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerEdits {
    /// From the config file, by container name.
    pub named: Vec<(String, ContainerChanges)>,
    /// From the inputs: every container the rollout points at the image (they win over the file).
    pub selected: ContainerChanges,
}

impl ContainerEdits {
    /// The changes to `container` (`selected`: the rollout points it at the image).
    pub fn for_container(&self, container: &str, selected: bool) -> ContainerChanges {
        let from_file = self
            .named
            .iter()
            .filter(|(name, _)| name == container)
            .fold(ContainerChanges::default(), |all, (_, changes)| {
                all.then(changes)
            });
        if selected {
            from_file.then(&self.selected)
        } else {
            from_file
        }
    }

    /// A secret is set somewhere: ECS needs the task definition's execution role to fetch it.
    pub fn sets_secrets(&self) -> bool {
        !self.selected.secrets.is_empty() || self.named.iter().any(|(_, c)| !c.secrets.is_empty())
    }
}

/// Parse the three settings; `inputs` names them as the error should (`environment-variables`
/// or `[environments.prod.containers.app] environment-variables`).
pub fn parse(
    environment: Option<&str>,
    secrets: Option<&str>,
    unset: Option<&str>,
    inputs: [&'static str; 3],
    context: &str,
) -> Result<ContainerChanges, PlanError> {
    let [env_input, secrets_input, unset_input] = inputs;
    let bad = |input: &'static str, problem: String, expected: &str| {
        PlanError::new(input, format!("{context}{problem}"), expected)
    };
    let pairs =
        |text: Option<&str>, input: &'static str| -> Result<Vec<(String, String)>, PlanError> {
            let mut pairs = Vec::new();
            for line in text.unwrap_or("").lines().filter(|l| !l.trim().is_empty()) {
                let Some((name, value)) = line.split_once('=') else {
                    return Err(bad(
                        input,
                        format!("`{line}` is not NAME=VALUE"),
                        "one NAME=VALUE a line",
                    ));
                };
                let name = name.trim();
                if !is_variable_name(name) {
                    return Err(bad(
                        input,
                        format!("`{name}` is not an environment variable name"),
                        "letters, digits and `_`, not starting with a digit",
                    ));
                }
                pairs.push((name.to_string(), value.to_string()));
            }
            Ok(pairs)
        };
    let environment = pairs(environment, env_input)?;
    let secrets = pairs(secrets, secrets_input)?;
    for (name, value_from) in &secrets {
        if !is_secret_reference(value_from.trim()) {
            return Err(bad(
                secrets_input,
                format!("`{name}={value_from}` does not reference a secret"),
                "NAME=arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME (optionally :json-key:stage:version), \
                 an SSM parameter ARN, or an SSM parameter name such as /back-end/jwt",
            ));
        }
    }
    let secrets = secrets
        .into_iter()
        .map(|(name, value)| (name, value.trim().to_string()))
        .collect();
    let unset: Vec<String> = values::split_list(unset.unwrap_or(""));
    if let Some(name) = unset.iter().find(|name| !is_variable_name(name)) {
        return Err(bad(
            unset_input,
            format!("`{name}` is not an environment variable name"),
            "names to remove, one a line or comma-separated",
        ));
    }
    Ok(ContainerChanges {
        environment,
        secrets,
        unset,
    })
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What ECS accepts as a container secret's `valueFrom`: a Secrets Manager secret ARN (with an
/// optional `:json-key:version-stage:version-id` suffix), an SSM parameter ARN, or an SSM
/// parameter name (a parameter in the task's own region). The value itself is never read.
pub fn is_secret_reference(value_from: &str) -> bool {
    let arn: Vec<&str> = value_from.splitn(6, ':').collect();
    match arn.as_slice() {
        [
            "arn",
            partition,
            "secretsmanager",
            region,
            account,
            resource,
        ] => {
            partition.starts_with("aws")
                && !region.is_empty()
                && values::is_account_id(account)
                && resource
                    .strip_prefix("secret:")
                    .is_some_and(|rest| !rest.is_empty() && rest.split(':').count() <= 4)
        }
        ["arn", partition, "ssm", region, account, resource] => {
            partition.starts_with("aws")
                && !region.is_empty()
                && values::is_account_id(account)
                && resource
                    .strip_prefix("parameter/")
                    .is_some_and(|name| !name.is_empty())
        }
        _ => {
            !value_from.is_empty()
                && !value_from.starts_with("arn:")
                && value_from
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
        }
    }
}

#[cfg(test)]
#[path = "containers_tests.rs"]
mod tests;
