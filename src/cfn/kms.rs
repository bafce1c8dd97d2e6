//! `AWS::KMS::Key`.

use super::Expr;
use super::iam::{PolicyDocument, Principal, Statement};
use serde::Serialize;

/// `AWS::KMS::Key`: a customer-managed symmetric key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub description: String,
    pub enable_key_rotation: bool,
    pub key_policy: PolicyDocument,
}

/// The key-policy statement of KMS's default policy: the account administers the key, so IAM
/// policies decide who else may use it. In a key policy, `*` means this key and nothing else.
pub fn account_administers_key() -> Statement {
    Statement {
        sid: Some("AccountAdministersKey".into()),
        effect: "Allow",
        principal: Some(Principal::Aws(Expr::sub(
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
        ))),
        action: vec!["kms:*".into()],
        resource: vec![Expr::str("*")],
        condition: None,
    }
}

/// The key-policy statement that lets only AWS services create grants, and only for AWS resources
/// (how DynamoDB and SNS use a customer-managed key).
pub fn grants_only_for_aws_services() -> Statement {
    Statement {
        sid: Some("GrantsOnlyForAwsServices".into()),
        effect: "Deny",
        principal: Some(Principal::Anyone),
        action: vec!["kms:CreateGrant".into()],
        resource: vec![Expr::str("*")],
        condition: Some(serde_json::json!({"BoolIfExists": {
            "kms:GrantIsForAWSResource": "false",
            "aws:PrincipalIsAWSService": "false"
        }})),
    }
}
