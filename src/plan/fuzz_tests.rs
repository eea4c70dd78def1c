//! Property tests over the parsing of inputs: whatever a user (or an attacker with a pull
//! request) puts in an input, `plan` never panics, and every rejection is a typed `PlanError`
//! naming an input. `PROPTEST_CASES` bounds the run (`.ci/run` sets it).

use super::*;
use proptest::prelude::*;

/// Strings that look like inputs: lines, `=`, globs, commas, unicode, control characters.
fn input_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z*?\\[\\]{}/=,._ -]{0,30}(\n[a-z*?\\[\\]{}/=,._ -]{0,30}){0,4}",
        "[A-Za-z0-9_=\n ]{0,60}",
        Just(String::new()),
    ]
}

fn fuzzed_inputs(values: Vec<String>, git_ref: String) -> Inputs {
    let mut values = values.into_iter();
    let mut next = || values.next().filter(|v| !v.is_empty());
    let args = InputArgs {
        aws_region: Some("us-east-2".into()),
        ecr_repository: next().or(Some("back-end".into())),
        branch_tags: next(),
        build_args: next(),
        labels: next(),
        build_secrets: next(),
        extra_tags: next(),
        ecs_cluster: next(),
        ecs_services: next(),
        container_names: next(),
        platforms: next(),
        wait_timeout_minutes: next(),
        cache: next(),
        builder: next(),
        ..Default::default()
    };
    let run = RunContext {
        git_ref: Some(git_ref),
        sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..Default::default()
    };
    Inputs {
        args,
        run,
        github_token: None,
    }
}

proptest! {
    #[test]
    fn resolve_never_panics_and_names_an_input(
        values in proptest::collection::vec(input_text(), 13),
        git_ref in "(refs/heads/|refs/tags/|refs/pull/1/merge|HEAD)[a-z/*.-]{0,12}",
    ) {
        let inputs = fuzzed_inputs(values, git_ref);
        if let Err(error) = resolve(&inputs, Intent::AsGiven) {
            let named = InputArgs::NAMES.contains(&error.input) || error.input.starts_with("GITHUB_");
            prop_assert!(named, "unnamed input in {error:?}");
            prop_assert!(!error.expected.is_empty());
        }
    }

    #[test]
    fn branch_rules_parse_or_refuse(text in input_text(), branch in "[a-z/._-]{1,20}") {
        if let Ok(rules) = branch_rules::parse_rules(&text) {
            let git_ref = format!("refs/heads/{branch}");
            let kind = branch_rules::RefKind::of(&git_ref, None);
            if let Some(tag) = branch_rules::environment_tag(&rules, &git_ref, &kind) {
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
