//! Checks over all inputs at once, before any single one is read: encoding, size, and paths
//! that must stay inside the workspace.

use super::PlanError;
use crate::inputs::InputArgs;

/// No input may hold bytes that are not UTF-8 (they arrive as U+FFFD) or be absurdly long.
pub(super) fn check_encoding_and_size(args: &InputArgs) -> Result<(), PlanError> {
    const LIMIT: usize = 64 * 1024;
    for (input, value) in args.values() {
        let Some(value) = value else { continue };
        if value.contains('\u{FFFD}') {
            return Err(PlanError::new(
                input,
                "holds bytes that are not UTF-8",
                "plain UTF-8 text",
            ));
        }
        if value.len() > LIMIT {
            return Err(PlanError::new(
                input,
                format!("is {} bytes long", value.len()),
                format!("at most {LIMIT} bytes"),
            ));
        }
    }
    Ok(())
}

/// Paths given as inputs stay inside the workspace (`GITHUB_WORKSPACE`): a build context of
/// `../..` would send the runner's home to the builder.
pub(super) fn check_paths_inside(args: &InputArgs, workspace: &str) -> Result<(), PlanError> {
    let Ok(root) = std::path::Path::new(workspace).canonicalize() else {
        return Ok(());
    };
    let paths = [
        ("context", args.context.as_deref()),
        ("dockerfile", args.dockerfile.as_deref()),
        ("task-definition", args.task_definition.as_deref()),
        ("lifecycle-policy", args.lifecycle_policy.as_deref()),
    ];
    for (input, path) in paths {
        let Some(path) = path else { continue };
        // Paths that do not exist are reported by the input's own check.
        let Ok(resolved) = root.join(path).canonicalize() else {
            continue;
        };
        if !resolved.starts_with(&root) {
            return Err(PlanError::new(
                input,
                format!("`{path}` is outside the workspace ({})", root.display()),
                "a path inside the repository checkout",
            ));
        }
    }
    Ok(())
}
