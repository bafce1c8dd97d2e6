//! The profiles table: one row per user (`userId`), listing the user's open
//! connection ids in the string set `connections`. Connect adds, disconnect
//! and stale-connection clean-up remove (removal never creates a row). Calls:
//! UpdateItem only (the `write` grant).

use sockstack_runtime::aws_sdk_dynamodb::Client;
use sockstack_runtime::aws_sdk_dynamodb::error::SdkError;
use sockstack_runtime::aws_sdk_dynamodb::types::AttributeValue;
use sockstack_runtime::registry::StoreError;
use sockstack_runtime::settings::{SettingsError, Source};

/// Partition key.
pub const USER_ID: &str = "userId";
/// The string set of open connection ids.
pub const CONNECTIONS: &str = "connections";

/// The profiles table.
#[derive(Debug, Clone)]
pub struct Profiles {
    db: Client,
    table: String,
}

impl Profiles {
    /// The table named `table`.
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Profiles {
            db,
            table: table.into(),
        }
    }

    /// The table granted as `profiles` (`TABLE_PROFILES`).
    pub fn from_source(db: Client, source: &dyn Source) -> Result<Self, SettingsError> {
        Ok(Profiles::new(
            db,
            sockstack_runtime::grants::table(source, crate::PROFILES)?,
        ))
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Adds `connection_id` to `user_id`'s profile (creating the row).
    pub async fn add(&self, user_id: &str, connection_id: &str) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key(USER_ID, AttributeValue::S(user_id.to_string()))
            .update_expression("ADD #c :c")
            .expression_attribute_names("#c", CONNECTIONS)
            .expression_attribute_values(":c", AttributeValue::Ss(vec![connection_id.to_string()]))
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", &self.table, e))?;
        Ok(())
    }

    /// Removes `connection_id` from `user_id`'s profile; nothing if there is no row.
    pub async fn remove(&self, user_id: &str, connection_id: &str) -> Result<(), StoreError> {
        let update = self
            .db
            .update_item()
            .table_name(&self.table)
            .key(USER_ID, AttributeValue::S(user_id.to_string()))
            .update_expression("DELETE #c :c")
            .condition_expression("attribute_exists(#u)")
            .expression_attribute_names("#c", CONNECTIONS)
            .expression_attribute_names("#u", USER_ID)
            .expression_attribute_values(":c", AttributeValue::Ss(vec![connection_id.to_string()]))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            // No profile row: nothing to remove, and no empty row is created.
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(StoreError::sdk("UpdateItem", &self.table, e)),
        }
    }
}
