//! CloudFormation change sets: made from a template, read for CloudFormation's own verdict on each resource
//! (action, replacement and why), executed, or deleted; and that verdict set beside sockstack's prediction.

use super::aws::{Aws, AwsError, args};
use crate::diff::{Action, ChangeSet, Replacement};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Polls while CloudFormation computes a change set (10 minutes at [`super::stack::POLL`]).
const MAX_POLLS: usize = 120;

/// Whether a change set creates the stack or updates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No stack yet: CloudFormation makes one in `REVIEW_IN_PROGRESS` to hold the change set.
    Create,
    /// The stack exists.
    Update,
}

/// Where CloudFormation reads the template from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// A local file, sent as the body (`file://`): up to 51,200 bytes.
    File(PathBuf),
    /// An object in S3 (bigger templates).
    Url(String),
    /// The text itself (a template in memory, up to 51,200 bytes).
    Body(String),
}

/// A parameter value, or the stack's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// This value.
    Value(String),
    /// Whatever the stack has now (updates only).
    Previous,
}

/// Everything `create-change-set` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Stack name.
    pub stack_name: String,
    /// Change set name (see [`name_for`]).
    pub name: String,
    /// Create or update.
    pub kind: Kind,
    /// The template.
    pub template: TemplateSource,
    /// `CAPABILITY_IAM` or `CAPABILITY_NAMED_IAM`.
    pub capability: &'static str,
    /// Parameters, by name.
    pub parameters: BTreeMap<String, ParameterValue>,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
}

/// A change set name from what it contains: `sockstack-` and 16 hex digits (CloudFormation allows
/// `[a-zA-Z][-a-zA-Z0-9]*`).
pub fn name_for(template_text: &str, parameters: &BTreeMap<String, ParameterValue>) -> String {
    let mut h = Sha256::new();
    h.update(template_text.as_bytes());
    for (k, v) in parameters {
        h.update(format!("\0{k}={v:?}").as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("sockstack-{hex}")
}

impl Request {
    /// The `aws cloudformation create-change-set` arguments. Parameters and tags are JSON, so no value can be
    /// misread as shorthand syntax.
    pub fn create_args(&self) -> Vec<String> {
        let mut a = args([
            "cloudformation",
            "create-change-set",
            "--stack-name",
            &self.stack_name,
            "--change-set-name",
            &self.name,
            "--change-set-type",
            match self.kind {
                Kind::Create => "CREATE",
                Kind::Update => "UPDATE",
            },
        ]);
        match &self.template {
            TemplateSource::File(path) => {
                a.push("--template-body".into());
                a.push(format!("file://{}", path.to_string_lossy()));
            }
            TemplateSource::Url(url) => {
                a.push("--template-url".into());
                a.push(url.clone());
            }
            TemplateSource::Body(text) => {
                a.push("--template-body".into());
                a.push(text.clone());
            }
        }
        a.extend(args(["--capabilities", self.capability]));
        if !self.parameters.is_empty() {
            let list: Vec<Value> = self
                .parameters
                .iter()
                .map(|(k, v)| match v {
                    ParameterValue::Value(v) => json!({"ParameterKey": k, "ParameterValue": v}),
                    ParameterValue::Previous => {
                        json!({"ParameterKey": k, "UsePreviousValue": true})
                    }
                })
                .collect();
            a.push("--parameters".into());
            a.push(Value::from(list).to_string());
        }
        if !self.tags.is_empty() {
            let list: Vec<Value> = self
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            a.push("--tags".into());
            a.push(Value::from(list).to_string());
        }
        a
    }

    fn target(&self, verb: &str) -> Vec<String> {
        args([
            "cloudformation",
            verb,
            "--change-set-name",
            &self.name,
            "--stack-name",
            &self.stack_name,
        ])
    }

    /// `describe-change-set` arguments.
    pub fn describe_args(&self) -> Vec<String> {
        self.target("describe-change-set")
    }

    /// `execute-change-set` arguments.
    pub fn execute_args(&self) -> Vec<String> {
        self.target("execute-change-set")
    }

    /// `delete-change-set` arguments.
    pub fn delete_args(&self) -> Vec<String> {
        self.target("delete-change-set")
    }
}

/// CloudFormation's verdict on one resource of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceVerdict {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub type_name: String,
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// For `Modify`: `True`, `False` or `Conditional`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// Why it is (or may be) replaced: each property that requires recreation, and what caused its change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<String>,
}

/// A change set CloudFormation has computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// `CREATE_COMPLETE` or `FAILED`.
    pub status: String,
    /// Why it failed, when it did.
    pub reason: Option<String>,
    /// Its resource changes, by logical id.
    pub resources: Vec<ResourceVerdict>,
}

/// `describe-change-set` output → its resource changes.
pub fn parse_changes(v: &Value) -> Vec<ResourceVerdict> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<ResourceVerdict> = v
        .get("Changes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("ResourceChange"))
        .map(|rc| {
            let because = rc
                .get("Details")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    let target = d.get("Target")?;
                    let needs = s(target, "RequiresRecreation")?;
                    if needs == "Never" {
                        return None;
                    }
                    let what = match (s(target, "Attribute"), s(target, "Name")) {
                        (Some(a), Some(n)) => format!("{a}.{n}"),
                        (Some(a), None) => a,
                        (None, Some(n)) => n,
                        (None, None) => "?".into(),
                    };
                    let mut text = format!("{what} (RequiresRecreation: {needs}");
                    if let Some(cause) = s(d, "CausingEntity") {
                        text.push_str(&format!(", caused by {cause}"));
                    } else if let Some(source) = s(d, "ChangeSource") {
                        text.push_str(&format!(", {source}"));
                    }
                    text.push(')');
                    Some(text)
                })
                .collect::<BTreeSet<String>>()
                .into_iter()
                .collect();
            ResourceVerdict {
                logical_id: s(rc, "LogicalResourceId").unwrap_or_default(),
                type_name: s(rc, "ResourceType").unwrap_or_default(),
                action: s(rc, "Action").unwrap_or_default(),
                replacement: s(rc, "Replacement"),
                because,
            }
        })
        .collect();
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    out
}

/// Creates the change set and waits until CloudFormation has computed it. A change set of the same name left
/// by an earlier run is deleted and made again.
pub fn create(aws: &dyn Aws, request: &Request) -> Result<Computed, AwsError> {
    if let Err(e) = aws.run(&request.create_args()) {
        if !e.is(&["AlreadyExistsException"]) {
            return Err(e);
        }
        aws.run(&request.delete_args())?;
        aws.run(&request.create_args())?;
    }
    for _ in 0..MAX_POLLS {
        let v = describe_all(aws, request)?;
        let status = v
            .get("Status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if matches!(status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
            aws.pause(super::stack::POLL);
            continue;
        }
        return Ok(Computed {
            reason: v
                .get("StatusReason")
                .and_then(Value::as_str)
                .map(str::to_string),
            resources: parse_changes(&v),
            status,
        });
    }
    Err(AwsError::BadOutput {
        command: aws.command_line(&request.describe_args()),
        error: format!(
            "change set {} was still being computed after 10 minutes",
            request.name
        ),
    })
}

/// `describe-change-set`, every page.
fn describe_all(aws: &dyn Aws, request: &Request) -> Result<Value, AwsError> {
    let mut first = aws.json(&request.describe_args())?;
    let mut token = first
        .get("NextToken")
        .and_then(Value::as_str)
        .map(str::to_string);
    while let Some(t) = token {
        let mut call = request.describe_args();
        call.extend(["--next-token".to_string(), t]);
        let page = aws.json(&call)?;
        let more = page
            .get("Changes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(Value::Array(all)) = first.get_mut("Changes") {
            all.extend(more);
        }
        token = page
            .get("NextToken")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(first)
}

/// Deletes the change set; for a stack it created (still `REVIEW_IN_PROGRESS`, nothing in it), the stack too,
/// so nothing is left behind.
pub fn discard(aws: &dyn Aws, request: &Request) -> Result<(), AwsError> {
    aws.run(&request.delete_args())?;
    if request.kind == Kind::Create
        && let Some(info) = super::stack::describe(aws, &request.stack_name)?
        && info.status == "REVIEW_IN_PROGRESS"
    {
        aws.run(&super::stack::delete_args(&request.stack_name))?;
    }
    Ok(())
}

/// What sockstack predicted for one resource, in CloudFormation's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Predicted {
    /// `Add`, `Modify`, `Remove`, or `None` when sockstack saw no change.
    pub action: String,
    /// For `Modify`: `True`, `False`, `Conditional`, or `Unknown` (type not in sockstack's data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// CloudFormation's verdict beside sockstack's prediction, for one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub type_name: String,
    /// What CloudFormation says (`None`: not in the change set).
    pub cloudformation: Option<ResourceVerdict>,
    /// What sockstack predicted.
    pub sockstack: Predicted,
    /// Whether they say the same; `None` when CloudFormation's reply states no replacement for a modification
    /// (moto's replies never do).
    pub agrees: Option<bool>,
}

fn predicted(diff: &ChangeSet) -> BTreeMap<String, (String, Predicted)> {
    let mut out = BTreeMap::new();
    let mut put = |id: &str, ty: &str, action: &str, replacement: Option<&str>| {
        out.insert(
            id.to_string(),
            (
                ty.to_string(),
                Predicted {
                    action: action.into(),
                    replacement: replacement.map(str::to_string),
                },
            ),
        );
    };
    for r in &diff.resources {
        let ty = r.type_name.as_str();
        match r.action {
            Action::Create => put(&r.logical_id, ty, "Add", None),
            Action::Delete => put(&r.logical_id, ty, "Remove", None),
            Action::Rename => {
                put(&r.logical_id, ty, "Add", None);
                if let Some(old) = &r.renamed_from {
                    put(old, ty, "Remove", None);
                }
            }
            Action::Update | Action::Replace => {
                let replacement = match r.replacement {
                    Replacement::Never => "False",
                    Replacement::Conditional => "Conditional",
                    Replacement::Always => "True",
                    Replacement::Unknown => "Unknown",
                };
                put(&r.logical_id, ty, "Modify", Some(replacement));
            }
        }
    }
    for c in &diff.code {
        put(&c.logical_id, &c.type_name, "Modify", Some("False"));
    }
    out
}

/// Sets CloudFormation's verdict beside sockstack's prediction for every resource either names. They agree
/// when the actions match and, for a modification, the replacement does (an `Unknown` prediction never agrees;
/// a modification whose reply states no replacement is neither).
pub fn compare(diff: &ChangeSet, verdicts: &[ResourceVerdict]) -> Vec<Comparison> {
    let predicted = predicted(diff);
    let cfn: BTreeMap<&str, &ResourceVerdict> = verdicts
        .iter()
        .map(|v| (v.logical_id.as_str(), v))
        .collect();
    let ids: BTreeSet<&str> = predicted
        .keys()
        .map(String::as_str)
        .chain(cfn.keys().copied())
        .collect();
    ids.into_iter()
        .map(|id| {
            let c = cfn.get(id).map(|v| (*v).clone());
            let (type_name, p) = predicted.get(id).cloned().unwrap_or_else(|| {
                (
                    c.as_ref().map(|v| v.type_name.clone()).unwrap_or_default(),
                    Predicted {
                        action: "None".into(),
                        replacement: None,
                    },
                )
            });
            let agrees = match &c {
                None => Some(false),
                Some(v)
                    if v.action == "Modify" && p.action == "Modify" && v.replacement.is_none() =>
                {
                    None
                }
                Some(v) => Some(
                    v.action == p.action
                        && (v.action != "Modify" || v.replacement == p.replacement),
                ),
            };
            Comparison {
                logical_id: id.to_string(),
                type_name,
                cloudformation: c,
                sockstack: p,
                agrees,
            }
        })
        .collect()
}

/// One line per resource for a terminal: both verdicts and whether they agree.
pub fn render_terminal(name: &str, comparisons: &[Comparison]) -> String {
    let mut out = format!("CloudFormation's change set {name}, beside sockstack's prediction:\n");
    if comparisons.is_empty() {
        out.push_str("  no resource changes\n");
    }
    for c in comparisons {
        let (mark, note) = match c.agrees {
            Some(true) => ("  ", ""),
            Some(false) => ("! ", "  — DISAGREE"),
            None => ("? ", "  — CloudFormation states no replacement"),
        };
        out.push_str(&format!(
            "{mark}{} ({}): CloudFormation {} · sockstack {}{note}\n",
            c.logical_id,
            c.type_name,
            cfn_text(c),
            predicted_text(&c.sockstack),
        ));
        if let Some(v) = &c.cloudformation {
            for b in &v.because {
                out.push_str(&format!("      because {b}\n"));
            }
        }
    }
    let n = comparisons
        .iter()
        .filter(|c| c.agrees == Some(false))
        .count();
    if n > 0 {
        out.push_str(&format!(
            "{n} disagreement(s): CloudFormation's verdict is what will happen\n"
        ));
    }
    out
}

/// A Markdown table of both verdicts.
pub fn render_markdown(name: &str, comparisons: &[Comparison]) -> String {
    let mut out = format!(
        "\n#### CloudFormation's change set `{name}`\n\n| | Resource | Type | CloudFormation | sockstack |\n| --- | --- | --- | --- | --- |\n"
    );
    for c in comparisons {
        let why = c
            .cloudformation
            .as_ref()
            .map(|v| v.because.join("; "))
            .filter(|s| !s.is_empty())
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {}{} | {} |\n",
            match c.agrees {
                Some(true) => "✅",
                Some(false) => "⚠️ disagree",
                None => "❔ not stated",
            },
            c.logical_id,
            c.type_name,
            cfn_text(c),
            why.replace('|', "\\|"),
            predicted_text(&c.sockstack)
        ));
    }
    out
}

/// A diff report (`text`, in its format) with the comparison added: a `changeSet` key for JSON
/// (`{"name", "resources": [...]}`), a section for Markdown, lines for a terminal.
pub fn append(
    text: &str,
    json: bool,
    markdown: bool,
    name: &str,
    comparisons: &[Comparison],
) -> String {
    if json {
        let mut v: Value = serde_json::from_str(text).expect("the JSON report");
        v["changeSet"] = json!({"name": name, "resources": comparisons});
        serde_json::to_string_pretty(&v).expect("JSON") + "\n"
    } else if markdown {
        format!("{text}{}", render_markdown(name, comparisons))
    } else {
        format!("{text}\n{}", render_terminal(name, comparisons))
    }
}

fn cfn_text(c: &Comparison) -> String {
    match &c.cloudformation {
        None => "no change".into(),
        Some(v) => match &v.replacement {
            Some(r) if v.action == "Modify" => format!("Modify, replacement {r}"),
            _ => v.action.clone(),
        },
    }
}

fn predicted_text(p: &Predicted) -> String {
    match (&p.action[..], &p.replacement) {
        ("None", _) => "no change".into(),
        ("Modify", Some(r)) => format!("Modify, replacement {r}"),
        (a, _) => a.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{FakeAws, Reply};
    use super::*;
    use crate::diff::{Schemas, diff};
    use crate::raw::RawTemplate;

    fn request(kind: Kind) -> Request {
        Request {
            stack_name: "myapp-dev".into(),
            name: "sockstack-0123456789abcdef".into(),
            kind,
            template: TemplateSource::File("out/dev/template.yaml".into()),
            capability: "CAPABILITY_IAM",
            parameters: [(
                "ArtifactBucket".to_string(),
                ParameterValue::Value("b,c=d".into()),
            )]
            .into(),
            tags: [("owner".to_string(), "a,b=c".to_string())].into(),
        }
    }

    #[test]
    fn parameters_and_tags_are_json_so_commas_stay_values() {
        let a = request(Kind::Create).create_args();
        let after = |flag: &str| a[a.iter().position(|x| x == flag).unwrap() + 1].clone();
        assert_eq!(
            serde_json::from_str::<Value>(&after("--parameters")).unwrap(),
            json!([{"ParameterKey": "ArtifactBucket", "ParameterValue": "b,c=d"}])
        );
        assert_eq!(
            serde_json::from_str::<Value>(&after("--tags")).unwrap(),
            json!([{"Key": "owner", "Value": "a,b=c"}])
        );
        assert_eq!(after("--template-body"), "file://out/dev/template.yaml");
        assert_eq!(after("--change-set-type"), "CREATE");
    }

    #[test]
    fn the_name_follows_the_content_and_cloudformations_pattern() {
        let p = request(Kind::Update).parameters;
        let a = name_for("Resources: {}", &p);
        assert_eq!(a, name_for("Resources: {}", &p));
        assert_ne!(a, name_for("Resources: {A: 1}", &p));
        assert!(a.starts_with("sockstack-") && a.len() == 26, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    /// A `describe-change-set` reply in the shape the CloudFormation API reference documents
    /// (moto's replies carry no `Replacement` and no `Details`, so this is written from the documentation).
    fn recorded() -> Value {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/deploy/describe-change-set.json"
        ))
        .unwrap()
    }

    #[test]
    fn cloudformations_verdict_is_read_from_a_recorded_reply() {
        let v = parse_changes(&recorded());
        let table = v.iter().find(|r| r.logical_id == "MessagesTable").unwrap();
        assert_eq!(table.action, "Modify");
        assert_eq!(table.replacement.as_deref(), Some("True"));
        assert_eq!(
            table.because,
            ["Properties.KeySchema (RequiresRecreation: Always, DirectModification)"]
        );
        let stage = v.iter().find(|r| r.logical_id == "Stage").unwrap();
        assert_eq!(stage.replacement.as_deref(), Some("False"));
        assert!(stage.because.is_empty());
        let perm = v
            .iter()
            .find(|r| r.logical_id == "SendRoutePermission")
            .unwrap();
        assert_eq!(perm.replacement.as_deref(), Some("Conditional"));
        assert_eq!(
            perm.because,
            ["Properties.SourceArn (RequiresRecreation: Conditionally, caused by WebSocketApi)"]
        );
    }

    #[test]
    fn disagreements_with_cloudformation_are_flagged() {
        let t = |key: &str, memory: u32| {
            RawTemplate::from_value(json!({"Resources": {
                "MessagesTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
                    "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST"}},
                "SendFunction": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": memory}},
            }}))
            .unwrap()
        };
        // sockstack sees the table replaced and the function updated; the recorded reply agrees on the table,
        // names the stage and the permission sockstack did not see, and calls the function a replacement.
        let prediction = diff(&t("userId", 256), &t("roomId", 512), Schemas::bundled());
        let mut verdicts = parse_changes(&recorded());
        verdicts.push(ResourceVerdict {
            logical_id: "SendFunction".into(),
            type_name: "AWS::Lambda::Function".into(),
            action: "Modify".into(),
            replacement: Some("True".into()),
            because: vec![],
        });
        let c = compare(&prediction, &verdicts);
        let by = |id: &str| c.iter().find(|x| x.logical_id == id).unwrap();
        assert_eq!(
            by("MessagesTable").agrees,
            Some(true),
            "{:?}",
            by("MessagesTable")
        );
        assert_eq!(by("SendFunction").agrees, Some(false));
        assert_eq!(
            by("SendFunction").sockstack.replacement.as_deref(),
            Some("False")
        );
        assert_eq!(
            by("Stage").agrees,
            Some(false),
            "sockstack saw no change to the stage"
        );
        assert_eq!(by("Stage").sockstack.action, "None");
        let text = render_terminal("cs", &c);
        assert!(
            text.contains("! SendFunction (AWS::Lambda::Function): CloudFormation Modify, replacement True · sockstack Modify, replacement False  — DISAGREE"),
            "{text}"
        );
        assert!(
            text.contains("  MessagesTable (AWS::DynamoDB::Table): CloudFormation Modify, replacement True · sockstack Modify, replacement True\n      because Properties.KeySchema"),
            "{text}"
        );
        // A reply without a replacement verdict (moto's) is neither agreement nor disagreement.
        let mut unstated = verdicts.clone();
        for v in &mut unstated {
            v.replacement = None;
        }
        let u = compare(&prediction, &unstated);
        let f = u.iter().find(|x| x.logical_id == "SendFunction").unwrap();
        assert_eq!(f.agrees, None);
        assert!(render_terminal("cs", &u).contains("? SendFunction"));
        let md = render_markdown("cs", &c);
        assert!(md.contains("| ⚠️ disagree | `SendFunction`"), "{md}");
    }

    #[test]
    fn discarding_a_creation_leaves_no_review_in_progress_stack() {
        let aws = FakeAws::new()
            .on(
                &["cloudformation", "delete-change-set"],
                vec![Reply::Out(String::new())],
            )
            .json(
                &["cloudformation", "describe-stacks"],
                json!({"Stacks": [{"StackName": "myapp-dev", "StackStatus": "REVIEW_IN_PROGRESS"}]}),
            )
            .on(
                &["cloudformation", "delete-stack"],
                vec![Reply::Out(String::new())],
            );
        discard(&aws, &request(Kind::Create)).unwrap();
        assert_eq!(aws.calls_to(&["cloudformation", "delete-stack"]).len(), 1);
        let aws = FakeAws::new().on(
            &["cloudformation", "delete-change-set"],
            vec![Reply::Out(String::new())],
        );
        discard(&aws, &request(Kind::Update)).unwrap();
        assert!(aws.calls_to(&["cloudformation", "delete-stack"]).is_empty());
    }

    #[test]
    fn a_change_set_left_by_an_earlier_run_is_made_again() {
        let aws = FakeAws::new()
            .on(
                &["cloudformation", "create-change-set"],
                vec![
                    Reply::Err("An error occurred (AlreadyExistsException) when calling the CreateChangeSet operation: ChangeSet sockstack-x already exists".into()),
                    Reply::Out("{}".into()),
                ],
            )
            .on(&["cloudformation", "delete-change-set"], vec![Reply::Out(String::new())])
            .on(
                &["cloudformation", "describe-change-set"],
                vec![
                    Reply::Out(json!({"Status": "CREATE_IN_PROGRESS"}).to_string()),
                    Reply::Out(json!({"Status": "CREATE_COMPLETE", "Changes": []}).to_string()),
                ],
            );
        let done = create(&aws, &request(Kind::Update)).unwrap();
        assert_eq!(done.status, "CREATE_COMPLETE");
        assert_eq!(
            aws.calls_to(&["cloudformation", "create-change-set"]).len(),
            2
        );
        assert_eq!(
            aws.calls_to(&["cloudformation", "describe-change-set"])
                .len(),
            2
        );
    }
}
