/// The 1 MiB is the file's, across appends: a second append fits into what is left.
#[test]
fn the_summary_file_stays_under_the_limit_across_appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary");
    std::fs::write(&path, "x".repeat(super::summary::LIMIT - 1000)).unwrap();
    super::append_summary(&path, &"é".repeat(4000)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.len() <= super::summary::LIMIT, "{}", text.len());
    assert!(text.ends_with("1 MiB limit)\n"));
    super::append_summary(&path, "more").unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() <= super::summary::LIMIT as u64);
}
