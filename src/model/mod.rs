//! The backend as intent: the API and its routes, one authorizer, the functions
//! and what each may do, the registry and the tables. [`build`] makes it from a
//! parsed stack file and checks everything the file's shape cannot say; a
//! [`Model`] that exists is valid. [`crate::synth`] turns it into CloudFormation.

mod authorizer;
mod build;
mod functions;
mod route;
mod tables;

pub use authorizer::{Authorizer, KeySource, cognito_region};
pub use build::{build, load, load_str};
pub use functions::{EnvValue, Function, Grant};
pub use route::{
    CONNECT, ConnectAuth, ConnectRoute, DEFAULT, DISCONNECT, Route, RouteKey, WebSocketApi,
    pascal_case, route_name,
};
pub use tables::{
    Attribute, CreatedTable, Index, KeySchema, Projection, Registry, RegistryIndex, Table,
    TableSource,
};

pub use crate::config::stack::{
    Architecture, AttributeType, ConnectionsAccess, TableAccess, TableKey,
};
use std::collections::BTreeMap;

/// One stack: everything synth needs, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// CloudFormation stack name.
    pub stack_name: String,
    /// Template description.
    pub description: Option<String>,
    /// The region the stack file says it is for, if it says.
    pub region: Option<String>,
    /// The API.
    pub api: WebSocketApi,
    /// The stage.
    pub stage: Stage,
    /// The connection registry.
    pub registry: Registry,
    /// The stack file's own tables, sorted by name.
    pub tables: Vec<Table>,
    /// One function per `functions:` entry, sorted by name.
    pub functions: Vec<Function>,
    /// The KMS key of the tables the stack creates.
    pub table_key: TableKey,
    /// Keep the customer-managed table key when the stack is deleted.
    pub retain_table_key: bool,
    /// Keep log groups when the stack is deleted.
    pub retain_logs: bool,
    /// Create API Gateway's account-level CloudWatch role.
    pub account_role: bool,
    /// Stack tags (applied on deploy).
    pub tags: BTreeMap<String, String>,
}

/// The stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// Whether access logs are written.
    pub access_logs: bool,
    /// Burst limit.
    pub burst_limit: u32,
    /// Rate limit.
    pub rate_limit: f64,
    /// Days to keep the access logs (`functions.defaults.logRetentionDays`).
    pub log_retention_days: u32,
}

impl Model {
    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The stack file's table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Whether the stack creates a customer-managed KMS key for its tables.
    pub fn creates_table_key(&self) -> bool {
        self.table_key == TableKey::CustomerManaged
    }
}
