//! Model → CloudFormation: a pure function. Logical ids are stable and readable
//! (`SendRoute`, `ConnectionsTable`), so template diffs stay legible.
//!
//! | resource | logical id |
//! | --- | --- |
//! | API, authorizer, its permission | `WebSocketApi`, `Authorizer`, `AuthorizerPermission` |
//! | per route | `{Route}Route`, `{Route}Integration`, `{Route}RoutePermission`, `{Route}RouteResponse` |
//! | deployment, stage, access logs | `Deployment{hash}`, `Stage`, `AccessLogs` |
//! | per function | `{Function}Function`, `{Function}Role`, `{Function}LogGroup` |
//! | tables | `ConnectionsTable` (the registry), `{Table}Table`, `TableKey` |
//! | account logging role | `ApiGatewayAccount`, `ApiGatewayAccountRole` |

mod api;
mod functions;
pub mod iam;
mod outputs;
pub mod security;
mod tables;

use crate::cfn::{Expr, Parameter, Template};
use crate::model::Model;

/// The parameter naming the S3 bucket that holds the bundles.
pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";
/// Logical id of the API.
pub const API: &str = "WebSocketApi";

/// `Ref` to the API.
pub(crate) fn api_ref() -> Expr {
    Expr::reference(API)
}

/// `Fn::Sub` of an ARN in this partition, region and account: `arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:{rest}`.
pub(crate) fn regional_arn(service: &str, rest: &str) -> Expr {
    Expr::sub(format!(
        "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{rest}"
    ))
}

/// Synthesizes the template of one stack.
pub fn synth(model: &Model) -> Template {
    let description = model.description.clone().or_else(|| {
        Some(format!(
            "sockstack: serverless WebSocket backend {} (stage {})",
            model.stack_name, model.stage.name
        ))
    });
    let mut template = Template::new(description);
    template.parameters.insert(
        ARTIFACT_BUCKET.to_string(),
        Parameter {
            type_name: "String",
            description: "S3 bucket holding the handler bundles (upload them with `sockstack deploy` or `sockstack bundle`)".into(),
            allowed_pattern: Some("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
        },
    );
    tables::add(model, &mut template);
    functions::add(model, &mut template);
    api::add(model, &mut template);
    outputs::add(model, &mut template);
    template
}

pub use api::{integration_id, permission_id, route_id, route_response_id};
pub use functions::{
    callback_url, env_value, function_id as functions_logical_id, log_group_id, role_id,
};
pub use iam::statements;
pub use tables::TABLE_KEY;
