//! `AWS::Lambda::*` resources.

use super::Expr;
use serde::Serialize;
use std::collections::BTreeMap;

/// `AWS::Lambda::Function`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub architectures: Vec<&'static str>,
    pub code: Code,
    pub handler: &'static str,
    pub runtime: &'static str,
    pub memory_size: u32,
    pub timeout: u32,
    pub role: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    pub logging_config: LoggingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
}

/// `TracingConfig` of a function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `Active`: sample and trace requests with X-Ray.
    pub mode: &'static str,
}

/// `Code` of a function, from S3.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub s3_bucket: Expr,
    pub s3_key: String,
}

/// `Environment` of a function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: BTreeMap<String, Expr>,
}

/// `LoggingConfig` of a function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: &'static str,
    pub log_group: Expr,
}

/// `AWS::Lambda::Permission`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: &'static str,
    pub function_name: Expr,
    pub principal: &'static str,
    pub source_arn: Expr,
}
