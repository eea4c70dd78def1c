//! Adapters for the AWS services the product calls, one module per service. A new AWS call
//! goes into its service's module; stages get the adapter, never the SDK client.

pub mod ecs;

pub use ecs::Ecs;
