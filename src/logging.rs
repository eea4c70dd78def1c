//! Log set-up: `log-level` for our own lines, `warn` for every dependency.

use crate::console::{Console, Mode};

/// `log-level` sets our own verbosity (default info); every dependency stays at `warn`, so no
/// SDK or HTTP trace can print a request's headers or body. Outside a runner `RUST_LOG`
/// overrides both; inside one it sets only our own level ([`runner_filter`]). No timestamps in
/// a runner: it adds its own. Logs share the console's stream.
pub fn init(console: &Console, level: Option<&str>, on_stderr: bool) {
    if on_stderr {
        crate::progress::keep_stdout_for_the_record();
    }
    // An invalid level is reported by `plan`; until then, info.
    let level = level
        .filter(|level| crate::plan::LOG_LEVELS.contains(level))
        .unwrap_or("info");
    let ours = format!("warn,deploy_action={level}");
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match (rust_log, console.mode) {
        (Some(rust_log), Mode::Actions) => runner_filter(&rust_log, level),
        (Some(rust_log), _) => rust_log,
        (None, _) => ours,
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("warn,deploy_action={level}"))
    });
    // Colour only for a terminal: log files and parsers get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    if console.mode == Mode::Actions && !on_stderr {
        builder.without_time().with_writer(std::io::stdout).init();
    } else if console.mode == Mode::Actions {
        builder.without_time().with_writer(std::io::stderr).init();
    } else {
        // At a terminal a stage's spinner may be showing: print each event above it.
        builder.with_writer(crate::progress::AboveSpinner).init();
    }
}

/// `RUST_LOG` inside a runner: its bare level and its `deploy_action` directives set our own
/// level; directives for any other target are dropped and dependencies stay at `warn`. The
/// SDK's request/response tracing prints bodies (GetAuthorizationToken's answer is the ECR
/// token) before any code of ours sees the value to mask, and a run's log is public in a
/// public repository.
pub fn runner_filter(rust_log: &str, default_level: &str) -> String {
    let mut ours: Vec<String> = Vec::new();
    for directive in rust_log.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let is_level = crate::plan::LOG_LEVELS.contains(&directive.to_ascii_lowercase().as_str())
            || directive.eq_ignore_ascii_case("off");
        if is_level {
            ours.push(format!("deploy_action={directive}"));
        } else if directive == "deploy_action"
            || directive.starts_with("deploy_action=")
            || directive.starts_with("deploy_action::")
            || directive.starts_with("deploy_action[")
        {
            ours.push(directive.to_string());
        }
    }
    if ours.is_empty() {
        ours.push(format!("deploy_action={default_level}"));
    }
    format!("warn,{}", ours.join(","))
}

#[cfg(test)]
#[path = "logging_tests.rs"]
mod tests;
