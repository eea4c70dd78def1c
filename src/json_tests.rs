use super::*;

#[test]
fn seconds_keep_one_decimal() {
    assert_eq!(rounded_seconds(Duration::from_millis(83_449)), 83.4);
    assert_eq!(rounded_seconds(Duration::from_millis(94_050)), 94.1);
    assert_eq!(rounded_seconds(Duration::ZERO), 0.0);
}
