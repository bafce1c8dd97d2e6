//! When a deploy asks before it executes its change set (`--require-approval`, the CDK's spelling), and what
//! the question names: access that widens, a stateful resource replaced or deleted, `$connect` losing its
//! authorizer.

use super::changeset::ResourceVerdict;
use crate::diff::replacement::is_stateful;
use crate::diff::{Action, ChangeSet, Replacement, Severity};

/// Which changes need a yes before they are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask when access widens, a stateful resource is replaced or deleted, or `$connect` loses its authorizer.
    #[default]
    Broadening,
    /// Ask before any change.
    AnyChange,
}

/// The changes that hurt if they are a mistake, one line each (empty: nothing to ask about).
///
/// From sockstack's diff: critical and widening entries of the security section (IAM statements, trust,
/// managed policies, invoke permissions, route authorization, `$connect`), and stateful resources (tables,
/// log groups, keys…) replaced, renamed or deleted. From CloudFormation's change set: stateful resources it
/// will replace or may replace, or remove, that the diff did not already name.
pub fn concerns(diff: &ChangeSet, cloudformation: &[ResourceVerdict]) -> Vec<String> {
    let mut out = Vec::new();
    for s in &diff.security {
        let kind = match s.severity {
            Severity::Critical => "critical",
            Severity::Widened => "widens access",
            _ => continue,
        };
        let mut line = format!("{kind}: {} ({}): {}", s.logical_id, s.type_name, s.summary);
        for d in &s.details {
            line.push_str(&format!("\n      {d}"));
        }
        out.push(line);
    }
    let mut named = Vec::new();
    for r in &diff.resources {
        if !is_stateful(&r.type_name) {
            continue;
        }
        let what = match r.action {
            Action::Delete => "deletes",
            Action::Rename => "replaces (new logical id)",
            Action::Replace if r.replacement == Replacement::Conditional => "may replace",
            Action::Replace => "replaces",
            _ => continue,
        };
        let loss = if r.data_loss {
            ", its data is lost"
        } else {
            ""
        };
        out.push(format!(
            "stateful: {what} {} ({}){loss}",
            r.logical_id, r.type_name
        ));
        named.push(r.logical_id.clone());
        if let Some(old) = &r.renamed_from {
            named.push(old.clone());
        }
    }
    for v in cloudformation {
        if !is_stateful(&v.type_name) || named.contains(&v.logical_id) {
            continue;
        }
        let what = match (v.action.as_str(), v.replacement.as_deref()) {
            ("Remove", _) => "removes",
            ("Modify", Some("True")) => "replaces",
            ("Modify", Some("Conditional")) => "may replace",
            _ => continue,
        };
        out.push(format!(
            "stateful: CloudFormation {what} {} ({})",
            v.logical_id, v.type_name
        ));
    }
    out
}

/// What must be approved at `level`: the concerns, or for `any-change` every change when there are no
/// concerns. Empty: go ahead.
pub fn to_approve(
    level: RequireApproval,
    diff: &ChangeSet,
    cloudformation: &[ResourceVerdict],
) -> Vec<String> {
    match level {
        RequireApproval::Never => Vec::new(),
        RequireApproval::Broadening => concerns(diff, cloudformation),
        RequireApproval::AnyChange => {
            let c = concerns(diff, cloudformation);
            if !c.is_empty() {
                c
            } else if !diff.is_empty() || !cloudformation.is_empty() {
                vec![format!(
                    "change: {}",
                    crate::diff::report::count_line(&diff.counts())
                )]
            } else {
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Schemas, diff};
    use crate::raw::RawTemplate;
    use serde_json::{Value, json};

    fn t(v: Value) -> RawTemplate {
        RawTemplate::from_value(v).unwrap()
    }

    fn role(actions: &[&str]) -> Value {
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "grants", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}]}}]}})
    }

    #[test]
    fn a_widened_role_is_named_with_what_it_gains() {
        let old = t(json!({"Resources": {"SendRole": role(&["dynamodb:Query"])}}));
        let new =
            t(json!({"Resources": {"SendRole": role(&["dynamodb:Query", "dynamodb:DeleteItem"])}}));
        let d = diff(&old, &new, Schemas::bundled());
        let c = to_approve(RequireApproval::Broadening, &d, &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].starts_with("widens access: SendRole (AWS::IAM::Role)"),
            "{c:?}"
        );
        assert!(c[0].contains("dynamodb:DeleteItem"), "{c:?}");
        assert!(to_approve(RequireApproval::Never, &d, &[]).is_empty());
        // Narrowing is not a concern; with any-change it still asks.
        let back = diff(&new, &old, Schemas::bundled());
        assert!(to_approve(RequireApproval::Broadening, &back, &[]).is_empty());
        assert_eq!(
            to_approve(RequireApproval::AnyChange, &back, &[]),
            ["change: 1 to update"]
        );
    }

    #[test]
    fn replacing_or_deleting_a_table_is_named() {
        let table = |key: &str| json!({"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]}});
        let old = t(json!({"Resources": {"Rooms": table("a"), "Old": table("a")}}));
        let new = t(json!({"Resources": {"Rooms": table("b")}}));
        let d = diff(&old, &new, Schemas::bundled());
        let c = concerns(&d, &[]);
        assert!(
            c.contains(
                &"stateful: replaces Rooms (AWS::DynamoDB::Table), its data is lost".to_string()
            ),
            "{c:?}"
        );
        assert!(
            c.contains(
                &"stateful: deletes Old (AWS::DynamoDB::Table), its data is lost".to_string()
            ),
            "{c:?}"
        );
    }

    #[test]
    fn cloudformations_own_replacement_of_a_table_is_named_too() {
        let empty = ChangeSet::default();
        let v = ResourceVerdict {
            logical_id: "Rooms".into(),
            type_name: "AWS::DynamoDB::Table".into(),
            action: "Modify".into(),
            replacement: Some("Conditional".into()),
            because: vec![],
        };
        assert_eq!(
            concerns(&empty, &[v]),
            ["stateful: CloudFormation may replace Rooms (AWS::DynamoDB::Table)"]
        );
    }

    #[test]
    fn connect_losing_its_authorizer_is_critical() {
        let route = |auth: &str| json!({"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "$connect", "AuthorizationType": auth}});
        let d = diff(
            &t(json!({"Resources": {"ConnectRoute": route("CUSTOM")}})),
            &t(json!({"Resources": {"ConnectRoute": route("NONE")}})),
            Schemas::bundled(),
        );
        let c = concerns(&d, &[]);
        assert!(
            c.iter().any(|l| l.starts_with("critical: ConnectRoute")),
            "{c:?}"
        );
    }
}
