//! The promotion gate: production gets an image only if the commit it was built from is in the
//! history of the commit this run promotes for (the prod rule's branch).
//!
//! Without it, `mode: promote` on `main` releases whatever `promote-from` names — an image any
//! branch, or a fork's pull request, pushed. The commit comes from the image itself (its
//! `org.opencontainers.image.revision` label, [`crate::image::source`]), never from the run.
//! GitHub's compare API decides when a token is at hand; a person's checkout (`git merge-base
//! --is-ancestor`) when the CLI runs without one.

use crate::console::{Console, Mode};
use crate::error::Problem;
use crate::github::GitHub;
use crate::github::ancestry::{Ancestry, ancestry};
use crate::image::source::{REVISION_LABEL, SourceImage};
use crate::plan::{Plan, Work};
use anyhow::Result;

/// Refuse `source` unless its commit is in the history of the run's commit (or the check is
/// turned off with `verify-promoted-commit: false`).
pub async fn verify(
    plan: &Plan,
    github: Option<&GitHub>,
    source: &SourceImage,
    console: &Console,
) -> Result<()> {
    let verify = matches!(plan.work, Work::Promote { verify: true, .. });
    let head = &plan.source.sha;
    let git_ref = &plan.source.git_ref;
    let Some(revision) = &source.revision else {
        if let Some(why) = source.config_error.as_deref().filter(|_| !verify) {
            console.warning(
                "verify-promoted-commit",
                &format!(
                    "the config of {} could not be read ({why}); promoted without knowing its commit",
                    source.digest
                ),
            );
            return Ok(());
        }
        if !verify {
            console.warning(
                "verify-promoted-commit",
                &format!(
                    "{} has no {REVISION_LABEL} label; promoted without knowing its commit",
                    source.digest
                ),
            );
            return Ok(());
        }
        return Err(Problem::new(format!(
            "{} has no {REVISION_LABEL} label (a full commit SHA): which commit it holds cannot be checked",
            source.digest
        ))
        .hint("images built by deploy-action carry it (else `--label org.opencontainers.image.revision=$GITHUB_SHA`); `verify-promoted-commit: false` promotes it unchecked")
        .into());
    };
    console.line(&format!(
        "{} was built from commit {revision}",
        source.digest
    ));
    if !verify {
        console.warning(
            "verify-promoted-commit",
            &format!("false: {revision} was not checked against the history of {git_ref}"),
        );
        return Ok(());
    }
    if revision == head {
        console.line("that is this run's commit");
        return Ok(());
    }
    let answer = match github {
        Some(github) => Some(ancestry(github, revision, head).await?),
        None if console.mode == Mode::Plain => local_ancestry(revision, head).await,
        None => None,
    };
    match answer {
        Some(Ancestry::Ancestor) => {
            console.line(&format!("{revision} is in the history of {git_ref} ({head})"));
            Ok(())
        }
        Some(Ancestry::NotAncestor {
            status,
            only_in_base,
        }) => Err(Problem::new(format!(
            "the image was built from {revision}, which is not in the history of {git_ref} ({head}): {}",
            if only_in_base > 0 {
                format!("{status}, {only_in_base} of its commits are not on {git_ref}")
            } else {
                status
            }
        ))
        .hint("promote the image of a commit on this branch (its `sha-` tag is the default promote-from); `verify-promoted-commit: false` only if that is really meant")
        .into()),
        Some(Ancestry::Unknown) => Err(Problem::new(format!(
            "the image was built from {revision}, a commit this repository does not have \
             (a fork's, or a history rewritten since)"
        ))
        .hint("promote an image built from this branch's history")
        .into()),
        None => {
            console.warning(
                "verify-promoted-commit",
                &format!(
                    "no GitHub token to compare {revision} with {head}: whether it is in the history of \
                     {git_ref} was not checked (`github-token` needs `contents: read`)"
                ),
            );
            Ok(())
        }
    }
}

/// `git merge-base --is-ancestor` in the current checkout: exit 0 yes, 1 no, anything else
/// (no checkout, an unknown commit) cannot tell.
async fn local_ancestry(revision: &str, head: &str) -> Option<Ancestry> {
    let status = tokio::process::Command::new("git")
        .args(["merge-base", "--is-ancestor", revision, head])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .ok()?;
    match status.code() {
        Some(0) => Some(Ancestry::Ancestor),
        Some(1) => Some(Ancestry::NotAncestor {
            status: "diverged".into(),
            only_in_base: 0,
        }),
        _ => None,
    }
}
