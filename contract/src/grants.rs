//! The IAM actions behind each kind of grant a stack file can give a function.
//!
//! Synth turns grants into policy statements with exactly these actions, and the
//! runtime's tests prove the calls each handler makes stay within them.

/// Reading a table.
pub const TABLE_READ: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
/// Writing a table.
pub const TABLE_WRITE: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];
/// Reading one of a table's global secondary indexes.
pub const INDEX_READ: &[&str] = &["dynamodb:Query", "dynamodb:Scan"];

/// Using a table's customer-managed key to read it (through DynamoDB only).
pub const KMS_READ: &[&str] = &["kms:Decrypt"];
/// Using a table's customer-managed key to write it (through DynamoDB only).
pub const KMS_WRITE: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// `connections: read`: look up a connection, list a group's or a user's connections.
pub const REGISTRY_READ: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];
/// `connections: write`: record an opened connection, tombstone a closed one.
pub const REGISTRY_WRITE: &[&str] = &["dynamodb:PutItem"];
/// `connections: send`, on the registry: remove a connection `@connections` answered 410 Gone for.
pub const REGISTRY_SEND: &[&str] = &["dynamodb:DeleteItem"];
/// `connections: send`, on `…/{stage}/POST/@connections/*`.
pub const MANAGE_CONNECTIONS: &str = "execute-api:ManageConnections";

/// `parameters: [P]`.
pub const PARAMETER_READ: &[&str] = &["ssm:GetParameter"];
/// `secrets: [S]`.
pub const SECRET_READ: &[&str] = &["secretsmanager:GetSecretValue"];
/// `tracing: true` (these actions take no resource but `*`).
pub const XRAY: &[&str] = &["xray:PutTelemetryRecords", "xray:PutTraceSegments"];

/// Environment variable: `https://{api}.execute-api.{region}.{suffix}/{stage}`, the
/// `@connections` endpoint (clients append `/@connections/{id}`).
pub const CALLBACK_URL: &str = "CALLBACK_URL";
/// Environment variable: how many posts a fan-out keeps in flight.
pub const NOTIFY_CONCURRENCY: &str = "NOTIFY_CONCURRENCY";
/// Default of [`NOTIFY_CONCURRENCY`].
pub const DEFAULT_NOTIFY_CONCURRENCY: usize = 256;

/// Environment variable set on the function serving `$default`: the custom route keys,
/// sorted and comma-separated, so it can list the valid actions.
pub const ROUTE_KEYS: &str = "ROUTE_KEYS";
