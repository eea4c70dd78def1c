//! ECS worlds (a cluster, a task definition, a service) and the deploy runs aimed at them.

use super::*;

/// A cluster with one service whose task definition runs `image` in `api` next to a sidecar.
pub struct EcsWorld {
    pub cluster: String,
    pub service: String,
    pub task_definition: TaskDefinition,
}

impl EcsWorld {
    pub async fn create(ecs: &aws_sdk_ecs::Client, image: &str) -> Self {
        Self::create_with(ecs, image, None, None).await
    }

    /// A new ECR repository `name-…` and a one-service world on its staging image, the service
    /// running with `launch_type`; the world and the repository's name.
    pub async fn with_repository(
        standins: &StandIns,
        name: &str,
        launch_type: Option<aws_sdk_ecs::types::LaunchType>,
    ) -> (Self, String) {
        let ecs = standins.ecs().await;
        let repository = unique(name);
        standins.ecr_repository(&repository, false).await;
        let image = format!("{}/{repository}:staging", standins.registry());
        // Fargate takes only awsvpc tasks, which need a subnet: the default VPC's.
        let fargate = launch_type == Some(aws_sdk_ecs::types::LaunchType::Fargate);
        let network = if fargate {
            Some(standins.default_network().await)
        } else {
            None
        };
        (
            Self::create_with(&ecs, &image, launch_type, network).await,
            repository,
        )
    }

    /// A world whose service runs with `launch_type` (FARGATE: moto starts one-off tasks of it
    /// without container instances). With `network` (subnet, security group) the task
    /// definition is awsvpc and Fargate compatible, as Fargate requires, and the service runs
    /// its tasks there.
    pub async fn create_with(
        ecs: &aws_sdk_ecs::Client,
        image: &str,
        launch_type: Option<aws_sdk_ecs::types::LaunchType>,
        network: Option<(String, String)>,
    ) -> Self {
        let cluster = unique("e2e-cluster");
        let service = unique("e2e-service");
        ecs.create_cluster()
            .cluster_name(&cluster)
            .send()
            .await
            .unwrap();
        let family = unique("e2e-family");
        let registered = ecs
            .register_task_definition()
            .family(&family)
            .network_mode(if network.is_some() {
                aws_sdk_ecs::types::NetworkMode::Awsvpc
            } else {
                aws_sdk_ecs::types::NetworkMode::Bridge
            })
            .set_requires_compatibilities(
                network
                    .as_ref()
                    .map(|_| vec![aws_sdk_ecs::types::Compatibility::Fargate]),
            )
            .execution_role_arn("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("api")
                    .image(image)
                    .essential(true)
                    .memory(256)
                    .log_configuration(
                        aws_sdk_ecs::types::LogConfiguration::builder()
                            .log_driver(aws_sdk_ecs::types::LogDriver::Awslogs)
                            .options("awslogs-group", format!("/ecs/{family}"))
                            .options("awslogs-region", REGION)
                            .options("awslogs-stream-prefix", "ecs")
                            .build()
                            .unwrap(),
                    )
                    .environment(
                        KeyValuePair::builder()
                            .name("LOG_LEVEL")
                            .value("info")
                            .build(),
                    )
                    .environment(
                        KeyValuePair::builder()
                            .name("JWT_PUBLIC_KEY")
                            .value("-----BEGIN PUBLIC KEY----- (the seed's old key)")
                            .build(),
                    )
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("otel")
                    .image(SIDECAR_IMAGE)
                    .essential(false)
                    .memory(128)
                    .build(),
            )
            .tags(Tag::builder().key("team").value("backend").build())
            .send()
            .await
            .unwrap();
        let task_definition = registered.task_definition().unwrap().clone();
        ecs.create_service()
            .cluster(&cluster)
            .service_name(&service)
            .task_definition(task_definition.task_definition_arn().unwrap())
            .desired_count(1)
            .set_launch_type(launch_type)
            .set_network_configuration(network.map(|(subnet, group)| {
                aws_sdk_ecs::types::NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                            .subnets(subnet)
                            .security_groups(group)
                            .build()
                            .unwrap(),
                    )
                    .build()
            }))
            .send()
            .await
            .unwrap();
        Self {
            cluster,
            service,
            task_definition,
        }
    }

    /// The `api` container of the revision `run` registered, which the service runs now.
    pub async fn new_api_container(
        &self,
        ecs: &aws_sdk_ecs::Client,
        run: &Finished,
    ) -> ContainerDefinition {
        let registered = &run.outputs["task-definition-arns"];
        assert_eq!(
            self.running(ecs).await.as_deref(),
            Some(registered.as_str()),
            "{} does not run what the run registered",
            self.service
        );
        ecs.describe_task_definition()
            .task_definition(registered)
            .send()
            .await
            .unwrap()
            .task_definition()
            .unwrap()
            .container_definitions()[0]
            .clone()
    }

    /// The task definition the world's service runs now.
    pub async fn running(&self, ecs: &aws_sdk_ecs::Client) -> Option<String> {
        self.running_in(ecs, &self.service).await
    }

    /// The task definition `service` of the world's cluster runs now.
    pub async fn running_in(&self, ecs: &aws_sdk_ecs::Client, service: &str) -> Option<String> {
        let described = ecs
            .describe_services()
            .cluster(&self.cluster)
            .services(service)
            .send()
            .await
            .unwrap();
        described.services()[0]
            .task_definition()
            .map(str::to_string)
    }

    /// Another service in the cluster, on the same task definition.
    pub async fn add_service(&self, ecs: &aws_sdk_ecs::Client) -> String {
        let service = unique("e2e-service");
        ecs.create_service()
            .cluster(&self.cluster)
            .service_name(&service)
            .task_definition(self.task_definition.task_definition_arn().unwrap())
            .desired_count(1)
            .send()
            .await
            .unwrap();
        service
    }
}

/// The inputs of a deploy of `repository` to the world's one service, and `extra` ones.
pub fn deploy_inputs<'a>(
    repository: &'a str,
    world: &'a EcsWorld,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut inputs = vec![
        ("ecr-repository", repository),
        ("ecs-cluster", world.cluster.as_str()),
        ("ecs-services", world.service.as_str()),
    ];
    inputs.extend_from_slice(extra);
    inputs
}

/// A world (see [`EcsWorld::with_repository`]) after one staging deploy: the world, the
/// repository, the revision it started on and the one the deploy registered.
pub async fn deployed_once(standins: &StandIns, name: &str) -> (EcsWorld, String, String, String) {
    let (world, repository) = EcsWorld::with_repository(standins, name, None).await;
    let first = world
        .task_definition
        .task_definition_arn()
        .unwrap()
        .to_string();
    let run = staging_deploy(standins, &repository, &world, &[]).run();
    assert_eq!(run.code, 0, "{}", run.log());
    let deployed = world.running(&standins.ecs().await).await.unwrap();
    assert_ne!(deployed, first, "the deploy registered no revision");
    (world, repository, first, deployed)
}

/// A staging deploy (a push to a feature branch) of `repository` to the world's service.
pub fn staging_deploy(
    standins: &StandIns,
    repository: &str,
    world: &EcsWorld,
    extra: &[(&str, &str)],
) -> ActionRun {
    ActionRun::new(
        standins,
        "refs/heads/feature/staging",
        &unique("run"),
        &deploy_inputs(repository, world, extra),
    )
}

/// A staging deploy whose AWS calls go through a proxy that counts them.
pub fn counted_staging_deploy(
    standins: &StandIns,
    repository: &str,
    world: &EcsWorld,
    extra: &[(&str, &str)],
) -> (Finished, FaultProxy) {
    let proxy = FaultProxy::start(standins, &[]);
    let mut action = staging_deploy(standins, repository, world, extra);
    action.set("AWS_ENDPOINT_URL", &proxy.url);
    (action.run(), proxy)
}
