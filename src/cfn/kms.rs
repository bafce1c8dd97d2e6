//! `AWS::KMS::Key`.

use super::iam::PolicyDocument;
use serde::Serialize;

/// `AWS::KMS::Key`: a customer-managed symmetric key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub description: String,
    pub enable_key_rotation: bool,
    pub key_policy: PolicyDocument,
}
