use super::*;

fn resolved(inputs: &[(&str, &str)]) -> Result<Option<StrategyChange>, PlanError> {
    let env = |name: &str| {
        inputs
            .iter()
            .find(|(input, _)| format!("INPUT_{}", input.to_uppercase()) == name)
            .map(|(_, value)| value.to_string())
    };
    resolve_strategy(&InputArgs::from_env(&env))
}

#[test]
fn nothing_asked_sets_nothing() {
    assert_eq!(resolved(&[]).unwrap(), None);
}

#[test]
fn a_canary_with_its_settings_and_alarms() {
    let change = resolved(&[
        ("deployment-strategy", "canary"),
        ("canary-percent", "12.5"),
        ("canary-bake-minutes", "15"),
        ("bake-time-minutes", "30"),
        ("deployment-alarms", "api-5xx\napi-latency"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(change.strategy, Some(Strategy::Canary));
    assert_eq!(
        change.canary,
        Step {
            percent_tenths: Some(125),
            bake_minutes: Some(15)
        }
    );
    assert_eq!(change.bake_minutes, Some(30));
    assert_eq!(change.alarms, ["api-5xx", "api-latency"]);
}

#[test]
fn ecs_spellings_are_taken_too() {
    for (text, strategy) in [
        ("BLUE_GREEN", Strategy::BlueGreen),
        ("blue-green", Strategy::BlueGreen),
        ("Linear", Strategy::Linear),
        ("ROLLING", Strategy::Rolling),
    ] {
        let change = resolved(&[("deployment-strategy", text)]).unwrap().unwrap();
        assert_eq!(change.strategy, Some(strategy), "{text}");
    }
}

#[test]
fn only_alarms_keeps_the_services_strategy() {
    let change = resolved(&[("deployment-alarms", "api-5xx")])
        .unwrap()
        .unwrap();
    assert_eq!(change.strategy, None);
    assert_eq!(change.alarms, ["api-5xx"]);
}

/// Each mistake names its input and says what it takes.
#[test]
fn mistakes_name_the_input() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let table: &[Case] = &[
        (
            &[("deployment-strategy", "blue/green")],
            "deployment-strategy",
            "rolling, blue-green, linear or canary",
        ),
        (
            &[("deployment-strategy", "canary"), ("canary-percent", "0")],
            "canary-percent",
            "from 0.1 to 100",
        ),
        (
            &[
                ("deployment-strategy", "canary"),
                ("canary-percent", "5.25"),
            ],
            "canary-percent",
            "steps of 0.1",
        ),
        (
            &[
                ("deployment-strategy", "linear"),
                ("linear-step-percent", "2"),
            ],
            "linear-step-percent",
            "from 3 to 100",
        ),
        (
            &[("deployment-strategy", "canary"), ("canary-percent", "101")],
            "canary-percent",
            "to 100",
        ),
        (
            &[
                ("deployment-strategy", "blue-green"),
                ("bake-time-minutes", "1441"),
            ],
            "bake-time-minutes",
            "from 0 to 1440",
        ),
        (
            &[("bake-time-minutes", "30")],
            "bake-time-minutes",
            "deployment-strategy is not",
        ),
        (
            &[
                ("deployment-strategy", "rolling"),
                ("bake-time-minutes", "30"),
            ],
            "bake-time-minutes",
            "blue-green or linear or canary",
        ),
        (
            &[("deployment-strategy", "linear"), ("canary-percent", "10")],
            "canary-percent",
            "deployment-strategy is LINEAR",
        ),
        (
            &[("canary-bake-minutes", "5")],
            "canary-bake-minutes",
            "set deployment-strategy to canary",
        ),
        (
            &[("linear-step-bake-minutes", "5")],
            "linear-step-bake-minutes",
            "set deployment-strategy to linear",
        ),
    ];
    for (inputs, input, says) in table {
        let error = resolved(inputs).unwrap_err();
        assert_eq!(error.input, *input, "{inputs:?}: {error}");
        let text = format!("{} ({})", error.problem, error.expected);
        assert!(text.contains(says), "{inputs:?}: {text}");
    }
}

#[test]
fn percentages_read_as_written() {
    for (text, tenths) in [
        ("5", 50),
        ("12.5", 125),
        ("100", 1000),
        ("0.1", 1),
        ("7.0", 70),
    ] {
        assert_eq!(
            percent(&Some(text.into()), "canary-percent", 1).unwrap(),
            Some(tenths),
            "{text}"
        );
    }
    assert_eq!(percent_text(125), "12.5%");
    assert_eq!(percent_text(50), "5%");
}

#[test]
fn the_change_in_words() {
    let change = resolved(&[
        ("deployment-strategy", "canary"),
        ("canary-percent", "10"),
        ("bake-time-minutes", "30"),
        ("deployment-alarms", "api-5xx"),
    ])
    .unwrap()
    .unwrap();
    assert_eq!(
        change.to_string(),
        "CANARY: 10% of production traffic first, the rest after the service's (ECS default 10 min); \
         bake 30 min; alarms api-5xx roll it back"
    );
    let alarms = resolved(&[("deployment-alarms", "api-5xx")])
        .unwrap()
        .unwrap();
    assert_eq!(
        alarms.to_string(),
        "the service's own: alarms api-5xx roll it back"
    );
}
