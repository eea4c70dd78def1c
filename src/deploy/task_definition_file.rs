//! The `task-definition` input: a JSON file, as `aws ecs describe-task-definition` prints it
//! (with or without the `taskDefinition` wrapper), to render from instead of the revision a
//! service runs.
//!
//! The SDK's types have no serde, and a hand-written model would drop every field it does not
//! know — the schema-drift bug users hit with other tools. So the file is read by the SDK's own
//! DescribeTaskDefinition deserializer ([`crate::aws::ecs::decode_task_definition`]).

use crate::error::Problem;
use crate::plan::values;
use anyhow::{Context, Result};
use aws_sdk_ecs::types::{Tag, TaskDefinition};
use std::path::Path;

/// Read the file into the SDK's types.
pub async fn load(path: &Path) -> Result<(TaskDefinition, Vec<Tag>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading task-definition {}", path.display()))?;
    let body = values::task_definition_document(&text)
        .map_err(|why| Problem::new(format!("task-definition {} {why}", path.display())))?;
    crate::aws::ecs::decode_task_definition(body)
        .await
        .map_err(|why| {
            Problem::new(format!(
                "task-definition {} is not a task definition ECS would accept: {why}",
                path.display()
            ))
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const DESCRIBED: &str = r#"{
      "taskDefinition": {
        "taskDefinitionArn": "arn:aws:ecs:us-east-2:633607774026:task-definition/back-end:41",
        "family": "back-end",
        "revision": 41,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "cpu": "512",
        "memory": "1024",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "enableFaultInjection": false,
        "registeredAt": "2026-11-01T10:00:00.123000+00:00",
        "containerDefinitions": [{
          "name": "api",
          "image": "633607774026.dkr.ecr.us-east-2.amazonaws.com/back-end:prod",
          "essential": true,
          "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
          "environment": [{"name": "LOG_LEVEL", "value": "info"}],
          "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/back-end-production"}}
        }]
      },
      "tags": [{"key": "team", "value": "backend"}]
    }"#;

    #[tokio::test]
    async fn reads_describe_task_definition_output_with_the_sdk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("td.json");
        std::fs::write(&path, DESCRIBED).unwrap();
        let (task_definition, tags) = load(&path).await.unwrap();
        assert_eq!(task_definition.family(), Some("back-end"));
        assert_eq!(task_definition.revision(), 41);
        assert_eq!(task_definition.enable_fault_injection(), Some(false));
        let api = &task_definition.container_definitions()[0];
        assert_eq!(api.port_mappings()[0].container_port(), Some(8000));
        assert_eq!(api.environment()[0].value(), Some("info"));
        assert_eq!(tags[0].key(), Some("team"));

        // Without the wrapper, as a bare task definition.
        let bare: Value = serde_json::from_str(DESCRIBED).unwrap();
        std::fs::write(&path, bare["taskDefinition"].to_string()).unwrap();
        let (task_definition, tags) = load(&path).await.unwrap();
        assert_eq!(task_definition.cpu(), Some("512"));
        assert!(tags.is_empty());
    }
}
