//! The step's console: GitHub workflow commands inside a runner, plain lines elsewhere.
//!
//! Everything that must reach the runner as a command (`::add-mask::`, `::group::`,
//! annotations) goes through here, on stdout, so the order in which the runner sees them is
//! the order in which we wrote them: a value is masked before anything could print it.

use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Groups open right now. GitHub does not nest log groups: one opened inside another becomes a
/// heading line in the outer one.
static OPEN_GROUPS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Inside a GitHub Actions runner: emit workflow commands.
    Actions,
    /// A person at a terminal: readable lines, no workflow commands.
    Plain,
}

#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub mode: Mode,
    /// Everything on stderr: stdout carries the record (`--output json`). The runner reads
    /// workflow commands from both streams.
    on_stderr: bool,
}

impl Console {
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            on_stderr: false,
        }
    }

    /// The same console, writing only to stderr.
    pub fn on_stderr(self) -> Self {
        Self {
            on_stderr: true,
            ..self
        }
    }

    /// Tell the runner to redact `secret` from every later log line. A no-op outside a runner.
    pub fn mask(&self, secret: &SecretString) {
        if self.mode == Mode::Actions {
            for command in mask_commands(secret.expose_secret()) {
                self.emit(&command);
            }
        }
    }

    /// Open a collapsible group; it closes, with its duration, when the guard is dropped.
    pub fn group(&self, title: &str) -> Group {
        let outermost = OPEN_GROUPS.fetch_add(1, Ordering::SeqCst) == 0;
        match (self.mode, outermost) {
            (Mode::Actions, true) => self.emit(&format!("::group::{}", escape_data(title))),
            (Mode::Actions, false) => self.emit(&format!("── {title} ──")),
            (Mode::Plain, _) => self.emit(&format!("==> {title}")),
        }
        Group {
            console: *self,
            title: title.to_string(),
            started: Instant::now(),
            outermost,
            spinner: (self.mode == Mode::Plain && outermost)
                .then(|| crate::progress::start(title))
                .flatten(),
        }
    }

    pub fn error(&self, title: &str, message: &str) {
        self.annotation("error", title, message);
    }

    pub fn warning(&self, title: &str, message: &str) {
        self.annotation("warning", title, message);
    }

    pub fn notice(&self, title: &str, message: &str) {
        self.annotation("notice", title, message);
    }

    /// A plain line of the step's log — never a workflow command, whatever text from outside
    /// it carries (service events, container logs, check names, response bodies): see
    /// [`neutralise`].
    pub fn line(&self, text: &str) {
        match self.mode {
            Mode::Actions => neutralised_lines(text).for_each(|line| self.emit(&line)),
            Mode::Plain => self.emit(&for_terminal(text)),
        }
    }

    fn annotation(&self, level: &str, title: &str, message: &str) {
        match self.mode {
            // A message may quote text from outside: no legacy `##[` in it either.
            Mode::Actions => self.emit(&format!(
                "::{level} title={}::{}",
                escape_property(title),
                escape_data(message).replace("##[", "# #[")
            )),
            // A person's terminal: warnings and errors on stderr, like any command-line tool.
            Mode::Plain => {
                crate::progress::print(
                    &for_terminal(&format!("{level}: {title}: {message}")),
                    true,
                );
            }
        }
    }

    fn emit(&self, line: &str) {
        crate::progress::print(line, self.on_stderr);
    }
}

/// An open log group; closing it prints how long the stage took.
pub struct Group {
    console: Console,
    title: String,
    started: Instant,
    outermost: bool,
    /// At a terminal, the stage's spinner (cleared before the closing line).
    spinner: Option<crate::progress::Shown>,
}

impl Drop for Group {
    fn drop(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64();
        drop(self.spinner.take());
        OPEN_GROUPS.fetch_sub(1, Ordering::SeqCst);
        match self.console.mode {
            Mode::Actions => {
                self.console
                    .emit(&format!("{} took {seconds:.1}s", self.title));
                if self.outermost {
                    self.console.emit("::endgroup::");
                }
            }
            Mode::Plain => self
                .console
                .emit(&format!("    {} took {seconds:.1}s", self.title)),
        }
    }
}

/// `text` as the lines the runner will see (it splits at CR too), each [`neutralise`]d.
pub fn neutralised_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(['\n', '\r']).map(neutralise)
}

/// The `::add-mask::` commands for `secret`: the whole value escaped the way @actions/core's
/// `setSecret` escapes it (`%`, `\r`, `\n`; the runner unescapes before it masks), and each of
/// its lines alone too, since the runner masks line by line what it prints.
pub fn mask_commands(secret: &str) -> Vec<String> {
    if secret.trim().is_empty() {
        return Vec::new();
    }
    let mut commands = vec![format!("::add-mask::{}", escape_data(secret))];
    if secret.contains(['\n', '\r']) {
        for line in secret.lines().filter(|line| !line.trim().is_empty()) {
            commands.push(format!("::add-mask::{}", escape_data(line)));
        }
    }
    commands
}

/// One line of text from outside, made unable to act as a workflow command. The runner takes a
/// line as a command when it starts with `::` after leading white space (`ActionCommand.TryParseV2`)
/// or holds the legacy `##[` *anywhere* (`ActionCommand.TryParse`, `IndexOf(Prefix)`), both tried by
/// `ActionCommandManager.TryProcessCommand` (actions/runner). A `::stop-commands::` from a container
/// log would silence the masks issued after it; a forged `::error::` an annotation. Neutralising
/// each line, rather than wrapping output in a stop-commands block, keeps masks that another task
/// issues meanwhile (renewed credentials) working.
pub fn neutralise(line: &str) -> String {
    let line = line.replace("##[", "# #[");
    if line.trim_start().starts_with("::") {
        format!("› {line}")
    } else {
        line
    }
}

/// Text from outside as a terminal can show it harmlessly. A container's log line or a service
/// event may carry escape sequences that set the terminal's title, move the cursor over earlier
/// lines, clear the screen or hide what follows: the sequences (CSI `ESC [ … final`, OSC
/// `ESC ] … BEL` or `… ESC \`, DCS/SOS/PM/APC `… ESC \`, two-character `ESC x`, and their
/// one-character C1 forms) are dropped whole, and every other control character but newline and
/// tab with them (a carriage return would let a line overwrite itself).
pub fn for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let harmless = |c: char| c == '\n' || c == '\t' || !c.is_control();
    if text.chars().all(harmless) {
        return std::borrow::Cow::Borrowed(text);
    }
    // Where a sequence ends: a CSI at its final byte, a string (OSC …) at BEL or ST.
    #[derive(PartialEq)]
    enum Skip {
        Csi,
        Text,
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let skip = match c {
            '\u{1b}' => match chars.next() {
                Some('[') => Some(Skip::Csi),
                Some(']' | 'P' | 'X' | '^' | '_') => Some(Skip::Text),
                // A two-character sequence (or a lone ESC at the end).
                _ => None,
            },
            '\u{9b}' => Some(Skip::Csi),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => Some(Skip::Text),
            c if harmless(c) => {
                out.push(c);
                None
            }
            _ => None,
        };
        match skip {
            Some(Skip::Csi) => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            Some(Skip::Text) => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || c == '\u{9c}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            None => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

/// At most `limit` characters of `text` (a body, a description) for a person to read.
pub fn clip(text: &str, limit: usize) -> &str {
    match text.char_indices().nth(limit) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

/// Escaping of a workflow command's message, as in @actions/core.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property value, as in @actions/core.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
