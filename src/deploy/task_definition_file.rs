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
#[path = "task_definition_file_tests.rs"]
mod tests;
