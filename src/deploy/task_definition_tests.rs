use super::*;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, EphemeralStorage, NetworkMode, OsFamily,
    RuntimePlatform, TaskDefinitionStatus, Volume,
};

const PINNED: &str = "127.0.0.1:5000/back-end@sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn container(name: &str, image: &str) -> ContainerDefinition {
    ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(true)
        .memory(256)
        .build()
}

fn described() -> TaskDefinition {
    TaskDefinition::builder()
        .task_definition_arn("arn:aws:ecs:us-east-2:123456789012:task-definition/back-end:7")
        .family("back-end")
        .revision(7)
        .status(TaskDefinitionStatus::Active)
        .container_definitions(container("api", "127.0.0.1:5000/back-end:staging"))
        .container_definitions(container("worker", "127.0.0.1:5000/back-end@sha256:0000"))
        .container_definitions(container(
            "otel",
            "public.ecr.aws/aws-observability/aws-otel-collector:v0.40",
        ))
        .task_role_arn("arn:aws:iam::123456789012:role/task")
        .execution_role_arn("arn:aws:iam::123456789012:role/exec")
        .network_mode(NetworkMode::Awsvpc)
        .volumes(Volume::builder().name("data").build())
        .requires_compatibilities(Compatibility::Fargate)
        .compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .ephemeral_storage(EphemeralStorage::builder().size_in_gib(30).build())
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::Arm64)
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .enable_fault_injection(true)
        .build()
}

fn images(td: &TaskDefinition) -> Vec<(&str, &str)> {
    td.container_definitions()
        .iter()
        .map(|c| (c.name().unwrap(), c.image().unwrap()))
        .collect()
}

#[test]
fn image_names_ignore_tags_digests_and_keep_ports() {
    let table = [
        ("127.0.0.1:5000/back-end:staging", "127.0.0.1:5000/back-end"),
        (
            "127.0.0.1:5000/back-end@sha256:00",
            "127.0.0.1:5000/back-end",
        ),
        ("127.0.0.1:5000/back-end", "127.0.0.1:5000/back-end"),
        ("nginx", "nginx"),
        (
            "a.dkr.ecr.us-east-2.amazonaws.com/team/api:v1",
            "a.dkr.ecr.us-east-2.amazonaws.com/team/api",
        ),
    ];
    for (image, name) in table {
        assert_eq!(image_name(image), name, "{image}");
    }
}

#[test]
fn default_selection_is_every_container_of_the_repository() {
    let rendered = render(&described(), &[], PINNED).unwrap();
    assert_eq!(rendered.changed, vec!["api", "worker"]);
    assert_eq!(
        images(&rendered.task_definition),
        vec![
            ("api", PINNED),
            ("worker", PINNED),
            (
                "otel",
                "public.ecr.aws/aws-observability/aws-otel-collector:v0.40"
            ),
        ]
    );
    // Everything but the images is what it was.
    let mut expected = described();
    expected.container_definitions = rendered.task_definition.container_definitions.clone();
    assert_eq!(rendered.task_definition, expected);
}

#[test]
fn named_containers_only() {
    let rendered = render(&described(), &["worker".into()], PINNED).unwrap();
    assert_eq!(rendered.changed, vec!["worker"]);
    assert_eq!(
        images(&rendered.task_definition)[0].1,
        "127.0.0.1:5000/back-end:staging"
    );
}

#[test]
fn unknown_container_lists_the_real_ones() {
    let error = render(&described(), &["web".into()], PINNED).unwrap_err();
    assert!(error.message.contains("`web`"), "{error}");
    assert_eq!(
        error.hint.as_deref(),
        Some("its containers are: api, worker, otel")
    );
}

#[test]
fn no_container_of_the_repository_is_an_error() {
    let other = "127.0.0.1:5000/other@sha256:22";
    let error = render(&described(), &[], other).unwrap_err();
    assert!(error.message.contains("no container"), "{error}");
}

#[test]
fn the_same_digest_changes_nothing() {
    let once = render(&described(), &[], PINNED).unwrap();
    let twice = render(&once.task_definition, &[], PINNED).unwrap();
    assert!(twice.changed.is_empty());
    assert_eq!(twice.unchanged, vec!["api", "worker"]);
}

#[test]
fn register_request_copies_every_writable_field() {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new("us-east-2"))
        .build();
    let client = aws_sdk_ecs::Client::from_conf(config);
    let td = described();
    let tags = vec![Tag::builder().key("team").value("backend").build()];
    let request = register_request(client.register_task_definition(), &td, &tags);
    let input = request.as_input().clone().build().unwrap();
    assert_eq!(input.family(), td.family());
    assert_eq!(input.task_role_arn(), td.task_role_arn());
    assert_eq!(input.execution_role_arn(), td.execution_role_arn());
    assert_eq!(input.network_mode(), td.network_mode());
    assert_eq!(input.container_definitions(), td.container_definitions());
    assert_eq!(input.volumes(), td.volumes());
    assert_eq!(
        input.requires_compatibilities(),
        td.requires_compatibilities()
    );
    assert_eq!(input.cpu(), td.cpu());
    assert_eq!(input.memory(), td.memory());
    assert_eq!(input.ephemeral_storage(), td.ephemeral_storage());
    assert_eq!(input.runtime_platform(), td.runtime_platform());
    assert_eq!(input.enable_fault_injection(), td.enable_fault_injection());
    assert_eq!(input.tags(), tags.as_slice());
}
