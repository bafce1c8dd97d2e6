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
}

/// A service principal.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Principal {
    #[serde(rename = "AWS", skip_serializing_if = "Vec::is_empty")]
    pub aws: Vec<Expr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<&'static str>,
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
        }
    }

    /// A trust statement: `service` may assume the role.
    pub fn assume_role(service: &'static str) -> Self {
        Statement {
            sid: None,
            effect: "Allow",
            principal: Some(Principal {
                aws: Vec::new(),
                service: vec![service],
            }),
            action: vec!["sts:AssumeRole".to_string()],
            resource: Vec::new(),
        }
    }
}
