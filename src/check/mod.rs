//! Rules that hold for any CloudFormation template, from any tool:
//! CloudFormation's limits ([`limits`]), WebSocket API rules ([`websocket`]) and
//! the security rules generic scanners miss for WebSocket backends ([`security`]).

pub mod limits;
pub mod security;
pub mod websocket;

use crate::cfn::Template;
use crate::raw::{RawResource, RawTemplate};
use serde::Serialize;
use std::collections::BTreeMap;
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

/// The resource types whose properties some rule reads. A rule that reads another type must
/// add it here (a test holds this list to the type names the rules' sources spell).
pub const TYPES_READ: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Route",
    "AWS::DynamoDB::Table",
    "AWS::IAM::Group",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
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

/// What the rules read of a template: its resources, the names of its outputs and
/// parameters, and the size of its text.
pub struct Subject<'t> {
    /// `Resources`, by logical id.
    pub resources: &'t BTreeMap<String, RawResource>,
    /// The names of its outputs.
    pub outputs: Vec<&'t str>,
    /// The names of its parameters.
    pub parameters: Vec<&'t str>,
    /// Size in bytes of the text that will be deployed.
    pub body_bytes: usize,
}

impl<'t> Subject<'t> {
    /// What the rules read of `template`.
    pub fn of(template: &'t RawTemplate) -> Subject<'t> {
        Subject {
            resources: &template.resources,
            outputs: template.outputs.keys().map(String::as_str).collect(),
            parameters: template.parameters.keys().map(String::as_str).collect(),
            body_bytes: template.body_bytes,
        }
    }

    /// The resources of one type, by logical id.
    pub fn resources_of_type(
        &self,
        type_name: &'t str,
    ) -> impl Iterator<Item = (&'t String, &'t RawResource)> + use<'t> {
        self.resources
            .iter()
            .filter(move |(_, r)| r.type_name == type_name)
    }
}

/// Runs every rule; findings sorted by severity, then rule, then resource.
/// Size rules read `template.body_bytes`: set it to the size of the text that will be deployed.
pub fn check(template: &RawTemplate) -> Vec<Finding> {
    check_subject(&Subject::of(template))
}

/// [`check`] of a synthesized template whose text is `body_bytes` long: each resource
/// goes through [`RawResource::from_value`] as it would from the text, without
/// building (and copying) the whole document first.
///
/// Only the resources of a type some rule reads ([`TYPES_READ`]) are converted whole; the
/// others reach the rules with their type and attributes but no properties or metadata,
/// which no rule reads of them.
pub fn check_template(template: &Template, body_bytes: usize) -> Vec<Finding> {
    let resources: BTreeMap<String, RawResource> = template
        .resources
        .iter()
        .map(|(id, resource)| {
            let type_name = resource.properties.type_name();
            let raw = if TYPES_READ.contains(&type_name) {
                let value = serde_json::to_value(resource).expect("a resource always serializes");
                RawResource::from_value(id, value)
                    .expect("a synthesized resource is a valid resource")
            } else {
                RawResource {
                    type_name: type_name.to_string(),
                    properties: serde_json::Map::new(),
                    depends_on: resource.depends_on.clone(),
                    deletion_policy: resource.deletion_policy.map(|p| p.as_str().to_string()),
                    update_replace_policy: resource
                        .update_replace_policy
                        .map(|p| p.as_str().to_string()),
                    condition: None,
                    metadata: None,
                    update_policy: None,
                    creation_policy: None,
                }
            };
            (id.clone(), raw)
        })
        .collect();
    check_subject(&Subject {
        resources: &resources,
        outputs: template.outputs.keys().map(String::as_str).collect(),
        parameters: template.parameters.keys().map(String::as_str).collect(),
        body_bytes,
    })
}

/// Runs every rule on `subject`, findings sorted as [`check`] sorts them.
pub fn check_subject(subject: &Subject) -> Vec<Finding> {
    let mut findings = limits::check(subject);
    findings.extend(websocket::check(subject));
    findings.extend(security::check(subject));
    findings
        .sort_by(|a, b| (a.severity, a.rule, &a.resource).cmp(&(b.severity, b.rule, &b.resource)));
    findings
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::TYPES_READ;
    use std::collections::BTreeSet;

    /// `"AWS::…::…"` literals in the rule code of `source` (its tests left out).
    fn type_literals(source: &str) -> BTreeSet<&str> {
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        code.split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.starts_with("AWS::") && s.matches("::").count() == 2)
            .collect()
    }

    #[test]
    fn types_read_lists_exactly_the_types_the_rules_name() {
        let named: BTreeSet<&str> = [
            include_str!("limits.rs"),
            include_str!("websocket.rs"),
            include_str!("security.rs"),
        ]
        .into_iter()
        .flat_map(type_literals)
        .collect();
        let listed: BTreeSet<&str> = TYPES_READ.iter().copied().collect();
        assert_eq!(
            listed, named,
            "TYPES_READ must list every resource type a rule reads, and no other"
        );
    }
}
