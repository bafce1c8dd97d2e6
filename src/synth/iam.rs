//! Least-privilege roles: each function gets exactly the actions its handler
//! calls (from the contract), on exactly its tables, indexes and API.

use super::{API, functions, regional_arn, tables};
use crate::cfn::iam::{Policy, PolicyDocument, Role, Statement};
use crate::cfn::{Expr, Properties, Resource};
use crate::model::{self, Model, pascal_case};
use sockstack_contract::access::MANAGE_CONNECTIONS;

/// The execution role of function `f`.
pub fn function_role(model: &Model, f: &model::Function) -> Resource {
    let access = f.profile.access();
    let mut statements = vec![Statement::allow(
        "WriteOwnLogs",
        vec!["logs:CreateLogStream".into(), "logs:PutLogEvents".into()],
        // GetAtt LogGroup.Arn ends in `:*`, which covers the group's streams only.
        vec![Expr::get_att(functions::log_group_id(f), "Arn")],
    )];
    for grant in access.grants {
        let table = model.table(grant.table);
        let sid = match grant.index {
            Some(index) => format!("{}{}Index", grant.table.name(), pascal_case(index)),
            None => format!("{}Table", grant.table.name()),
        };
        let mut actions: Vec<String> = grant.actions.iter().map(|a| a.to_string()).collect();
        actions.sort();
        statements.push(Statement::allow(
            &sid,
            actions,
            vec![tables::arn(table, grant.index)],
        ));
    }
    if access.manage_connections {
        statements.push(Statement::allow(
            "PostToConnections",
            vec![MANAGE_CONNECTIONS.into()],
            // The trailing `*` is the connection id, which only exists at run time;
            // API, stage and method are fixed.
            vec![regional_arn(
                "execute-api",
                &format!("${{{API}}}/{}/POST/@connections/*", model.stage.name),
            )],
        ));
    }
    Resource::new(Properties::Role(Role {
        description: Some(format!(
            "Execution role of sockstack handler `{}`",
            f.handler
        )),
        assume_role_policy_document: PolicyDocument::new(vec![Statement::assume_role(
            "lambda.amazonaws.com",
        )]),
        managed_policy_arns: Vec::new(),
        policies: vec![Policy {
            policy_name: format!("{}-access", f.handler),
            policy_document: PolicyDocument::new(statements),
        }],
    }))
}
