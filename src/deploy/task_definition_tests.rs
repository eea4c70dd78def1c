use super::*;
use crate::aws::ecs::register_request;
use crate::deploy::diff::debug_fields;
use aws_sdk_ecs::types::{
    Compatibility, CpuArchitecture, EphemeralStorage, NetworkMode, OsFamily, RuntimePlatform,
    TaskDefinitionStatus, Volume,
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

#[allow(deprecated)]
fn fully_populated() -> TaskDefinition {
    use aws_sdk_ecs::types::{
        InferenceAccelerator, IpcMode, PidMode, ProxyConfiguration,
        TaskDefinitionPlacementConstraint, TaskDefinitionPlacementConstraintType,
    };
    let mut td = described();
    td.placement_constraints = Some(vec![
        TaskDefinitionPlacementConstraint::builder()
            .r#type(TaskDefinitionPlacementConstraintType::MemberOf)
            .expression("attribute:ecs.cpu-architecture == arm64")
            .build(),
    ]);
    td.pid_mode = Some(PidMode::Task);
    td.ipc_mode = Some(IpcMode::None);
    td.proxy_configuration = Some(
        ProxyConfiguration::builder()
            .container_name("envoy")
            .properties(
                KeyValuePair::builder()
                    .name("AppPorts")
                    .value("8080")
                    .build(),
            )
            .build()
            .unwrap(),
    );
    td.inference_accelerators = Some(vec![
        InferenceAccelerator::builder()
            .device_name("device1")
            .device_type("eia2.medium")
            .build()
            .unwrap(),
    ]);
    td
}

/// When a newer SDK adds a field to TaskDefinition or RegisterTaskDefinition, this fails and
/// names it: copy it in `register_request` and list it here.
#[test]
fn every_field_is_copied_or_known_to_be_read_only() {
    let described_fields: Vec<String> =
        debug_fields(&format!("{:?}", TaskDefinition::builder().build()))
            .into_keys()
            .collect();
    for field in &described_fields {
        assert!(
            COPIED.contains(&field.as_str()) || READ_ONLY.contains(&field.as_str()),
            "TaskDefinition has a field `{field}` that register_request does not know about"
        );
    }
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest())
        .region(aws_sdk_ecs::config::Region::new("us-east-2"))
        .build();
    let client = aws_sdk_ecs::Client::from_conf(config);
    let td = fully_populated();
    let request = register_request(client.register_task_definition(), &td, &[]);
    let input = request.as_input().clone().build().unwrap();
    let input_fields = debug_fields(&format!("{input:?}"));
    for field in input_fields.keys() {
        assert!(
            COPIED.contains(&field.as_str()) || field == "tags",
            "RegisterTaskDefinition takes a field `{field}` that register_request does not set"
        );
    }
    // Field for field, the request carries what was described.
    let td_fields = debug_fields(&format!("{td:?}"));
    for field in COPIED {
        assert_ne!(
            td_fields[*field], "None",
            "the fixture leaves `{field}` empty"
        );
        assert_eq!(
            input_fields[*field], td_fields[*field],
            "`{field}` was not copied as it was"
        );
    }
}

#[test]
fn the_selection_is_made_once_and_pinned_to_any_registry_host() {
    // Chosen before the build from the host the task definition uses…
    let selected = select(&described(), &[], "127.0.0.1:5000/back-end").unwrap();
    assert_eq!(selected, ["api", "worker"]);
    // …and applied to the image as pushed, even when its host differs (another account's
    // registry, a pull-through cache): `render` by host alone would find no container.
    let pushed = "633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end@sha256:2222";
    let rendered = pin(&described(), &selected, pushed, &Default::default());
    assert_eq!(rendered.changed, ["api", "worker"]);
    assert_eq!(
        images(&rendered.task_definition),
        [
            ("api", pushed),
            ("worker", pushed),
            (
                "otel",
                "public.ecr.aws/aws-observability/aws-otel-collector:v0.40"
            ),
        ]
    );
    assert!(render(&described(), &[], pushed).is_err());
    // A container that already runs the pinned image is unchanged.
    let again = pin(
        &rendered.task_definition,
        &selected,
        pushed,
        &Default::default(),
    );
    assert!(again.changed.is_empty());
    assert_eq!(again.unchanged, ["api", "worker"]);
}

/// The container settings change only the variables and secrets they name, in the selected
/// containers (inputs) or the named ones (the config file); a name is never both a variable
/// and a secret; everything else stays.
#[test]
fn variables_and_secrets_are_set_and_unset_and_nothing_else_changes() {
    use crate::plan::containers::{ContainerChanges, ContainerEdits};
    let mut base = described();
    let api = &mut base.container_definitions.as_mut().unwrap()[0];
    api.environment = Some(vec![
        KeyValuePair::builder()
            .name("LOG_LEVEL")
            .value("info")
            .build(),
        KeyValuePair::builder()
            .name("JWT_PUBLIC_KEY")
            .value("old")
            .build(),
        KeyValuePair::builder()
            .name("JWT_SECRET_KEY")
            .value("literal!")
            .build(),
    ]);
    let secret = "arn:aws:secretsmanager:us-east-2:633607774026:secret:back-end/jwt-AbCdEf";
    let edits = ContainerEdits {
        named: vec![(
            "otel".into(),
            ContainerChanges {
                environment: vec![("OTEL_MODE".into(), "prod".into())],
                ..Default::default()
            },
        )],
        selected: ContainerChanges {
            environment: vec![
                ("SENTRY_ENVIRONMENT".into(), "production".into()),
                ("LOG_LEVEL".into(), "warn".into()),
            ],
            secrets: vec![("JWT_SECRET_KEY".into(), secret.into())],
            unset: vec!["JWT_PUBLIC_KEY".into()],
        },
    };
    let rendered = pin(&base, &["api".to_string()], PINNED, &edits);
    let containers = rendered.task_definition.container_definitions();
    let variables: Vec<(&str, &str)> = containers[0]
        .environment()
        .iter()
        .map(|p| (p.name().unwrap(), p.value().unwrap()))
        .collect();
    assert_eq!(
        variables,
        [("LOG_LEVEL", "warn"), ("SENTRY_ENVIRONMENT", "production")]
    );
    let secrets: Vec<(&str, &str)> = containers[0]
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(secrets, [("JWT_SECRET_KEY", secret)]);
    assert!(
        rendered.changed.contains(&"otel".to_string()),
        "the named container changed"
    );
    // Every other field of every container is as it was.
    for (old, new) in base.container_definitions().iter().zip(containers) {
        let mut new = new.clone();
        new.image = old.image.clone();
        new.environment = old.environment.clone();
        new.secrets = old.secrets.clone();
        assert_eq!(&new, old);
    }
    // Applied again, nothing changes.
    let again = pin(
        &rendered.task_definition,
        &["api".to_string()],
        PINNED,
        &edits,
    );
    assert!(again.changed.is_empty(), "{:?}", again.changed);
    // Secrets need the execution role; a named container must exist.
    let mut no_role = base.clone();
    no_role.execution_role_arn = None;
    assert!(check_edits(&no_role, &edits).is_err());
    let ghost = ContainerEdits {
        named: vec![("ghost".into(), ContainerChanges::default())],
        ..Default::default()
    };
    assert!(
        check_edits(&base, &ghost)
            .unwrap_err()
            .to_string()
            .contains("ghost")
    );
}

/// The base's tags plus ours stay within ECS's 50; what had to go is named, and ours are kept.
#[test]
fn revision_tags_stay_within_fifty() {
    let tag = |key: String| Tag::builder().key(key).value("v").build();
    let few: Vec<Tag> = (0..3).map(|i| tag(format!("team-{i}"))).collect();
    let (tags, dropped) = revision_tags(&few, "arn:td/a:1", "abc");
    assert_eq!((tags.len(), dropped.len()), (5, 0));
    let many: Vec<Tag> = (0..50).map(|i| tag(format!("k{i:02}"))).collect();
    let (tags, dropped) = revision_tags(&many, "arn:td/a:1", "abc");
    assert_eq!(tags.len(), MAX_TAGS);
    assert_eq!(dropped, ["k48", "k49"]);
    assert_eq!(tags[MAX_TAGS - 2].key(), Some(REPLACES_TAG));
    assert_eq!(tags[MAX_TAGS - 1].key(), Some(COMMIT_TAG));
    // Tags AWS set (aws: prefix) are neither copied nor counted: RegisterTaskDefinition refuses them.
    let mut stack = few.clone();
    stack.push(tag("aws:cloudformation:stack-name".into()));
    stack.push(tag("AWS:Other".into()));
    let (tags, _) = revision_tags(&stack, "arn:td/a:1", "abc");
    assert_eq!(tags.len(), 5, "{tags:?}");
    // Ours from an earlier deploy are replaced, not counted twice.
    let mut ours_before = many[..48].to_vec();
    ours_before.push(tag(REPLACES_TAG.into()));
    let (tags, dropped) = revision_tags(&ours_before, "arn:td/a:2", "def");
    assert_eq!((tags.len(), dropped.len()), (MAX_TAGS, 0));
}
