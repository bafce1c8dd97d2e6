//! The connection registry over DynamoDB (schema: [`sockstack_contract::registry`]).
//!
//! One row per connection: [`CONNECTION_ID`], [`CONNECTED_AT`], [`EXPIRES_AT`]
//! ([`TTL_SECONDS`] after the connection opened: API Gateway's maximum
//! connection time) and every authorizer-context key as a top-level string
//! attribute. The stack's `connections.indexBy` keys each have an index
//! (named in `CONNECTIONS_INDEXES`), so "every connection of group X" is one
//! `Query`. DynamoDB's TTL deletes expired rows lazily, so every read filters them.
//!
//! Events may repeat or arrive out of order, so:
//! - [`Registry::open`] writes the same row for the same event and refuses to
//!   overwrite a *tombstone*;
//! - [`Registry::close`] replaces the row with a tombstone ([`CLOSED_AT`],
//!   `expiresAt`, no context keys: in no index), so a late or repeated
//!   `$connect` for a closed connection changes nothing.
//!
//! Calls and the grants they need (`contract::grants`): `open`/`close` PutItem
//! (`connections: write`); `get`/`members` GetItem/Query (`connections: read`);
//! `remove` DeleteItem (`connections: send`, for 410 clean-up).

use crate::settings::{self, SettingsError, Source};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use sockstack_contract::registry::{
    CLOSED_AT, CONNECTED_AT, CONNECTION_ID, EXPIRES_AT, INDEXES_ENV, RESERVED_ATTRIBUTES,
    TABLE_ENV, TTL_SECONDS, parse_indexes,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One registered connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The authorizer's context, as stored (reserved attribute names left out).
    pub context: BTreeMap<String, String>,
    /// When the connection was opened (epoch milliseconds).
    pub connected_at_ms: i64,
    /// When the row expires (epoch seconds).
    pub expires_at: i64,
}

impl Connection {
    /// A connection opened at `connected_at_ms`, expiring [`TTL_SECONDS`] later.
    /// Context keys that are registry attribute names, and empty values, are dropped.
    pub fn opened(
        connection_id: impl Into<String>,
        context: impl IntoIterator<Item = (String, String)>,
        connected_at_ms: i64,
    ) -> Self {
        Connection {
            connection_id: connection_id.into(),
            context: context
                .into_iter()
                .filter(|(k, v)| !v.is_empty() && !RESERVED_ATTRIBUTES.contains(&k.as_str()))
                .collect(),
            connected_at_ms,
            expires_at: expires_at(connected_at_ms),
        }
    }

    /// The connection that `caller` opened (its time from the event, or now).
    pub fn of_caller(caller: &crate::caller::Caller) -> Self {
        let at = if caller.connected_at_ms > 0 {
            caller.connected_at_ms
        } else {
            crate::now_ms()
        };
        Connection::opened(caller.connection_id.clone(), caller.context.clone(), at)
    }

    /// Only an id (e.g. to post to connections the application lists itself).
    pub fn id(connection_id: impl Into<String>) -> Self {
        Connection {
            connection_id: connection_id.into(),
            context: BTreeMap::new(),
            connected_at_ms: 0,
            expires_at: 0,
        }
    }

    /// The context value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.context.get(key).map(String::as_str)
    }
}

fn expires_at(at_ms: i64) -> i64 {
    at_ms.div_euclid(1000) + TTL_SECONDS as i64
}

/// What [`Registry::open`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The row is written (or was already there).
    Recorded,
    /// The connection had already been closed; nothing was written.
    AlreadyClosed,
}

/// A DynamoDB call failed, or the registry was asked for something it cannot do.
#[derive(Debug)]
pub struct StoreError {
    /// The operation (`PutItem`, `Query`, …).
    pub operation: &'static str,
    /// The table.
    pub table: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DynamoDB {} on {}: {}",
            self.operation, self.table, self.message
        )
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// The error of an SDK call `operation` on `table`.
    pub fn sdk<E>(operation: &'static str, table: &str, e: SdkError<E>) -> StoreError
    where
        E: std::error::Error + 'static,
    {
        let message = match &e {
            SdkError::ServiceError(service) => format!("{}", service.err()),
            other => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(other)),
        };
        StoreError {
            operation,
            table: table.to_string(),
            message,
        }
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The registry table and its indexes.
#[derive(Debug, Clone)]
pub struct Registry {
    db: Client,
    table: String,
    /// Indexed context key → index name.
    indexes: BTreeMap<String, String>,
}

impl Registry {
    /// A registry over `table` with `indexes` (`(context key, index name)`).
    pub fn new(
        db: Client,
        table: impl Into<String>,
        indexes: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Registry {
            db,
            table: table.into(),
            indexes: indexes.into_iter().collect(),
        }
    }

    /// The registry named by `CONNECTIONS_TABLE` and `CONNECTIONS_INDEXES`
    /// (set by any `connections:` grant; the indexes may be empty).
    pub fn from_source(db: Client, source: &dyn Source) -> Result<Self, SettingsError> {
        let table = settings::required(source, TABLE_ENV)?;
        let raw = settings::optional(source, INDEXES_ENV).unwrap_or_default();
        let indexes = parse_indexes(&raw).ok_or_else(|| SettingsError::Invalid {
            name: INDEXES_ENV.to_string(),
            value: raw.clone(),
            expected: "key=IndexName pairs separated by commas".to_string(),
        })?;
        Ok(Registry::new(db, table, indexes))
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The context keys that have an index, with its name.
    pub fn indexes(&self) -> &BTreeMap<String, String> {
        &self.indexes
    }

    /// Records an opened connection. Repeating it is harmless; after a close it does nothing.
    pub async fn open(&self, c: &Connection) -> Result<Opened, StoreError> {
        let mut item = HashMap::from([
            (CONNECTION_ID.to_string(), s(&c.connection_id)),
            (CONNECTED_AT.to_string(), n(c.connected_at_ms)),
            (EXPIRES_AT.to_string(), n(c.expires_at)),
        ]);
        for (key, value) in &c.context {
            if !RESERVED_ATTRIBUTES.contains(&key.as_str()) && !value.is_empty() {
                item.insert(key.clone(), s(value));
            }
        }
        let put = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#closed)")
            .expression_attribute_names("#closed", CLOSED_AT)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Opened::Recorded),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Opened::AlreadyClosed)
            }
            Err(e) => Err(StoreError::sdk("PutItem", &self.table, e)),
        }
    }

    /// Records a closed connection: a tombstone replaces the row. Repeating it,
    /// or running it before the open, is harmless.
    pub async fn close(&self, connection_id: &str, closed_at_ms: i64) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item(CONNECTION_ID, s(connection_id))
            .item(CLOSED_AT, n(closed_at_ms))
            .item(EXPIRES_AT, n(expires_at(closed_at_ms)))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", &self.table, e))?;
        Ok(())
    }

    /// Deletes the row of a connection API Gateway says is gone (410).
    pub async fn remove(&self, connection_id: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key(CONNECTION_ID, s(connection_id))
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", &self.table, e))?;
        Ok(())
    }

    /// The live connection with this id (`None` if unknown, closed or expired).
    pub async fn get(
        &self,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Option<Connection>, StoreError> {
        let got = self
            .db
            .get_item()
            .table_name(&self.table)
            .key(CONNECTION_ID, s(connection_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", &self.table, e))?;
        Ok(got.item().and_then(|item| from_item(item, now_ms)))
    }

    /// The live connections whose context `key` is `value`, through `key`'s index.
    /// A key the stack does not index is an error naming the indexed ones.
    pub async fn members(
        &self,
        key: &str,
        value: &str,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let Some(index) = self.indexes.get(key) else {
            return Err(StoreError {
                operation: "Query",
                table: self.table.clone(),
                message: format!(
                    "context key {key:?} is not indexed (indexed: {}); add it to connections.indexBy",
                    if self.indexes.is_empty() {
                        "none".to_string()
                    } else {
                        self.indexes.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            });
        };
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .db
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .filter_expression("#e > :now")
                .expression_attribute_names("#k", key)
                .expression_attribute_names("#e", EXPIRES_AT)
                .expression_attribute_values(":k", s(value))
                .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::sdk("Query", &self.table, e))?;
            for item in page.items() {
                if let Some(c) = from_item(item, now_ms) {
                    found.push(c);
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.connection_id.cmp(&b.connection_id));
        Ok(found)
    }
}

/// A live connection from a row (`None` for tombstones, expired or incomplete rows).
fn from_item(item: &HashMap<String, AttributeValue>, now_ms: i64) -> Option<Connection> {
    if item.contains_key(CLOSED_AT) {
        return None;
    }
    let number = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    let expires_at = number(EXPIRES_AT)?;
    if expires_at <= now_ms.div_euclid(1000) {
        return None;
    }
    let connection_id = item.get(CONNECTION_ID)?.as_s().ok()?.clone();
    let context = item
        .iter()
        .filter(|(k, _)| !RESERVED_ATTRIBUTES.contains(&k.as_str()))
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone())))
        .collect();
    Some(Connection {
        connection_id,
        context,
        connected_at_ms: number(CONNECTED_AT).unwrap_or(0),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_drops_reserved_and_empty_context() {
        let c = Connection::opened(
            "c",
            [
                ("userId".to_string(), "u".to_string()),
                (CLOSED_AT.to_string(), "x".to_string()),
                ("teamId".to_string(), String::new()),
            ],
            10_000,
        );
        assert_eq!(c.context.keys().collect::<Vec<_>>(), ["userId"]);
        assert_eq!(c.expires_at, 10 + TTL_SECONDS as i64);
    }

    #[test]
    fn rows_become_live_connections_or_nothing() {
        let row = HashMap::from([
            (CONNECTION_ID.to_string(), s("c")),
            (CONNECTED_AT.to_string(), n(5)),
            (EXPIRES_AT.to_string(), n(100)),
            ("roomId".to_string(), s("r")),
        ]);
        let live = from_item(&row, 99_000).unwrap();
        assert_eq!(live.get("roomId"), Some("r"));
        assert_eq!(live.context.len(), 1);
        assert_eq!(from_item(&row, 100_000), None, "expired");
        let mut tomb = row.clone();
        tomb.insert(CLOSED_AT.to_string(), n(1));
        assert_eq!(from_item(&tomb, 0), None, "tombstone");
    }
}
