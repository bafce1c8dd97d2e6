//! `AWS::IAM::Role` and policy documents.

use super::Expr;
use serde::Serialize;

/// `AWS::IAM::Role`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub assume_role_policy_document: PolicyDocument,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policy_arns: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
}

/// An inline policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

/// An IAM policy document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document with the current policy language version.
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: "2012-10-17",
            statement,
        }
    }
}

/// One statement.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

/// Who a statement applies to.
#[derive(Debug, Clone)]
pub enum Principal {
    /// AWS services, e.g. `lambda.amazonaws.com`.
    Service(Vec<&'static str>),
    /// An AWS account or IAM principal ARN.
    Aws(Expr),
    /// Everyone (`"*"`): only for `Deny` statements.
    Anyone,
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Principal::Anyone => s.serialize_str("*"),
            Principal::Service(services) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("Service", services)?;
                map.end()
            }
            Principal::Aws(arn) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("AWS", arn)?;
                map.end()
            }
        }
    }
}

impl Statement {
    /// `Allow` `actions` on `resources`.
    pub fn allow(sid: &str, actions: Vec<String>, resources: Vec<Expr>) -> Self {
        Statement {
            sid: Some(sid.to_string()),
            effect: "Allow",
            principal: None,
            action: actions,
            resource: resources,
            condition: None,
        }
    }

    /// A trust statement: `service` may assume the role.
    pub fn assume_role(service: &'static str) -> Self {
        Statement {
            sid: None,
            effect: "Allow",
            principal: Some(Principal::Service(vec![service])),
            action: vec!["sts:AssumeRole".to_string()],
            resource: Vec::new(),
            condition: None,
        }
    }
}
