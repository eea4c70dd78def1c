use super::*;
use aws_sdk_ecs::types::ContainerDefinition;

fn td(image: &str, cpu: &str) -> TaskDefinition {
    TaskDefinition::builder()
        .family("back-end")
        .cpu(cpu)
        .container_definitions(
            ContainerDefinition::builder()
                .name("api")
                .image(image)
                .build(),
        )
        .container_definitions(
            ContainerDefinition::builder()
                .name("otel")
                .image("otel:1")
                .build(),
        )
        .build()
}

#[test]
fn names_only_what_changed() {
    let changes = changes(
        &td("r/back-end:staging", "256"),
        &td("r/back-end@sha256:ab", "512"),
    );
    assert_eq!(
        changes,
        vec![
            Change {
                field: "container api image".into(),
                before: "r/back-end:staging".into(),
                after: "r/back-end@sha256:ab".into()
            },
            Change {
                field: "cpu".into(),
                before: "Some(\"256\")".into(),
                after: "Some(\"512\")".into()
            },
        ]
    );
    assert!(super::changes(&td("a", "1"), &td("a", "1")).is_empty());
}

#[test]
fn debug_fields_split_at_the_top_level_only() {
    let fields = debug_fields(r#"X { a: Some("x, y"), b: [C { d: 1, e: 2 }], f: None }"#);
    assert_eq!(fields["a"], r#"Some("x, y")"#);
    assert_eq!(fields["b"], "[C { d: 1, e: 2 }]");
    assert_eq!(fields["f"], "None");
    assert!(debug_fields("no braces").is_empty());
}
