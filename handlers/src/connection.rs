//! The `$connect` and `$disconnect` routes.

use crate::caller::{Caller, CallerError};
use crate::reply;
use crate::store::{Connection, Opened, Store, now_ms};
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use serde_json::json;

/// `$connect`: records the connection (row + profile). A non-2xx answer
/// refuses the connection, so a store failure is a 500 the client can retry.
pub async fn connect(
    store: &Store,
    event: &ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let caller = match Caller::from_event(event) {
        Ok(caller) => caller,
        Err(e) => {
            tracing::error!(error = %e, "connect refused");
            return reply::error(400, "bad_request", &e.to_string());
        }
    };
    let opened_at = if caller.connected_at_ms > 0 {
        caller.connected_at_ms
    } else {
        now_ms()
    };
    let connection = Connection::opened(
        caller.connection_id,
        caller.user_id,
        caller.team_id,
        opened_at,
    );
    match store.connect(&connection).await {
        Ok(Opened::Recorded) => reply::ok(&json!({"type": "connected"})),
        Ok(Opened::AlreadyClosed) => {
            tracing::info!(connection_id = %connection.connection_id, "connect after disconnect: ignored");
            reply::ok(&json!({"type": "closed"}))
        }
        Err(e) => {
            tracing::error!(error = %e, "connect not recorded");
            reply::error(500, "internal", "the connection could not be recorded")
        }
    }
}

/// `$disconnect`: forgets the connection. API Gateway ignores the answer; a
/// store failure is logged (the row expires anyway).
pub async fn disconnect(
    store: &Store,
    event: &ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let (connection_id, user_id, at) = match Caller::from_event(event) {
        Ok(c) => (c.connection_id, c.user_id, c.request_time_ms),
        // Without the authorizer's context the profile cannot be found, but the row can.
        Err(CallerError::NoUserId) => match event.request_context.connection_id.clone() {
            Some(id) if !id.is_empty() => {
                (id, String::new(), event.request_context.request_time_epoch)
            }
            _ => return reply::error(400, "bad_request", &CallerError::NoConnectionId.to_string()),
        },
        Err(e) => return reply::error(400, "bad_request", &e.to_string()),
    };
    let at = if at > 0 { at } else { now_ms() };
    match store.disconnect(&connection_id, &user_id, at).await {
        Ok(()) => reply::ok(&json!({"type": "disconnected"})),
        Err(e) => {
            tracing::error!(error = %e, connection_id = %connection_id, "disconnect not recorded");
            reply::error(500, "internal", "the disconnection could not be recorded")
        }
    }
}
