//! Deploying a synthesized stack with the AWS CLI, and reading or deleting it
//! afterwards. Everything goes through the `aws` program ([`aws`]), so the
//! user's credentials, profiles, region and endpoint settings apply unchanged.
//!
//! `sockstack deploy` is: synth → bundles ([`assets`]: built, or prebuilt ones
//! from a folder) → upload what the bucket lacks ([`upload`]) →
//! `aws cloudformation deploy` ([`stack`]) → outputs.

pub mod assets;
pub mod aws;
pub mod stack;
pub mod upload;
