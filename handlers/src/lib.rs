//! The team-health example: a team votes, everyone in the team sees each vote.
//!
//! Built on `sockstack-runtime`. The stack file gives it:
//! - an authorizer whose context is `userId` (← `sub`), `email`, `teamId`;
//! - a registry indexed by `teamId` and `userId` (a team's, a user's connections);
//! - its own table `profiles` (`{userId: S}`, a string set of the user's open
//!   connection ids), granted `write` to connect, disconnect and vote.
//!
//! Modules: [`profiles`] (the table), [`connection`] (`$connect`,
//! `$disconnect`), [`vote`] (the `vote` route). `$default` and the authorizer
//! are the runtime's.

pub mod connection;
pub mod profiles;
pub mod vote;

/// Context key of the verified user id (`authorizer.context` in the stack file).
pub const USER_ID: &str = "userId";
/// Context key of the user's team.
pub const TEAM_ID: &str = "teamId";
/// The stack file's name of the profiles table (its name is in `TABLE_PROFILES`).
pub const PROFILES: &str = "profiles";
