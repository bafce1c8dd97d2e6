//! Stack outputs: where clients connect, where functions post, the table names.

use super::{API, api_ref, functions, tables};
use crate::cfn::{Expr, Output, Template};
use crate::model::Model;
use crate::model::pascal_case;
use sockstack_contract::registry;

pub(super) fn add(model: &Model, template: &mut Template) {
    let mut out = |name: &str, description: &str, value: Expr| {
        template.outputs.insert(
            name.to_string(),
            Output {
                description: description.to_string(),
                value,
            },
        );
    };
    out(
        "WebSocketUrl",
        "wss:// URL clients connect to",
        Expr::join(
            "/",
            vec![
                Expr::get_att(API, "ApiEndpoint"),
                Expr::str(model.stage.name.clone()),
            ],
        ),
    );
    out(
        "CallbackUrl",
        "Connection management endpoint (POST {CallbackUrl}/@connections/{connectionId})",
        functions::callback_url(model),
    );
    out("ApiId", "WebSocket API id", api_ref());
    out(
        "StageName",
        "API Gateway stage",
        Expr::str(model.stage.name.clone()),
    );
    out(
        "ConnectionsTableName",
        "Name of the connection registry table",
        Expr::reference(registry::LOGICAL_ID),
    );
    for table in &model.tables {
        out(
            &format!("{}TableName", pascal_case(&table.name)),
            &format!("Name of the {} table", table.name),
            tables::name(table),
        );
    }
}
