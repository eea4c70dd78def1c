//! What a run left: its exit code, output, file commands, and the leak checks.

use super::*;

impl Finished {
    pub fn log(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Every workflow command on stdout is one of the action's own: text from outside (build
    /// output, container logs, service events) printed no command. The runner takes `::` after
    /// leading white space, and the legacy `##[` anywhere in a line (actions/runner
    /// `ActionCommandManager.TryProcessCommand`); `markers` are words only the outside text has.
    pub fn assert_no_outside_commands(&self, markers: &[&str]) {
        for line in self.stdout.lines() {
            assert!(
                !line.contains("##["),
                "a legacy command reached the runner: {line}"
            );
            if let Some(command) = line.trim_start().strip_prefix("::") {
                let ours = [
                    "add-mask::",
                    "group::",
                    "endgroup::",
                    "notice ",
                    "warning ",
                    "error ",
                ]
                .iter()
                .any(|ours| command.starts_with(ours));
                assert!(
                    ours && !markers.iter().any(|m| command.contains(m)),
                    "a command from outside reached the runner: {line}"
                );
            }
        }
    }

    /// A secret may appear only in `::add-mask::` lines of stdout, and nowhere else.
    pub fn assert_no_leak(&self, name: &str, secret: &str) {
        assert!(!secret.is_empty(), "{name} is empty");
        for line in self.stdout.lines() {
            // A mask command is the runner's, never shown (a multi-line secret's whole value
            // is masked as well as each line: the line is part of both).
            assert!(
                !line.contains(secret) || line.starts_with("::add-mask::"),
                "{name} leaked on stdout: {line}"
            );
        }
        for (place, text) in [
            ("stderr", &self.stderr),
            ("GITHUB_OUTPUT", &self.outputs_raw),
            ("the summary", &self.summary),
        ] {
            assert!(!text.contains(secret), "{name} leaked in {place}");
        }
    }

    /// The run's one `::error` annotation (a failure is reported once, not piecemeal).
    pub fn the_error(&self, case: &str) -> &str {
        let errors: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {}", self.log());
        errors[0]
    }

    /// Log groups are opened and closed in pairs and never nested (GitHub cannot nest them).
    pub fn assert_groups_balanced(&self) {
        let mut open = false;
        for line in self.stdout.lines() {
            if line.starts_with("::group::") {
                assert!(!open, "a group opened inside another: {line}");
                open = true;
            } else if line == "::endgroup::" {
                assert!(open, "an ::endgroup:: without a group");
                open = false;
            }
        }
        assert!(!open, "a group was left open");
    }

    /// The value was masked, and the mask came before any other appearance.
    pub fn assert_masked(&self, name: &str, secret: &str) {
        let first = self
            .stdout
            .find(secret)
            .unwrap_or_else(|| panic!("{name} was never masked"));
        assert!(
            self.stdout[..first].ends_with("::add-mask::"),
            "{name} appeared before its ::add-mask:: line"
        );
    }

    /// The OIDC request token and every JWT the stand-in ever issued: where one appears, it
    /// was masked first and appears in nothing but its mask line.
    pub fn assert_no_token_leaks(&self, standins: &StandIns) {
        let request_token = standins.oidc_request_token();
        if self.stdout.contains(&request_token) {
            self.assert_masked("the OIDC request token", &request_token);
        }
        self.assert_no_leak("the OIDC request token", &request_token);
        for jwt in standins.issued_tokens() {
            if self.stdout.contains(&jwt) {
                self.assert_masked("an OIDC JWT", &jwt);
            }
            self.assert_no_leak("an OIDC JWT", &jwt);
        }
    }

    /// Every secret of a run that assumed a role as `session`: masked, and nowhere else.
    pub async fn assert_secrets_kept(&self, standins: &StandIns, session: &str) {
        let aws = standins.assumed_role_secrets(session).await;
        let jwt = standins
            .issued_tokens()
            .into_iter()
            .find(|token| self.stdout.contains(token.as_str()))
            .expect("the JWT this run got is masked in its log");
        let secrets = [
            ("the OIDC request token", standins.oidc_request_token()),
            ("the ECR password", ECR_PASSWORD.to_string()),
            ("the AWS access key id", aws[0].clone()),
            ("the AWS secret key", aws[1].clone()),
            ("the AWS session token", aws[2].clone()),
            ("the OIDC JWT", jwt),
        ];
        for (name, secret) in &secrets {
            self.assert_masked(name, secret);
            self.assert_no_leak(name, secret);
        }
    }
}

/// `name=value` and `name<<DELIM … DELIM` entries.
pub(crate) fn parse_outputs(text: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}
