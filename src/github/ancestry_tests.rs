use super::*;

#[test]
fn only_identical_and_ahead_make_an_ancestor() {
    assert_eq!(classify("identical", 0), Ancestry::Ancestor);
    assert_eq!(classify("ahead", 0), Ancestry::Ancestor);
    assert_eq!(
        classify("diverged", 2),
        Ancestry::NotAncestor {
            status: "diverged".into(),
            only_in_base: 2
        }
    );
    assert!(matches!(
        classify("behind", 1),
        Ancestry::NotAncestor { .. }
    ));
}
