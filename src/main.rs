//! `deploy-action`: parse, set up logging, run, render the error, exit.

use clap::{CommandFactory, Parser};
use deploy_action::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(invocation) = Cli::parse().invocation(&cli::process_env) else {
        let _ = Cli::command().print_help();
        return ExitCode::from(2);
    };
    deploy_action::logging::init(
        &invocation.console(),
        invocation.log_level(),
        invocation.logs_on_stderr(),
    );
    match invocation.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            invocation.report_failure(&failure);
            ExitCode::from(invocation.failure_code(&failure))
        }
    }
}
