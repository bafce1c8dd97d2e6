//! Scanner findings that do not apply to this architecture, suppressed on the
//! resource with the reason a security reviewer can check.
//!
//! checkov reads `Metadata.checkov.skip`; cfn-guard's Control Tower rules have no
//! per-resource switch, so their exclusions live in a reviewed list beside the
//! scanner tests (`tests/scanners/guard-exclusions.txt`).

use crate::cfn::Resource;
use serde_json::{Value, json};

/// One checkov check skipped on a resource, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip {
    /// The checkov check id.
    pub id: &'static str,
    /// Why it does not apply.
    pub reason: &'static str,
}

/// Every Lambda function.
pub const FUNCTION: &[Skip] = &[
    Skip {
        id: "CKV_AWS_116",
        reason: "No DLQ: API Gateway invokes the function synchronously, so there is no asynchronous event to capture",
    },
    Skip {
        id: "CKV_AWS_117",
        reason: "No VPC: the function only calls public AWS endpoints (DynamoDB, the API Gateway management API) and the JWKS URL; a VPC would add NAT cost, not isolation",
    },
];

/// Functions the stack file gives no reserved concurrency.
pub const NO_RESERVED_CONCURRENCY: Skip = Skip {
    id: "CKV_AWS_115",
    reason: "No reserved concurrency: the stage's throttling bounds invocations; reserving capacity would take it from the account pool (set functions.<name>.reservedConcurrency to reserve)",
};

/// Functions with environment variables.
pub const FUNCTION_ENVIRONMENT: Skip = Skip {
    id: "CKV_AWS_173",
    reason: "The environment holds only resource names, URLs, claim names and the stack file's literals; secrets are granted by name (SECRET_*), never by value; Lambda encrypts it at rest with its service key",
};

/// Every log group.
pub const LOG_GROUP: &[Skip] = &[Skip {
    id: "CKV_AWS_158",
    reason: "CloudWatch Logs encrypts log data at rest with its service key; these logs carry request metadata and deny reasons, never tokens",
}];

/// Tables encrypted with a key the stack file chose over a customer-managed one.
pub const TABLE_NOT_CUSTOMER_KEY: Skip = Skip {
    id: "CKV_AWS_119",
    reason: "The stack file chose this key (dataProtection.tableKey); set it to customer-managed for a key of your own",
};

/// Adds `skips` to the resource's `Metadata.checkov.skip`.
pub fn suppress(resource: &mut Resource, skips: &[Skip]) {
    if skips.is_empty() {
        return;
    }
    let metadata = resource.metadata.get_or_insert_with(|| json!({}));
    let list = metadata
        .as_object_mut()
        .expect("metadata is an object")
        .entry("checkov")
        .or_insert_with(|| json!({"skip": []}))
        .get_mut("skip")
        .and_then(Value::as_array_mut)
        .expect("checkov.skip is a list");
    for skip in skips {
        list.push(json!({"id": skip.id, "comment": skip.reason}));
    }
}
