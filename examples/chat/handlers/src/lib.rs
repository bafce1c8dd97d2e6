//! A chat backend on `sockstack-runtime`: join a room (and get its recent
//! history), send a message to everyone in the room.
//!
//! Its stack file gives it two tables of its own:
//! - `rooms` (`{roomId: S, connectionId: S}`, TTL): who is in a room, one row
//!   per connection ([`rooms`]);
//! - `messages` (`{roomId: S, sentAt: N}`, TTL): each room's history ([`messages`]).
//!
//! Routes ([`routes`]): `join` (`rooms: write`, `messages: read`) and `send`
//! (`rooms: readwrite`, `messages: write`, `connections: send`). `$connect`
//! and `$disconnect` only open and close the registry row; `$default` and the
//! authorizer are the runtime's.

pub mod messages;
pub mod rooms;
pub mod routes;

/// Context key of the verified user id (`authorizer.context` in the stack file).
pub const USER_ID: &str = "userId";
/// Context key of the user's display name (optional).
pub const NAME: &str = "name";
/// The stack file's name of the rooms table (`TABLE_ROOMS`).
pub const ROOMS: &str = "rooms";
/// The stack file's name of the messages table (`TABLE_MESSAGES`).
pub const MESSAGES: &str = "messages";
