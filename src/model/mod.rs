//! The backend as intent: the API and its routes, one authorizer, the functions,
//! the tables. Built from a validated stack file; [`crate::synth`] turns it into
//! CloudFormation.

mod build;
mod route;

pub use build::cognito_region;

pub use route::{
    CONNECT, ConnectRoute, DEFAULT, DISCONNECT, Route, WebSocketApi, pascal_case, profile_for,
    route_name,
};

use crate::config::stack::{Architecture, TableKey};
use sockstack_contract::{AccessProfile, Table};
use std::collections::BTreeMap;

/// One stack: everything synth needs, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// CloudFormation stack name.
    pub stack_name: String,
    /// Template description.
    pub description: Option<String>,
    /// The API.
    pub api: WebSocketApi,
    /// The stage.
    pub stage: Stage,
    /// One function per distinct handler, sorted by handler name.
    pub functions: Vec<Function>,
    /// Both tables.
    pub tables: Vec<TableModel>,
    /// Keep log groups when the stack is deleted.
    pub retain_logs: bool,
    /// Create API Gateway's account-level CloudWatch role.
    pub account_role: bool,
    /// Stack tags (applied on deploy).
    pub tags: BTreeMap<String, String>,
}

/// The JWT authorizer of `$connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorizer {
    /// Handler binary.
    pub handler: String,
    /// JWKS URL.
    pub jwks_url: String,
    /// Expected issuer.
    pub issuer: String,
    /// Accepted audiences / client ids.
    pub audience: Vec<String>,
    /// Claim carrying the user id.
    pub user_id_claim: String,
    /// Claim carrying the email.
    pub email_claim: String,
    /// Claim carrying the team id.
    pub team_id_claim: String,
    /// Identity sources (the first is where the token is read).
    pub identity_source: Vec<String>,
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
}

/// A Lambda function running one handler binary.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Handler binary name.
    pub handler: String,
    /// What it may do.
    pub profile: AccessProfile,
    /// S3 key of its bundle (`{handler}-{source hash}.zip`).
    pub bundle_key: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Memory in MB.
    pub memory: u32,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Log retention in days.
    pub log_retention_days: u32,
    /// Posts in flight during a broadcast.
    pub notify_concurrency: u32,
}

impl Function {
    /// Logical-id stem: `vote` → `Vote`.
    pub fn name(&self) -> String {
        pascal_case(&self.handler)
    }
}

/// A table, created or existing.
#[derive(Debug, Clone, PartialEq)]
pub struct TableModel {
    /// Which table.
    pub table: Table,
    /// Created by the stack, or referenced.
    pub source: TableSource,
    /// Kept when the stack is deleted or it is replaced.
    pub retain: bool,
    /// The KMS key that encrypts it (when created).
    pub key: TableKey,
}

/// Where a table comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TableSource {
    /// The stack creates it.
    Created,
    /// An existing table, by name.
    Existing(String),
}

impl Model {
    /// The function running `handler`.
    pub fn function(&self, handler: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.handler == handler)
    }

    /// The table model of `table`.
    pub fn table(&self, table: Table) -> &TableModel {
        self.tables
            .iter()
            .find(|t| t.table == table)
            .expect("every model has both tables")
    }
}
