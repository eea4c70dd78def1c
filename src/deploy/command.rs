//! What a one-off task's container really runs (`pre-deploy-command`, `deploy-action run`).
//!
//! RunTask's `ContainerOverride` has `command` but no `entryPoint`: the override replaces the
//! container's CMD only, and the container runs entryPoint + command (RunTask and
//! ContainerOverride, API reference). With the common shell entryPoint `["sh", "-c"]` only the
//! first word after `-c` is the script: `sh -c python manage.py migrate` runs `python` alone
//! (`manage.py` and `migrate` become `$0` and `$1`), which can exit 0 — the migration silently
//! does not run. So for a shell `-c` entryPoint the command goes as one string: the text the
//! user wrote, or the words quoted as a shell reads them back. Any other entryPoint (an
//! `exec "$@"` script, `tini --`) gets the words as its arguments, as it is meant to.

/// How the container runs the user's command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `containerOverrides[].command`.
    pub command: Vec<String>,
    /// entryPoint + command: what the container executes.
    pub argv: Vec<String>,
    /// Whether the task definition names the entryPoint. When it does not, the image's
    /// ENTRYPOINT (if any) comes first: it is not known here.
    pub entry_point_known: bool,
}

impl Invocation {
    /// The argv as a person would type it (`sh -c 'python manage.py migrate'`).
    pub fn shown(&self) -> String {
        shlex::try_join(self.argv.iter().map(String::as_str))
            .unwrap_or_else(|_| self.argv.join(" "))
    }

    /// The argv, and what is not known about it.
    pub fn described(&self) -> String {
        if self.entry_point_known {
            self.shown()
        } else {
            format!(
                "{} (after the image's ENTRYPOINT, if it has one)",
                self.shown()
            )
        }
    }
}

/// Whether `entry_point` is a shell that takes its script from the word after `-c` (`sh -c`,
/// `/bin/bash -lc`, `bash -e -c`).
pub fn takes_a_script(entry_point: &[String]) -> bool {
    let Some((last, before)) = entry_point.split_last() else {
        return false;
    };
    let shell = before.first().is_some_and(|program| {
        let name = program.rsplit('/').next().unwrap_or(program);
        matches!(
            name,
            "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "busybox"
        )
    });
    let dash_c = last.starts_with('-')
        && !last.starts_with("--")
        && last.ends_with('c')
        && last[1..].chars().all(|c| c.is_ascii_alphabetic());
    shell && dash_c
}

/// The override that makes a container with `entry_point` run exactly `words` (`text`: the
/// user's own string, when the command was given as one).
pub fn invocation(
    entry_point: Option<&[String]>,
    words: &[String],
    text: Option<&str>,
) -> Invocation {
    let entry_point = entry_point.unwrap_or_default();
    let command = if takes_a_script(entry_point) {
        let script = match text {
            Some(text) => text.to_string(),
            None => shlex::try_join(words.iter().map(String::as_str))
                .unwrap_or_else(|_| words.join(" ")),
        };
        vec![script]
    } else {
        words.to_vec()
    };
    let argv = entry_point.iter().chain(&command).cloned().collect();
    Invocation {
        command,
        argv,
        entry_point_known: !entry_point.is_empty(),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
