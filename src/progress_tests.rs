use super::*;
use indicatif::InMemoryTerm;

/// The spinner shows the stage and its elapsed time, lines printed meanwhile are not torn,
/// and nothing of it is left once the stage ends.
#[test]
fn a_stage_spins_with_its_name_and_clears_when_done() {
    let term = InMemoryTerm::new(10, 80);
    let shown = start_on(
        "image",
        ProgressDrawTarget::term_like(Box::new(term.clone())),
    );
    std::thread::sleep(TICK * 3);
    let screen = term.contents();
    assert!(screen.contains("image (0s)"), "{screen:?}");
    detail("deploy", "api 1/2 running");
    std::thread::sleep(TICK * 2);
    assert!(
        term.contents().contains("deploy: api 1/2 running"),
        "{:?}",
        term.contents()
    );
    drop(shown);
    assert!(!term.contents().contains("deploy"), "{:?}", term.contents());
    // With no spinner, printing goes straight through.
    print("a plain line", true);
    assert!(lock().is_none());
}
