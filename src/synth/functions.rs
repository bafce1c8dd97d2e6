//! One Lambda function per handler, with its log group and role.

use super::{ARTIFACT_BUCKET, iam, security, tables};
use crate::cfn::lambda::{Code, Environment, Function, LoggingConfig};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Properties, Resource, RetainPolicy, Template};
use crate::model::{self, Model};
use sockstack_contract::{Table, env};
use std::collections::BTreeMap;

/// Logical id of the function running `f`: `VoteFunction`.
pub fn function_id(f: &model::Function) -> String {
    format!("{}Function", f.name())
}

/// Logical id of its log group: `VoteLogGroup`.
pub fn log_group_id(f: &model::Function) -> String {
    format!("{}LogGroup", f.name())
}

/// Logical id of its role: `VoteRole`.
pub fn role_id(f: &model::Function) -> String {
    format!("{}Role", f.name())
}

/// `https://{api}.execute-api.{region}.{suffix}/{stage}`: where handlers post to `@connections`.
pub fn callback_url(model: &Model) -> Expr {
    Expr::sub(format!(
        "https://${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{}",
        super::API,
        model.stage.name
    ))
}

/// The value the template gives environment variable `name` of function `f`.
/// Every variable in the contract has one; `None` means the contract grew a
/// variable synth does not know yet (a test guards against it).
pub fn env_value(model: &Model, f: &model::Function, name: &str) -> Option<Expr> {
    let authorizer = model.api.authorizer();
    let value = match name {
        env::CONNECTIONS_TABLE => tables::name(model.table(Table::Connections)),
        env::PROFILES_TABLE => tables::name(model.table(Table::Profiles)),
        env::CALLBACK_URL => callback_url(model),
        env::NOTIFY_CONCURRENCY => Expr::str(f.notify_concurrency.to_string()),
        env::JWKS_URL => Expr::str(authorizer?.jwks_url.clone()),
        env::JWT_ISSUER => Expr::str(authorizer?.issuer.clone()),
        env::JWT_AUDIENCE => Expr::str(authorizer?.audience.join(",")),
        env::TOKEN_SOURCE => Expr::str(authorizer?.identity_source.first()?.clone()),
        env::USER_ID_CLAIM => Expr::str(authorizer?.user_id_claim.clone()),
        env::EMAIL_CLAIM => Expr::str(authorizer?.email_claim.clone()),
        env::TEAM_ID_CLAIM => Expr::str(authorizer?.team_id_claim.clone()),
        _ => return None,
    };
    Some(value)
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

        let access = f.profile.access();
        let variables: BTreeMap<String, Expr> = access
            .env
            .iter()
            .map(|name| {
                let value = env_value(model, f, name)
                    .unwrap_or_else(|| panic!("no template value for environment variable {name}"));
                (name.to_string(), value)
            })
            .collect();
        let function = Function {
            description: Some(format!(
                "sockstack handler `{}` ({} access)",
                f.handler,
                f.profile.name()
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
        };
        let has_environment = function.environment.is_some();
        let mut resource = Resource::new(Properties::Function(function));
        security::suppress(&mut resource, security::FUNCTION);
        if has_environment {
            security::suppress(&mut resource, &[security::FUNCTION_ENVIRONMENT]);
        }
        template.add(function_id(f), resource);
    }
}
