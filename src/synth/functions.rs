//! One Lambda function per `functions:` entry, with its log group and role.

use super::{ARTIFACT_BUCKET, iam, security, tables};
use crate::cfn::lambda::{Code, Environment, Function, LoggingConfig, TracingConfig};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Properties, Resource, RetainPolicy, Template};
use crate::model::{self, EnvValue, Model};
use std::collections::BTreeMap;

/// Logical id of function `f`: `SendFunction`.
pub fn function_id(f: &model::Function) -> String {
    format!("{}Function", f.stem())
}

/// Logical id of its log group: `SendLogGroup`.
pub fn log_group_id(f: &model::Function) -> String {
    format!("{}LogGroup", f.stem())
}

/// Logical id of its role: `SendRole`.
pub fn role_id(f: &model::Function) -> String {
    format!("{}Role", f.stem())
}

/// `https://{api}.execute-api.{region}.{suffix}/{stage}`: where functions post to `@connections`.
pub fn callback_url(model: &Model) -> Expr {
    Expr::sub(format!(
        "https://${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{}",
        super::API,
        model.stage.name
    ))
}

/// The template value of one environment variable.
pub fn env_value(model: &Model, value: &EnvValue) -> Expr {
    match value {
        EnvValue::Literal(s) => Expr::str(s.clone()),
        EnvValue::TableName(t) => tables::name(
            model
                .table(t)
                .expect("a model's environment names its tables"),
        ),
        EnvValue::RegistryName => Expr::reference(sockstack_contract::registry::LOGICAL_ID),
        EnvValue::CallbackUrl => callback_url(model),
    }
}

pub(super) fn add(model: &Model, template: &mut Template) {
    let log_policy = if model.retain_logs {
        RetainPolicy::Retain
    } else {
        RetainPolicy::Delete
    };
    for f in &model.functions {
        let mut log_group = Resource::new(Properties::LogGroup(LogGroup {
            retention_in_days: f.log_retention_days,
        }))
        .with_policy(log_policy);
        security::suppress(&mut log_group, security::LOG_GROUP);
        template.add(log_group_id(f), log_group);
        template.add(role_id(f), iam::function_role(model, f));

        let variables: BTreeMap<String, Expr> = f
            .environment
            .iter()
            .map(|(name, value)| (name.clone(), env_value(model, value)))
            .collect();
        let function = Function {
            description: Some(format!(
                "sockstack function `{}` (binary `{}`)",
                f.name, f.handler
            )),
            architectures: vec![f.architecture.as_str()],
            code: Code {
                s3_bucket: Expr::reference(ARTIFACT_BUCKET),
                s3_key: f.bundle_key.clone(),
            },
            handler: sockstack_contract::bundle::EXECUTABLE,
            runtime: "provided.al2023",
            memory_size: f.memory,
            timeout: f.timeout,
            role: Expr::get_att(role_id(f), "Arn"),
            environment: (!variables.is_empty()).then_some(Environment { variables }),
            logging_config: LoggingConfig {
                log_format: "JSON",
                log_group: Expr::reference(log_group_id(f)),
            },
            reserved_concurrent_executions: f.reserved_concurrency,
            tracing_config: f.tracing.then_some(TracingConfig { mode: "Active" }),
        };
        let has_environment = function.environment.is_some();
        let mut resource = Resource::new(Properties::Function(function));
        security::suppress(&mut resource, security::FUNCTION);
        if has_environment {
            security::suppress(&mut resource, &[security::FUNCTION_ENVIRONMENT]);
        }
        if f.reserved_concurrency.is_none() {
            security::suppress(&mut resource, &[security::NO_RESERVED_CONCURRENCY]);
        }
        template.add(function_id(f), resource);
    }
}
