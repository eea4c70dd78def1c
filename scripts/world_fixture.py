#!/usr/bin/env python3
"""A world to try every subcommand in (`scripts/standins up --world`), in moto behind the strict
proxy: the ECR repository `back-end`; the cluster `demo` with the Fargate service
`back-end-staging`, whose task definition `back-end` runs <registry>/back-end:staging in its `api`
container and logs with awslogs to /ecs/back-end (stream prefix `ecs`); a line in that log; and a
standing script for the cluster's one-off tasks (`run`): each runs its command in the proxy's
sandbox, so its exit code is the command's and what it prints lands in the log group.
examples/world.toml names all of it. Idempotent: a second `up --world` changes nothing."""
import json
import os
import sys
import time
import urllib.request

import boto3

REGION = "us-east-2"
CLUSTER = "demo"
SERVICE = "back-end-staging"
GROUP = "/ecs/back-end"
# Fargate's awslogs needs an execution role (ECS developer guide, "Amazon ECS task execution IAM role").
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"

registry = sys.argv[1]
endpoint = os.environ["AWS_ENDPOINT_URL"]


def client(name: str):
    return boto3.client(name, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="standins", aws_secret_access_key="standins")


ecr, ecs, ec2, logs = client("ecr"), client("ecs"), client("ec2"), client("logs")
try:
    ecr.create_repository(repositoryName="back-end")
except ecr.exceptions.RepositoryAlreadyExistsException:
    pass
ecs.create_cluster(clusterName=CLUSTER)
try:
    logs.create_log_group(logGroupName=GROUP)
except logs.exceptions.ResourceAlreadyExistsException:
    pass

existing = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
if not [service for service in existing if service["status"] == "ACTIVE"]:
    task_definition = ecs.register_task_definition(
        family="back-end",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=EXECUTION_ROLE,
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[{
            "name": "api",
            "image": f"{registry}/back-end:staging",
            "essential": True,
            # moto's RunTask adds up the containers' memory (it fails without); Fargate would not need it.
            "memory": 512,
            "environment": [{"name": "LOG_LEVEL", "value": "info"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    subnet = ec2.describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=task_definition, desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}})
    # What the service's task said when it started: `logs` has a line to show.
    stream = "ecs/api/0123456789abcdef0123456789abcdef"
    logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
        {"timestamp": int(time.time() * 1000), "message": "listening on :8000 (the world's first task)"}])

# One-off tasks of the cluster end as their command does (scripts/ecs_deployments.py, "sandbox").
script = {"cluster": CLUSTER, "keep": True, "sandbox": {}, "task_polls": 1}
request = urllib.request.Request(f"{endpoint}/_stand-in/ecs-script", data=json.dumps(script).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
urllib.request.urlopen(request, timeout=10).read()
print(f"standins: world: service {SERVICE} in cluster {CLUSTER} (Fargate, logs in {GROUP}), "
      f"ECR repository back-end; see examples/world.toml")
