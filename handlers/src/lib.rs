//! Lambda functions of the sockstack WebSocket backend.
//!
//! The binaries in `src/bin/` are small: each reads its settings from the
//! environment once (failing fast, naming the missing variable) and then runs
//! the Lambda handler loop. The logic lives here:
//!
//! - [`auth`] and [`jwks`]: the `$connect` authorizer (RS256 JWTs against a cached JWKS);
//! - [`store`]: connections and profiles over DynamoDB;
//! - [`notify`]: `PostToConnection` fan-out with bounded concurrency and retries;
//! - [`connection`], [`vote`], [`reply`]: the routes (`$connect`/`$disconnect`,
//!   `vote`, `$default`); [`caller`] reads who sent an event;
//! - [`settings`], [`aws`] and [`logging`]: environment, SDK clients, log lines.
//!
//! Every name shared with the synthesized template (environment variables,
//! tables, attributes, indexes) comes from [`contract`].

pub use sockstack_contract as contract;

pub mod auth;
pub mod aws;
pub mod caller;
pub mod connection;
pub mod jwks;
pub mod legacy;
pub mod logging;
pub mod notify;
pub mod reply;
pub mod settings;
pub mod store;
pub mod vote;
