use super::*;

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn a_shell_entry_point_gets_the_whole_command_as_its_script() {
    let words = strings(&["python", "manage.py", "migrate", "--database", "primary db"]);
    let table: [(&[&str], &[&str]); 5] = [
        (
            &[],
            &["python", "manage.py", "migrate", "--database", "primary db"],
        ),
        (
            &["sh", "-c"],
            &["python manage.py migrate --database 'primary db'"],
        ),
        (
            &["/bin/bash", "-lc"],
            &["python manage.py migrate --database 'primary db'"],
        ),
        // An entrypoint script that execs its arguments takes them as they are.
        (
            &["/docker-entrypoint.sh"],
            &["python", "manage.py", "migrate", "--database", "primary db"],
        ),
        (
            &["tini", "--"],
            &["python", "manage.py", "migrate", "--database", "primary db"],
        ),
    ];
    for (entry_point, command) in table {
        let entry_point = strings(entry_point);
        let made = invocation(Some(&entry_point), &words, None);
        assert_eq!(made.command, strings(command), "{entry_point:?}");
        assert_eq!(made.argv, [entry_point.clone(), strings(command)].concat());
    }
}

#[test]
fn the_users_own_text_goes_to_the_shell_as_written() {
    let text = "python manage.py migrate && echo migrated";
    let words = shlex::split(text).unwrap();
    let made = invocation(Some(&strings(&["sh", "-c"])), &words, Some(text));
    assert_eq!(made.command, [text]);
    assert_eq!(
        made.shown(),
        "sh -c 'python manage.py migrate && echo migrated'"
    );
}

#[test]
fn what_counts_as_a_shell_script_entry_point() {
    for yes in [
        &["sh", "-c"][..],
        &["/bin/sh", "-ec"],
        &["bash", "-e", "-c"],
    ] {
        assert!(takes_a_script(&strings(yes)), "{yes:?}");
    }
    for no in [
        &["sh"][..],
        &["-c"],
        &["python", "-c"],
        &["sh", "--c"],
        &["sh", "-x"],
        &[],
    ] {
        assert!(!takes_a_script(&strings(no)), "{no:?}");
    }
    let unknown = invocation(None, &strings(&["migrate"]), None);
    assert!(
        unknown.described().contains("image's ENTRYPOINT"),
        "{}",
        unknown.described()
    );
    assert_eq!(unknown.shown(), "migrate");
}
