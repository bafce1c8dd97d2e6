//! A public WebSocket echo on `sockstack-runtime`: `$connect` accepts anyone,
//! `$disconnect` logs, `$default` (two-way) sends every message back.

use serde_json::json;
use sockstack_runtime::{Caller, Response, RouteEvent, reply};

/// `$connect`: accepts the connection (a 2xx answer).
pub fn connect(event: &RouteEvent) -> Response {
    match Caller::from_event(event) {
        Ok(caller) => {
            tracing::info!(connection_id = %caller.connection_id, "connected");
            reply::ok(&json!({"type": "connected"}))
        }
        Err(e) => reply::error(400, "bad_request", &e.to_string()),
    }
}

/// `$disconnect`: logs the connection that closed (API Gateway ignores the answer).
pub fn disconnect(event: &RouteEvent) -> Response {
    let id = event
        .request_context
        .connection_id
        .as_deref()
        .unwrap_or("-");
    tracing::info!(connection_id = %id, "disconnected");
    reply::ok(&json!({"type": "disconnected"}))
}

/// `$default`: `{"type":"echo","message":<what was sent>}`: JSON as JSON, anything else as a string.
pub fn echo(event: &RouteEvent) -> Response {
    let body = event.body.as_deref().unwrap_or("");
    let message = serde_json::from_str(body).unwrap_or_else(|_| json!(body));
    reply::ok(&json!({"type": "echo", "message": message}))
}
