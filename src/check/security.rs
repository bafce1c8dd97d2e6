//! Security rules for serverless WebSocket stacks that generic scanners miss.

use super::websocket::is_websocket_api;
use super::{Finding, Severity, Subject};
use crate::raw::Intrinsic;
use serde_json::Value;

/// The service principal of Lambda execution roles.
const LAMBDA_SERVICE: &str = "lambda.amazonaws.com";

/// An expression as a readable pattern: literals as they are, `Ref X` as `${X}`,
/// `GetAtt X.A` as `${X.A}`, `Fn::Sub` text as written, `Fn::Join` joined.
pub fn pattern(value: &Value) -> String {
    if let Value::String(s) = value {
        return s.clone();
    }
    match Intrinsic::parse(value) {
        Some(Intrinsic::Ref(id)) => format!("${{{id}}}"),
        Some(Intrinsic::GetAtt {
            resource,
            attribute,
        }) => match attribute {
            Some(a) => format!("${{{resource}.{a}}}"),
            None => format!("${{{resource}}}"),
        },
        Some(Intrinsic::Sub { text, .. }) => text.to_string(),
        Some(Intrinsic::Join { separator, parts }) => match parts {
            Value::Array(items) => items
                .iter()
                .map(pattern)
                .collect::<Vec<_>>()
                .join(separator),
            other => pattern(other),
        },
        _ => "${?}".to_string(),
    }
}

/// A value that may be one item or a list, as a list.
fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// Every statement of every inline policy of a role, and of standalone policies.
fn policy_statements<'t>(t: &Subject<'t>) -> Vec<(&'t String, &'t Value)> {
    let mut out = Vec::new();
    for (id, r) in t.resources {
        let documents: Vec<&Value> = match r.type_name.as_str() {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
                items(r.properties.get("Policies"))
                    .into_iter()
                    .filter_map(|p| p.get("PolicyDocument"))
                    .collect()
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                r.properties.get("PolicyDocument").into_iter().collect()
            }
            _ => Vec::new(),
        };
        for document in documents {
            for statement in items(document.get("Statement")) {
                out.push((id, statement));
            }
        }
    }
    out
}

/// Roles that Lambda functions run as, by logical id.
fn execution_roles<'t>(t: &Subject<'t>) -> Vec<&'t str> {
    t.resources_of_type("AWS::Lambda::Function")
        .filter_map(|(_, f)| Intrinsic::parse(f.properties.get("Role")?)?.target())
        .collect()
}

/// Runs the security rules.
pub fn check(t: &Subject) -> Vec<Finding> {
    let mut out = Vec::new();
    connect_authorizer(t, &mut out);
    permissions(t, &mut out);
    roles(t, &mut out);
    tables(t, &mut out);
    out
}

fn connect_authorizer(t: &Subject, out: &mut Vec<Finding>) {
    for (id, route) in t.resources_of_type("AWS::ApiGatewayV2::Route") {
        if !is_websocket_api(t, route.properties.get("ApiId"))
            || route.properties.get("RouteKey").and_then(Value::as_str) != Some("$connect")
        {
            continue;
        }
        let auth = route
            .properties
            .get("AuthorizationType")
            .and_then(Value::as_str);
        if !matches!(auth, Some("CUSTOM" | "AWS_IAM")) {
            let chosen = route
                .metadata
                .as_ref()
                .and_then(|m| m.pointer("/sockstack/publicConnect"))
                .and_then(Value::as_bool)
                == Some(true);
            out.push(if chosen {
                Finding::new(
                    Severity::Info,
                    "connect-without-authorizer",
                    Some(id),
                    "`$connect` accepts anonymous connections, as the stack file chose (`public: true`)",
                )
            } else {
                Finding::new(
                    Severity::Error,
                    "connect-without-authorizer",
                    Some(id),
                    "`$connect` has no authorizer: anyone can open a connection; use a CUSTOM (Lambda) or AWS_IAM authorizer",
                )
            });
        }
    }
}

fn permissions(t: &Subject, out: &mut Vec<Finding>) {
    for (id, p) in t.resources_of_type("AWS::Lambda::Permission") {
        if p.properties.get("Principal").and_then(Value::as_str) == Some("*") {
            out.push(Finding::new(
                Severity::Error,
                "permission-any-principal",
                Some(id),
                "the permission lets any principal invoke the function; name the service (e.g. apigateway.amazonaws.com)",
            ));
        }
        if !p.properties.contains_key("SourceArn") {
            out.push(Finding::new(
                Severity::Error,
                "permission-without-source-arn",
                Some(id),
                "the permission has no SourceArn: any API or account using that service could invoke the function; scope it to the API, stage and route",
            ));
        }
    }
}

fn roles(t: &Subject, out: &mut Vec<Finding>) {
    for role_id in execution_roles(t) {
        let Some(role) = t.resources.get(role_id) else {
            continue;
        };
        let trust = role.properties.get("AssumeRolePolicyDocument");
        let statements = items(trust.and_then(|d| d.get("Statement")));
        let only_lambda = !statements.is_empty()
            && statements.iter().all(|s| {
                let principal = s.get("Principal");
                let services: Vec<&Value> = items(principal.and_then(|p| p.get("Service")));
                let others = principal
                    .and_then(Value::as_object)
                    .is_none_or(|p| p.keys().any(|k| k != "Service"));
                !others
                    && !services.is_empty()
                    && services.iter().all(|v| v.as_str() == Some(LAMBDA_SERVICE))
            });
        if !only_lambda {
            out.push(Finding::new(
                Severity::Error,
                "role-trust-not-lambda",
                Some(role_id),
                format!("an execution role must trust only `{LAMBDA_SERVICE}`; this one trusts other principals"),
            ));
        }
    }
    for (id, statement) in policy_statements(t) {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        if statement.get("NotAction").is_some() {
            out.push(Finding::new(
                Severity::Error,
                "wildcard-action",
                Some(id),
                "`NotAction` with Allow grants everything else; list the actions instead",
            ));
        }
        let actions: Vec<&str> = items(statement.get("Action"))
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        for action in &actions {
            if *action == "*" || action.ends_with(":*") {
                out.push(Finding::new(
                    Severity::Error,
                    "wildcard-action",
                    Some(id),
                    format!("`{action}` grants every action of the service; list the calls the code makes"),
                ));
            }
        }
        if actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case("execute-api:ManageConnections"))
        {
            for resource in items(statement.get("Resource")) {
                if !manage_connections_scoped(&pattern(resource)) {
                    out.push(Finding::new(
                        Severity::Error,
                        "manage-connections-scope",
                        Some(id),
                        format!(
                            "`execute-api:ManageConnections` on `{}`: scope it to one API and stage (…:{{api}}/{{stage}}/POST/@connections/*)",
                            pattern(resource)
                        ),
                    ));
                }
            }
        }
    }
}

/// `arn:…:execute-api:{region}:{account}:{api}/{stage}/…` with a concrete API and stage.
fn manage_connections_scoped(arn: &str) -> bool {
    let Some(rest) = arn.splitn(6, ':').nth(5) else {
        return false;
    };
    let mut parts = rest.split('/');
    let (Some(api), Some(stage)) = (parts.next(), parts.next()) else {
        return false;
    };
    !api.is_empty() && !stage.is_empty() && !api.contains('*') && !stage.contains('*')
}

fn tables(t: &Subject, out: &mut Vec<Finding>) {
    for (id, table) in t.resources_of_type("AWS::DynamoDB::Table") {
        let pitr = table
            .properties
            .get("PointInTimeRecoverySpecification")
            .and_then(|p| p.get("PointInTimeRecoveryEnabled"))
            .and_then(Value::as_bool)
            == Some(true);
        if !pitr {
            out.push(Finding::new(
                Severity::Error,
                "table-without-pitr",
                Some(id),
                "point-in-time recovery is off: a bad write or delete cannot be undone",
            ));
        }
        let sse = table.properties.get("SSESpecification");
        let kms = sse
            .and_then(|s| s.get("SSEEnabled"))
            .and_then(Value::as_bool)
            == Some(true);
        if !kms {
            let chosen = table
                .metadata
                .as_ref()
                .and_then(|m| m.pointer("/sockstack/tableKey"))
                .and_then(Value::as_str)
                == Some("aws-owned");
            out.push(if chosen {
                Finding::new(
                    Severity::Info,
                    "table-aws-owned-key",
                    Some(id),
                    "encrypted with the AWS-owned key, as the stack file chose (no key policy, no CloudTrail record of key use)",
                )
            } else {
                Finding::new(
                    Severity::Error,
                    "table-aws-owned-key",
                    Some(id),
                    "encrypted only with the AWS-owned key; use the AWS-managed (SSESpecification SSEEnabled: true) or a customer-managed key",
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns() {
        assert_eq!(pattern(&json!({"Ref": "Api"})), "${Api}");
        assert_eq!(pattern(&json!({"Fn::GetAtt": ["T", "Arn"]})), "${T.Arn}");
        assert_eq!(
            pattern(
                &json!({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, {"Fn::Join": ["/", [{"Ref": "Api"}, "dev"]]}]]})
            ),
            "arn:${AWS::Partition}:${Api}/dev"
        );
    }

    #[test]
    fn manage_connections_scopes() {
        assert!(manage_connections_scoped(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/dev/POST/@connections/*"
        ));
        assert!(!manage_connections_scoped(
            "arn:aws:execute-api:eu-west-1:1:*/dev/POST/@connections/*"
        ));
        assert!(!manage_connections_scoped(
            "arn:aws:execute-api:eu-west-1:1:abc/*/POST/@connections/*"
        ));
        assert!(!manage_connections_scoped("*"));
    }
}
