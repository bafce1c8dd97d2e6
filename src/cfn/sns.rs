//! `AWS::SNS::Topic` and `AWS::SNS::Subscription`.

use super::Expr;
use serde::Serialize;

/// `AWS::SNS::Topic`, encrypted with a KMS key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    pub display_name: String,
    /// The key's ARN or id: server-side encryption of every message.
    pub kms_master_key_id: Expr,
}

/// `AWS::SNS::Subscription`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// `email`, `https`, `sqs`…
    pub protocol: &'static str,
    pub endpoint: Expr,
    pub topic_arn: Expr,
}
