//! `$connect` and `$disconnect`: the registry row and the user's profile.

use crate::USER_ID;
use crate::profiles::Profiles;
use serde_json::json;
use sockstack_runtime::registry::{Connection, Opened, Registry};
use sockstack_runtime::{Caller, Response, RouteEvent, reply};

/// What connect and disconnect use.
#[derive(Debug, Clone)]
pub struct Tables {
    /// The connection registry (`connections: write`).
    pub registry: Registry,
    /// The profiles table (`profiles: write`).
    pub profiles: Profiles,
}

/// `$connect`: records the connection (registry row, then the profile). A
/// non-2xx answer refuses the connection, so a store failure is a 500 the
/// client can retry.
pub async fn connect(t: &Tables, event: &RouteEvent) -> Response {
    let caller = match Caller::from_event(event) {
        Ok(caller) => caller,
        Err(e) => return reply::error(400, "bad_request", &e.to_string()),
    };
    let user = match caller.require(USER_ID) {
        Ok(user) => user.to_string(),
        Err(e) => {
            tracing::error!(error = %e, "connect refused");
            return reply::error(400, "bad_request", &e.to_string());
        }
    };
    let connection = Connection::of_caller(&caller);
    let opened = match t.registry.open(&connection).await {
        Ok(opened) => opened,
        Err(e) => {
            tracing::error!(error = %e, "connect not recorded");
            return reply::error(500, "internal", "the connection could not be recorded");
        }
    };
    if opened == Opened::AlreadyClosed {
        tracing::info!(connection_id = %connection.connection_id, "connect after disconnect: ignored");
        return reply::ok(&json!({"type": "closed"}));
    }
    match t.profiles.add(&user, &connection.connection_id).await {
        Ok(()) => reply::ok(&json!({"type": "connected"})),
        Err(e) => {
            tracing::error!(error = %e, "profile not updated");
            reply::error(500, "internal", "the connection could not be recorded")
        }
    }
}

/// `$disconnect`: tombstones the row and removes the id from the profile. API
/// Gateway ignores the answer; a failure is logged (the row expires anyway).
pub async fn disconnect(t: &Tables, event: &RouteEvent) -> Response {
    let caller = match Caller::from_event(event) {
        Ok(caller) => caller,
        Err(e) => return reply::error(400, "bad_request", &e.to_string()),
    };
    let id = &caller.connection_id;
    let closed = t.registry.close(id, caller.at_ms()).await;
    // Without the authorizer's context the profile cannot be found, but the row is closed.
    let forgotten = match caller.get(USER_ID) {
        Some(user) => t.profiles.remove(user, id).await,
        None => Ok(()),
    };
    match closed.and(forgotten) {
        Ok(()) => reply::ok(&json!({"type": "disconnected"})),
        Err(e) => {
            tracing::error!(error = %e, connection_id = %id, "disconnect not recorded");
            reply::error(500, "internal", "the disconnection could not be recorded")
        }
    }
}
