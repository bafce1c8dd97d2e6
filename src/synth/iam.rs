//! Least-privilege roles: each function gets its own log stream actions and,
//! for each grant, exactly the actions of `contract::grants` on exactly the
//! resources the grant names — nothing else.
//!
//! | statement | from |
//! | --- | --- |
//! | `WriteOwnLogs` | every function: its own log group |
//! | `ConnectionsTable`, `ConnectionsIndexes` | `connections: read/write/send` |
//! | `{Table}Table`, `{Table}{Index}Index` | `tables: {T: …}`, `tables: {T/I: read}` |
//! | `TableKey`, `{Table}Key` | grants on tables encrypted with a customer-managed key |
//! | `PostToConnections` | `connections: send` |
//! | `ReadParameters`, `ReadSecrets` | `parameters`, `secrets` (and `{parameter: P}` variables) |
//! | `Tracing` | `tracing: true` |

use super::{API, functions, regional_arn, tables};
use crate::cfn::iam::{Policy, PolicyDocument, Role, Statement};
use crate::cfn::{Expr, Properties, Resource};
use crate::model::{self, ConnectionsAccess, Grant, Model, TableAccess, pascal_case};
use sockstack_contract::grants;
use std::collections::{BTreeMap, BTreeSet};

fn actions(lists: &[&[&str]]) -> Vec<String> {
    let set: BTreeSet<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// The KMS actions a grant needs on a customer-managed table key.
struct KeyUse {
    sid: String,
    key: Option<Expr>,
    write: bool,
}

/// `kms:ViaService` = DynamoDB in this region: the key is usable only through DynamoDB.
fn via_dynamodb() -> serde_json::Value {
    serde_json::json!({"StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}})
}

/// The statements of function `f`'s role, in a fixed order.
pub fn statements(model: &Model, f: &model::Function) -> Vec<Statement> {
    let mut out = vec![Statement::allow(
        "WriteOwnLogs",
        vec!["logs:CreateLogStream".into(), "logs:PutLogEvents".into()],
        // GetAtt LogGroup.Arn ends in `:*`, which covers the group's streams only.
        vec![Expr::get_att(functions::log_group_id(f), "Arn")],
    )];
    // Keyed by sid: the stack's own key (`TableKey`) or an existing table's (`{Table}Key`).
    let mut keys: BTreeMap<String, KeyUse> = BTreeMap::new();
    let mut use_key = |sid: String, key: Option<Expr>, write: bool| {
        if let Some(key) = key {
            let entry = keys.entry(sid.clone()).or_insert_with(|| KeyUse {
                sid,
                key: Some(key),
                write: false,
            });
            entry.write |= write;
        }
    };

    let registry: Vec<ConnectionsAccess> = f
        .grants
        .iter()
        .filter_map(|g| match g {
            Grant::Connections(a) => Some(*a),
            _ => None,
        })
        .collect();
    if !registry.is_empty() {
        let mut lists: Vec<&[&str]> = Vec::new();
        for a in &registry {
            lists.push(match a {
                ConnectionsAccess::Read => grants::REGISTRY_READ,
                ConnectionsAccess::Write => grants::REGISTRY_WRITE,
                ConnectionsAccess::Send => grants::REGISTRY_SEND,
            });
        }
        out.push(Statement::allow(
            "ConnectionsTable",
            actions(&lists),
            vec![tables::registry_arn(None)],
        ));
        if registry.contains(&ConnectionsAccess::Read) && !model.registry.indexes.is_empty() {
            out.push(Statement::allow(
                "ConnectionsIndexes",
                // GetItem does not apply to an index: reading one is a Query.
                vec!["dynamodb:Query".into()],
                model
                    .registry
                    .indexes
                    .iter()
                    .map(|i| tables::registry_arn(Some(&i.index)))
                    .collect(),
            ));
        }
        let writes = registry.iter().any(|a| *a != ConnectionsAccess::Read);
        use_key(
            tables::TABLE_KEY.into(),
            tables::registry_key(model),
            writes,
        );
    }

    for g in &f.grants {
        let (table_name, index, access) = match g {
            Grant::Table { table, access } => (table, None, *access),
            Grant::Index { table, index } => (table, Some(index.as_str()), TableAccess::Read),
            _ => continue,
        };
        let table = model
            .table(table_name)
            .expect("a model's grants name its tables");
        let (sid, acts) = match index {
            Some(i) => (
                format!("{}{}Index", pascal_case(&table.name), pascal_case(i)),
                actions(&[grants::INDEX_READ]),
            ),
            None => (
                format!("{}Table", pascal_case(&table.name)),
                match access {
                    TableAccess::Read => actions(&[grants::TABLE_READ]),
                    TableAccess::Write => actions(&[grants::TABLE_WRITE]),
                    TableAccess::Readwrite => actions(&[grants::TABLE_READ, grants::TABLE_WRITE]),
                },
            ),
        };
        out.push(Statement::allow(
            &sid,
            acts,
            vec![tables::arn(table, index)],
        ));
        let key_sid = match &table.source {
            model::TableSource::Created(_) => tables::TABLE_KEY.to_string(),
            model::TableSource::Existing { .. } => format!("{}Key", pascal_case(&table.name)),
        };
        use_key(
            key_sid,
            tables::customer_key(table),
            access != TableAccess::Read,
        );
    }

    for k in keys.into_values() {
        let lists: &[&[&str]] = if k.write {
            &[grants::KMS_WRITE]
        } else {
            &[grants::KMS_READ]
        };
        let mut s = Statement::allow(&k.sid, actions(lists), k.key.into_iter().collect());
        s.condition = Some(via_dynamodb());
        out.push(s);
    }

    if f.has_connections(ConnectionsAccess::Send) {
        out.push(Statement::allow(
            "PostToConnections",
            vec![grants::MANAGE_CONNECTIONS.into()],
            // The trailing `*` is the connection id, which only exists at run time;
            // API, stage and method are fixed.
            vec![regional_arn(
                "execute-api",
                &format!("${{{API}}}/{}/POST/@connections/*", model.stage.name),
            )],
        ));
    }
    let parameters: Vec<Expr> = f
        .grants
        .iter()
        .filter_map(|g| match g {
            Grant::Parameter(p) => Some(regional_arn(
                "ssm",
                &format!("parameter/{}", p.trim_start_matches('/')),
            )),
            _ => None,
        })
        .collect();
    if !parameters.is_empty() {
        out.push(Statement::allow(
            "ReadParameters",
            actions(&[grants::PARAMETER_READ]),
            parameters,
        ));
    }
    let secrets: Vec<Expr> = f
        .grants
        .iter()
        .filter_map(|g| match g {
            // Secrets Manager appends `-` and six random characters to a secret's ARN.
            Grant::Secret(s) => Some(regional_arn(
                "secretsmanager",
                &format!("secret:{s}-??????"),
            )),
            _ => None,
        })
        .collect();
    if !secrets.is_empty() {
        out.push(Statement::allow(
            "ReadSecrets",
            actions(&[grants::SECRET_READ]),
            secrets,
        ));
    }
    if f.tracing {
        // X-Ray's write actions take no resource but `*`.
        out.push(Statement::allow(
            "Tracing",
            actions(&[grants::XRAY]),
            vec![Expr::str("*")],
        ));
    }
    out
}

/// The execution role of function `f`.
pub fn function_role(model: &Model, f: &model::Function) -> Resource {
    Resource::new(Properties::Role(Role {
        description: Some(format!("Execution role of sockstack function `{}`", f.name)),
        assume_role_policy_document: PolicyDocument::new(vec![Statement::assume_role(
            "lambda.amazonaws.com",
        )]),
        managed_policy_arns: Vec::new(),
        policies: vec![Policy {
            policy_name: format!("{}-access", f.name),
            policy_document: PolicyDocument::new(statements(model, f)),
        }],
    }))
}
