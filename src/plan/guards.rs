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

/// Events that run with the base repository's ref, secrets and OIDC identity but can carry an
/// outsider's code or text: a fork's pull request (`pull_request_target`), the run of any
/// workflow, including a fork's (`workflow_run`), any commenter (`issue_comment`). A deploy
/// from one of them builds whatever the workflow checked out — with production credentials.
pub const UNTRUSTED_TRIGGERS: &[&str] = &["pull_request_target", "workflow_run", "issue_comment"];

/// Refuse the untrusted triggers unless `allow-untrusted-trigger: true` says the workflow
/// guards itself (it checks out only trusted code, or gates on the commenter's permission).
pub(super) fn check_trigger(event: Option<&str>, allowed: bool) -> Result<(), PlanError> {
    match event {
        Some(event) if UNTRUSTED_TRIGGERS.contains(&event) && !allowed => Err(PlanError::new(
            "allow-untrusted-trigger",
            format!(
                "is false, and this run was started by `{event}`: such runs hold the base repository's \
                 credentials but may build code or act on text from outside it (a fork, another \
                 workflow, any commenter)"
            ),
            "deploy from `push` or `workflow_dispatch`; if this workflow checks out only trusted code \
             and gates on who triggered it, set `allow-untrusted-trigger: true`",
        )),
        _ => Ok(()),
    }
}
