//! Who sent a route event: the connection, and the identity the `$connect`
//! authorizer verified. API Gateway passes the authorizer's `principalId` and
//! `context` to every event of the connection as `requestContext.authorizer`
//! (see [`sockstack_contract::auth`]).

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Fields API Gateway itself adds to `requestContext.authorizer`: not context keys.
const GATEWAY_FIELDS: [&str; 2] = ["principalId", "integrationLatency"];

/// The sender of a route event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The route key (`$connect`, `send`, …), if the event names it.
    pub route_key: Option<String>,
    /// The authorizer's `principalId` (the token's `sub`); `None` on a public connection.
    pub principal_id: Option<String>,
    /// The authorizer's context: every non-empty scalar value as a string.
    pub context: BTreeMap<String, String>,
    /// When the connection was opened (epoch milliseconds; 0 if unknown).
    pub connected_at_ms: i64,
    /// When this request reached API Gateway (epoch milliseconds; 0 if unknown).
    pub request_time_ms: i64,
}

/// A route event without something the handler needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerError {
    /// `requestContext.connectionId` is missing.
    NoConnectionId,
    /// `requestContext.authorizer.<key>` is missing or empty.
    NoContext(String),
    /// `requestContext.authorizer.principalId` is missing: the route is not behind the authorizer.
    NoPrincipal,
}

impl fmt::Display for CallerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerError::NoConnectionId => f.write_str("event has no requestContext.connectionId"),
            CallerError::NoContext(key) => write!(
                f,
                "event has no requestContext.authorizer.{key}: is $connect behind the authorizer, \
                 and does the stack's authorizer.context map {key}?"
            ),
            CallerError::NoPrincipal => f.write_str(
                "event has no requestContext.authorizer.principalId: is $connect behind the authorizer?",
            ),
        }
    }
}

impl std::error::Error for CallerError {}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Caller {
    /// The caller of `event`. Only the connection id is required.
    pub fn from_event(event: &ApiGatewayWebsocketProxyRequest) -> Result<Caller, CallerError> {
        let ctx = &event.request_context;
        let connection_id = ctx
            .connection_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(CallerError::NoConnectionId)?;
        let fields = &ctx.authorizer.fields;
        let principal_id = fields.get("principalId").and_then(scalar);
        let context = fields
            .iter()
            .filter(|(k, _)| !GATEWAY_FIELDS.contains(&k.as_str()))
            .filter_map(|(k, v)| scalar(v).map(|v| (k.clone(), v)))
            .collect();
        Ok(Caller {
            connection_id,
            route_key: ctx.route_key.clone(),
            principal_id,
            context,
            connected_at_ms: ctx.connected_at,
            request_time_ms: ctx.request_time_epoch,
        })
    }

    /// The context value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.context.get(key).map(String::as_str)
    }

    /// The context value of `key`, or an error naming it.
    pub fn require(&self, key: &str) -> Result<&str, CallerError> {
        self.get(key)
            .ok_or_else(|| CallerError::NoContext(key.to_string()))
    }

    /// The verified principal (`sub`), or an error if the connection was not authorized.
    pub fn principal(&self) -> Result<&str, CallerError> {
        self.principal_id.as_deref().ok_or(CallerError::NoPrincipal)
    }

    /// When the request arrived (epoch milliseconds): the event's time, or now if it has none.
    pub fn at_ms(&self) -> i64 {
        if self.request_time_ms > 0 {
            self.request_time_ms
        } else {
            crate::now_ms()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(authorizer: Value) -> ApiGatewayWebsocketProxyRequest {
        serde_json::from_value(json!({
            "requestContext": {
                "routeKey": "send", "eventType": "MESSAGE", "stage": "dev",
                "connectedAt": 1, "requestTimeEpoch": 2, "requestId": "r",
                "connectionId": "c1=", "apiId": "a", "authorizer": authorizer,
            },
            "isBase64Encoded": false,
        }))
        .unwrap()
    }

    #[test]
    fn context_keys_are_the_authorizer_fields_but_the_gateways() {
        let c = Caller::from_event(&event(json!({
            "principalId": "u1", "integrationLatency": 12,
            "userId": "u1", "roomId": "r9", "level": 3, "admin": false, "empty": "",
        })))
        .unwrap();
        assert_eq!(c.connection_id, "c1=");
        assert_eq!(c.route_key.as_deref(), Some("send"));
        assert_eq!(c.principal(), Ok("u1"));
        assert_eq!(
            c.context.keys().collect::<Vec<_>>(),
            ["admin", "level", "roomId", "userId"]
        );
        assert_eq!(c.get("level"), Some("3"));
        assert_eq!(
            c.require("teamId"),
            Err(CallerError::NoContext("teamId".into()))
        );
        assert!(
            c.require("teamId")
                .unwrap_err()
                .to_string()
                .contains("authorizer.teamId")
        );
    }

    #[test]
    fn a_public_connection_has_no_principal() {
        let c = Caller::from_event(&event(json!({}))).unwrap();
        assert_eq!(c.principal(), Err(CallerError::NoPrincipal));
        assert!(c.context.is_empty());
    }
}
