//! Who sent a route event: the connection, and the user and team the
//! `$connect` authorizer verified (API Gateway passes the authorizer's context
//! to every route of the connection as `requestContext.authorizer`).

use crate::legacy::env::context;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::Value;
use std::fmt;

/// The sender of a route event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The verified user id.
    pub user_id: String,
    /// The user's team, if the token named one.
    pub team_id: Option<String>,
    /// When the connection was opened (epoch milliseconds).
    pub connected_at_ms: i64,
    /// When this request reached API Gateway (epoch milliseconds).
    pub request_time_ms: i64,
}

/// A route event without what every route needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerError {
    /// `requestContext.connectionId` is missing.
    NoConnectionId,
    /// `requestContext.authorizer.userId` is missing: the route is not behind the authorizer.
    NoUserId,
}

impl fmt::Display for CallerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerError::NoConnectionId => f.write_str("event has no requestContext.connectionId"),
            CallerError::NoUserId => write!(
                f,
                "event has no requestContext.authorizer.{}: is $connect behind the authorizer?",
                context::USER_ID
            ),
        }
    }
}

impl std::error::Error for CallerError {}

impl Caller {
    /// The caller of `event`.
    pub fn from_event(event: &ApiGatewayWebsocketProxyRequest) -> Result<Caller, CallerError> {
        let ctx = &event.request_context;
        let connection_id = ctx
            .connection_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(CallerError::NoConnectionId)?;
        let field = |name: &str| {
            ctx.authorizer
                .fields
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let user_id = field(context::USER_ID).ok_or(CallerError::NoUserId)?;
        Ok(Caller {
            connection_id,
            user_id,
            team_id: field(context::TEAM_ID),
            connected_at_ms: ctx.connected_at,
            request_time_ms: ctx.request_time_epoch,
        })
    }
}
