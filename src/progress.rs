//! Progress for a person at a terminal: one spinner line on stderr with the stage and its
//! elapsed time, under the log lines that keep scrolling above it.
//!
//! Only in the console's plain mode (`console::Mode::Plain`) and only when stderr is a terminal: in a
//! runner, a pipe or a file, nothing is drawn and the log is the same plain lines as before.
//! Every line the program prints while a spinner is shown goes through [`print`], which takes
//! the spinner off the screen, prints, and draws it again (indicatif's `suspend`): a line never
//! lands in the middle of the spinner.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// The spinner being shown, if any. One at a time: stages do not overlap.
static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);

const TICK: Duration = Duration::from_millis(120);

/// Whether a spinner may be drawn: stderr is a terminal that can move its cursor.
pub fn wanted() -> bool {
    // Unit tests share the one spinner; those that draw one use `start_on`.
    !cfg!(test)
        && std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |term| term != "dumb")
        && std::env::var_os("GITHUB_ACTIONS").is_none()
}

/// Show a spinner for `stage` until the returned guard is dropped.
pub fn start(stage: &str) -> Option<Shown> {
    wanted().then(|| start_on(stage, ProgressDrawTarget::stderr()))
}

/// The spinner on any draw target (tests draw on an in-memory terminal).
pub fn start_on(stage: &str, target: ProgressDrawTarget) -> Shown {
    let bar = ProgressBar::with_draw_target(None, target);
    // The template is a literal: it cannot fail to parse; fall back to the default anyway.
    let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.set_message(stage.to_string());
    bar.enable_steady_tick(TICK);
    let replaced = lock().replace(bar);
    if let Some(old) = replaced {
        old.finish_and_clear();
    }
    Shown
}

/// Say what the current stage is doing now (a rollout's counts), next to its name.
pub fn detail(stage: &str, detail: &str) {
    if let Some(bar) = lock().as_ref() {
        bar.set_message(format!("{stage}: {detail}"));
    }
}

/// Set when stdout carries the run's record (`--output json`): every line of the log goes to
/// stderr then, whoever prints it (the console, docker's build output), so stdout stays JSON.
static LOG_ON_STDERR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on the log is on stderr: stdout is the record's alone.
pub fn keep_stdout_for_the_record() {
    LOG_ON_STDERR.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Print `line` to stdout or stderr without tearing the spinner.
pub fn print(line: &str, to_stderr: bool) {
    let to_stderr = to_stderr || LOG_ON_STDERR.load(std::sync::atomic::Ordering::SeqCst);
    let write = || {
        // A closed stream must not turn into a panic in the middle of a deploy.
        if to_stderr {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    };
    // Clone the handle so the lock is not held while printing (the tick thread draws too).
    let shown = lock().clone();
    match shown {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// The spinner of a stage; dropping it clears the line.
#[must_use = "the spinner disappears when this is dropped"]
pub struct Shown;

impl Drop for Shown {
    fn drop(&mut self) {
        if let Some(bar) = lock().take() {
            bar.finish_and_clear();
        }
    }
}

/// `tracing`'s writer in a terminal: each event printed through [`print`].
#[derive(Clone, Copy)]
pub struct AboveSpinner;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for AboveSpinner {
    type Writer = EventLine;

    fn make_writer(&'a self) -> Self::Writer {
        EventLine(Vec::new())
    }
}

/// One formatted `tracing` event, printed when the formatter is done with it.
pub struct EventLine(Vec<u8>);

impl Write for EventLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let text = text.trim_end_matches('\n');
        if !text.is_empty() {
            print(text, true);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<ProgressBar>> {
    // A panic elsewhere while holding the lock leaves a usable value: take it.
    SPINNER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod tests;
