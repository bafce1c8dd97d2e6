//! IAM and access changes, reviewed on their own: policy statements added, removed, widened or narrowed;
//! invoke permissions (principal, source); authorizers and route authorization. Losing the authorizer on
//! `$connect` (or the `$connect` route itself, which leaves connections unauthenticated) is critical.

use super::rename::Rename;
use super::value::{self, show_short};
use super::{Action, ResourceChange};
use crate::raw::{RawResource, RawTemplate};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// How much a change matters for access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Opens the API or the account: e.g. `$connect` no longer authorized.
    Critical,
    /// Grants more: actions, resources, principals, sources; a condition or a Deny dropped.
    Widened,
    /// Access changed in a way that is neither clearly more nor less (e.g. another authorizer function).
    Changed,
    /// Grants less.
    Narrowed,
}

impl Severity {
    /// The label in reports.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Widened => "widened",
            Severity::Changed => "changed",
            Severity::Narrowed => "narrowed",
        }
    }
}

/// One entry of the security section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityChange {
    /// How much it matters.
    pub severity: Severity,
    /// Logical id (the new one for a renamed resource).
    pub logical_id: String,
    /// Resource type.
    pub type_name: String,
    /// One line saying what changes.
    pub summary: String,
    /// Details, one per line (statement-level changes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// Properties holding policy documents, per type.
const POLICY_DOCS: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "AssumeRolePolicyDocument"),
    ("AWS::IAM::Policy", "PolicyDocument"),
    ("AWS::IAM::ManagedPolicy", "PolicyDocument"),
    ("AWS::S3::BucketPolicy", "PolicyDocument"),
    ("AWS::SQS::QueuePolicy", "PolicyDocument"),
    ("AWS::SNS::TopicPolicy", "PolicyDocument"),
    ("AWS::KMS::Key", "KeyPolicy"),
    ("AWS::SecretsManager::ResourcePolicy", "ResourcePolicy"),
    ("AWS::ApiGateway::RestApi", "Policy"),
];

/// The security section for a comparison whose resource changes are `changes`.
pub fn analyze(
    old: &RawTemplate,
    new: &RawTemplate,
    changes: &[ResourceChange],
    renames: &[Rename],
) -> Vec<SecurityChange> {
    let mut out = Vec::new();
    for c in changes {
        let old_id = match c.action {
            Action::Rename => c.renamed_from.as_deref(),
            Action::Create => None,
            _ => Some(c.logical_id.as_str()),
        };
        let o = old_id.and_then(|id| old.resources.get(id));
        let n = if c.action == Action::Delete {
            None
        } else {
            new.resources.get(&c.logical_id)
        };
        resource(&c.logical_id, &c.type_name, o, n, &mut out);
    }
    connect_authorization(old, new, renames, &mut out);
    let fresh = new_function_parts(new, changes);
    let keys = new_own_account_keys(new, changes);
    for s in &mut out {
        if s.severity == Severity::Widened && fresh.contains(&s.logical_id) {
            s.severity = Severity::Changed;
            s.summary
                .push_str(" (a new function's own: what the stack file asked for)");
        } else if s.severity == Severity::Widened && keys.contains(&s.logical_id) {
            s.severity = Severity::Changed;
            s.summary
                .push_str(" (a new key for this account and AWS services only)");
        }
    }
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.logical_id.cmp(&b.logical_id))
    });
    out
}

/// The execution roles and invoke permissions that exist only for functions created in this change: a created
/// role that trusts only `lambda.amazonaws.com`, that a created function names as its `Role`, and that grants
/// no wildcard action and no `Resource: *`; a created permission on a created function for one service principal from one `SourceArn`.
/// Adding them gives nothing that existed before any new access, so they are not a widening.
fn new_function_parts(new: &RawTemplate, changes: &[ResourceChange]) -> BTreeSet<String> {
    let created: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .map(|c| c.logical_id.as_str())
        .collect();
    let created_of = |ty: &'static str| {
        created
            .iter()
            .copied()
            .filter(move |id| new.resources.get(*id).is_some_and(|r| r.type_name == ty))
    };
    let functions: BTreeSet<&str> = created_of("AWS::Lambda::Function").collect();
    let refs = |v: Option<&Value>| {
        let mut out = Vec::new();
        if let Some(v) = v {
            value::references(v, &mut out);
        }
        out
    };
    let mut fresh = BTreeSet::new();
    for f in &functions {
        for role in refs(new.resources[*f].properties.get("Role")) {
            if let Some(r) = new.resources.get(&role)
                && created.contains(role.as_str())
                && r.type_name == "AWS::IAM::Role"
                && trusts_only_lambda(r)
                && !grants_wildcard(r)
            {
                fresh.insert(role);
            }
        }
    }
    for p in created_of("AWS::Lambda::Permission") {
        let r = &new.resources[p];
        let principal = r.properties.get("Principal").and_then(Value::as_str);
        let on_new = refs(r.properties.get("FunctionName"))
            .iter()
            .any(|t| functions.contains(t.as_str()));
        if on_new
            && principal.is_some_and(|p| p.ends_with(".amazonaws.com"))
            && r.properties.contains_key("SourceArn")
        {
            fresh.insert(p.to_string());
        }
    }
    fresh
}

/// The KMS keys created in this change whose policy allows only this account (`…:iam::${AWS::AccountId}:root`)
/// and AWS service principals: a new key gives no one outside the account anything, and who in the account
/// may use it is still up to the account's IAM policies, so it is not a widening.
fn new_own_account_keys(new: &RawTemplate, changes: &[ResourceChange]) -> BTreeSet<String> {
    let own_root =
        serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"});
    let allowed_principal = |p: &Value| match p.as_object() {
        Some(m) if m.len() == 1 => match (m.get("AWS"), m.get("Service")) {
            (Some(aws), None) => *aws == own_root,
            (None, Some(Value::String(s))) => s.ends_with(".amazonaws.com"),
            (None, Some(Value::Array(items))) => {
                !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.as_str().is_some_and(|s| s.ends_with(".amazonaws.com")))
            }
            _ => false,
        },
        _ => false,
    };
    changes
        .iter()
        .filter(|c| c.action == Action::Create)
        .filter_map(|c| new.resources.get(&c.logical_id).map(|r| (c, r)))
        .filter(|(_, r)| r.type_name == "AWS::KMS::Key")
        .filter(|(_, r)| {
            let policy = statements(r.properties.get("KeyPolicy"));
            !policy.is_empty()
                && policy
                    .iter()
                    .filter(|s| s.effect == "Allow")
                    .all(|s| s.not_principal.is_empty() && allowed_principal(&s.raw["Principal"]))
        })
        .map(|(c, _)| c.logical_id.clone())
        .collect()
}

fn trusts_only_lambda(role: &RawResource) -> bool {
    let trust = statements(role.properties.get("AssumeRolePolicyDocument"));
    !trust.is_empty()
        && trust.iter().all(|s| {
            s.effect == "Allow"
                && s.principal == BTreeSet::from(["Service:lambda.amazonaws.com".to_string()])
                && s.action == BTreeSet::from(["sts:AssumeRole".to_string()])
                && s.not_action.is_empty()
                && s.not_principal.is_empty()
        })
}

fn grants_wildcard(role: &RawResource) -> bool {
    role.properties
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|p| statements(p.get("PolicyDocument")))
        .any(|s| {
            // A `*` at the end of a resource path (`…/POST/@connections/*`) stays inside that resource; a bare
            // `*` or a wildcard action does not.
            s.effect == "Allow"
                && (has_wildcard(&s.action)
                    || (s.resource.iter().any(|r| r == "*") && !only_trace_writing(&s.action))
                    || !s.not_action.is_empty()
                    || !s.not_resource.is_empty())
        })
}

/// Whether `actions` only send X-Ray traces (`tracing: true`): those actions take no resource but `*`, so a
/// new role's `Resource: *` on them is what tracing needs, not a wider reach.
fn only_trace_writing(actions: &BTreeSet<String>) -> bool {
    !actions.is_empty()
        && actions
            .iter()
            .all(|a| sockstack_contract::grants::XRAY.contains(&a.as_str()))
}

fn resource(
    id: &str,
    type_name: &str,
    o: Option<&RawResource>,
    n: Option<&RawResource>,
    out: &mut Vec<SecurityChange>,
) {
    let mut push = |severity: Severity, summary: String, details: Vec<String>| {
        out.push(SecurityChange {
            severity,
            logical_id: id.to_owned(),
            type_name: type_name.to_owned(),
            summary,
            details,
        });
    };
    let prop = |r: Option<&RawResource>, key: &str| r.and_then(|r| r.properties.get(key)).cloned();
    // Policy documents, statement by statement.
    let mut documents: Vec<(String, Option<Value>, Option<Value>)> = POLICY_DOCS
        .iter()
        .filter(|(t, _)| *t == type_name)
        .map(|(_, p)| (p.to_string(), prop(o, p), prop(n, p)))
        .collect();
    if type_name == "AWS::IAM::Role"
        || type_name == "AWS::IAM::User"
        || type_name == "AWS::IAM::Group"
    {
        let inline = |r: Option<&RawResource>| -> Vec<(String, Value)> {
            r.and_then(|r| r.properties.get("Policies"))
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|p| {
                            let name = p.get("PolicyName").map(value::show).unwrap_or_default();
                            (
                                name,
                                p.get("PolicyDocument").cloned().unwrap_or(Value::Null),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (a, b) = (inline(o), inline(n));
        let names: BTreeSet<&String> = a.iter().chain(&b).map(|(k, _)| k).collect();
        for name in names {
            let find = |side: &[(String, Value)]| {
                side.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            };
            documents.push((
                format!("Policies[{}]", name.trim_matches('"')),
                find(&a),
                find(&b),
            ));
        }
    }
    for (label, a, b) in documents {
        if a == b {
            continue;
        }
        let what = if label == "AssumeRolePolicyDocument" {
            "trust policy".to_owned()
        } else {
            label.clone()
        };
        let (severity, details) = compare_documents(a.as_ref(), b.as_ref());
        if details.is_empty() {
            continue;
        }
        let verb = match (&a, &b) {
            (None, Some(_)) => "grants",
            (Some(_), None) => "no longer grants",
            _ => "changes",
        };
        push(severity, format!("{what} {verb}"), details);
    }
    // Attached managed policies and boundaries.
    if matches!(
        type_name,
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group"
    ) {
        let list = |r: Option<&RawResource>| -> BTreeSet<String> {
            r.and_then(|r| r.properties.get("ManagedPolicyArns"))
                .and_then(Value::as_array)
                .map(|items| items.iter().map(value::show).collect())
                .unwrap_or_default()
        };
        let (a, b) = (list(o), list(n));
        for arn in b.difference(&a) {
            push(
                Severity::Widened,
                format!("attaches managed policy {arn}"),
                vec![],
            );
        }
        for arn in a.difference(&b) {
            push(
                Severity::Narrowed,
                format!("detaches managed policy {arn}"),
                vec![],
            );
        }
        let (ba, bb) = (
            prop(o, "PermissionsBoundary"),
            prop(n, "PermissionsBoundary"),
        );
        if ba != bb && o.is_some() && n.is_some() {
            let severity = if bb.is_none() {
                Severity::Widened
            } else {
                Severity::Changed
            };
            push(
                severity,
                format!("permissions boundary {} → {}", opt(&ba), opt(&bb)),
                vec![],
            );
        }
    }
    if matches!(type_name, "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") {
        for key in ["Roles", "Users", "Groups"] {
            let list = |r: Option<&RawResource>| -> BTreeSet<String> {
                r.and_then(|r| r.properties.get(key))
                    .and_then(Value::as_array)
                    .map(|items| items.iter().map(value::show).collect())
                    .unwrap_or_default()
            };
            let (a, b) = (list(o), list(n));
            for x in b.difference(&a) {
                push(
                    Severity::Widened,
                    format!("now applies to {key} {x}"),
                    vec![],
                );
            }
            for x in a.difference(&b) {
                push(
                    Severity::Narrowed,
                    format!("no longer applies to {key} {x}"),
                    vec![],
                );
            }
        }
    }
    match type_name {
        "AWS::Lambda::Permission" => permission(o, n, &mut push),
        "AWS::ApiGatewayV2::Authorizer" => {
            let keys = [
                "AuthorizerType",
                "AuthorizerUri",
                "IdentitySource",
                "AuthorizerCredentialsArn",
                "JwtConfiguration",
            ];
            match (o, n) {
                (None, Some(n)) => push(
                    Severity::Changed,
                    "authorizer added".into(),
                    fields(n, &keys),
                ),
                (Some(o), None) => push(
                    Severity::Changed,
                    "authorizer removed".into(),
                    fields(o, &keys),
                ),
                (Some(o), Some(n)) => {
                    let details: Vec<String> = keys
                        .iter()
                        .filter(|k| o.properties.get(**k) != n.properties.get(**k))
                        .map(|k| {
                            format!("{k}: {}", pair(o.properties.get(*k), n.properties.get(*k)))
                        })
                        .collect();
                    if !details.is_empty() {
                        push(Severity::Changed, "authorizer changes".into(), details);
                    }
                }
                _ => {}
            }
        }
        "AWS::ApiGatewayV2::Route" => {
            let (Some(o), Some(n)) = (o, n) else { return };
            let keys = [
                "AuthorizationType",
                "AuthorizerId",
                "ApiKeyRequired",
                "AuthorizationScopes",
            ];
            let details: Vec<String> = keys
                .iter()
                .filter(|k| o.properties.get(**k) != n.properties.get(**k))
                .map(|k| format!("{k}: {}", pair(o.properties.get(*k), n.properties.get(*k))))
                .collect();
            if details.is_empty() {
                return;
            }
            let route = n
                .properties
                .get("RouteKey")
                .map(value::show)
                .unwrap_or_default();
            let severity = if authorized(o) && !authorized(n) {
                Severity::Widened
            } else if !authorized(o) && authorized(n) {
                Severity::Narrowed
            } else {
                Severity::Changed
            };
            push(
                severity,
                format!("route {route} authorization changes"),
                details,
            );
        }
        _ => {}
    }
}

fn fields(r: &RawResource, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| {
            r.properties
                .get(*k)
                .map(|v| format!("{k}: {}", show_short(v, 160)))
        })
        .collect()
}

fn opt(v: &Option<Value>) -> String {
    v.as_ref()
        .map_or_else(|| "(none)".to_owned(), |v| show_short(v, 160))
}

fn pair(a: Option<&Value>, b: Option<&Value>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => value::show_pair(a, b, 100),
        (a, b) => format!("{} → {}", opt(&a.cloned()), opt(&b.cloned())),
    }
}

fn authorized(route: &RawResource) -> bool {
    route
        .properties
        .get("AuthorizationType")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "NONE")
}

fn permission(
    o: Option<&RawResource>,
    n: Option<&RawResource>,
    push: &mut impl FnMut(Severity, String, Vec<String>),
) {
    let describe = |r: &RawResource| {
        let get = |k: &str| r.properties.get(k).map(|v| show_short(v, 160));
        let mut s = format!(
            "{} may call {} on {}",
            get("Principal").unwrap_or_else(|| "?".into()),
            get("Action").unwrap_or_else(|| "?".into()),
            get("FunctionName").unwrap_or_else(|| "?".into())
        );
        match get("SourceArn") {
            Some(arn) => s.push_str(&format!(" from {arn}")),
            None => s.push_str(" from any source (no SourceArn)"),
        }
        s
    };
    match (o, n) {
        (None, Some(n)) => push(
            Severity::Widened,
            "invoke permission added".into(),
            vec![describe(n)],
        ),
        (Some(o), None) => push(
            Severity::Narrowed,
            "invoke permission removed".into(),
            vec![describe(o)],
        ),
        (Some(o), Some(n)) => {
            let keys = [
                "Principal",
                "Action",
                "FunctionName",
                "SourceArn",
                "SourceAccount",
                "PrincipalOrgID",
                "FunctionUrlAuthType",
            ];
            let changed: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| o.properties.get(*k) != n.properties.get(*k))
                .collect();
            if changed.is_empty() {
                return;
            }
            let wildcards = |r: &RawResource, k: &str| {
                r.properties
                    .get(k)
                    .map(|v| value::show(v).matches('*').count())
            };
            let widened =
                changed
                    .iter()
                    .any(|k| match (o.properties.get(*k), n.properties.get(*k)) {
                        (Some(_), None) => {
                            matches!(*k, "SourceArn" | "SourceAccount" | "PrincipalOrgID")
                        }
                        (Some(_), Some(_)) => wildcards(n, k) > wildcards(o, k),
                        _ => false,
                    })
                    || n.properties.get("Principal").and_then(Value::as_str) == Some("*");
            let details = changed
                .iter()
                .map(|k| format!("{k}: {}", pair(o.properties.get(*k), n.properties.get(*k))))
                .collect();
            let severity = if widened {
                Severity::Widened
            } else {
                Severity::Changed
            };
            push(severity, "invoke permission changes".into(), details);
        }
        _ => {}
    }
}

/// `$connect` authorization across the whole template, independent of logical ids: if some `$connect` route
/// was authorized before and none is after, every client can connect.
fn connect_authorization(
    old: &RawTemplate,
    new: &RawTemplate,
    renames: &[Rename],
    out: &mut Vec<SecurityChange>,
) {
    let connect = |t: &RawTemplate| -> Vec<(String, bool)> {
        t.resources
            .iter()
            .filter(|(_, r)| {
                r.type_name == "AWS::ApiGatewayV2::Route"
                    && r.properties.get("RouteKey").and_then(Value::as_str) == Some("$connect")
            })
            .map(|(id, r)| (id.clone(), authorized(r)))
            .collect()
    };
    let (before, after) = (connect(old), connect(new));
    if !before.iter().any(|(_, a)| *a) || after.iter().any(|(_, a)| *a) {
        return;
    }
    let (id, summary) = match after.first() {
        Some((id, _)) => (
            id.clone(),
            "$connect no longer requires authorization: anyone can open a connection".to_owned(),
        ),
        None => {
            let old_id = &before[0].0;
            let id = renames
                .iter()
                .find(|r| &r.old == old_id)
                .map_or(old_id.clone(), |r| r.new.clone());
            (
                id,
                "the $connect route is removed, and with it the authorizer: anyone can open a connection".to_owned(),
            )
        }
    };
    out.push(SecurityChange {
        severity: Severity::Critical,
        logical_id: id,
        type_name: "AWS::ApiGatewayV2::Route".into(),
        summary,
        details: vec![],
    });
}

/// A policy statement, normalized for comparison.
#[derive(Debug, Clone, PartialEq)]
struct Statement {
    sid: Option<String>,
    effect: String,
    action: BTreeSet<String>,
    not_action: BTreeSet<String>,
    resource: BTreeSet<String>,
    not_resource: BTreeSet<String>,
    principal: BTreeSet<String>,
    not_principal: BTreeSet<String>,
    condition: Option<Value>,
    raw: Value,
}

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        None => BTreeSet::new(),
        Some(Value::String(s)) => [s.clone()].into(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| value::show(i), str::to_owned))
            .collect(),
        Some(other) => [value::show(other)].into(),
    }
}

fn principals(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        None => BTreeSet::new(),
        Some(Value::Object(m)) if !value::is_intrinsic(m) => m
            .iter()
            .flat_map(|(kind, ids)| {
                strings(Some(ids))
                    .into_iter()
                    .map(move |id| format!("{kind}:{id}"))
            })
            .collect(),
        other => strings(other),
    }
}

impl Statement {
    fn new(raw: &Value) -> Statement {
        Statement {
            sid: raw.get("Sid").and_then(Value::as_str).map(str::to_owned),
            effect: raw
                .get("Effect")
                .and_then(Value::as_str)
                .unwrap_or("Allow")
                .to_owned(),
            action: strings(raw.get("Action")),
            not_action: strings(raw.get("NotAction")),
            resource: strings(raw.get("Resource")),
            not_resource: strings(raw.get("NotResource")),
            principal: principals(raw.get("Principal")),
            not_principal: principals(raw.get("NotPrincipal")),
            condition: raw.get("Condition").cloned(),
            raw: raw.clone(),
        }
    }

    fn describe(&self) -> String {
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut text = self.effect.clone();
        if !self.principal.is_empty() {
            text.push_str(&format!(" {}", list(&self.principal)));
        }
        if !self.action.is_empty() {
            text.push_str(&format!(" {}", list(&self.action)));
        }
        if !self.not_action.is_empty() {
            text.push_str(&format!(" every action except {}", list(&self.not_action)));
        }
        if !self.resource.is_empty() {
            text.push_str(&format!(" on {}", list(&self.resource)));
        }
        if !self.not_resource.is_empty() {
            text.push_str(&format!(
                " on everything except {}",
                list(&self.not_resource)
            ));
        }
        if let Some(c) = &self.condition {
            text.push_str(&format!(" when {}", show_short(c, 160)));
        }
        if let Some(sid) = &self.sid {
            text.push_str(&format!(" ({sid})"));
        }
        text
    }
}

fn statements(doc: Option<&Value>) -> Vec<Statement> {
    match doc.and_then(|d| d.get("Statement")) {
        Some(Value::Array(items)) => items.iter().map(Statement::new).collect(),
        Some(one @ Value::Object(_)) => vec![Statement::new(one)],
        _ => Vec::new(),
    }
}

fn has_wildcard(set: &BTreeSet<String>) -> bool {
    set.iter().any(|s| s.contains('*'))
}

/// Statement-level comparison of two policy documents: the most severe change and one line per change.
fn compare_documents(a: Option<&Value>, b: Option<&Value>) -> (Severity, Vec<String>) {
    let (old, new) = (statements(a), statements(b));
    let raws = |s: &[Statement]| s.iter().map(|s| s.raw.clone()).collect::<Vec<_>>();
    let (old_raw, new_raw) = (raws(&old), raws(&new));
    let mut severity = Severity::Narrowed;
    let mut details = Vec::new();
    let mut note = |s: Severity, line: String, severity: &mut Severity| {
        *severity = (*severity).min(s);
        details.push(line);
    };
    for (i, j, _) in value::match_items(&old_raw, &new_raw) {
        match (i, j) {
            (None, Some(j)) => {
                let s = &new[j];
                let sev = if s.effect == "Deny" {
                    Severity::Narrowed
                } else {
                    Severity::Widened
                };
                let wild = if s.effect == "Allow"
                    && (has_wildcard(&s.action)
                        || has_wildcard(&s.resource)
                        || !s.not_action.is_empty())
                {
                    " — wildcard"
                } else {
                    ""
                };
                note(sev, format!("+ {}{wild}", s.describe()), &mut severity);
            }
            (Some(i), None) => {
                let s = &old[i];
                let sev = if s.effect == "Deny" {
                    Severity::Widened
                } else {
                    Severity::Narrowed
                };
                note(sev, format!("- {}", s.describe()), &mut severity);
            }
            (Some(i), Some(j)) if old[i] != new[j] => {
                let (o, n) = (&old[i], &new[j]);
                let allow = n.effect == "Allow";
                let grows = if allow {
                    Severity::Widened
                } else {
                    Severity::Narrowed
                };
                let shrinks = if allow {
                    Severity::Narrowed
                } else {
                    Severity::Widened
                };
                let label = n.sid.clone().map_or_else(
                    || format!("statement {}", j + 1),
                    |s| format!("statement {s}"),
                );
                if o.effect != n.effect {
                    let sev = if allow {
                        Severity::Widened
                    } else {
                        Severity::Narrowed
                    };
                    note(
                        sev,
                        format!("~ {label}: Effect {} → {}", o.effect, n.effect),
                        &mut severity,
                    );
                }
                for (name, before, after) in [
                    ("actions", &o.action, &n.action),
                    ("resources", &o.resource, &n.resource),
                    ("principals", &o.principal, &n.principal),
                ] {
                    let added: Vec<&String> = after.difference(before).collect();
                    let removed: Vec<&String> = before.difference(after).collect();
                    let stars = |items: &[&String]| {
                        items
                            .iter()
                            .map(|s| s.matches('*').count())
                            .max()
                            .unwrap_or(0)
                    };
                    let wider = stars(&added) > stars(&removed);
                    // One value swapped for another (e.g. a table ARN written differently) is a change, not a
                    // widening, unless the new one has more wildcards.
                    let swap = !added.is_empty() && added.len() == removed.len() && !wider;
                    if !added.is_empty() {
                        let wild = if wider { " — wildcard" } else { "" };
                        let list = added
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sev = if swap { Severity::Changed } else { grows };
                        note(
                            sev,
                            format!("~ {label}: + {name} {list}{wild}"),
                            &mut severity,
                        );
                    }
                    if !removed.is_empty() {
                        let list = removed
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sev = if swap { Severity::Changed } else { shrinks };
                        note(sev, format!("~ {label}: - {name} {list}"), &mut severity);
                    }
                }
                for (name, before, after) in [
                    ("NotAction", &o.not_action, &n.not_action),
                    ("NotResource", &o.not_resource, &n.not_resource),
                    ("NotPrincipal", &o.not_principal, &n.not_principal),
                ] {
                    if before != after {
                        note(
                            Severity::Changed,
                            format!("~ {label}: {name} changes"),
                            &mut severity,
                        );
                    }
                }
                if o.condition != n.condition {
                    let (sev, text) = match (&o.condition, &n.condition) {
                        (Some(_), None) => (grows, "condition removed".to_owned()),
                        (None, Some(c)) => {
                            (shrinks, format!("condition added: {}", show_short(c, 160)))
                        }
                        (_, c) => (Severity::Changed, format!("condition → {}", opt(c))),
                    };
                    note(sev, format!("~ {label}: {text}"), &mut severity);
                }
            }
            _ => {}
        }
    }
    (severity, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_widened_statement_names_the_added_actions() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["T", "Arn"]}}]});
        let b = json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:*"], "Resource": {"Fn::GetAtt": ["T", "Arn"]}}]});
        let (severity, details) = compare_documents(Some(&a), Some(&b));
        assert_eq!(severity, Severity::Widened);
        assert_eq!(details, ["~ statement 1: + actions dynamodb:* — wildcard"]);
        let (severity, _) = compare_documents(Some(&b), Some(&a));
        assert_eq!(severity, Severity::Narrowed);
    }

    fn lambda_role(resource: Value) -> Value {
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "grants", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": resource}]}}]}})
    }

    fn with_new_function(role: Value, principal: &str) -> RawTemplate {
        RawTemplate::from_value(json!({"Resources": {
            "ChatFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["ChatRole", "Arn"]}}},
            "ChatRole": role,
            "ChatRoutePermission": {"Type": "AWS::Lambda::Permission", "Properties": {
                "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "ChatFunction"}, "Principal": principal,
                "SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/dev/chat"}}}
        }}))
        .unwrap()
    }

    #[test]
    fn a_new_functions_own_role_and_permission_are_not_a_widening() {
        let empty = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let new = with_new_function(
            lambda_role(json!({"Fn::GetAtt": ["Table", "Arn"]})),
            "apigateway.amazonaws.com",
        );
        let d = super::super::diff(&empty, &new, super::super::Schemas::bundled());
        assert!(!d.security.is_empty(), "still listed for review");
        for s in &d.security {
            assert_eq!(s.severity, Severity::Changed, "{s:?}");
            assert!(s.summary.contains("a new function's own"), "{s:?}");
        }
    }

    #[test]
    fn a_new_functions_role_with_a_wildcard_or_other_trust_still_widens() {
        let empty = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let wild = with_new_function(lambda_role(json!("*")), "apigateway.amazonaws.com");
        let d = super::super::diff(&empty, &wild, super::super::Schemas::bundled());
        let role = d
            .security
            .iter()
            .find(|s| s.logical_id == "ChatRole")
            .unwrap();
        assert_eq!(role.severity, Severity::Widened);
        let mut trust = lambda_role(json!({"Fn::GetAtt": ["Table", "Arn"]}));
        trust["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] =
            json!({"AWS": "arn:aws:iam::111122223333:root"});
        let other = with_new_function(trust, "*");
        let d = super::super::diff(&empty, &other, super::super::Schemas::bundled());
        assert!(
            d.security.iter().all(|s| s.severity == Severity::Widened),
            "{:?}",
            d.security
        );
    }

    #[test]
    fn a_new_traced_functions_role_is_not_a_widening_but_other_actions_on_star_are() {
        let empty = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let traced = |actions: Value| {
            let mut role = lambda_role(json!({"Fn::GetAtt": ["Table", "Arn"]}));
            role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                .as_array_mut()
                .unwrap()
                .push(json!({"Effect": "Allow", "Action": actions, "Resource": "*"}));
            with_new_function(role, "apigateway.amazonaws.com")
        };
        let severity = |t: &RawTemplate| {
            super::super::diff(&empty, t, super::super::Schemas::bundled())
                .security
                .into_iter()
                .find(|s| s.logical_id == "ChatRole")
                .unwrap()
                .severity
        };
        assert_eq!(
            severity(&traced(json!(sockstack_contract::grants::XRAY))),
            Severity::Changed
        );
        assert_eq!(
            severity(&traced(json!(["xray:PutTraceSegments", "s3:GetObject"]))),
            Severity::Widened
        );
    }

    #[test]
    fn a_new_key_for_the_account_and_services_is_not_a_widening_but_one_for_another_account_is() {
        let empty = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let key = |principal: Value| {
            RawTemplate::from_value(json!({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {
                "KeyPolicy": {"Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "Action": "kms:*", "Resource": "*"},
                    {"Effect": "Allow", "Principal": principal, "Action": ["kms:Decrypt"], "Resource": "*"},
                    {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*"}
                ]}}}}}))
            .unwrap()
        };
        let severity = |t: &RawTemplate| {
            super::super::diff(&empty, t, super::super::Schemas::bundled())
                .security
                .into_iter()
                .find(|s| s.logical_id == "K")
                .unwrap()
                .severity
        };
        assert_eq!(
            severity(&key(json!({"Service": ["cloudwatch.amazonaws.com"]}))),
            Severity::Changed
        );
        assert_eq!(
            severity(&key(json!({"AWS": "arn:aws:iam::111122223333:root"}))),
            Severity::Widened
        );
        assert_eq!(severity(&key(json!("*"))), Severity::Widened);
    }

    #[test]
    fn removing_a_deny_widens() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:secret"}]});
        let b =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        let (severity, details) = compare_documents(Some(&a), Some(&b));
        assert_eq!(severity, Severity::Widened);
        assert_eq!(details, ["- Deny s3:* on arn:secret"]);
    }
}
