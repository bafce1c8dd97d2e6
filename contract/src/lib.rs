//! The contract between the sockstack synthesizer and its Lambda handlers.
//!
//! Every name that both sides must agree on lives here exactly once: the
//! environment variables a function reads, the tables, attributes and indexes
//! it touches, the API calls it makes (and so the IAM actions its role grants),
//! and how a bundle is named. The synthesizer turns these into CloudFormation;
//! the handlers read them at start-up. Change a name here and both follow.

pub mod auth;
pub mod bundle;
pub mod env;
pub mod grants;
pub mod naming;
pub mod registry;
