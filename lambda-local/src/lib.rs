//! Lambda on this machine, for `sockstack dev` and for handler crates' tests: one implementation.
//!
//! - [`runtime_api`]: a local Lambda Runtime API for one function process (`next`, `response`, `error`,
//!   `init/error`, the `Lambda-Runtime-*` headers), and the environment Lambda gives that process.
//! - [`process`]: the command Lambda would run for a function: its binary with Lambda's environment only.
//! - [`spawn`]: processes that die with their parent (`PR_SET_PDEATHSIG`), even when it is killed with `SIGKILL`.
//!
//! It needs HTTP and child processes, not the AWS SDK, so the `sockstack` CLI depends on it as well as
//! `sockstack-runtime`'s `testing` feature.

pub mod process;
pub mod runtime_api;
pub mod spawn;

pub use process::function_command;
pub use runtime_api::{ACCOUNT, FunctionIdentity, Outcome, REGION, RuntimeApi, lambda_environment};
pub use spawn::{Spawner, spawn_dying_with_parent};
