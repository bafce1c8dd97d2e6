//! The rooms table: one row per (room, connection) that joined it, expiring
//! with the connection (API Gateway closes every connection after two hours).

use sockstack_runtime::aws_sdk_dynamodb::Client;
use sockstack_runtime::aws_sdk_dynamodb::types::AttributeValue;
use sockstack_runtime::contract::registry::TTL_SECONDS;
use sockstack_runtime::registry::StoreError;
use std::collections::HashMap;

/// Partition key.
pub const ROOM_ID: &str = "roomId";
/// Sort key.
pub const CONNECTION_ID: &str = "connectionId";
/// Who joined.
pub const USER_ID: &str = "userId";
/// When (epoch milliseconds).
pub const JOINED_AT: &str = "joinedAt";
/// Time to live (epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

/// The rooms table.
#[derive(Debug, Clone)]
pub struct Rooms {
    db: Client,
    table: String,
}

impl Rooms {
    /// The table named `table`.
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Rooms {
            db,
            table: table.into(),
        }
    }

    /// Records that `connection_id` (of `user_id`) joined `room` at `at_ms` (PutItem).
    pub async fn join(
        &self,
        room: &str,
        connection_id: &str,
        user_id: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let expires = at_ms.div_euclid(1000) + TTL_SECONDS as i64;
        self.db
            .put_item()
            .table_name(&self.table)
            .item(ROOM_ID, s(room))
            .item(CONNECTION_ID, s(connection_id))
            .item(USER_ID, s(user_id))
            .item(JOINED_AT, AttributeValue::N(at_ms.to_string()))
            .item(EXPIRES_AT, AttributeValue::N(expires.to_string()))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Whether `connection_id` is in `room` (GetItem; expired rows do not count).
    pub async fn is_member(
        &self,
        room: &str,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let got = self
            .db
            .get_item()
            .table_name(&self.table)
            .key(ROOM_ID, s(room))
            .key(CONNECTION_ID, s(connection_id))
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", &self.table, e))?;
        Ok(got.item().is_some_and(|row| live(row, now_ms)))
    }

    /// The connection ids in `room` (Query; expired rows filtered out).
    pub async fn members(&self, room: &str, now_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .db
                .query()
                .table_name(&self.table)
                .key_condition_expression("#r = :r")
                .expression_attribute_names("#r", ROOM_ID)
                .expression_attribute_values(":r", s(room))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::sdk("Query", &self.table, e))?;
            for row in page.items() {
                if live(row, now_ms)
                    && let Some(Ok(id)) = row.get(CONNECTION_ID).map(AttributeValue::as_s)
                {
                    ids.push(id.clone());
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(ids)
    }

    /// Removes `connection_id` from `room` (DeleteItem): it is gone.
    pub async fn leave(&self, room: &str, connection_id: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key(ROOM_ID, s(room))
            .key(CONNECTION_ID, s(connection_id))
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", &self.table, e))?;
        Ok(())
    }
}

fn live(row: &HashMap<String, AttributeValue>, now_ms: i64) -> bool {
    row.get(EXPIRES_AT)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .is_some_and(|at| at > now_ms.div_euclid(1000))
}
