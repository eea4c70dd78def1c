use super::*;
use rand::SeedableRng;

#[test]
fn single_and_multi_line_values() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let text = format_entries(
        &[
            ("digest", "sha256:ab".into()),
            ("tags", "prod\nsha-0123456".into()),
        ],
        &mut rng,
    );
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("digest=sha256:ab"));
    let opening = lines.next().unwrap();
    let delimiter = opening.strip_prefix("tags<<").unwrap();
    assert!(delimiter.starts_with("ghadelimiter_"));
    assert_eq!(lines.next(), Some("prod"));
    assert_eq!(lines.next(), Some("sha-0123456"));
    assert_eq!(lines.next(), Some(delimiter));
}
