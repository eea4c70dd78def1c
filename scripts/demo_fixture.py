#!/usr/bin/env python3
"""Create the demo's AWS world in moto: the ECR repository `back-end` (ECR does not create
repositories on push), a cluster, a task definition whose `api` container runs
<registry>/back-end:staging next to an untouched sidecar, and a service running it."""
import os
import sys

import boto3

registry, cluster, service = sys.argv[1], sys.argv[2], sys.argv[3]


def client(name: str):
    """A client of moto: any keys will do, but requests must be signed."""
    return boto3.client(
        name,
        region_name="us-east-2",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    )


ecs = client("ecs")
ecr = client("ecr")
try:
    ecr.create_repository(repositoryName="back-end")
except ecr.exceptions.RepositoryAlreadyExistsException:
    pass
ecs.create_cluster(clusterName=cluster)
task_definition = ecs.register_task_definition(
    family="back-end",
    networkMode="bridge",
    requiresCompatibilities=["EC2"],
    cpu="256",
    memory="512",
    runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    containerDefinitions=[
        {
            "name": "api",
            "image": f"{registry}/back-end:staging",
            "essential": True,
            "memory": 256,
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        },
        {
            "name": "otel",
            "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
            "essential": False,
            "memory": 128,
        },
    ],
    tags=[{"key": "team", "value": "backend"}],
)["taskDefinition"]["taskDefinitionArn"]
ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=task_definition, desiredCount=1)
print(f"demo: service {service} in {cluster} runs {task_definition}")
