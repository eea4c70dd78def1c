//! Property tests over the parsing of inputs: whatever a user (or an attacker with a pull
//! request) puts in an input, `plan` never panics, and every rejection is a typed `PlanError`
//! naming an input. `PROPTEST_CASES` bounds the run (`.ci/run` sets it).

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Strings that look like inputs: lines, `=`, globs, commas, unicode, control characters.
fn input_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z*?\\[\\]{}/=,._ -]{0,30}(\n[a-z*?\\[\\]{}/=,._ -]{0,30}){0,4}",
        "[A-Za-z0-9_=\n ]{0,60}",
        Just(String::new()),
    ]
}

/// A valid value for every input, and a run that gives whatever the inputs may need (an OIDC
/// token, GITHUB_ENV, a repository, a GitHub token, a Sentry token): with one input changed, that input is the
/// only thing that can be wrong.
fn valid_inputs() -> BTreeMap<&'static str, String> {
    [
        ("aws-region", "us-east-2"),
        ("role-to-assume", "arn:aws:iam::123456789012:role/deploy"),
        ("ecr-repository", "back-end"),
        ("ecs-cluster", "back-end-staging"),
        ("ecs-services", "api, worker"),
        ("mode", "build"),
        ("sentry-org", "operation-code"),
        ("sentry-projects", "back-end"),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_string()))
    .collect()
}

/// The inputs resolved with `name` set to `value` (empty: not given), as the runner passes them.
fn inputs_with(name: &str, value: &str) -> Inputs {
    let mut given = valid_inputs();
    given.insert(
        InputArgs::NAMES
            .iter()
            .find(|n| **n == name)
            .copied()
            .unwrap(),
        value.to_string(),
    );
    let env = |key: &str| {
        let name = key.strip_prefix("INPUT_")?.to_lowercase();
        given.get(name.as_str()).cloned()
    };
    let run = RunContext {
        git_ref: Some("refs/heads/feature/x".into()),
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        repository: Some("operationcode/back-end".into()),
        env_file: Some("/tmp/github-env".into()),
        oidc_request_url: Some("http://127.0.0.1:1/token?api-version=2.0".into()),
        oidc_request_token: Some(SecretString::from("request-token")),
        ..Default::default()
    };
    Inputs {
        args: InputArgs::from_env(&env),
        run,
        github_token: Some(SecretString::from("ghs_token")),
        sentry_token: Some(SecretString::from("sntrys_token")),
    }
}

/// Values that mean something to some input, besides noise.
fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => input_text(),
        1 => prop_oneof![
            Just("true".to_string()),
            Just("promote".to_string()),
            Just("0".to_string()),
            Just("-1".to_string()),
            "[0-9]{1,7}",
            Just("tcp://buildkit:1234".to_string()),
            Just("linux/arm64,linux/amd64".to_string()),
            Just("main=prod\n*=staging".to_string()),
        ],
    ]
}

/// Inputs whose value switches on a requirement another input names: the error may name that
/// one (`mode: promote` needs `promote-from`).
fn may_name(fuzzed: &str) -> &'static [&'static str] {
    match fuzzed {
        "mode" => &["promote-from"],
        _ => &[],
    }
}

proptest! {
    // One property per input: with all the others valid, a rejection names the input changed.
    #[test]
    fn a_bad_value_is_reported_against_its_own_input(
        index in 0..InputArgs::NAMES.len(),
        value in value_text(),
    ) {
        let name = InputArgs::NAMES[index];
        // The token never reaches `plan` as an input (it is taken out at once).
        prop_assume!(name != "github-token");
        match resolve(&inputs_with(name, &value), Intent::AsGiven) {
            Ok(_) => {}
            Err(error) => {
                prop_assert!(
                    error.input == name || may_name(name).contains(&error.input),
                    "`{name}: {value:?}` was reported against `{}`: {error:?}",
                    error.input
                );
                prop_assert!(!error.expected.is_empty());
            }
        }
    }

    #[test]
    fn resolve_never_panics_on_any_ref(
        git_ref in "(refs/heads/|refs/tags/|refs/pull/1/merge|HEAD)[a-z/*.-]{0,12}",
        rules in input_text(),
    ) {
        let mut inputs = inputs_with("branch-tags", &rules);
        inputs.run.git_ref = Some(git_ref);
        if let Err(error) = resolve(&inputs, Intent::AsGiven) {
            let named = error.input == "branch-tags" || error.input.starts_with("GITHUB_");
            prop_assert!(named, "{error:?}");
        }
    }

    #[test]
    fn branch_rules_parse_or_refuse(text in input_text(), branch in "[a-z/._-]{1,20}") {
        if let Ok(rules) = branch_rules::parse_rules(&text) {
            let git_ref = format!("refs/heads/{branch}");
            let kind = branch_rules::RefKind::of(&git_ref);
            let catch_all = branch_rules::PullRequestTag::CatchAll;
            if let Some(tag) = branch_rules::environment_tag(&rules, &git_ref, &kind, catch_all) {
                prop_assert!(values::check_docker_tag(&tag).is_ok(), "{tag}");
            }
        }
    }

    #[test]
    fn value_checks_never_panic(text in ".{0,200}") {
        let _ = values::check_region(&text);
        let _ = values::check_role_arn(&text);
        let _ = values::check_repository(&text);
        let _ = values::check_docker_tag(&text);
        let _ = values::check_platform(&text);
        let _ = values::parse_bool(&text);
        let _ = values::parse_minutes(&text, 1..=1440);
        let _ = values::task_definition_document(&text);
        let name = values::sanitise_session_name(&text);
        prop_assert!((2..=64).contains(&name.len()));
        for item in values::split_list(&text) {
            prop_assert!(!item.is_empty() && !item.contains(',') && !item.contains('\n'));
        }
    }
}
