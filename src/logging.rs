//! Log set-up: `log-level` for our own lines, `warn` for every dependency.

use crate::console::{Console, Mode};

/// `log-level` sets our own verbosity (default info); every dependency stays at `warn`, so no
/// SDK or HTTP trace can print a request's headers or body. `RUST_LOG` overrides both. No
/// timestamps in a runner: it adds its own. Logs share the console's stream.
pub fn init(console: &Console, level: Option<&str>, on_stderr: bool) {
    // An invalid level is reported by `plan`; until then, info.
    let level = level
        .filter(|level| crate::plan::LOG_LEVELS.contains(level))
        .unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
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
        builder.with_writer(std::io::stderr).init();
    }
}
