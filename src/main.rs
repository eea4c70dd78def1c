//! `deploy-action`: parse, set up logging, run the pipeline, render the error, exit.

use clap::{CommandFactory, Parser};
use deploy_action::cli::{self, Cli, Command};
use deploy_action::console::{Console, Mode};
use deploy_action::{error, inputs};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Lossy, so a value that is not UTF-8 reaches `plan` (which names the input) instead of
    // silently counting as unset.
    let env = |key: &str| std::env::var_os(key).map(|value| value.to_string_lossy().into_owned());
    let in_actions = env("GITHUB_ACTIONS").as_deref() == Some("true");
    let console = Console::new(if in_actions {
        Mode::Actions
    } else {
        Mode::Plain
    });

    let inputs = match cli.command {
        None if in_actions => inputs::collect(Default::default(), &env),
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::from(2);
        }
        Some(Command::Deploy(args)) => cli::local_inputs(args, &env),
        Some(Command::Promote(args)) => {
            let mut inputs = cli::local_inputs(args, &env);
            inputs.args.mode = Some("promote".into());
            inputs
        }
        Some(Command::IamPolicy(request)) => {
            return match deploy_action::iam_policy::render(&request) {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(problem) => {
                    let error = anyhow::Error::new(problem);
                    eprintln!("error: {}", error::one_line(&error));
                    if let Some(hint) = error::hint_of(&error) {
                        eprintln!("hint: {hint}");
                    }
                    ExitCode::from(2)
                }
            };
        }
        Some(Command::Plan(args)) => {
            let mut inputs = cli::local_inputs(args, &env);
            inputs.args.dry_run = Some("true".into());
            inputs
        }
    };

    init_logging(in_actions, inputs.args.log_level.as_deref());

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(deploy_action::run(&inputs, &console)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = error::one_line(&error);
            let hint = error::hint_of(&error);
            let text = match hint {
                Some(hint) => format!("{message}\nhint: {hint}"),
                None => message,
            };
            console.error("deploy-action failed", &text);
            ExitCode::FAILURE
        }
    }
}

/// `log-level` sets our own verbosity (default info); every dependency stays at `warn`, so no
/// SDK or HTTP trace can print a request's headers or body. `RUST_LOG` overrides both. No
/// timestamps in a runner: it adds its own.
fn init_logging(in_actions: bool, level: Option<&str>) {
    // An invalid level is reported by `plan`; until then, info.
    let level = level
        .filter(|level| deploy_action::plan::LOG_LEVELS.contains(level))
        .unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("warn,deploy_action={level}"))
    });
    // Colour only for a terminal: log files and parsers get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    if in_actions {
        builder.without_time().with_writer(std::io::stdout).init();
    } else {
        builder.with_writer(std::io::stderr).init();
    }
}
