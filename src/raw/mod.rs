//! Any CloudFormation template as data.
//!
//! `check` and `diff` work on templates from any tool — this crate's synthesizer, the CDK, SAM, hand-written
//! YAML — so they share one generic form: each resource's type and attributes, properties as JSON values, and
//! every intrinsic function in its long form (`{"Ref": x}`, `{"Fn::GetAtt": [a, b]}`, `{"Fn::Sub": ..}`,
//! `{"Condition": x}`), whatever form the text used:
//!
//! - YAML short forms (`!Ref`, `!GetAtt`, `!Sub`, `!If`, `!Join`, `!Select`, `!Split`, `!FindInMap`, `!Base64`,
//!   `!Cidr`, `!GetAZs`, `!ImportValue`, `!Equals`, `!And`, `!Or`, `!Not`, `!Condition`, `!Transform`,
//!   `!Length`, `!ToJsonString`, and any other `!Name` as `Fn::Name`);
//! - `Fn::GetAtt` written as one `"Resource.Attribute"` string (split at the first dot: attribute names such as
//!   `Endpoint.Address` keep theirs);
//! - YAML anchors, aliases and `<<` merge keys are resolved.
//!
//! Errors carry the file (when known), a 1-based line and column (when known) and what is wrong.

pub mod intrinsic;

pub use intrinsic::Intrinsic;

use crate::input::{self, InputError, Limits, Syntax};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A CloudFormation template from any tool, intrinsics normalized to long form ({"Ref": x}, {"Fn::GetAtt": [a, b]}
/// — also from "a.b" strings, {"Fn::Sub": ..}, {"Fn::If": ..}, every Fn:: and Condition short form).
#[derive(Debug, Clone, PartialEq)]
pub struct RawTemplate {
    /// `Resources`, by logical id.
    pub resources: BTreeMap<String, RawResource>,
    /// `Parameters`, by name.
    pub parameters: BTreeMap<String, Value>,
    /// `Outputs`, by name.
    pub outputs: BTreeMap<String, Value>,
    /// `Conditions`, by name.
    pub conditions: BTreeMap<String, Value>,
    /// `Mappings`, by name.
    pub mappings: BTreeMap<String, Value>,
    /// The template's `Metadata` section.
    pub metadata: Option<Value>,
    /// The template's `Rules` section (the CDK writes one to check the bootstrap version).
    pub rules: Option<Value>,
    /// `Transform` (e.g. `AWS::Serverless-2016-10-31` in SAM templates).
    pub transform: Option<Value>,
    /// `Description`.
    pub description: Option<String>,
    /// The whole document, long form.
    pub document: Value,
    /// Size in bytes of the text it was parsed from (0 when built from a value).
    pub body_bytes: usize,
}

/// One entry of `Resources`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResource {
    /// `Type`, e.g. `AWS::DynamoDB::Table`.
    pub type_name: String,
    /// `Properties` (empty when absent), long form.
    pub properties: Map<String, Value>,
    /// `DependsOn`, a single string normalized to a one-item list.
    pub depends_on: Vec<String>,
    /// `DeletionPolicy` (`Delete`, `Retain`, `RetainExceptOnCreate`, `Snapshot`).
    pub deletion_policy: Option<String>,
    /// `UpdateReplacePolicy` (`Delete`, `Retain`, `Snapshot`).
    pub update_replace_policy: Option<String>,
    /// `Condition`: the name of a condition that decides whether the resource exists.
    pub condition: Option<String>,
    /// The resource's `Metadata` (the CDK puts `aws:cdk:path` and asset information there).
    pub metadata: Option<Value>,
    /// `UpdatePolicy`, as written.
    pub update_policy: Option<Value>,
    /// `CreationPolicy`, as written.
    pub creation_policy: Option<Value>,
}

/// Says where and what: file (when known), 1-based line and column (when known), message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    /// The file, when the template was read from one.
    pub file: Option<PathBuf>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl RawError {
    fn new(message: impl Into<String>) -> RawError {
        RawError {
            file: None,
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn at(mut self, position: Option<(usize, usize)>) -> RawError {
        if let Some((line, column)) = position {
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// The same error, naming `file`.
    pub fn in_file(mut self, file: &Path) -> RawError {
        self.file = Some(file.to_path_buf());
        self
    }
}

impl fmt::Display for RawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut located = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            located = true;
        }
        if let Some(line) = self.line {
            if located {
                f.write_str(":")?;
            }
            write!(f, "{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
            located = true;
        }
        if located {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RawError {}

/// `text.parse::<RawTemplate>()` / `RawTemplate::from_str(text)`: [`RawTemplate::parse`].
impl std::str::FromStr for RawTemplate {
    type Err = RawError;
    fn from_str(text: &str) -> Result<RawTemplate, RawError> {
        RawTemplate::parse(text)
    }
}

impl From<InputError> for RawError {
    fn from(e: InputError) -> Self {
        RawError {
            file: Some(e.file),
            line: e.position.map(|p| p.0),
            column: e.position.map(|p| p.1),
            message: e.message,
        }
    }
}

/// The input limits from the environment, as a template error when a variable is invalid.
fn limits() -> Result<Limits, RawError> {
    Limits::from_env().map_err(RawError::new)
}

impl RawTemplate {
    /// Parses a template written as JSON or YAML (short forms included).
    ///
    /// Text whose first non-blank character is `{` is read as JSON (so that positions in errors are JSON's),
    /// anything else as YAML.
    ///
    /// The text is first checked against the input limits ([`crate::input::Limits::from_env`]):
    /// nesting, collection sizes, the number of values, and duplicate keys (in JSON too).
    pub fn parse(text: &str) -> Result<RawTemplate, RawError> {
        RawTemplate::parse_with(text, &limits()?)
    }

    /// [`RawTemplate::parse`] with explicit input limits.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<RawTemplate, RawError> {
        input::check_structure(text, Syntax::of(text), limits)
            .map_err(|e| RawError::new(e.message).at(e.position))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let document = if text.trim_start().starts_with('{') {
            serde_json::from_str::<Value>(text).map_err(|e| {
                let position = (e.line() > 0).then(|| (e.line(), e.column()));
                RawError::new(format!(
                    "invalid JSON: {}",
                    strip_position(&e.to_string(), position)
                ))
                .at(position)
            })?
        } else {
            let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
                let position = e.location().map(|l| (l.line(), l.column()));
                RawError::new(format!(
                    "invalid YAML: {}",
                    strip_position(&e.to_string(), position)
                ))
                .at(position)
            })?;
            yaml.apply_merge()
                .map_err(|e| RawError::new(format!("invalid YAML merge key: {e}")))?;
            yaml_to_json(yaml).map_err(RawError::new)?
        };
        let mut template = RawTemplate::from_value_located(document).map_err(|e| {
            match e.path_hint.as_deref() {
                Some(path) if e.error.line.is_none() => {
                    let position = locate(text, path);
                    e.error.at(position)
                }
                _ => e.error,
            }
        })?;
        template.body_bytes = text.len();
        Ok(template)
    }

    /// Builds a template from a document already parsed (JSON values; short forms cannot occur here, but
    /// `Fn::GetAtt` strings are still split).
    pub fn from_value(document: Value) -> Result<RawTemplate, RawError> {
        RawTemplate::from_value_located(document).map_err(|e| e.error)
    }

    /// Reads a template file: [`RawTemplate::read`] under the name the deploy and dev layers use.
    pub fn from_path(path: &Path) -> Result<RawTemplate, RawError> {
        RawTemplate::read(path)
    }

    /// Reads a template file within the input limits ([`crate::input::read_bounded`]:
    /// regular files only, size-capped); errors name the file.
    pub fn read(path: &Path) -> Result<RawTemplate, RawError> {
        RawTemplate::read_with(path, &limits().map_err(|e| e.in_file(path))?)
    }

    /// [`RawTemplate::read`] with explicit input limits.
    pub fn read_with(path: &Path, limits: &Limits) -> Result<RawTemplate, RawError> {
        let text = input::read_bounded(path, limits).map_err(RawError::from)?;
        RawTemplate::parse_with(&text, limits).map_err(|e| e.in_file(path))
    }

    /// The resources of one type, by logical id.
    pub fn resources_of_type<'t>(
        &'t self,
        type_name: &'t str,
    ) -> impl Iterator<Item = (&'t String, &'t RawResource)> {
        self.resources
            .iter()
            .filter(move |(_, r)| r.type_name == type_name)
    }

    /// Resource type names, with how many resources of each.
    pub fn type_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for resource in self.resources.values() {
            *counts.entry(resource.type_name.as_str()).or_insert(0) += 1;
        }
        counts
    }

    fn from_value_located(mut document: Value) -> Result<RawTemplate, Located> {
        normalize(&mut document);
        let Value::Object(top) = &document else {
            return Err(Located::plain(format!(
                "a template must be a mapping of sections (Resources, Outputs, ...), found {}",
                kind(&document)
            )));
        };
        let resources_value = top.get("Resources").ok_or_else(|| {
            Located::plain(
                "the template has no Resources section (is this a CloudFormation template?)",
            )
        })?;
        let Value::Object(resources_map) = resources_value else {
            return Err(Located::at_key(
                "Resources",
                format!(
                    "Resources must be a mapping of logical ids to resources, found {}",
                    kind(resources_value)
                ),
            ));
        };
        let mut resources = BTreeMap::new();
        for (id, value) in resources_map {
            resources.insert(id.clone(), resource(id, value.clone())?);
        }
        let section = |name: &str| -> Result<BTreeMap<String, Value>, Located> {
            match top.get(name) {
                None | Some(Value::Null) => Ok(BTreeMap::new()),
                Some(Value::Object(map)) => {
                    Ok(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                }
                Some(other) => Err(Located::at_key(
                    name,
                    format!("{name} must be a mapping, found {}", kind(other)),
                )),
            }
        };
        let parameters = section("Parameters")?;
        let outputs = section("Outputs")?;
        let conditions = section("Conditions")?;
        let mappings = section("Mappings")?;
        let description = match top.get("Description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Located::at_key(
                    "Description",
                    format!("Description must be a string, found {}", kind(other)),
                ));
            }
        };
        let metadata = top.get("Metadata").cloned();
        let rules = top.get("Rules").cloned();
        let transform = top.get("Transform").cloned();
        Ok(RawTemplate {
            resources,
            parameters,
            outputs,
            conditions,
            mappings,
            metadata,
            rules,
            transform,
            description,
            document,
            body_bytes: 0,
        })
    }
}

/// An error from [`RawTemplate::from_value_located`] with the mapping key to look for in the text when the
/// document came from text (values carry no positions).
struct Located {
    error: RawError,
    path_hint: Option<Vec<String>>,
}

impl Located {
    fn plain(message: impl Into<String>) -> Located {
        Located {
            error: RawError::new(message),
            path_hint: None,
        }
    }

    fn at_key(key: &str, message: impl Into<String>) -> Located {
        Located::at_path(&[key], message)
    }

    fn at_path(path: &[&str], message: impl Into<String>) -> Located {
        Located {
            error: RawError::new(message),
            path_hint: Some(path.iter().map(|s| s.to_string()).collect()),
        }
    }
}

impl RawResource {
    /// One entry of `Resources` from its value (intrinsics are normalized to long form here),
    /// checked as [`RawTemplate::from_value`] checks each resource.
    pub fn from_value(id: &str, mut value: Value) -> Result<RawResource, RawError> {
        normalize(&mut value);
        resource(id, value).map_err(|e| e.error)
    }
}

fn resource(id: &str, value: Value) -> Result<RawResource, Located> {
    let mut map = match value {
        Value::Object(map) => map,
        other => {
            return Err(Located::at_path(
                &["Resources", id],
                format!(
                    "resource {id} must be a mapping with a Type, found {}",
                    kind(&other)
                ),
            ));
        }
    };
    let type_name = match map.get("Type") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(other) => {
            return Err(Located::at_path(
                &["Resources", id, "Type"],
                format!(
                    "resource {id}: Type must be a resource type name such as AWS::S3::Bucket, found {}",
                    kind(other)
                ),
            ));
        }
        None => {
            return Err(Located::at_path(
                &["Resources", id],
                format!("resource {id} has no Type"),
            ));
        }
    };
    let properties = match map.remove("Properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(other) => {
            return Err(Located::at_path(
                &["Resources", id, "Properties"],
                format!(
                    "resource {id}: Properties must be a mapping, found {}",
                    kind(&other)
                ),
            ));
        }
    };
    let depends_on = match map.get("DependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(other) => {
            return Err(Located::at_path(
                &["Resources", id, "DependsOn"],
                format!(
                    "resource {id}: DependsOn must be a logical id or a list of them, found {}",
                    kind(other)
                ),
            ));
        }
    };
    let string_attr = |name: &str| -> Result<Option<String>, Located> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Located::at_path(
                &["Resources", id, name],
                format!(
                    "resource {id}: {name} must be a string, found {}",
                    kind(other)
                ),
            )),
        }
    };
    let deletion_policy = string_attr("DeletionPolicy")?;
    let update_replace_policy = string_attr("UpdateReplacePolicy")?;
    let condition = string_attr("Condition")?;
    Ok(RawResource {
        type_name,
        properties,
        depends_on,
        deletion_policy,
        update_replace_policy,
        condition,
        metadata: map.remove("Metadata"),
        update_policy: map.remove("UpdatePolicy"),
        creation_policy: map.remove("CreationPolicy"),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// serde's messages say " at line L column C"; that position goes into its own fields, so it is removed from the
/// message (other positions, such as where an unclosed list started, stay).
fn strip_position(message: &str, position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => {
            message.replacen(&format!(" at line {line} column {column}"), "", 1)
        }
        None => message.to_string(),
    }
}

/// Rewrites every intrinsic function of a document to long form, in place. Today that is `Fn::GetAtt` given as
/// one `"Resource.Attribute"` string; YAML tags were already turned into `Fn::` keys on the way in.
pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(s)) = map.get("Fn::GetAtt")
                && let Some((resource, attribute)) = s.split_once('.')
            {
                let pair = vec![
                    Value::String(resource.to_owned()),
                    Value::String(attribute.to_owned()),
                ];
                map.insert("Fn::GetAtt".to_owned(), Value::Array(pair));
                return;
            }
            for v in map.values_mut() {
                normalize(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// serde_yaml's value (with short-form tags) → JSON value in long form.
fn yaml_to_json(value: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(n.to_string()))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (k, v) in mapping {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    other => {
                        return Err(format!(
                            "a mapping key must be a plain value, found {other:?}"
                        ));
                    }
                };
                map.insert(key, yaml_to_json(v)?);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value)?;
            let (key, inner) = match name {
                "Ref" => ("Ref".to_owned(), inner),
                "Condition" => ("Condition".to_owned(), inner),
                "GetAtt" => {
                    let inner = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((r, a)) => Value::Array(vec![Value::from(r), Value::from(a)]),
                            None => {
                                return Err(format!("!GetAtt {s}: expected Resource.Attribute"));
                            }
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_owned(), inner)
                }
                other if other.starts_with("Fn::") => (other.to_owned(), inner),
                other => (format!("Fn::{other}"), inner),
            };
            let mut map = Map::new();
            map.insert(key, inner);
            Value::Object(map)
        }
    })
}

/// Finds where the mapping key at `path` (e.g. `["Resources", "Table", "Type"]`) is written in `text`, by
/// scanning lines for each key in turn (quoted or not). Good enough to point a person at the right line in
/// block YAML and in pretty-printed JSON; `None` when not found.
fn locate(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = None;
    for key in path {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(from) {
            if let Some(col) = key_column(line, key) {
                hit = Some((i, col));
                break;
            }
        }
        let (i, col) = hit?;
        found = Some((i + 1, col + 1));
        from = i;
    }
    found
}

fn key_column(line: &str, key: &str) -> Option<usize> {
    for candidate in [format!("\"{key}\""), format!("'{key}'"), key.to_owned()] {
        let mut start = 0;
        while let Some(pos) = line[start..].find(&candidate) {
            let at = start + pos;
            let before_ok = line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',' || c == '-');
            let rest = line[at + candidate.len()..].trim_start();
            if before_ok && rest.starts_with(':') {
                return Some(at);
            }
            start = at + candidate.len();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CDK_JSON: &str = r#"{
 "Resources": {
  "ConnectionsTable8000B8A1": {
   "Type": "AWS::DynamoDB::Table",
   "Properties": {
    "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST"
   },
   "UpdateReplacePolicy": "Retain",
   "DeletionPolicy": "Retain",
   "Metadata": {"aws:cdk:path": "Chat/Connections/Resource"}
  },
  "HandlerServiceRole": {
   "Type": "AWS::IAM::Role",
   "Properties": {"AssumeRolePolicyDocument": {"Statement": []}}
  },
  "Handler886CB40B": {
   "Type": "AWS::Lambda::Function",
   "Properties": {
    "Role": {"Fn::GetAtt": ["HandlerServiceRole", "Arn"]},
    "Environment": {"Variables": {"TABLE": {"Ref": "ConnectionsTable8000B8A1"}}},
    "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "abc.zip"}
   },
   "DependsOn": ["HandlerServiceRole"],
   "Condition": "IsProd"
  }
 },
 "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
 "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
 "Outputs": {"Url": {"Value": {"Fn::GetAtt": "Api.ApiEndpoint"}}},
 "Metadata": {"cdk": true},
 "Rules": {"CheckBootstrapVersion": {"Assertions": [{"Assert": {"Fn::Not": [{"Fn::Contains": [["1", "2"], {"Ref": "BootstrapVersion"}]}]}}]}}
}"#;

    #[test]
    fn reads_cdk_style_json() {
        let t = RawTemplate::parse(CDK_JSON).unwrap();
        assert_eq!(t.body_bytes, CDK_JSON.len());
        assert_eq!(t.resources.len(), 3);
        let table = &t.resources["ConnectionsTable8000B8A1"];
        assert_eq!(table.type_name, "AWS::DynamoDB::Table");
        assert_eq!(table.deletion_policy.as_deref(), Some("Retain"));
        assert_eq!(table.update_replace_policy.as_deref(), Some("Retain"));
        assert_eq!(
            table.metadata.as_ref().unwrap()["aws:cdk:path"],
            "Chat/Connections/Resource"
        );
        let f = &t.resources["Handler886CB40B"];
        assert_eq!(f.depends_on, ["HandlerServiceRole"]);
        assert_eq!(f.condition.as_deref(), Some("IsProd"));
        assert_eq!(
            f.properties["Role"],
            json!({"Fn::GetAtt": ["HandlerServiceRole", "Arn"]})
        );
        assert!(t.conditions.contains_key("IsProd"));
        assert!(t.parameters.contains_key("BootstrapVersion"));
        assert!(t.rules.is_some() && t.metadata.is_some());
        // A string GetAtt becomes the two-item list, in the sections and in the document.
        assert_eq!(
            t.outputs["Url"]["Value"],
            json!({"Fn::GetAtt": ["Api", "ApiEndpoint"]})
        );
        assert_eq!(
            t.document["Outputs"]["Url"]["Value"],
            json!({"Fn::GetAtt": ["Api", "ApiEndpoint"]})
        );
    }

    const SHORT_YAML: &str = r#"AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Equals [a, b], !Condition NotProd]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    Properties:
      TableName: !Sub "${AWS::StackName}-connections"
      SSESpecification:
        SSEEnabled: !If [IsProd, true, !Ref AWS::NoValue]
  Fn:
    Type: AWS::Lambda::Function
    DependsOn: Table
    Properties:
      Role: !GetAtt FnRole.Arn
      Endpoint: !GetAtt Db.Endpoint.Address
      Other: !GetAtt [FnRole, RoleId]
      Code:
        S3Bucket: !ImportValue shared-bucket
        S3Key: !Join ["/", [!Select [0, !Split [",", "a,b"]], !FindInMap [M, !Ref "AWS::Region", key]]]
      Environment:
        Variables:
          B64: !Base64 hello
          CIDR: !Cidr [!GetAtt Vpc.CidrBlock, 6, 5]
          AZ: !Select [0, !GetAZs ""]
      Tags: &tags
        - Key: owner
          Value: chat
  Other:
    Type: Custom::Thing
    Properties:
      <<: {A: 1}
      B: 2
      Tags: *tags
"#;

    #[test]
    fn reads_short_form_yaml_as_long_form() {
        let t = RawTemplate::parse(SHORT_YAML).unwrap();
        assert_eq!(t.transform, Some(json!("AWS::Serverless-2016-10-31")));
        assert_eq!(t.document["AWSTemplateFormatVersion"], "2010-09-09");
        assert_eq!(
            t.conditions["IsProd"],
            json!({"Fn::Equals": [{"Ref": "Stage"}, "prod"]})
        );
        assert_eq!(
            t.conditions["NotProd"],
            json!({"Fn::Not": [{"Condition": "IsProd"}]})
        );
        assert_eq!(
            t.conditions["Both"],
            json!({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Condition": "NotProd"}]}]})
        );
        let table = &t.resources["Table"];
        assert_eq!(table.deletion_policy.as_deref(), Some("Retain"));
        assert_eq!(
            table.properties["TableName"],
            json!({"Fn::Sub": "${AWS::StackName}-connections"})
        );
        assert_eq!(
            table.properties["SSESpecification"]["SSEEnabled"],
            json!({"Fn::If": ["IsProd", true, {"Ref": "AWS::NoValue"}]})
        );
        let f = &t.resources["Fn"];
        assert_eq!(f.depends_on, ["Table"]);
        let p = &f.properties;
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["FnRole", "Arn"]}));
        assert_eq!(
            p["Endpoint"],
            json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        );
        assert_eq!(p["Other"], json!({"Fn::GetAtt": ["FnRole", "RoleId"]}));
        assert_eq!(
            p["Code"]["S3Bucket"],
            json!({"Fn::ImportValue": "shared-bucket"})
        );
        assert_eq!(
            p["Code"]["S3Key"],
            json!({"Fn::Join": ["/", [
                {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
                {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "key"]}
            ]]})
        );
        let vars = &p["Environment"]["Variables"];
        assert_eq!(vars["B64"], json!({"Fn::Base64": "hello"}));
        assert_eq!(
            vars["CIDR"],
            json!({"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 6, 5]})
        );
        assert_eq!(vars["AZ"], json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}));
        // Anchors, aliases and merge keys are resolved.
        let other = &t.resources["Other"].properties;
        assert_eq!(other["A"], 1);
        assert_eq!(other["Tags"], json!([{"Key": "owner", "Value": "chat"}]));
    }

    #[test]
    fn json_and_yaml_of_the_same_template_are_equal() {
        let yaml = "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: !GetAtt A.Arn\n      Y: !Sub x\n";
        let json = r#"{"Resources":{"R":{"Type":"AWS::SNS::Topic","Properties":{"X":{"Fn::GetAtt":["A","Arn"]},"Y":{"Fn::Sub":"x"}}}}}"#;
        let a = RawTemplate::parse(yaml).unwrap();
        let b = RawTemplate::parse(json).unwrap();
        assert_eq!(a.resources, b.resources);
        assert_eq!(a.document, b.document);
    }

    #[test]
    fn malformed_yaml_has_its_position() {
        let text =
            "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties: [unclosed\n";
        let e = RawTemplate::parse(text).unwrap_err();
        assert_eq!((e.line, e.column), (Some(5), Some(1)), "{e:?}");
        assert!(e.message.starts_with("invalid YAML"), "{e}");
        assert!(
            !e.message.contains("line 5 column 1"),
            "the position is not repeated: {e}"
        );
        assert!(
            e.message.contains("line 4"),
            "where the list started stays: {e}"
        );
    }

    #[test]
    fn malformed_json_has_its_position_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("template.json");
        std::fs::write(
            &path,
            "{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\",}\n  }\n}\n",
        )
        .unwrap();
        let e = RawTemplate::read(&path).unwrap_err();
        assert_eq!(e.file.as_deref(), Some(path.as_path()));
        assert_eq!(e.line, Some(3));
        assert!(e.column.is_some());
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}:3:", path.display())),
            "{shown}"
        );
        assert!(shown.contains("invalid JSON"), "{shown}");
    }

    #[test]
    fn a_resource_without_type_is_located_in_the_text() {
        let text = "Resources:\n  Good:\n    Type: AWS::SNS::Topic\n  Bad:\n    Properties: {}\n";
        let e = RawTemplate::parse(text).unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(3)), "{e}");
        assert_eq!(e.message, "resource Bad has no Type");
        assert_eq!(e.to_string(), "4:3: resource Bad has no Type");
    }

    #[test]
    fn not_a_template() {
        let e = RawTemplate::parse("name: chat\nroutes: []\n").unwrap_err();
        assert!(e.message.contains("no Resources section"), "{e}");
        let e = RawTemplate::parse("- 1\n- 2\n").unwrap_err();
        assert!(e.message.contains("mapping of sections"), "{e}");
        let e = RawTemplate::read(Path::new("/nonexistent/t.yaml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/t.yaml: cannot read"),
            "{e}"
        );
    }

    #[test]
    fn from_value_normalizes_and_counts_no_bytes() {
        let t = RawTemplate::from_value(json!({
            "Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::GetAtt": "B.Arn"}}}}
        }))
        .unwrap();
        assert_eq!(t.body_bytes, 0);
        assert_eq!(
            t.resources["A"].properties["X"],
            json!({"Fn::GetAtt": ["B", "Arn"]})
        );
        assert_eq!(t.type_counts()["AWS::SNS::Topic"], 1);
    }
}
