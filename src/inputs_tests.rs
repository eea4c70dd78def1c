//! The inputs as the runner and the CLI give them, and action.yml and README in step.

mod reading {
    use super::super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn reads_only_the_hyphenated_form_the_runner_sets() {
        // actions/runner Handler.AddInputsToEnvironment keeps hyphens; an underscore twin can
        // only come from an earlier step's GITHUB_ENV (e.g. redirecting sentry-url).
        let env = env_of(&[
            ("INPUT_AWS-REGION", "us-east-2"),
            ("INPUT_ECR_REPOSITORY", "back-end"),
            ("INPUT_SENTRY-URL", ""),
            ("INPUT_SENTRY_URL", "https://evil.example"),
            ("INPUT_ROLE-TO-ASSUME", ""),
        ]);
        let args = InputArgs::from_env(&env);
        assert_eq!(args.aws_region.as_deref(), Some("us-east-2"));
        assert_eq!(
            args.ecr_repository, None,
            "the underscore spelling is not read"
        );
        assert_eq!(
            args.sentry_url, None,
            "an empty input is not filled from a twin"
        );
        assert_eq!(args.role_to_assume, None, "empty means unset");
    }

    #[test]
    fn flags_win_over_env() {
        let env = env_of(&[("INPUT_AWS-REGION", "us-east-2"), ("INPUT_CONTEXT", "app")]);
        let flags = InputArgs {
            aws_region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let inputs = collect(flags, &env);
        assert_eq!(inputs.args.aws_region.as_deref(), Some("eu-west-1"));
        assert_eq!(inputs.args.context.as_deref(), Some("app"));
    }

    #[test]
    fn every_name_is_kebab_case() {
        for name in InputArgs::NAMES {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
        }
    }
}

mod documentation {
    use super::super::InputArgs;
    use std::collections::BTreeSet;

    /// action.yml's `inputs:` section.
    fn action_yml_inputs_section() -> &'static str {
        include_str!("../action.yml")
            .split("\ninputs:\n")
            .nth(1)
            .unwrap()
            .split("\noutputs:\n")
            .next()
            .unwrap()
    }

    /// The input names action.yml declares (two-space indented keys under `inputs:`).
    fn action_yml_inputs() -> BTreeSet<String> {
        action_yml_inputs_section()
            .lines()
            .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|name| !name.starts_with(' '))
            .map(str::to_string)
            .collect()
    }

    /// The runner passes an input that is not given as its default (actions/runner
    /// `Handler.AddInputsToEnvironment`): every default is `""`, which the action reads as not
    /// given, so a value in deploy.toml or the action's own default applies. A non-empty
    /// default would silently beat deploy.toml. `github-token` is the one exception: the
    /// runner's token, as every action that calls the API defaults it.
    #[test]
    fn every_input_defaults_to_empty_but_the_token() {
        let mut name = None;
        let mut defaults = Vec::new();
        for line in action_yml_inputs_section().lines() {
            if let Some(input) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
                && !input.starts_with(' ')
            {
                name = Some(input);
            } else if let Some(default) = line.strip_prefix("    default: ") {
                defaults.push((name.unwrap(), default));
            }
        }
        assert_eq!(
            defaults.len(),
            action_yml_inputs().len(),
            "an input without a default"
        );
        for (input, default) in defaults {
            let expected = if input == "github-token" {
                "${{ github.token }}"
            } else {
                "\"\""
            };
            assert_eq!(default, expected, "action.yml's default of `{input}`");
        }
    }

    #[test]
    fn action_yml_readme_and_flags_name_the_same_inputs() {
        let declared: BTreeSet<String> = InputArgs::NAMES.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            action_yml_inputs(),
            declared,
            "action.yml and the inputs table differ"
        );
        let readme = include_str!("../README.md");
        for name in InputArgs::NAMES {
            assert!(
                readme.contains(&format!("| `{name}` |")),
                "README's inputs table lacks `{name}`"
            );
        }
    }
}
