//! `AWS::Logs::LogGroup`.

use serde::Serialize;

/// `AWS::Logs::LogGroup` (name left to CloudFormation).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub retention_in_days: u32,
}
