//! The `vote` route: `{"action":"vote","value":…}` is checked and sent to
//! every live connection of the sender's team (the registry's `teamId`
//! index); connections that are gone leave the registry and their profile.

use crate::profiles::Profiles;
use crate::{TEAM_ID, USER_ID};
use serde_json::{Map, Value, json};
use sockstack_runtime::fanout::{FanOut, Notifier, send_to_group};
use sockstack_runtime::registry::{Registry, StoreError};
use sockstack_runtime::{Caller, Response, RouteEvent, reply};

/// The route key (and the `action` of every vote message).
pub const ACTION: &str = "vote";

/// Longest string value accepted, in characters.
pub const MAX_VALUE_CHARS: usize = 64;

/// A request the sender gets an error for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Machine-readable code (`invalid_json`, `invalid_action`, `invalid_value`, `unexpected_field`).
    pub code: &'static str,
    /// For a person.
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        code,
        message: message.into(),
    }
}

const VALUE_SHAPE: &str =
    "a string of 1 to 64 characters (no control characters) or a finite number";

/// The vote's value from a message body.
pub fn parse(body: Option<&str>) -> Result<Value, Invalid> {
    let body = body.unwrap_or("");
    let message: Value = serde_json::from_str(body).map_err(|e| {
        invalid(
            "invalid_json",
            format!("the message is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(mut fields) = message else {
        return Err(invalid("invalid_json", "the message must be a JSON object"));
    };
    match fields.remove("action") {
        Some(Value::String(a)) if a == ACTION => {}
        _ => {
            return Err(invalid(
                "invalid_action",
                format!("\"action\" must be {ACTION:?}"),
            ));
        }
    }
    let value = fields.remove("value").ok_or_else(|| {
        invalid(
            "invalid_value",
            format!("\"value\" is required: {VALUE_SHAPE}"),
        )
    })?;
    if let Some(extra) = fields.keys().next() {
        return Err(invalid(
            "unexpected_field",
            format!("unexpected field {extra:?}: a vote has only \"action\" and \"value\""),
        ));
    }
    let ok = match &value {
        Value::String(s) => {
            let chars = s.chars().count();
            (1..=MAX_VALUE_CHARS).contains(&chars) && !s.chars().any(char::is_control)
        }
        Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        _ => false,
    };
    if ok {
        Ok(value)
    } else {
        Err(invalid(
            "invalid_value",
            format!("\"value\" must be {VALUE_SHAPE}"),
        ))
    }
}

/// The message every connection of the team receives.
pub fn message(user_id: &str, team_id: &str, value: &Value, at_ms: i64) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("type".into(), json!("vote"));
    m.insert("teamId".into(), json!(team_id));
    m.insert("userId".into(), json!(user_id));
    m.insert("value".into(), value.clone());
    m.insert("at".into(), json!(at_ms));
    Value::Object(m).to_string().into_bytes()
}

/// What vote (and the `notify` tool) use.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The registry (`connections: [read, send]`).
    pub registry: Registry,
    /// The profiles table (`profiles: write`), for connections that are gone.
    pub profiles: Profiles,
    /// Posts to `@connections`.
    pub notifier: Notifier,
}

impl Sender {
    /// Sends `data` to every live connection whose context `key` is `value`,
    /// then removes the gone ones from their users' profiles (the runtime
    /// already removed their registry rows). Clean-up failures are logged.
    pub async fn send(&self, key: &str, value: &str, data: &[u8]) -> Result<FanOut, StoreError> {
        let result = send_to_group(&self.registry, &self.notifier, key, value, data).await?;
        for gone in &result.gone {
            if let Some(user) = gone.get(USER_ID)
                && let Err(e) = self.profiles.remove(user, &gone.connection_id).await
            {
                tracing::warn!(connection_id = %gone.connection_id, error = %e, "profile not cleaned");
            }
        }
        Ok(result)
    }
}

/// Handles one `vote` event.
pub async fn handle(sender: &Sender, event: &RouteEvent) -> Response {
    let caller = match Caller::from_event(event) {
        Ok(caller) => caller,
        Err(e) => return reply::error(400, "bad_request", &e.to_string()),
    };
    let user = match caller.require(USER_ID) {
        Ok(user) => user.to_string(),
        Err(e) => {
            tracing::error!(error = %e, "vote without a user");
            return reply::error(400, "bad_request", &e.to_string());
        }
    };
    let value = match parse(event.body.as_deref()) {
        Ok(value) => value,
        Err(e) => return reply::error(400, e.code, &e.message),
    };
    let Some(team_id) = caller.get(TEAM_ID).map(str::to_string) else {
        return reply::error(403, "no_team", "your token names no team to vote in");
    };
    let data = message(&user, &team_id, &value, caller.at_ms());
    match sender.send(TEAM_ID, &team_id, &data).await {
        Ok(result) => reply::ok(&json!({
            "type": "voted",
            "delivered": result.delivered.len(),
            "stale": result.gone.len(),
            "failed": result.failed.len() + result.too_large.len(),
        })),
        Err(e) => {
            tracing::error!(error = %e, team_id = %team_id, "vote not sent");
            reply::error(500, "internal", "the vote could not be sent; try again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_are_checked() {
        assert_eq!(
            parse(Some(r#"{"action":"vote","value":"5"}"#)),
            Ok(json!("5"))
        );
        assert_eq!(
            parse(Some(r#"{"action":"vote","value":3.5}"#)),
            Ok(json!(3.5))
        );
        let code = |b: Option<&str>| parse(b).unwrap_err().code;
        assert_eq!(code(None), "invalid_json");
        assert_eq!(code(Some("{")), "invalid_json");
        assert_eq!(code(Some("[1]")), "invalid_json");
        assert_eq!(
            code(Some(r#"{"action":"chat","value":1}"#)),
            "invalid_action"
        );
        assert_eq!(code(Some(r#"{"action":"vote"}"#)), "invalid_value");
        assert_eq!(
            code(Some(r#"{"action":"vote","value":""}"#)),
            "invalid_value"
        );
        assert_eq!(
            code(Some(r#"{"action":"vote","value":null}"#)),
            "invalid_value"
        );
        assert_eq!(
            code(Some(r#"{"action":"vote","value":{"a":1}}"#)),
            "invalid_value"
        );
        assert_eq!(
            code(Some(r#"{"action":"vote","value":"a\u0000"}"#)),
            "invalid_value"
        );
        let long = format!(r#"{{"action":"vote","value":"{}"}}"#, "x".repeat(65));
        assert_eq!(code(Some(&long)), "invalid_value");
        assert_eq!(
            code(Some(r#"{"action":"vote","value":1,"x":2}"#)),
            "unexpected_field"
        );
    }
}
