//! The team-health names these example handlers were written against, moved here
//! from the contract crate (which now holds only generic conventions) so the
//! handlers keep building until they move onto the runtime crate.

pub mod access;
pub mod env;
pub mod tables;

pub use access::{Access, AccessProfile, Grant};
pub use tables::Table;
