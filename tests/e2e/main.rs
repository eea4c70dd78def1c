//! End to end, against the real stand-ins: the built binary runs as the runner runs a
//! container action (environment only), gets a token from the OIDC stand-in, assumes a role at
//! moto's STS, logs in with moto's ECR token to a real registry, builds an arm64 image with a
//! real dockerd, pushes it, and rolls a moto ECS service to it.
//!
//! Start the stand-ins first: `scripts/test` does it all.

// A test binary: a failed assumption is a failed test (clippy.toml's test allowances do not
// reach the helpers of an integration test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod bad_inputs;
mod cli;
mod deploy;
mod faults;
mod github;
mod image;
mod rollouts;
mod runner_container;
mod security;
mod sentry;
mod strategies;
mod support;
