//! Which SSM parameters and Secrets Manager secrets a function may read, as its template says: the `Allow`
//! statements of its execution role (inline `Policies`, and `AWS::IAM::Policy` resources attached to the
//! role) whose actions read them, and the resources they name, resolved to local ARNs and turned back into
//! names. Wildcard resources name no particular value and are left out.

use super::resolve::Resolver;
use crate::raw::{RawResource, RawTemplate};
use serde_json::Value;

/// What one function's role lets it read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readable {
    /// SSM parameter names, sorted.
    pub parameters: Vec<String>,
    /// Secrets Manager secret names, sorted.
    pub secrets: Vec<String>,
}

const PARAMETER_ACTIONS: &[&str] = &["ssm:GetParameter", "ssm:GetParameters", "ssm:*"];
const SECRET_ACTIONS: &[&str] = &["secretsmanager:GetSecretValue", "secretsmanager:*"];

/// The parameter name of `arn:…:ssm:…:parameter/NAME`. SSM's ARNs drop the leading `/` of a hierarchical
/// name, and SSM requires one on every name that holds a `/`, so it is put back.
fn parameter_name(arn: &str) -> Option<String> {
    let (_, name) = arn.split_once(":parameter/")?;
    if name.is_empty() || name.contains('*') || name.contains('?') {
        return None;
    }
    Some(if name.contains('/') {
        format!("/{name}")
    } else {
        name.to_string()
    })
}

/// The secret name of `arn:…:secretsmanager:…:secret:NAME-??????` (Secrets Manager's random suffix as a
/// pattern) or of an ARN without the suffix.
fn secret_name(arn: &str) -> Option<String> {
    let (_, rest) = arn.split_once(":secret:")?;
    let name = rest.strip_suffix("-??????").unwrap_or(rest);
    (!name.is_empty() && !name.contains('*') && !name.contains('?')).then(|| name.to_string())
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The policy documents attached to role `role_id`.
fn documents<'t>(template: &'t RawTemplate, role_id: &str) -> Vec<&'t Value> {
    let mut out = Vec::new();
    if let Some(role) = template.resources.get(role_id)
        && let Some(Value::Array(policies)) = role.properties.get("Policies")
    {
        out.extend(policies.iter().filter_map(|p| p.get("PolicyDocument")));
    }
    for (_, policy) in template.resources_of_type("AWS::IAM::Policy") {
        let attached = match policy.properties.get("Roles") {
            Some(Value::Array(roles)) => roles
                .iter()
                .any(|r| r.get("Ref").and_then(Value::as_str) == Some(role_id)),
            _ => false,
        };
        if attached && let Some(document) = policy.properties.get("PolicyDocument") {
            out.push(document);
        }
    }
    out
}

/// What `function`'s role lets it read from SSM and Secrets Manager.
pub fn readable(
    template: &RawTemplate,
    resolver: &Resolver<'_>,
    function: &RawResource,
) -> Result<Readable, String> {
    let mut readable = Readable::default();
    let role_id = match function.properties.get("Role") {
        Some(Value::Object(m)) => match (m.get("Fn::GetAtt"), m.get("Ref")) {
            (Some(Value::Array(parts)), _) => parts.first().and_then(Value::as_str),
            (_, Some(Value::String(id))) => Some(id.as_str()),
            _ => None,
        },
        _ => None,
    };
    let Some(role_id) = role_id else {
        return Ok(readable);
    };
    for document in documents(template, role_id) {
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        };
        for statement in statements {
            if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            let actions = strings(statement.get("Action"));
            let reads_parameters = actions.iter().any(|a| PARAMETER_ACTIONS.contains(a));
            let reads_secrets = actions.iter().any(|a| SECRET_ACTIONS.contains(a));
            if !reads_parameters && !reads_secrets {
                continue;
            }
            let resources =
                match resolver.resolve(statement.get("Resource").unwrap_or(&Value::Null))? {
                    Value::String(s) => vec![s],
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
            for arn in &resources {
                if reads_parameters && let Some(name) = parameter_name(arn) {
                    readable.parameters.push(name);
                }
                if reads_secrets && let Some(name) = secret_name(arn) {
                    readable.secrets.push(name);
                }
            }
        }
    }
    readable.parameters.sort();
    readable.parameters.dedup();
    readable.secrets.sort();
    readable.secrets.dedup();
    Ok(readable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_back_from_arns() {
        assert_eq!(
            parameter_name("arn:aws:ssm:us-east-1:0:parameter/app/dev/key").as_deref(),
            Some("/app/dev/key")
        );
        assert_eq!(
            parameter_name("arn:aws:ssm:us-east-1:0:parameter/flat").as_deref(),
            Some("flat")
        );
        assert_eq!(
            parameter_name("arn:aws:ssm:us-east-1:0:parameter/app/*"),
            None
        );
        assert_eq!(
            secret_name("arn:aws:secretsmanager:us-east-1:0:secret:app/hook-??????").as_deref(),
            Some("app/hook")
        );
        assert_eq!(
            secret_name("arn:aws:secretsmanager:us-east-1:0:secret:*"),
            None
        );
    }
}
