//! The stack file (format 2): one YAML file per environment in `stacks/`.
//!
//! These structs are the file's shape (serde, unknown fields rejected) and its
//! JSON Schema (schemars, `sockstack schema`). What the shape cannot say, such
//! as "only `$connect` may use the authorizer", is checked when the model is
//! built ([`crate::model::build`]).

pub use super::shapes::{
    EnvRef, EnvValue, Functions, IndexBy, KeyMap, OneOrMany, ProjectionConfig,
};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The stack-file format this version of sockstack reads.
pub const FORMAT: u32 = 2;

/// A whole serverless WebSocket backend for one environment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackFile {
    /// Stack-file format: `2`.
    #[schemars(range(min = 2, max = 2))]
    pub version: u32,
    /// CloudFormation stack name (letters, digits and hyphens, starting with a letter).
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z][A-Za-z0-9-]*$"))]
    pub stack: String,
    /// Human description, written into the template.
    #[serde(default)]
    pub description: Option<String>,
    /// The AWS region this stack is deployed to. Needed when two stack files create
    /// the API Gateway account role: each must say its region, and they must differ.
    #[serde(default)]
    #[schemars(pattern(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"))]
    pub region: Option<String>,
    /// Accept anonymous connections: required when the stack has no `$connect` route
    /// (without one, API Gateway lets anyone connect).
    #[serde(default)]
    pub public: bool,
    /// The API Gateway stage.
    pub stage: StageConfig,
    /// How API Gateway picks a route from an incoming message.
    #[serde(default = "default_route_selection")]
    #[schemars(pattern(r"^\$\{?request\.body\."))]
    pub route_selection_expression: String,
    /// The `$connect` authorizer (a Lambda REQUEST authorizer verifying a JWT).
    #[serde(default)]
    pub authorizer: Option<AuthorizerConfig>,
    /// The connection registry sockstack manages itself.
    #[serde(default)]
    pub connections: ConnectionsConfig,
    /// The stack's own DynamoDB tables, by name (created, or existing ones referenced).
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_-]*$", "maxLength": 64}))]
    pub tables: BTreeMap<String, TableConfig>,
    /// The Lambda functions, by name, and `defaults` every function shares.
    pub functions: Functions,
    /// The routes: `$connect`, `$disconnect`, `$default` and custom route keys.
    #[schemars(length(min = 1))]
    pub routes: Vec<RouteConfig>,
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
    #[schemars(extend("propertyNames" = {"minLength": 1, "maxLength": 128, "not": {"pattern": "^[aA][wW][sS]:"}}))]
    pub tags: BTreeMap<String, String>,
}

fn default_route_selection() -> String {
    "$request.body.action".to_string()
}

fn yes() -> bool {
    true
}

/// The API Gateway stage.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StageConfig {
    /// Stage name: letters, digits, `-` and `_` (it becomes part of the URL).
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub name: String,
    /// Write JSON access logs to a CloudWatch log group.
    #[serde(default = "yes")]
    pub access_logs: bool,
    /// Default throttling for every route.
    #[serde(default)]
    pub throttling: Throttling,
}

/// Stage throttling.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Throttling {
    /// Requests that may arrive at once (1–5000).
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 5000))]
    pub burst_limit: u32,
    /// Steady-state requests per second (1–10000).
    #[serde(default = "default_rate")]
    #[schemars(range(min = 1, max = 10000))]
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

/// One route and the function behind it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteConfig {
    /// `$connect`, `$disconnect`, `$default`, or a custom key matched against the
    /// route selection expression (e.g. `send` for `{"action":"send"}`).
    #[schemars(
        length(min = 1, max = 128),
        pattern(r"^(\$connect|\$disconnect|\$default|[^$\s][^\s]*)$")
    )]
    pub key: String,
    /// The function serving the route: a key of `functions:`.
    pub function: String,
    /// Run the stack's authorizer before this route (only `$connect` can).
    #[serde(default)]
    pub authorizer: bool,
    /// Accept connections without an authorizer (only on `$connect`, and only
    /// without `authorizer: true`): say so explicitly, because anyone can then connect.
    #[serde(default)]
    pub public: bool,
    /// Send the function's return value back to the sender (a route response).
    #[serde(default)]
    pub two_way: bool,
}

/// The JWT authorizer on `$connect`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorizerConfig {
    /// The function that verifies tokens: a key of `functions:`.
    #[serde(default = "default_authorizer_function")]
    pub function: String,
    /// A JWT issuer with a JSON Web Key Set. Give this or `cognito`.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
    /// A Cognito user pool: issuer and JWKS URL follow from it. Give this or `jwt`.
    #[serde(default)]
    pub cognito: Option<CognitoConfig>,
    /// Where API Gateway finds the token. Browsers cannot set headers on a WebSocket,
    /// so the default is the `token` query-string parameter.
    #[serde(default = "default_identity_source")]
    #[schemars(length(min = 1))]
    pub identity_source: Vec<String>,
    /// What the authorizer passes on to every route: context key ← claim (scalar claims only).
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"}))]
    pub context: BTreeMap<String, String>,
    /// Claims a token must carry; a token lacking one is denied.
    #[serde(default = "default_required_claims")]
    pub required_claims: Vec<String>,
}

fn default_authorizer_function() -> String {
    "authorizer".to_string()
}

fn default_identity_source() -> Vec<String> {
    vec!["route.request.querystring.token".to_string()]
}

fn default_required_claims() -> Vec<String> {
    vec![sockstack_contract::auth::PRINCIPAL_CLAIM.to_string()]
}

/// A JWT issuer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtConfig {
    /// URL of the issuer's JSON Web Key Set (https; http only for localhost).
    #[schemars(pattern(r"^(https://.+|http://(localhost|127\.0\.0\.1)([:/].*)?)$"))]
    pub jwks_url: String,
    /// The exact `iss` claim the tokens carry.
    #[schemars(length(min = 1))]
    pub issuer: String,
    /// Accepted audiences (`aud`).
    #[schemars(length(min = 1))]
    pub audience: Vec<String>,
}

/// A Cognito user pool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CognitoConfig {
    /// User pool id, e.g. `eu-west-1_AbCdEf123` (the region is its prefix).
    #[schemars(pattern(r"^[a-z]{2}(-[a-z]+)+-[0-9]+_[A-Za-z0-9]+$"))]
    pub user_pool_id: String,
    /// App client ids accepted as the audience (`client_id` of access tokens, `aud` of id tokens).
    #[schemars(length(min = 1))]
    pub client_id: Vec<String>,
}

/// The connection registry.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionsConfig {
    /// Authorizer-context keys to index, so a group or a user's connections are one query.
    #[serde(default)]
    pub index_by: Vec<IndexBy>,
}

/// An indexed context key with its index name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamedIndex {
    /// The authorizer-context key.
    pub key: String,
    /// The index name (kept stable: renaming it drops and recreates the index).
    #[schemars(length(min = 3, max = 255), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub index: String,
}

/// A DynamoDB attribute type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum AttributeType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl AttributeType {
    /// The letter DynamoDB uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
        }
    }
}

/// A table of the stack: created (the default) or `existing`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TableConfig {
    /// The key: one or two attributes in order, the partition key then the sort key.
    pub key: KeyMap,
    /// Name of an existing table in the same account and region to use instead of creating one.
    #[serde(default)]
    #[schemars(length(min = 3, max = 255), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub existing: Option<String>,
    /// The existing table's customer-managed KMS key, so grants include it.
    #[serde(default)]
    #[schemars(pattern(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$"))]
    pub kms_key_arn: Option<String>,
    /// Time-to-live attribute (epoch seconds).
    #[serde(default)]
    pub ttl: Option<String>,
    /// Global secondary indexes, by name.
    #[serde(default)]
    #[schemars(extend("maxProperties" = 20, "propertyNames" = {"pattern": "^[A-Za-z0-9_.-]{3,255}$"}))]
    pub indexes: BTreeMap<String, IndexConfig>,
    /// Keep the table when the stack is deleted or it is replaced (default: `dataProtection.retainTables`).
    #[serde(default)]
    pub retain: Option<bool>,
    /// Refuse `DeleteTable` (default: the same as `retain`).
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// Continuous backups (default true).
    #[serde(default)]
    pub point_in_time_recovery: Option<bool>,
}

/// A global secondary index.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IndexConfig {
    /// Its key: one or two attributes, partition key then sort key.
    pub key: KeyMap,
    /// What it copies: `all`, `keys`, or a list of attributes.
    #[serde(default)]
    pub projection: ProjectionConfig,
}

/// `all` or `keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProjectionKind {
    /// Every attribute.
    All,
    /// Only the keys.
    Keys,
}

/// Settings every function shares; each may be overridden per function.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FunctionDefaults {
    /// CPU architecture (and of the bundles to build).
    #[serde(default)]
    pub architecture: Architecture,
    /// Memory in MB (128–10240).
    #[serde(default = "default_memory")]
    #[schemars(range(min = 128, max = 10240))]
    pub memory: u32,
    /// Timeout in seconds: 1–29 behind a route (API Gateway's integration limit), else up to 900.
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 900))]
    pub timeout: u32,
    /// Days to keep function logs (a CloudWatch retention value).
    #[serde(default = "default_retention")]
    #[schemars(extend("enum" = LOG_RETENTION_DAYS))]
    pub log_retention_days: u32,
    /// X-Ray tracing (`TracingConfig: Active` and the two X-Ray actions on `*`).
    #[serde(default)]
    pub tracing: bool,
    /// Reserved concurrency (`null`: none; the account's pool).
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub reserved_concurrency: Option<u32>,
    /// Environment variables every function gets.
    #[serde(default)]
    pub environment: BTreeMap<String, EnvValue>,
}

impl Default for FunctionDefaults {
    fn default() -> Self {
        FunctionDefaults {
            architecture: Architecture::default(),
            memory: default_memory(),
            timeout: default_timeout(),
            log_retention_days: default_retention(),
            tracing: false,
            reserved_concurrency: None,
            environment: BTreeMap::new(),
        }
    }
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

/// Retention values CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// One Lambda function.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FunctionConfig {
    /// The handler binary (default: the function's name).
    #[serde(default)]
    pub binary: Option<String>,
    /// Overrides `defaults.architecture`.
    #[serde(default)]
    pub architecture: Option<Architecture>,
    /// Overrides `defaults.memory`.
    #[serde(default)]
    #[schemars(range(min = 128, max = 10240))]
    pub memory: Option<u32>,
    /// Overrides `defaults.timeout`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 900))]
    pub timeout: Option<u32>,
    /// Overrides `defaults.logRetentionDays`.
    #[serde(default)]
    #[schemars(extend("enum" = LOG_RETENTION_DAYS))]
    pub log_retention_days: Option<u32>,
    /// Overrides `defaults.tracing`.
    #[serde(default)]
    pub tracing: Option<bool>,
    /// Overrides `defaults.reservedConcurrency`.
    #[serde(default)]
    #[schemars(range(min = 0, max = 10000))]
    pub reserved_concurrency: Option<u32>,
    /// Environment variables, added to `defaults.environment`.
    #[serde(default)]
    pub environment: BTreeMap<String, EnvValue>,
    /// What the function may do: the only source of its permissions.
    #[serde(default)]
    pub grants: GrantsConfig,
}

/// A function's grants.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrantsConfig {
    /// The connection registry: `read`, `write`, `send`, or a list of them.
    #[serde(default)]
    pub connections: Option<OneOrMany<ConnectionsAccess>>,
    /// Tables (`name`) and indexes (`name/index`): `read`, `write` or `readwrite`.
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[A-Za-z][A-Za-z0-9_-]*(/[A-Za-z0-9_.-]+)?$"}))]
    pub tables: BTreeMap<String, TableAccess>,
    /// SSM parameters the function reads, by name.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true, "items" = {"type": "string", "pattern": "^/?[A-Za-z0-9_.\\-/]+$"}))]
    pub parameters: Vec<String>,
    /// Secrets Manager secrets the function reads, by name.
    #[serde(default)]
    #[schemars(extend("uniqueItems" = true, "items" = {"type": "string", "pattern": "^[A-Za-z0-9/_+=.@-]+$"}))]
    pub secrets: Vec<String>,
}

/// What a function may do with the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionsAccess {
    /// Look up connections, list a group's or a user's.
    Read,
    /// Record opened connections, tombstone closed ones.
    Write,
    /// Post to connections (and remove those that are gone).
    Send,
}

/// What a function may do with a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TableAccess {
    /// Get, query, scan.
    Read,
    /// Put, update, delete.
    Write,
    /// Both.
    Readwrite,
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataProtection {
    /// Keep the tables (`DeletionPolicy: Retain`, deletion protection on) when the stack
    /// is deleted or they are replaced.
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
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
