//! Outside text (a branch name, ECS's service events, a task's stopped reason, the failure's
//! message) placed in the job summary's Markdown so that it reads as the text it is: it cannot
//! end a table row or a code fence, open HTML, a link or an image, or format itself.
//!
//! GitHub renders the summary as GitHub Flavored Markdown: CommonMark (any ASCII punctuation
//! can be backslash-escaped, §2.4; a code fence ends only at a fence at least as long as the
//! one that opened it, §4.5; a code span ends at a backtick string of its own length, §6.1)
//! plus tables, whose cells split at every `|` not escaped, even inside a code span (GFM §4.10).

/// Inline text that renders as itself: the characters that could start Markdown or HTML
/// backslash-escaped (a list marker, a heading or an ordered item only where the text begins),
/// line breaks (which would end a table row or a list item) as spaces, other control
/// characters dropped.
pub fn text(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut escaped = String::with_capacity(raw.len() + 8);
    let mut at_start = true;
    let mut leading_digits = false;
    for (index, &c) in chars.iter().enumerate() {
        let starts_a_block = at_start && matches!(c, '-' | '+' | '=' | '#')
            || leading_digits && matches!(c, '.' | ')');
        // An underscore between letters or digits never emphasises (CommonMark §6.2): left
        // as it is, `AWAITING_ACTION` stays readable in the page's source and in a search.
        let intraword = |at: Option<usize>| {
            at.and_then(|at| chars.get(at))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let lone_underscore =
            c == '_' && !(intraword(index.checked_sub(1)) && intraword(Some(index + 1)));
        leading_digits = (at_start || leading_digits) && c.is_ascii_digit();
        at_start = at_start && c == ' ';
        match c {
            '\n' | '\r' | '\t' => escaped.push(' '),
            c if c.is_control() => {}
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '&' | '~' | '|' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if starts_a_block || lone_underscore => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// Our own sentence (a hint, how the image was made) with its `code` in backticks, the values
/// in it from outside: each backtick-delimited part becomes a [`code`] span, the rest [`text`].
/// Whatever the values hold, every part is inert; an unpaired backtick leaves it all text.
pub fn prose(raw: &str) -> String {
    prose_with(raw, code)
}

/// [`prose`] in a table cell.
pub fn prose_cell(raw: &str) -> String {
    prose_with(raw, code_cell)
}

fn prose_with(raw: &str, code: fn(&str) -> String) -> String {
    let parts: Vec<&str> = raw.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return text(raw);
    }
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                code(part)
            } else {
                text(part)
            }
        })
        .collect()
}

/// A code span of `raw`, whatever backticks it holds: delimited by a backtick string longer
/// than any inside, padded where it starts or ends with one.
pub fn code(raw: &str) -> String {
    let one_line: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let ticks = "`".repeat(longest_run(&one_line, '`') + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{one_line}{pad}{ticks}")
}

/// A fenced block of `raw` (shown as text, never rendered): the fence is longer than any
/// backtick run in it, so no line of it can close the block.
pub fn fenced_block(raw: &str) -> String {
    let fence = "`".repeat(longest_run(raw, '`').max(2) + 1);
    format!("{fence}text\n{}\n{fence}", raw.trim_end_matches('\n'))
}

/// A code span of `raw` in a table cell. GFM splits a row at every pipe not escaped, inside code
/// spans too, and takes `\|` back to `|` before it reads the span: every pipe is escaped.
/// ([`text`] escapes its pipes already.)
pub fn code_cell(raw: &str) -> String {
    code(raw).replace('|', "\\|")
}

/// Text inside an HTML element (`<summary>`): as the HTML it is in, entities for `<`, `>`, `&`.
pub fn html(raw: &str) -> String {
    substituted(raw, |c| match c {
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '&' => Some("&amp;"),
        '"' => Some("&quot;"),
        _ => None,
    })
}

/// A link target as a URL may hold it in Markdown: what would end the destination, escaped.
pub fn link_target(url: &str) -> String {
    substituted(url, |c| match c {
        ' ' => Some("%20"),
        '(' => Some("%28"),
        ')' => Some("%29"),
        '<' => Some("%3C"),
        '>' => Some("%3E"),
        '|' => Some("%7C"),
        _ => None,
    })
}

/// `raw` without control characters, each character `substitute` names replaced by its text.
fn substituted(raw: &str, substitute: impl Fn(char) -> Option<&'static str>) -> String {
    let mut replaced = String::with_capacity(raw.len());
    for c in raw.chars().filter(|c| !c.is_control()) {
        match substitute(c) {
            Some(text) => replaced.push_str(text),
            None => replaced.push(c),
        }
    }
    replaced
}

fn longest_run(text: &str, of: char) -> usize {
    let (mut longest, mut current) = (0, 0);
    for c in text.chars() {
        current = if c == of { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    longest
}
