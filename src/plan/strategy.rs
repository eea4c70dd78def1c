//! Resolving the deployment-strategy inputs: which of ECS's strategies the rollout runs under
//! (rolling, blue/green, linear, canary), its bake times and traffic steps, and the alarms that
//! roll it back. Nothing is set on a service unless one of them is given.
//!
//! Ranges are the API reference's: `bakeTimeInMinutes` 0–1440 (DeploymentConfiguration);
//! CanaryConfiguration `canaryPercent` "multiples of 0.1 from 0.1 to 100.0",
//! `canaryBakeTimeInMinutes` 0–1440; LinearConfiguration `stepPercent` "multiples of 0.1 from
//! 3.0 to 100.0", `stepBakeTimeInMinutes` 0–1440.

use super::{PlanError, parse_count, values};
use crate::inputs::InputArgs;

/// The deployment settings a run asks for, merged into the service's own when it is updated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StrategyChange {
    pub strategy: Option<Strategy>,
    /// `bakeTimeInMinutes`: how long ECS keeps both revisions after production traffic moved.
    pub bake_minutes: Option<u32>,
    /// CANARY: the share moved first and how long it bakes before the rest moves.
    pub canary: Step,
    /// LINEAR: the share each step moves and how long each step bakes.
    pub linear: Step,
    /// CloudWatch alarms that roll the deployment back (added to the service's own).
    pub alarms: Vec<String>,
}

/// One traffic step: a share of production traffic (in tenths of a percent: the API takes
/// multiples of 0.1) and its bake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    pub percent_tenths: Option<u16>,
    pub bake_minutes: Option<u32>,
}

/// ECS's deployment strategies (`deploymentConfiguration.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

impl Strategy {
    /// As ECS spells it.
    pub fn as_ecs(self) -> &'static str {
        match self {
            Strategy::Rolling => "ROLLING",
            Strategy::BlueGreen => "BLUE_GREEN",
            Strategy::Linear => "LINEAR",
            Strategy::Canary => "CANARY",
        }
    }

    /// `rolling`, `blue-green`, `linear`, `canary` — or ECS's own spelling.
    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "rolling" => Some(Strategy::Rolling),
            "blue-green" | "bluegreen" => Some(Strategy::BlueGreen),
            "linear" => Some(Strategy::Linear),
            "canary" => Some(Strategy::Canary),
            _ => None,
        }
    }
}

/// What the run asks for, in words (the plan's `strategy:` line); what it leaves out stays as
/// the service has it.
impl std::fmt::Display for StrategyChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        let minutes = |m: Option<u32>, default: u32| {
            m.map_or(format!("the service's (ECS default {default} min)"), |m| {
                format!("{m} min")
            })
        };
        if let Some(tenths) = self.canary.percent_tenths {
            parts.push(format!(
                "{} of production traffic first, the rest after {}",
                percent_text(tenths),
                minutes(self.canary.bake_minutes, 10)
            ));
        } else if let Some(bake) = self.canary.bake_minutes {
            parts.push(format!("canary bake {bake} min"));
        }
        if let Some(tenths) = self.linear.percent_tenths {
            parts.push(format!(
                "{} of production traffic a step, {} between steps",
                percent_text(tenths),
                minutes(self.linear.bake_minutes, 6)
            ));
        } else if let Some(bake) = self.linear.bake_minutes {
            parts.push(format!("{bake} min between steps"));
        }
        if let Some(bake) = self.bake_minutes {
            parts.push(format!("bake {bake} min"));
        }
        if !self.alarms.is_empty() {
            parts.push(format!("alarms {} roll it back", self.alarms.join(", ")));
        }
        let strategy = self.strategy.map_or("the service's own", Strategy::as_ecs);
        if parts.is_empty() {
            write!(f, "{strategy}")
        } else {
            write!(f, "{strategy}: {}", parts.join("; "))
        }
    }
}

/// A percentage in tenths.
pub fn percent_text(tenths: u16) -> String {
    if tenths.is_multiple_of(10) {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

const STRATEGY: &str = "deployment-strategy";
const BAKE_RANGE: std::ops::RangeInclusive<u32> = 0..=1440;

/// The strategy inputs; `None` when none is given (the service keeps its settings).
pub(super) fn resolve_strategy(args: &InputArgs) -> Result<Option<StrategyChange>, PlanError> {
    let strategy = match &args.deployment_strategy {
        None => None,
        Some(text) => Some(Strategy::parse(text).ok_or_else(|| {
            PlanError::new(
                STRATEGY,
                format!("`{text}` is not a deployment strategy"),
                "rolling, blue-green, linear or canary",
            )
        })?),
    };
    let minutes = |value: &Option<String>, input: &'static str| match value {
        None => Ok(None),
        Some(_) => parse_count(value, input, 0, BAKE_RANGE).map(Some),
    };
    let change = StrategyChange {
        strategy,
        bake_minutes: minutes(&args.bake_time_minutes, "bake-time-minutes")?,
        canary: Step {
            percent_tenths: percent(&args.canary_percent, "canary-percent", 1)?,
            bake_minutes: minutes(&args.canary_bake_minutes, "canary-bake-minutes")?,
        },
        linear: Step {
            percent_tenths: percent(&args.linear_step_percent, "linear-step-percent", 30)?,
            bake_minutes: minutes(&args.linear_step_bake_minutes, "linear-step-bake-minutes")?,
        },
        alarms: alarms(args.deployment_alarms.as_deref())?,
    };
    // Each setting belongs to a strategy; one given without it would be ignored by ECS or
    // silently change a strategy the service does not run.
    let belongs = [
        (
            change.bake_minutes.is_some(),
            "bake-time-minutes",
            &[Strategy::BlueGreen, Strategy::Linear, Strategy::Canary][..],
        ),
        (
            change.canary != Step::default(),
            if change.canary.percent_tenths.is_some() {
                "canary-percent"
            } else {
                "canary-bake-minutes"
            },
            &[Strategy::Canary][..],
        ),
        (
            change.linear != Step::default(),
            if change.linear.percent_tenths.is_some() {
                "linear-step-percent"
            } else {
                "linear-step-bake-minutes"
            },
            &[Strategy::Linear][..],
        ),
    ];
    for (given, input, strategies) in belongs {
        if given && !strategy.is_some_and(|s| strategies.contains(&s)) {
            let names: Vec<&str> = strategies.iter().map(|s| s.as_ecs()).collect();
            return Err(PlanError::new(
                input,
                match strategy {
                    Some(s) => format!("is set, but deployment-strategy is {}", s.as_ecs()),
                    None => "is set, but deployment-strategy is not".to_string(),
                },
                format!(
                    "set deployment-strategy to {} with it (ECS applies it only there), or drop it",
                    names.join(" or ").to_lowercase().replace('_', "-")
                ),
            ));
        }
    }
    Ok((change != StrategyChange::default()).then_some(change))
}

/// A percentage in multiples of 0.1 from `lowest_tenths` to 100, in tenths.
fn percent(
    value: &Option<String>,
    input: &'static str,
    lowest_tenths: u16,
) -> Result<Option<u16>, PlanError> {
    let Some(text) = value else {
        return Ok(None);
    };
    let range = format!(
        "a percentage from {} to 100 in steps of 0.1",
        percent_text(lowest_tenths).trim_end_matches('%')
    );
    let trimmed = text.trim().trim_end_matches('%');
    let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, "0"));
    let fraction = fraction.trim_end_matches('0');
    let parsed = match (whole.parse::<u16>(), fraction) {
        (Ok(whole), "") => whole.checked_mul(10),
        (Ok(whole), digit) if digit.len() == 1 => whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(digit.parse::<u16>().ok()?)),
        _ => None,
    };
    match parsed {
        Some(tenths) if (lowest_tenths..=1000).contains(&tenths) => Ok(Some(tenths)),
        _ => Err(PlanError::new(
            input,
            format!("`{text}` is not {range}"),
            format!("{range}, e.g. 10 or 12.5"),
        )),
    }
}

/// CloudWatch alarm names: 1 to 255 characters, no control characters (PutMetricAlarm).
fn alarms(text: Option<&str>) -> Result<Vec<String>, PlanError> {
    let names = values::split_list(text.unwrap_or(""));
    for name in &names {
        if name.len() > 255 || name.chars().any(char::is_control) {
            return Err(PlanError::new(
                "deployment-alarms",
                format!("`{name}` is not a CloudWatch alarm name"),
                "alarm names (up to 255 characters), one a line",
            ));
        }
    }
    Ok(names)
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
