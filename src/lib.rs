//! sockstack: a serverless WebSocket backend as typed Rust, emitted as CloudFormation.
//!
//! Layers, one way: stack file ([`config`]) → intent ([`model`]) → typed
//! CloudFormation ([`cfn`], built by [`synth`]) → text ([`emit`]). [`check`]
//! works on any template ([`raw`]). [`cli`] is the only part that touches the process.

pub mod alarms;
pub mod bundle;
pub mod cfn;
pub mod check;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod dev;
pub mod diff;
pub mod emit;
pub mod graph;
pub mod init;
pub mod input;
pub mod model;
pub mod pipeline;
pub mod project;
pub mod raw;
pub mod sources;
pub mod summary;
pub mod synth;
