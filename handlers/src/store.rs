//! Connections and profiles over DynamoDB.
//!
//! A Connections row is written when a connection opens and carries
//! `expiresAt` (epoch seconds, [`connections::TTL_SECONDS`] ahead: API
//! Gateway's maximum connection time). DynamoDB's TTL deletes expired rows
//! lazily, so every read filters them out.
//!
//! Events may repeat or arrive out of order, so:
//! - connect writes the same row for the same event (its times come from the
//!   event), and refuses to overwrite a *tombstone*;
//! - disconnect replaces the row with a tombstone (`connectionId`,
//!   [`CLOSED_AT`], `expiresAt`; no user or team, so it is in no index)
//!   instead of deleting it, so a late or repeated connect for a closed
//!   connection changes nothing. The tombstone expires like any row.
//!
//! The Profiles row lists the user's open connection ids in a string set:
//! connect adds, disconnect and stale-connection clean-up remove (removal
//! never creates a row).

use crate::legacy::env;
use crate::legacy::tables::{connections, profiles};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::fmt;

/// Attribute of a tombstone: when the connection was closed (epoch milliseconds).
/// Only the handlers read it, so it is not part of the contract.
pub const CLOSED_AT: &str = "closedAt";

/// One open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The user id the authorizer verified.
    pub user_id: String,
    /// The user's team, if any.
    pub team_id: Option<String>,
    /// When the connection was opened (epoch milliseconds).
    pub connected_at_ms: i64,
    /// When the row expires (epoch seconds).
    pub expires_at: i64,
}

impl Connection {
    /// A connection opened at `connected_at_ms`, expiring [`connections::TTL_SECONDS`] later.
    pub fn opened(
        connection_id: impl Into<String>,
        user_id: impl Into<String>,
        team_id: Option<String>,
        connected_at_ms: i64,
    ) -> Self {
        Connection {
            connection_id: connection_id.into(),
            user_id: user_id.into(),
            team_id: team_id.filter(|t| !t.is_empty()),
            connected_at_ms,
            expires_at: connected_at_ms.div_euclid(1000) + connections::TTL_SECONDS as i64,
        }
    }
}

/// What connect did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The row is written (or was already there) and the profile lists the connection.
    Recorded,
    /// The connection had already been closed; nothing was written.
    AlreadyClosed,
}

/// A DynamoDB call failed.
#[derive(Debug)]
pub struct StoreError {
    /// The operation (`PutItem`, `Query`, …).
    pub operation: &'static str,
    /// The table.
    pub table: String,
    /// What the SDK said.
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

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The two tables.
#[derive(Debug, Clone)]
pub struct Store {
    db: Client,
    connections: String,
    profiles: String,
}

impl Store {
    /// A store over the named tables.
    pub fn new(db: Client, connections: impl Into<String>, profiles: impl Into<String>) -> Self {
        Store {
            db,
            connections: connections.into(),
            profiles: profiles.into(),
        }
    }

    /// A store over the tables named by `CONNECTIONS_TABLE` and `PROFILES_TABLE`.
    pub fn from_source(
        db: Client,
        source: &dyn crate::settings::Source,
    ) -> Result<Self, crate::settings::SettingsError> {
        Ok(Store::new(
            db,
            crate::settings::required(source, env::CONNECTIONS_TABLE)?,
            crate::settings::required(source, env::PROFILES_TABLE)?,
        ))
    }

    /// The Connections table's name.
    pub fn connections_table(&self) -> &str {
        &self.connections
    }

    /// The Profiles table's name.
    pub fn profiles_table(&self) -> &str {
        &self.profiles
    }

    fn err<E>(&self, operation: &'static str, table: &str, e: SdkError<E>) -> StoreError
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

    /// Records an opened connection: the Connections row, then the id in the
    /// user's profile. Repeating it is harmless; after a disconnect it does nothing.
    pub async fn connect(&self, c: &Connection) -> Result<Opened, StoreError> {
        let mut item = HashMap::from([
            (connections::CONNECTION_ID.to_string(), s(&c.connection_id)),
            (connections::USER_ID.to_string(), s(&c.user_id)),
            (connections::CONNECTED_AT.to_string(), n(c.connected_at_ms)),
            (connections::EXPIRES_AT.to_string(), n(c.expires_at)),
        ]);
        if let Some(team) = &c.team_id {
            item.insert(connections::TEAM_ID.to_string(), s(team));
        }
        let put = self
            .db
            .put_item()
            .table_name(&self.connections)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#closed)")
            .expression_attribute_names("#closed", CLOSED_AT)
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                return Ok(Opened::AlreadyClosed);
            }
            Err(e) => return Err(self.err("PutItem", &self.connections, e)),
        }
        self.db
            .update_item()
            .table_name(&self.profiles)
            .key(profiles::USER_ID, s(&c.user_id))
            .update_expression("ADD #c :c")
            .expression_attribute_names("#c", profiles::CONNECTIONS)
            .expression_attribute_values(":c", AttributeValue::Ss(vec![c.connection_id.clone()]))
            .send()
            .await
            .map_err(|e| self.err("UpdateItem", &self.profiles, e))?;
        Ok(Opened::Recorded)
    }

    /// Records a closed connection: a tombstone replaces the row, and the id
    /// leaves the user's profile. Repeating it, or running it before connect, is harmless.
    pub async fn disconnect(
        &self,
        connection_id: &str,
        user_id: &str,
        closed_at_ms: i64,
    ) -> Result<(), StoreError> {
        let expires_at = closed_at_ms.div_euclid(1000) + connections::TTL_SECONDS as i64;
        self.db
            .put_item()
            .table_name(&self.connections)
            .item(connections::CONNECTION_ID, s(connection_id))
            .item(CLOSED_AT, n(closed_at_ms))
            .item(connections::EXPIRES_AT, n(expires_at))
            .send()
            .await
            .map_err(|e| self.err("PutItem", &self.connections, e))?;
        self.forget_in_profile(connection_id, user_id).await
    }

    /// Removes a connection that API Gateway says is gone (410): its row and
    /// its id in the user's profile.
    pub async fn remove_stale(&self, c: &Connection) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.connections)
            .key(connections::CONNECTION_ID, s(&c.connection_id))
            .send()
            .await
            .map_err(|e| self.err("DeleteItem", &self.connections, e))?;
        self.forget_in_profile(&c.connection_id, &c.user_id).await
    }

    async fn forget_in_profile(
        &self,
        connection_id: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        if user_id.is_empty() {
            return Ok(());
        }
        let update = self
            .db
            .update_item()
            .table_name(&self.profiles)
            .key(profiles::USER_ID, s(user_id))
            .update_expression("DELETE #c :c")
            .condition_expression("attribute_exists(#u)")
            .expression_attribute_names("#c", profiles::CONNECTIONS)
            .expression_attribute_names("#u", profiles::USER_ID)
            .expression_attribute_values(":c", AttributeValue::Ss(vec![connection_id.to_string()]))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            // No profile row: nothing to remove, and no empty row is created.
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(self.err("UpdateItem", &self.profiles, e)),
        }
    }

    /// The team's live connections (through the team index; expired rows filtered out).
    pub async fn team_connections(
        &self,
        team_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        self.query_index(
            connections::BY_TEAM_INDEX,
            connections::TEAM_ID,
            team_id,
            now_ms,
        )
        .await
    }

    /// The user's live connections (through the user index; expired rows filtered out).
    pub async fn user_connections(
        &self,
        user_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        self.query_index(
            connections::BY_USER_INDEX,
            connections::USER_ID,
            user_id,
            now_ms,
        )
        .await
    }

    async fn query_index(
        &self,
        index: &str,
        key: &str,
        value: &str,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .db
                .query()
                .table_name(&self.connections)
                .index_name(index)
                .key_condition_expression("#k = :k")
                .filter_expression("#e > :now")
                .expression_attribute_names("#k", key)
                .expression_attribute_names("#e", connections::EXPIRES_AT)
                .expression_attribute_values(":k", s(value))
                .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.err("Query", &self.connections, e))?;
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
        Ok(found)
    }
}

/// A live connection from a Connections row (`None` for tombstones, expired
/// or incomplete rows).
fn from_item(item: &HashMap<String, AttributeValue>, now_ms: i64) -> Option<Connection> {
    let string = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let number = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    if item.contains_key(CLOSED_AT) {
        return None;
    }
    let expires_at = number(connections::EXPIRES_AT)?;
    if expires_at <= now_ms.div_euclid(1000) {
        return None;
    }
    Some(Connection {
        connection_id: string(connections::CONNECTION_ID)?,
        user_id: string(connections::USER_ID)?,
        team_id: string(connections::TEAM_ID),
        connected_at_ms: number(connections::CONNECTED_AT).unwrap_or(0),
        expires_at,
    })
}
