//! Deploying a synthesized stack, reviewing it against what is deployed, reading its outputs and deleting it.
//!
//! Everything that talks to AWS goes through one small trait, [`aws::Aws`], whose real implementation runs the
//! AWS CLI (so the user's credentials, AWS CLI profiles, SSO, region and endpoint settings apply unchanged); progress
//! goes through [`progress::Reporter`], questions through [`prompt::Prompt`]. The CLI parses arguments, calls
//! one function here and maps its error to an exit code.
//!
//! - [`workflow::deploy`]: synth output → [`preflight`] → bundles ([`assets`]) → upload ([`upload`]) → a change
//!   set ([`changeset`]) → review and approval ([`approval`]) → execute it → outputs ([`outputs`]).
//! - [`deployed::compare`]: `sockstack diff --deployed`, with CloudFormation's verdict (`--change-set`).
//! - [`destroy::destroy`]: `sockstack destroy`.

pub mod approval;
pub mod assets;
pub mod aws;
pub mod changeset;
pub mod deployed;
pub mod destroy;
#[cfg(test)]
mod fake;
pub mod outputs;
pub mod preflight;
pub mod progress;
pub mod prompt;
pub mod stack;
pub mod upload;
pub mod workflow;

/// The largest template CloudFormation takes inline; bigger ones go through S3.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;
