//! Snapshots of the job summary, as GitHub will render it, for each ending of a run.

use super::*;
use crate::report::fixtures;

#[test]
fn success_and_failure_of_services() {
    insta::assert_snapshot!("summary_rollouts", render(&fixtures::rollout_failed()));
}

#[test]
fn a_failure_after_the_push_shows_the_image_and_the_untouched_services() {
    let md = render(&fixtures::failed_after_push());
    insta::assert_snapshot!("summary_failed_after_push", md);
}

#[test]
fn a_failed_run() {
    insta::assert_snapshot!("summary_failure", render(&fixtures::failed_before_push()));
}

#[test]
fn a_dry_run() {
    insta::assert_snapshot!("summary_dry_run", render(&fixtures::dry_run()));
}

#[test]
fn a_huge_summary_is_cut_under_the_limit() {
    let mut release = fixtures::rollout_failed();
    for service in &mut release.services {
        if let Some(rollout) = &mut service.rollout
            && let Outcome::Failed(failure) = &mut rollout.outcome
        {
            failure.evidence = Some("a log line that goes on\n".repeat(100_000));
        }
    }
    let md = render(&release);
    assert!(md.len() <= LIMIT, "{}", md.len());
    assert!(md.ends_with("(cut to stay under GitHub's 1 MiB limit)\n"));
}

#[test]
fn action_yml_and_readme_list_every_output() {
    let outputs = fixtures::rollout_failed().outputs();
    let action_yml = include_str!("../../action.yml");
    let declared = action_yml
        .split("\noutputs:\n")
        .nth(1)
        .unwrap()
        .split("\nruns:\n")
        .next()
        .unwrap();
    let readme = include_str!("../../README.md");
    for (name, _) in &outputs {
        assert!(
            declared.contains(&format!("\n  {name}:\n"))
                || declared.starts_with(&format!("  {name}:\n")),
            "action.yml lacks output {name}"
        );
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "README lacks output {name}"
        );
    }
    let count = declared
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .count();
    assert_eq!(
        count,
        outputs.len(),
        "action.yml declares outputs the action does not write"
    );
}

/// With a config file the summary says which file and environment, and where each setting
/// came from.
#[test]
fn the_settings_origin_is_in_the_summary() {
    let mut release = fixtures::succeeded();
    release.settings = Some(crate::report::release::ConfigRecord {
        file: ".github/deploy.toml".into(),
        environment: "prod".into(),
        origins: vec![
            ("aws-region".into(), "deploy.toml [defaults] line 2".into()),
            ("ecs-cluster".into(), "input".into()),
        ],
    });
    let md = render(&release);
    assert!(
        md.contains("| settings | `.github/deploy.toml`, environment `prod` |"),
        "{md}"
    );
    assert!(
        // Brackets escaped: outside text opens no link (the page shows them as they are).
        md.contains("- `aws-region`: deploy.toml \\[defaults\\] line 2"),
        "{md}"
    );
    assert!(md.contains("- `ecs-cluster`: input"), "{md}");
}

/// What a branch, ECS's events or a failing task put in the summary reads as the text it is.
/// The summary is parsed as GitHub parses it (CommonMark with GFM tables): outside text opens
/// no HTML, link, image or emphasis, splits no table row, and ends no code block early.
#[test]
fn outside_text_in_the_summary_is_shown_as_itself() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let hostile_ref = "refs/heads/x|y<img src=x onerror=alert(1)>[click](https://evil.example)";
    let hostile_event =
        "<script>steal()</script> **urgent** _quiet_ see ![x](https://evil.example/x.png) ~~ok~~";
    let hostile_log = "panic!\n```\n<b>not code any more</b>\n````";
    let mut release = fixtures::rollout_failed();
    release.git_ref = Some(hostile_ref.into());
    for service in &mut release.services {
        if let Some(rollout) = &mut service.rollout {
            rollout.events.push(hostile_event.into());
            rollout.events.push("- a list\n# a heading".into());
            if let Outcome::Failed(failure) = &mut rollout.outcome {
                failure.evidence = Some(hostile_log.into());
            }
        }
    }
    release.services[1].service = "worker</summary><img src=x>|x".into();
    if let Some(failure) = &mut release.failure {
        failure.message = format!("rollout failed: {hostile_log}");
        failure.hint = Some("run `deploy-action status` for <b>x</b>".into());
    }
    let md = render(&release);

    let mut html = Vec::new();
    let mut links = 0;
    let (mut emphasis, mut strong, mut strikethrough) = (0, 0, 0);
    let mut row_widths = Vec::new();
    let mut cells = 0;
    let mut code_blocks = Vec::new();
    let mut in_code_block = None::<String>;
    let mut text = String::new();
    for event in Parser::new_ext(&md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => html.push(raw.to_string()),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => links += 1,
            Event::Start(Tag::Emphasis) => emphasis += 1,
            Event::Start(Tag::Strong) => strong += 1,
            Event::Start(Tag::Strikethrough) => strikethrough += 1,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                row_widths.push(cells);
                cells = 0;
            }
            Event::Start(Tag::CodeBlock(_)) => in_code_block = Some(String::new()),
            Event::End(TagEnd::CodeBlock) => code_blocks.extend(in_code_block.take()),
            Event::Text(raw) | Event::Code(raw) => match &mut in_code_block {
                Some(block) => block.push_str(&raw),
                None => text.push_str(&raw),
            },
            _ => {}
        }
    }
    for raw in &html {
        let ours = ["<details>", "</details>", "<summary>", "</summary>"];
        let mut rest = raw.trim().to_string();
        for tag in ours {
            rest = rest.replace(tag, "");
        }
        assert!(!rest.contains('<'), "HTML from outside: {raw:?} in\n{md}");
    }
    // The one link is Sentry's release, which the fixture has.
    assert_eq!(links, 1, "{md}");
    assert_eq!(
        (emphasis, strong, strikethrough),
        (0, 2, 0),
        "only **Stopped at** and **What to do** are bold:\n{md}"
    );
    // The run's table has two columns, the services' five: no row has more.
    assert!(
        row_widths.iter().all(|width| *width == 2 || *width == 5),
        "{row_widths:?}\n{md}"
    );
    assert!(text.contains(hostile_ref), "{md}");
    assert!(text.contains(hostile_event), "{md}");
    assert!(text.contains("worker</summary><img src=x>|x"), "{md}");
    assert!(text.contains("- a list # a heading"), "{md}");
    assert!(
        text.contains("run deploy-action status for <b>x</b>"),
        "{md}"
    );
    assert!(
        code_blocks.contains(&format!("rollout failed: {hostile_log}\n")),
        "{code_blocks:?}"
    );
    assert!(
        code_blocks.contains(&format!("{hostile_log}\n")),
        "{code_blocks:?}"
    );
}

#[test]
fn code_spans_and_fences_outlast_the_backticks_inside() {
    use super::super::markdown::{code, code_cell, fenced_block, html, link_target, prose, text};
    assert_eq!(code("back-end:42"), "`back-end:42`");
    assert_eq!(code("a``b"), "```a``b```");
    assert_eq!(code("`x`"), "`` `x` ``");
    assert_eq!(code_cell("a|b"), "`a\\|b`");
    assert_eq!(fenced_block("plain\n"), "```text\nplain\n```");
    assert_eq!(fenced_block("x\n````\ny"), "`````text\nx\n````\ny\n`````");
    assert_eq!(text("1. first - *b*\nnext"), "1\\. first - \\*b\\* next");
    assert_eq!(text("-x"), "\\-x");
    assert_eq!(
        text("ROLLBACK_SUCCESSFUL _x_"),
        "ROLLBACK_SUCCESSFUL \\_x\\_"
    );
    assert_eq!(prose("run `a|b` now"), "run `a|b` now");
    assert_eq!(prose("odd ` tick"), "odd \\` tick");
    assert_eq!(
        html("w</summary>&\"x\u{7}"),
        "w&lt;/summary&gt;&amp;&quot;x"
    );
    assert_eq!(
        link_target("https://s.example/r/a b(1)|<x>"),
        "https://s.example/r/a%20b%281%29%7C%3Cx%3E"
    );
}
