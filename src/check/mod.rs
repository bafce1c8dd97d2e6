//! Rules that hold for any CloudFormation template, from any tool:
//! CloudFormation's limits ([`limits`]), WebSocket API rules ([`websocket`]) and
//! the security rules generic scanners miss for WebSocket backends ([`security`]).

pub mod limits;
pub mod security;
pub mod websocket;

use crate::raw::RawTemplate;
use serde::Serialize;
use std::fmt;

/// Every rule id, for documentation and for tests that prove each rule fires.
pub const RULES: &[&str] = &[
    // limits
    "template-needs-s3",
    "template-too-large",
    "too-many",
    "no-resources",
    "bad-logical-id",
    // WebSocket
    "bad-route-key",
    "duplicate-route-key",
    "authorizer-not-on-connect",
    "route-quota",
    "bad-identity-source",
    // security
    "connect-without-authorizer",
    "permission-any-principal",
    "permission-without-source-arn",
    "role-trust-not-lambda",
    "wildcard-action",
    "manage-connections-scope",
    "table-without-pitr",
    "table-aws-owned-key",
];

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The template will not deploy, or deploys something broken.
    Error,
    /// It deploys, but a limit or a quota is close or needs care.
    Warning,
    /// Worth knowing.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// Stable rule id, e.g. `authorizer-not-on-connect`.
    pub rule: &'static str,
    /// The logical id concerned, if one.
    pub resource: Option<String>,
    /// What was found and what to do.
    pub message: String,
}

impl Finding {
    pub(crate) fn new(
        severity: Severity,
        rule: &'static str,
        resource: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            rule,
            resource: resource.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.severity, self.rule)?;
        if let Some(r) = &self.resource {
            write!(f, " {r}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Runs every rule; findings sorted by severity, then rule, then resource.
/// Size rules read `template.body_bytes`: set it to the size of the text that will be deployed.
pub fn check(template: &RawTemplate) -> Vec<Finding> {
    let mut findings = limits::check(template);
    findings.extend(websocket::check(template));
    findings.extend(security::check(template));
    findings
        .sort_by(|a, b| (a.severity, a.rule, &a.resource).cmp(&(b.severity, b.rule, &b.resource)));
    findings
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
