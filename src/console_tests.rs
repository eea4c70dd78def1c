use super::*;

#[test]
fn text_from_outside_is_never_a_command() {
    let table = [
        ("::stop-commands::pwned", "› ::stop-commands::pwned"),
        ("   ::add-mask::x", "›    ::add-mask::x"),
        (
            "\t::error title=forged::forged",
            "› \t::error title=forged::forged",
        ),
        (
            "a log line ##[add-mask]secret",
            "a log line # #[add-mask]secret",
        ),
        ("##[set-output name=x]y", "# #[set-output name=x]y"),
        (
            "api: (service api) has started 2 tasks",
            "api: (service api) has started 2 tasks",
        ),
        ("ratio 3:: fine", "ratio 3:: fine"),
    ];
    for (outside, shown) in table {
        assert_eq!(neutralise(outside), shown, "{outside}");
    }
}

#[test]
fn masks_are_escaped_like_set_secret() {
    assert_eq!(mask_commands("plain"), ["::add-mask::plain"]);
    assert_eq!(mask_commands("50%off"), ["::add-mask::50%25off"]);
    assert_eq!(
        mask_commands("line one\nline two"),
        [
            "::add-mask::line one%0Aline two",
            "::add-mask::line one",
            "::add-mask::line two"
        ]
    );
    assert!(mask_commands("  ").is_empty());
}

#[test]
fn escapes_like_actions_core() {
    assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
    assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
}

#[test]
fn a_terminal_gets_no_escape_sequence_from_outside_text() {
    // Colours, a title, cursor moves and a screen clear, in their 7-bit and C1 forms.
    let log = "\u{1b}[31mred\u{1b}[0m \u{1b}]0;pwned\u{7}title \u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{9b}2Jgone\u{1b}7saved\u{1b}Pdcs\u{1b}\\ok\r";
    assert_eq!(for_terminal(log), "red title link gonesavedok");
    // Newlines and tabs stay; text without controls is not copied.
    assert_eq!(for_terminal("a\tb\nc"), "a\tb\nc");
    assert!(matches!(
        for_terminal("plain ünïcode"),
        std::borrow::Cow::Borrowed(_)
    ));
    // A lone ESC at the end, and an unterminated CSI, drop what they would have swallowed.
    assert_eq!(for_terminal("end\u{1b}"), "end");
    assert_eq!(for_terminal("x\u{1b}[12"), "x");
}
