//! `AWS::ApiGateway::Account`: API Gateway's account-level settings.

use super::Expr;
use serde::Serialize;

/// `AWS::ApiGateway::Account`: the role API Gateway uses to write CloudWatch logs,
/// once per account and region.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    pub cloud_watch_role_arn: Expr,
}
