//! The messages table: a room's history, keyed by room and send time.

use serde_json::{Value, json};
use sockstack_runtime::aws_sdk_dynamodb::Client;
use sockstack_runtime::aws_sdk_dynamodb::error::SdkError;
use sockstack_runtime::aws_sdk_dynamodb::types::AttributeValue;
use sockstack_runtime::registry::StoreError;
use std::collections::HashMap;

/// Partition key.
pub const ROOM_ID: &str = "roomId";
/// Sort key: when the message was sent (epoch milliseconds).
pub const SENT_AT: &str = "sentAt";
/// Time to live (epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";
/// How long a message is kept.
pub const KEEP_SECONDS: i64 = 7 * 24 * 60 * 60;
/// How many messages a join returns.
pub const HISTORY: i32 = 50;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The room.
    pub room_id: String,
    /// When it was sent (epoch milliseconds; unique within the room).
    pub sent_at: i64,
    /// Who sent it.
    pub user_id: String,
    /// The sender's display name, if the token had one.
    pub name: Option<String>,
    /// What was said.
    pub text: String,
}

impl Message {
    /// The message as clients receive it.
    pub fn to_json(&self) -> Value {
        json!({
            "type": "message",
            "roomId": self.room_id,
            "sentAt": self.sent_at,
            "userId": self.user_id,
            "name": self.name,
            "text": self.text,
        })
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The messages table.
#[derive(Debug, Clone)]
pub struct Messages {
    db: Client,
    table: String,
}

impl Messages {
    /// The table named `table`.
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Messages {
            db,
            table: table.into(),
        }
    }

    /// Stores `message` (PutItem). Two messages of a room in the same
    /// millisecond: the later one moves on by a millisecond, so none is overwritten.
    /// Returns the message as stored.
    pub async fn put(&self, mut message: Message) -> Result<Message, StoreError> {
        for _ in 0..10 {
            let mut put = self
                .db
                .put_item()
                .table_name(&self.table)
                .item(ROOM_ID, s(&message.room_id))
                .item(SENT_AT, n(message.sent_at))
                .item("userId", s(&message.user_id))
                .item("text", s(&message.text))
                .item(
                    EXPIRES_AT,
                    n(message.sent_at.div_euclid(1000) + KEEP_SECONDS),
                )
                .condition_expression("attribute_not_exists(#t)")
                .expression_attribute_names("#t", SENT_AT);
            if let Some(name) = &message.name {
                put = put.item("name", s(name));
            }
            match put.send().await {
                Ok(_) => return Ok(message),
                Err(SdkError::ServiceError(e))
                    if e.err().is_conditional_check_failed_exception() =>
                {
                    message.sent_at += 1;
                }
                Err(e) => return Err(StoreError::sdk("PutItem", &self.table, e)),
            }
        }
        Err(StoreError {
            operation: "PutItem",
            table: self.table.clone(),
            message: "ten messages in the same millisecond".to_string(),
        })
    }

    /// The room's last [`HISTORY`] messages, oldest first (Query; expired ones left out).
    pub async fn history(&self, room: &str, now_ms: i64) -> Result<Vec<Message>, StoreError> {
        let page = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("#r = :r")
            .expression_attribute_names("#r", ROOM_ID)
            .expression_attribute_values(":r", s(room))
            .scan_index_forward(false)
            .limit(HISTORY)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", &self.table, e))?;
        let mut found: Vec<Message> = page
            .items()
            .iter()
            .filter_map(|row| from_row(row, now_ms))
            .collect();
        found.reverse();
        Ok(found)
    }
}

fn from_row(row: &HashMap<String, AttributeValue>, now_ms: i64) -> Option<Message> {
    let string = |k: &str| row.get(k).and_then(|v| v.as_s().ok()).cloned();
    let number = |k: &str| {
        row.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    if number(EXPIRES_AT).is_some_and(|at| at <= now_ms.div_euclid(1000)) {
        return None;
    }
    Some(Message {
        room_id: string(ROOM_ID)?,
        sent_at: number(SENT_AT)?,
        user_id: string("userId")?,
        name: string("name"),
        text: string("text")?,
    })
}
