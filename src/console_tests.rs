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
