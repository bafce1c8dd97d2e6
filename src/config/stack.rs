//! The stack file: one YAML file per environment in `stacks/`.
//!
//! These structs are the file's shape (serde, unknown fields rejected) and its
//! JSON Schema (schemars, `sockstack schema`). What the shape cannot say, such
//! as "only `$connect` may use the authorizer", is checked in [`super::validate`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole serverless WebSocket backend for one environment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackFile {
    /// CloudFormation stack name (letters, digits and hyphens, starting with a letter).
    pub stack: String,
    /// Human description, written into the template.
    #[serde(default)]
    pub description: Option<String>,
    /// The API Gateway stage.
    pub stage: StageConfig,
    /// How API Gateway picks a route from an incoming message.
    #[serde(default = "default_route_selection")]
    pub route_selection_expression: String,
    /// The routes: `$connect`, `$disconnect`, `$default` and custom route keys.
    pub routes: Vec<RouteConfig>,
    /// The `$connect` authorizer (a Lambda REQUEST authorizer verifying a JWT).
    #[serde(default)]
    pub authorizer: Option<AuthorizerConfig>,
    /// The Connections and Profiles tables.
    #[serde(default)]
    pub tables: TablesConfig,
    /// Settings shared by every function.
    #[serde(default)]
    pub lambda: LambdaConfig,
    /// What survives a stack deletion or a replacement.
    #[serde(default)]
    pub data_protection: DataProtection,
    /// Create API Gateway's account-level CloudWatch role (`AWS::ApiGateway::Account`).
    /// Stage access logs need it once per account and region; leave it off when
    /// another stack (or a previous deploy) already set it.
    #[serde(default)]
    pub api_gateway_account_role: bool,
    /// Tags applied to the stack (and so to every resource it creates) on deploy.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_route_selection() -> String {
    "$request.body.action".to_string()
}

/// The API Gateway stage.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StageConfig {
    /// Stage name: letters, digits, `-` and `_` (it becomes part of the URL).
    pub name: String,
    /// Write JSON access logs to a CloudWatch log group.
    #[serde(default = "yes")]
    pub access_logs: bool,
    /// Default throttling for every route.
    #[serde(default)]
    pub throttling: Throttling,
}

fn yes() -> bool {
    true
}

/// Stage throttling.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Throttling {
    /// Requests that may arrive at once (1–5000).
    #[serde(default = "default_burst")]
    pub burst_limit: u32,
    /// Steady-state requests per second (1–10000).
    #[serde(default = "default_rate")]
    pub rate_limit: f64,
}

fn default_burst() -> u32 {
    100
}

fn default_rate() -> f64 {
    50.0
}

impl Default for Throttling {
    fn default() -> Self {
        Throttling {
            burst_limit: default_burst(),
            rate_limit: default_rate(),
        }
    }
}

/// One route and the handler binary behind it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteConfig {
    /// `$connect`, `$disconnect`, `$default`, or a custom key matched against the
    /// route selection expression (e.g. `vote` for `{"action":"vote"}`).
    pub key: String,
    /// Name of a binary in the handlers member (`handlers/src/bin/{handler}.rs`).
    pub handler: String,
    /// Run the stack's authorizer before this route (only `$connect` can).
    #[serde(default)]
    pub authorizer: bool,
    /// Accept connections without an authorizer (only on `$connect`, and only
    /// without `authorizer: true`): say so explicitly, because anyone can then connect.
    #[serde(default)]
    pub public: bool,
    /// Send the handler's return value back to the sender (a route response).
    #[serde(default)]
    pub two_way: bool,
    /// What the handler may do: `reply` (nothing but answer) or `broadcast` (post to its
    /// team's connections). Defaults to the built-in handler's profile, else `reply`.
    #[serde(default)]
    pub access: Option<RouteAccess>,
}

/// Access profiles a stack file may give a route's handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RouteAccess {
    /// No table or API access: the handler only answers through its route response.
    Reply,
    /// Query the team's connections, post to them, clean up stale ones.
    Broadcast,
}

impl RouteAccess {
    /// The contract's access profile of this choice.
    pub fn profile(self) -> sockstack_contract::AccessProfile {
        match self {
            RouteAccess::Reply => sockstack_contract::AccessProfile::Reply,
            RouteAccess::Broadcast => sockstack_contract::AccessProfile::Broadcast,
        }
    }
}

/// The JWT authorizer on `$connect`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorizerConfig {
    /// Handler binary that verifies tokens.
    #[serde(default = "default_authorizer_handler")]
    pub handler: String,
    /// URL of the auth server's JSON Web Key Set (https). Give this and `issuer`, or `cognito`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Expected `iss` claim.
    #[serde(default)]
    pub issuer: Option<String>,
    /// A Cognito user pool: issuer and JWKS URL follow from it.
    #[serde(default)]
    pub cognito: Option<CognitoConfig>,
    /// Accepted audiences (`aud`; for Cognito access tokens, the app client id).
    pub audience: Vec<String>,
    /// Which claims carry the user id, email and team id.
    #[serde(default)]
    pub claims: ClaimsConfig,
    /// Where API Gateway finds the token. Browsers cannot set headers on a WebSocket,
    /// so the default is the `token` query-string parameter.
    #[serde(default = "default_identity_source")]
    pub identity_source: Vec<String>,
}

fn default_authorizer_handler() -> String {
    sockstack_contract::access::handlers::AUTHORIZER.to_string()
}

fn default_identity_source() -> Vec<String> {
    vec!["route.request.querystring.token".to_string()]
}

/// A Cognito user pool.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CognitoConfig {
    /// User pool id, e.g. `eu-west-1_AbCdEf123` (the region is its prefix).
    pub user_pool_id: String,
}

/// Claim names.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimsConfig {
    /// Claim with the user id.
    #[serde(default = "default_user_claim")]
    pub user_id: String,
    /// Claim with the email address.
    #[serde(default = "default_email_claim")]
    pub email: String,
    /// Claim with the team id.
    #[serde(default = "default_team_claim")]
    pub team_id: String,
}

fn default_user_claim() -> String {
    "sub".to_string()
}

fn default_email_claim() -> String {
    "email".to_string()
}

fn default_team_claim() -> String {
    "custom:team".to_string()
}

impl Default for ClaimsConfig {
    fn default() -> Self {
        ClaimsConfig {
            user_id: default_user_claim(),
            email: default_email_claim(),
            team_id: default_team_claim(),
        }
    }
}

/// The two tables.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TablesConfig {
    /// The Connections table.
    #[serde(default)]
    pub connections: TableConfig,
    /// The Profiles table.
    #[serde(default)]
    pub profiles: TableConfig,
}

/// A table: created by the stack (the default), or an existing one referenced by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableConfig {
    /// Name of an existing table in the same account and region to use instead of
    /// creating one. It must have the key schema and indexes sockstack expects.
    #[serde(default)]
    pub existing: Option<String>,
}

/// Settings shared by every function.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LambdaConfig {
    /// CPU architecture of the functions (and of the bundles to build).
    #[serde(default)]
    pub architecture: Architecture,
    /// Memory in MB (128–10240).
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Timeout in seconds (1–29: API Gateway waits at most 29 s for a WebSocket integration).
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    /// Days to keep function logs (a CloudWatch retention value: 1, 3, 5, 7, 14, 30, …).
    #[serde(default = "default_retention")]
    pub log_retention_days: u32,
    /// How many posts a broadcast keeps in flight at once.
    #[serde(default = "default_concurrency")]
    pub notify_concurrency: u32,
}

fn default_memory() -> u32 {
    256
}

fn default_timeout() -> u32 {
    10
}

fn default_retention() -> u32 {
    14
}

fn default_concurrency() -> u32 {
    sockstack_contract::env::DEFAULT_NOTIFY_CONCURRENCY as u32
}

impl Default for LambdaConfig {
    fn default() -> Self {
        LambdaConfig {
            architecture: Architecture::default(),
            memory: default_memory(),
            timeout: default_timeout(),
            log_retention_days: default_retention(),
            notify_concurrency: default_concurrency(),
        }
    }
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Architecture {
    /// Graviton (the default: cheaper per GB-second).
    #[default]
    #[serde(rename = "arm64")]
    Arm64,
    /// Intel/AMD.
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    /// The name Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

/// What survives a stack deletion or a resource replacement.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataProtection {
    /// Keep the tables (`DeletionPolicy: Retain`) when the stack is deleted or they are replaced.
    #[serde(default)]
    pub retain_tables: bool,
    /// Keep the log groups likewise.
    #[serde(default)]
    pub retain_logs: bool,
    /// Which KMS key encrypts the tables the stack creates.
    #[serde(default)]
    pub table_key: TableKey,
}

/// The KMS key of created tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TableKey {
    /// DynamoDB's default AWS-owned key: free, but invisible in your account (no CloudTrail, no key policy).
    AwsOwned,
    /// The AWS-managed key `aws/dynamodb` in your account (the default).
    #[default]
    AwsManaged,
    /// A customer-managed key created by the stack, rotated yearly.
    CustomerManaged,
}

impl TableKey {
    /// The name in stack files.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKey::AwsOwned => "aws-owned",
            TableKey::AwsManaged => "aws-managed",
            TableKey::CustomerManaged => "customer-managed",
        }
    }
}
