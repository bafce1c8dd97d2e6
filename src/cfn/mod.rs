//! CloudFormation as typed Rust: one struct per resource type sockstack emits,
//! property names exactly as CloudFormation spells them, intrinsic functions as
//! [`Expr`], and a [`Template`] whose maps are ordered so output is deterministic.

pub mod apigateway;
pub mod apigatewayv2;
pub mod cloudwatch;
pub mod dynamodb;
pub mod expr;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod sns;

pub use expr::Expr;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::BTreeMap;

/// The properties of one resource, by type.
#[derive(Debug, Clone)]
pub enum Properties {
    Account(apigateway::Account),
    Api(apigatewayv2::Api),
    Authorizer(apigatewayv2::Authorizer),
    Route(apigatewayv2::Route),
    RouteResponse(apigatewayv2::RouteResponse),
    Integration(apigatewayv2::Integration),
    Deployment(apigatewayv2::Deployment),
    Stage(apigatewayv2::Stage),
    Function(lambda::Function),
    Permission(lambda::Permission),
    Table(dynamodb::Table),
    Role(iam::Role),
    LogGroup(logs::LogGroup),
    Key(kms::Key),
    Alarm(cloudwatch::Alarm),
    Topic(sns::Topic),
    Subscription(sns::Subscription),
}

impl Properties {
    /// The CloudFormation resource type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Properties::Account(_) => "AWS::ApiGateway::Account",
            Properties::Api(_) => "AWS::ApiGatewayV2::Api",
            Properties::Authorizer(_) => "AWS::ApiGatewayV2::Authorizer",
            Properties::Route(_) => "AWS::ApiGatewayV2::Route",
            Properties::RouteResponse(_) => "AWS::ApiGatewayV2::RouteResponse",
            Properties::Integration(_) => "AWS::ApiGatewayV2::Integration",
            Properties::Deployment(_) => "AWS::ApiGatewayV2::Deployment",
            Properties::Stage(_) => "AWS::ApiGatewayV2::Stage",
            Properties::Function(_) => "AWS::Lambda::Function",
            Properties::Permission(_) => "AWS::Lambda::Permission",
            Properties::Table(_) => "AWS::DynamoDB::Table",
            Properties::Role(_) => "AWS::IAM::Role",
            Properties::LogGroup(_) => "AWS::Logs::LogGroup",
            Properties::Key(_) => "AWS::KMS::Key",
            Properties::Alarm(_) => "AWS::CloudWatch::Alarm",
            Properties::Topic(_) => "AWS::SNS::Topic",
            Properties::Subscription(_) => "AWS::SNS::Subscription",
        }
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Properties::Account(p) => p.serialize(s),
            Properties::Api(p) => p.serialize(s),
            Properties::Authorizer(p) => p.serialize(s),
            Properties::Route(p) => p.serialize(s),
            Properties::RouteResponse(p) => p.serialize(s),
            Properties::Integration(p) => p.serialize(s),
            Properties::Deployment(p) => p.serialize(s),
            Properties::Stage(p) => p.serialize(s),
            Properties::Function(p) => p.serialize(s),
            Properties::Permission(p) => p.serialize(s),
            Properties::Table(p) => p.serialize(s),
            Properties::Role(p) => p.serialize(s),
            Properties::LogGroup(p) => p.serialize(s),
            Properties::Key(p) => p.serialize(s),
            Properties::Alarm(p) => p.serialize(s),
            Properties::Topic(p) => p.serialize(s),
            Properties::Subscription(p) => p.serialize(s),
        }
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RetainPolicy {
    Delete,
    Retain,
}

impl RetainPolicy {
    /// The policy as the template spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RetainPolicy::Delete => "Delete",
            RetainPolicy::Retain => "Retain",
        }
    }
}

/// One resource with its attributes.
#[derive(Debug, Clone)]
pub struct Resource {
    pub properties: Properties,
    pub depends_on: Vec<String>,
    /// Set on every stateful resource (tables, log groups).
    pub deletion_policy: Option<RetainPolicy>,
    pub update_replace_policy: Option<RetainPolicy>,
    /// `Metadata`: scanner suppressions with their reasons, sockstack's own notes.
    pub metadata: Option<serde_json::Value>,
}

impl Resource {
    /// A resource with no attributes.
    pub fn new(properties: Properties) -> Self {
        Resource {
            properties,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata: None,
        }
    }

    /// The same resource, deleted or retained with its stack and on replacement.
    pub fn with_policy(mut self, policy: RetainPolicy) -> Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }

    /// The same resource, created after `ids`.
    pub fn depending_on(mut self, ids: Vec<String>) -> Self {
        self.depends_on = ids;
        self
    }
}

impl Serialize for Resource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("Type", self.properties.type_name())?;
        if let Some(p) = self.deletion_policy {
            map.serialize_entry("DeletionPolicy", &p)?;
        }
        if let Some(p) = self.update_replace_policy {
            map.serialize_entry("UpdateReplacePolicy", &p)?;
        }
        if !self.depends_on.is_empty() {
            map.serialize_entry("DependsOn", &self.depends_on)?;
        }
        if let Some(metadata) = &self.metadata {
            map.serialize_entry("Metadata", metadata)?;
        }
        map.serialize_entry("Properties", &self.properties)?;
        map.end()
    }
}

/// A template parameter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub type_name: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A template output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: String,
    pub value: Expr,
}

/// A whole template. Maps are ordered by logical id, so the same input always
/// serializes to the same bytes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    #[serde(rename = "Description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "Parameters", skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(rename = "Resources")]
    pub resources: BTreeMap<String, Resource>,
    #[serde(rename = "Outputs", skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Output>,
}

impl Template {
    /// An empty template.
    pub fn new(description: Option<String>) -> Self {
        Template {
            format_version: "2010-09-09",
            description,
            ..Template::default()
        }
    }

    /// Adds a resource. Panics on a duplicate logical id: synth must never produce one.
    pub fn add(&mut self, id: impl Into<String>, resource: Resource) {
        let id = id.into();
        let previous = self.resources.insert(id.clone(), resource);
        assert!(previous.is_none(), "duplicate logical id {id}");
    }

    /// The template as a long-form JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a template always serializes")
    }
}
