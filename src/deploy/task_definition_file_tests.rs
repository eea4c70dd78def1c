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
