//! The `join` and `send` routes (both two-way: the sender gets the answer).
//!
//! - `{"action":"join","roomId":"lobby"}` → the connection joins the room;
//!   answer `{"type":"joined","roomId":…,"history":[message, …]}`.
//! - `{"action":"send","roomId":"lobby","text":"hi"}` → stored, then posted
//!   to every connection in the room (the sender's too); answer
//!   `{"type":"sent","sentAt":…,"delivered":n}`. Only members may send.

use crate::messages::{Message, Messages};
use crate::rooms::Rooms;
use crate::{NAME, USER_ID};
use serde_json::{Map, Value, json};
use sockstack_runtime::fanout::{Notifier, send_to_ids};
use sockstack_runtime::{Caller, Registry, Response, RouteEvent, reply};

/// Longest room id, in characters (letters, digits, `-` and `_`).
pub const MAX_ROOM_CHARS: usize = 64;
/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// A message the sender gets an error for: `(code, message)`.
pub type Invalid = (&'static str, String);

fn object(body: Option<&str>, action: &str) -> Result<Map<String, Value>, Invalid> {
    let value: Value = serde_json::from_str(body.unwrap_or("")).map_err(|e| {
        (
            "invalid_json",
            format!("the message is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(fields) = value else {
        return Err(("invalid_json", "the message must be a JSON object".into()));
    };
    if fields.get("action").and_then(Value::as_str) != Some(action) {
        return Err(("invalid_action", format!("\"action\" must be {action:?}")));
    }
    Ok(fields)
}

fn room(fields: &Map<String, Value>) -> Result<String, Invalid> {
    match fields.get("roomId").and_then(Value::as_str) {
        Some(r)
            if (1..=MAX_ROOM_CHARS).contains(&r.chars().count())
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(r.to_string())
        }
        _ => Err((
            "invalid_room",
            format!("\"roomId\" must be 1 to {MAX_ROOM_CHARS} letters, digits, '-' or '_'"),
        )),
    }
}

/// The room of a `join` message.
pub fn parse_join(body: Option<&str>) -> Result<String, Invalid> {
    room(&object(body, "join")?)
}

/// The room and text of a `send` message.
pub fn parse_send(body: Option<&str>) -> Result<(String, String), Invalid> {
    let fields = object(body, "send")?;
    let room = room(&fields)?;
    match fields.get("text").and_then(Value::as_str) {
        Some(t) if (1..=MAX_TEXT_CHARS).contains(&t.chars().count()) => Ok((room, t.to_string())),
        _ => Err((
            "invalid_text",
            format!("\"text\" must be a string of 1 to {MAX_TEXT_CHARS} characters"),
        )),
    }
}

/// The caller and its user id, or the error answer (boxed: a response is large).
fn caller_and_user(event: &RouteEvent) -> Result<(Caller, String), Box<Response>> {
    let caller = Caller::from_event(event)
        .map_err(|e| Box::new(reply::error(400, "bad_request", &e.to_string())))?;
    let user = caller
        .require(USER_ID)
        .map_err(|e| Box::new(reply::error(400, "bad_request", &e.to_string())))?
        .to_string();
    Ok((caller, user))
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what}");
    reply::error(500, "internal", &format!("{what}; try again"))
}

/// What `join` uses.
#[derive(Debug, Clone)]
pub struct Join {
    /// `rooms: write`.
    pub rooms: Rooms,
    /// `messages: read`.
    pub messages: Messages,
}

/// Handles one `join` event.
pub async fn join(j: &Join, event: &RouteEvent) -> Response {
    let (caller, user) = match caller_and_user(event) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let room = match parse_join(event.body.as_deref()) {
        Ok(room) => room,
        Err((code, message)) => return reply::error(400, code, &message),
    };
    if let Err(e) = j
        .rooms
        .join(&room, &caller.connection_id, &user, caller.at_ms())
        .await
    {
        return internal("could not join the room", e);
    }
    match j.messages.history(&room, caller.at_ms()).await {
        Ok(history) => reply::ok(&json!({
            "type": "joined",
            "roomId": room,
            "history": history.iter().map(Message::to_json).collect::<Vec<_>>(),
        })),
        Err(e) => internal("could not read the room's history", e),
    }
}

/// What `send` uses.
#[derive(Debug, Clone)]
pub struct Send {
    /// `rooms: readwrite`: membership, members, and removing gone ones.
    pub rooms: Rooms,
    /// `messages: write`.
    pub messages: Messages,
    /// `connections: send`: the registry rows of gone connections are removed.
    pub registry: Registry,
    /// Posts to `@connections`.
    pub notifier: Notifier,
}

/// Handles one `send` event.
pub async fn send(s: &Send, event: &RouteEvent) -> Response {
    let (caller, user) = match caller_and_user(event) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let (room, text) = match parse_send(event.body.as_deref()) {
        Ok(parsed) => parsed,
        Err((code, message)) => return reply::error(400, code, &message),
    };
    let now = caller.at_ms();
    match s.rooms.is_member(&room, &caller.connection_id, now).await {
        Ok(true) => {}
        Ok(false) => {
            return reply::error(
                403,
                "not_member",
                &format!("join {room:?} before sending to it"),
            );
        }
        Err(e) => return internal("could not check the room", e),
    }
    let message = Message {
        room_id: room.clone(),
        sent_at: now,
        user_id: user,
        name: caller.get(NAME).map(str::to_string),
        text,
    };
    let message = match s.messages.put(message).await {
        Ok(m) => m,
        Err(e) => return internal("could not store the message", e),
    };
    let members = match s.rooms.members(&room, now).await {
        Ok(m) => m,
        Err(e) => return internal("could not list the room", e),
    };
    let data = message.to_json().to_string();
    let result = send_to_ids(&s.registry, &s.notifier, &members, data.as_bytes()).await;
    for gone in &result.gone {
        if let Err(e) = s.rooms.leave(&room, &gone.connection_id).await {
            tracing::warn!(connection_id = %gone.connection_id, error = %e, "gone member not removed");
        }
    }
    reply::ok(&json!({
        "type": "sent",
        "sentAt": message.sent_at,
        "delivered": result.delivered.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_checked() {
        assert_eq!(
            parse_join(Some(r#"{"action":"join","roomId":"lobby-1"}"#)),
            Ok("lobby-1".into())
        );
        assert_eq!(
            parse_send(Some(r#"{"action":"send","roomId":"r","text":"hi"}"#)),
            Ok(("r".into(), "hi".into()))
        );
        let code = |r: Result<String, Invalid>| r.unwrap_err().0;
        assert_eq!(code(parse_join(None)), "invalid_json");
        assert_eq!(code(parse_join(Some("[1]"))), "invalid_json");
        assert_eq!(
            code(parse_join(Some(r#"{"action":"send","roomId":"r"}"#))),
            "invalid_action"
        );
        assert_eq!(
            code(parse_join(Some(r#"{"action":"join","roomId":"a b"}"#))),
            "invalid_room"
        );
        assert_eq!(
            code(parse_join(Some(r#"{"action":"join"}"#))),
            "invalid_room"
        );
        let long = format!(
            r#"{{"action":"send","roomId":"r","text":"{}"}}"#,
            "x".repeat(1001)
        );
        assert_eq!(parse_send(Some(&long)).unwrap_err().0, "invalid_text");
        assert_eq!(
            parse_send(Some(r#"{"action":"send","roomId":"r","text":""}"#))
                .unwrap_err()
                .0,
            "invalid_text"
        );
    }
}
