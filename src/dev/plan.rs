//! The template read the way API Gateway and Lambda would: the local plan.
//!
//! Only the synthesized template is read (through [`RawTemplate`]), never the stack file: the WebSocket API and
//! its route selection expression, each route → integration → function, the REQUEST authorizer (identity
//! sources, function), two-way routes (a `RouteResponseSelectionExpression` and a `RouteResponse`), each
//! function's memory, timeout, log format, `Environment` and the SSM parameters and secrets its role may read
//! ([`super::granted`]), and the DynamoDB tables. What the template does not wire, dev does not do. The one
//! thing a template cannot say, the key schema of a table the stack file names as `existing`, is added from
//! the stack file ([`Plan::existing_tables`]).

use super::resolve::{Locals, Resolver};
use crate::raw::{RawResource, RawTemplate};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Why a template cannot run locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the template cannot run under sockstack dev: {}", self.0)
    }
}

impl std::error::Error for PlanError {}

fn err<T>(message: impl Into<String>) -> Result<T, PlanError> {
    Err(PlanError(message.into()))
}

/// Where the route key is found in a message (`$request.body.action` → `["action"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The expression as written.
    pub expression: String,
    /// The JSON path inside the body.
    pub path: Vec<String>,
}

impl Selection {
    /// Parses `$request.body.a.b` (or `${request.body.a.b}`).
    pub fn parse(expression: &str) -> Result<Selection, PlanError> {
        let inner = expression
            .strip_prefix("${")
            .and_then(|e| e.strip_suffix('}'))
            .map(|e| format!("${e}"))
            .unwrap_or_else(|| expression.to_string());
        match inner.strip_prefix("$request.body.") {
            Some(path) if !path.is_empty() && path.split('.').all(|p| !p.is_empty()) => {
                Ok(Selection {
                    expression: expression.to_string(),
                    path: path.split('.').map(str::to_owned).collect(),
                })
            }
            _ => err(format!(
                "route selection expression {expression:?}: only $request.body.<field> is supported"
            )),
        }
    }

    /// The route key a text message selects, if it is JSON with a string (or number/boolean) at the path.
    pub fn select(&self, message: &str) -> Option<String> {
        let mut value: Value = serde_json::from_str(message).ok()?;
        for part in &self.path {
            value = value.get(part)?.clone();
        }
        match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Where an authorizer reads the caller's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `route.request.querystring.NAME`.
    Query(String),
    /// `route.request.header.NAME` (matched case-insensitively).
    Header(String),
}

impl IdentitySource {
    fn parse(source: &str) -> Result<IdentitySource, PlanError> {
        if let Some(name) = source.strip_prefix("route.request.querystring.") {
            Ok(IdentitySource::Query(name.to_string()))
        } else if let Some(name) = source.strip_prefix("route.request.header.") {
            Ok(IdentitySource::Header(name.to_ascii_lowercase()))
        } else {
            err(format!(
                "identity source {source:?}: only route.request.querystring.X and route.request.header.X are available locally"
            ))
        }
    }
}

/// The REQUEST authorizer of `$connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPlan {
    /// Its logical id.
    pub logical_id: String,
    /// The function it invokes (logical id).
    pub function: String,
    /// Where the identity is read; all must be present.
    pub identity_sources: Vec<IdentitySource>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePlan {
    /// `$connect`, `$disconnect`, `$default` or a custom key.
    pub key: String,
    /// The route's logical id.
    pub logical_id: String,
    /// The function its AWS_PROXY integration invokes (logical id).
    pub function: String,
    /// The route sends the function's `body` back to the caller.
    pub two_way: bool,
    /// The route uses the REQUEST authorizer.
    pub authorized: bool,
}

/// One Lambda function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionPlan {
    /// Its logical id.
    pub logical_id: String,
    /// Its local name (`FunctionName`, or `{stack}-{LogicalId}`).
    pub name: String,
    /// The handler binary that implements it.
    pub handler: String,
    /// `MemorySize` (MB; Lambda's default 128).
    pub memory_mb: u32,
    /// `Timeout` (seconds; Lambda's default 3).
    pub timeout_secs: u64,
    /// `LoggingConfig.LogFormat`, if set.
    pub log_format: Option<String>,
    /// `Environment.Variables`, resolved to local values.
    pub environment: BTreeMap<String, String>,
    /// The SSM parameters its role may read (names).
    pub parameters: Vec<String>,
    /// The Secrets Manager secrets its role may read (names).
    pub secrets: Vec<String>,
}

/// One DynamoDB table.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    /// Its logical id.
    pub logical_id: String,
    /// Its local name (`TableName`, or `{stack}-{LogicalId}`).
    pub name: String,
    /// Its properties, resolved.
    pub properties: Map<String, Value>,
}

/// Everything `sockstack dev` runs for one template.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The local values references resolved to.
    pub locals: Locals,
    /// The route selection.
    pub selection: Selection,
    /// Routes by route key.
    pub routes: BTreeMap<String, RoutePlan>,
    /// The `$connect` authorizer, if the route uses one.
    pub authorizer: Option<AuthorizerPlan>,
    /// Functions behind a route or the authorizer, by logical id.
    pub functions: BTreeMap<String, FunctionPlan>,
    /// Tables, by logical id.
    pub tables: BTreeMap<String, TablePlan>,
    /// Tables the stack file names as `existing` (not in the template), by their stack-file name: created
    /// locally from the key schema the stack file declares ([`super::existing`]).
    pub existing_tables: BTreeMap<String, TablePlan>,
}

/// The local name of a table or function without an explicit name: `{stack}-{LogicalId}`.
pub fn local_name(stack: &str, logical_id: &str) -> String {
    format!("{stack}-{logical_id}")
}

/// The resources of `type_name` that `value` names through `Ref`, `Fn::GetAtt` or a `Fn::Sub` variable.
fn referenced(template: &RawTemplate, value: &Value, type_name: &str) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("Ref", Value::String(s)) => out.push(s.clone()),
                        ("Fn::GetAtt", Value::Array(p)) => {
                            if let Some(Value::String(s)) = p.first() {
                                out.push(s.clone());
                            }
                        }
                        ("Fn::Sub", sub) => {
                            let text = match sub {
                                Value::String(s) => s.as_str(),
                                Value::Array(items) => {
                                    items.first().and_then(Value::as_str).unwrap_or_default()
                                }
                                _ => "",
                            };
                            let mut rest = text;
                            while let Some(start) = rest.find("${") {
                                let after = &rest[start + 2..];
                                let Some(end) = after.find('}') else { break };
                                let name = &after[..end];
                                out.push(name.split('.').next().unwrap_or(name).to_string());
                                rest = &after[end + 1..];
                            }
                            walk(sub, out);
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    walk(value, &mut names);
    let mut found: Vec<String> = names
        .into_iter()
        .filter(|n| {
            template
                .resources
                .get(n)
                .is_some_and(|r| r.type_name == type_name)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn one(
    template: &RawTemplate,
    value: Option<&Value>,
    type_name: &str,
    what: &str,
) -> Result<String, PlanError> {
    let Some(value) = value else {
        return err(format!("{what} names no {type_name}"));
    };
    let mut found = referenced(template, value, type_name);
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => err(format!("{what} names no {type_name} of this template")),
        _ => err(format!("{what} names more than one {type_name}: {found:?}")),
    }
}

fn text<'r>(resource: &'r RawResource, property: &str) -> Option<&'r str> {
    resource.properties.get(property).and_then(Value::as_str)
}

impl Plan {
    /// Reads `template` (the stack's local name is `stack`); `handler_of` names the binary behind a function
    /// resource.
    pub fn read(
        template: &RawTemplate,
        stack: &str,
        handler_of: &dyn Fn(&RawResource) -> Option<String>,
    ) -> Result<Plan, PlanError> {
        let apis: Vec<_> = template
            .resources_of_type("AWS::ApiGatewayV2::Api")
            .filter(|(_, r)| text(r, "ProtocolType") == Some("WEBSOCKET"))
            .collect();
        let (api_id, api) = match apis.as_slice() {
            [one] => *one,
            [] => return err("it has no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET"),
            _ => return err("it has more than one WebSocket API; dev runs one"),
        };
        let selection = Selection::parse(
            text(api, "RouteSelectionExpression").unwrap_or("$request.body.action"),
        )?;
        let stage = template
            .resources_of_type("AWS::ApiGatewayV2::Stage")
            .find_map(|(_, r)| text(r, "StageName").map(str::to_owned))
            .ok_or_else(|| PlanError("it has no AWS::ApiGatewayV2::Stage".into()))?;

        let mut names = BTreeMap::new();
        let pseudo = Locals {
            stack: stack.to_string(),
            stage: stage.clone(),
            api_id: local_api_id(stack),
            ..Locals::default()
        };
        for (id, r) in template.resources.iter() {
            let property = match r.type_name.as_str() {
                "AWS::DynamoDB::Table" => "TableName",
                "AWS::Lambda::Function" => "FunctionName",
                _ => continue,
            };
            let name = match r.properties.get(property) {
                Some(v) => Resolver::new(template, &pseudo)
                    .resolve_string(v)
                    .map_err(|e| PlanError(format!("{id}.{property}: {e}")))?,
                None => local_name(stack, id),
            };
            names.insert(id.clone(), name);
        }
        let locals = Locals { names, ..pseudo };

        let mut routes = BTreeMap::new();
        let mut authorizer = None;
        for (route_id, route) in template.resources_of_type("AWS::ApiGatewayV2::Route") {
            let key = text(route, "RouteKey")
                .ok_or_else(|| PlanError(format!("route {route_id} has no RouteKey")))?
                .to_string();
            let what = format!("route {route_id} ({key})");
            let integration_id = one(
                template,
                route.properties.get("Target"),
                "AWS::ApiGatewayV2::Integration",
                &format!("the Target of {what}"),
            )?;
            let integration = &template.resources[&integration_id];
            if text(integration, "IntegrationType") != Some("AWS_PROXY") {
                return err(format!(
                    "integration {integration_id} of {what}: only AWS_PROXY (Lambda proxy) integrations run locally"
                ));
            }
            let function = one(
                template,
                integration.properties.get("IntegrationUri"),
                "AWS::Lambda::Function",
                &format!("the IntegrationUri of {integration_id}"),
            )?;
            let has_response = template
                .resources_of_type("AWS::ApiGatewayV2::RouteResponse")
                .any(|(_, rr)| {
                    referenced(
                        template,
                        rr.properties.get("RouteId").unwrap_or(&Value::Null),
                        "AWS::ApiGatewayV2::Route",
                    ) == [route_id.clone()]
                });
            let two_way = has_response
                && route
                    .properties
                    .contains_key("RouteResponseSelectionExpression");
            let authorized = match text(route, "AuthorizationType") {
                None | Some("NONE") => false,
                Some("CUSTOM") => true,
                Some(other) => {
                    return err(format!(
                        "{what}: AuthorizationType {other} cannot be checked locally (IAM is not emulated)"
                    ));
                }
            };
            if authorized {
                let authorizer_id = one(
                    template,
                    route.properties.get("AuthorizerId"),
                    "AWS::ApiGatewayV2::Authorizer",
                    &format!("the AuthorizerId of {what}"),
                )?;
                let a = &template.resources[&authorizer_id];
                if text(a, "AuthorizerType") != Some("REQUEST") {
                    return err(format!(
                        "authorizer {authorizer_id}: only REQUEST (Lambda) authorizers run locally"
                    ));
                }
                let function = one(
                    template,
                    a.properties.get("AuthorizerUri"),
                    "AWS::Lambda::Function",
                    &format!("the AuthorizerUri of {authorizer_id}"),
                )?;
                let identity_sources = match a.properties.get("IdentitySource") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|v| IdentitySource::parse(v.as_str().unwrap_or_default()))
                        .collect::<Result<_, _>>()?,
                    Some(Value::String(s)) => vec![IdentitySource::parse(s)?],
                    _ => Vec::new(),
                };
                authorizer = Some(AuthorizerPlan {
                    logical_id: authorizer_id,
                    function,
                    identity_sources,
                });
            }
            if routes.contains_key(&key) {
                return err(format!("route key {key} is defined twice"));
            }
            routes.insert(
                key.clone(),
                RoutePlan {
                    key,
                    logical_id: route_id.clone(),
                    function,
                    two_way,
                    authorized,
                },
            );
        }

        let resolver = Resolver::new(template, &locals);
        let mut functions = BTreeMap::new();
        let used = routes
            .values()
            .map(|r| r.function.clone())
            .chain(authorizer.iter().map(|a| a.function.clone()));
        for id in used {
            if functions.contains_key(&id) {
                continue;
            }
            let r = &template.resources[&id];
            let handler = handler_of(r).ok_or_else(|| {
                PlanError(format!(
                    "function {id}: its Code does not name a handler bundle ({{handler}}-{{hash}}.zip)"
                ))
            })?;
            let mut environment = BTreeMap::new();
            if let Some(Value::Object(vars)) = r
                .properties
                .get("Environment")
                .and_then(|e| e.get("Variables"))
            {
                for (name, value) in vars {
                    let v = resolver
                        .resolve_string(value)
                        .map_err(|e| PlanError(format!("{id} environment {name}: {e}")))?;
                    environment.insert(name.clone(), v);
                }
            }
            let readable = super::granted::readable(template, &resolver, r)
                .map_err(|e| PlanError(format!("the role of {id}: {e}")))?;
            functions.insert(
                id.clone(),
                FunctionPlan {
                    logical_id: id.clone(),
                    name: locals.names[&id].clone(),
                    handler,
                    memory_mb: r
                        .properties
                        .get("MemorySize")
                        .and_then(Value::as_u64)
                        .unwrap_or(128) as u32,
                    timeout_secs: r
                        .properties
                        .get("Timeout")
                        .and_then(Value::as_u64)
                        .unwrap_or(3),
                    log_format: r
                        .properties
                        .get("LoggingConfig")
                        .and_then(|l| l.get("LogFormat"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    environment,
                    parameters: readable.parameters,
                    secrets: readable.secrets,
                },
            );
        }

        let mut tables = BTreeMap::new();
        for (id, r) in template.resources_of_type("AWS::DynamoDB::Table") {
            let properties = match resolver.resolve(&Value::Object(r.properties.clone())) {
                Ok(Value::Object(p)) => p,
                Ok(_) => Map::new(),
                Err(e) => return err(format!("table {id}: {e}")),
            };
            tables.insert(
                id.clone(),
                TablePlan {
                    logical_id: id.clone(),
                    name: locals.names[id].clone(),
                    properties,
                },
            );
        }
        let _ = api_id;
        Ok(Plan {
            locals,
            selection,
            routes,
            authorizer,
            functions,
            tables,
            existing_tables: BTreeMap::new(),
        })
    }

    /// The SSM parameters and secrets the functions may read, each with the functions granted it.
    pub fn granted(&self) -> super::values::Granted {
        let mut granted = super::values::Granted::default();
        for f in self.functions.values() {
            for p in &f.parameters {
                granted
                    .parameters
                    .entry(p.clone())
                    .or_default()
                    .insert(f.logical_id.clone());
            }
            for s in &f.secrets {
                granted
                    .secrets
                    .entry(s.clone())
                    .or_default()
                    .insert(f.logical_id.clone());
            }
        }
        granted
    }

    /// The plan with the gateway's address known: every value that names the API's domain is re-resolved to it.
    pub fn at(&self, template: &RawTemplate, gateway: &str) -> Result<Plan, PlanError> {
        let mut locals = self.locals.clone();
        locals.gateway = gateway.to_string();
        let resolver = Resolver::new(template, &locals);
        let mut plan = self.clone();
        for f in plan.functions.values_mut() {
            let r = &template.resources[&f.logical_id];
            if let Some(Value::Object(vars)) = r
                .properties
                .get("Environment")
                .and_then(|e| e.get("Variables"))
            {
                for (name, value) in vars {
                    let v = resolver.resolve_string(value).map_err(|e| {
                        PlanError(format!("{} environment {name}: {e}", f.logical_id))
                    })?;
                    f.environment.insert(name.clone(), v);
                }
            }
        }
        plan.locals = locals;
        Ok(plan)
    }

    /// The stage name.
    pub fn stage(&self) -> &str {
        &self.locals.stage
    }
}

/// A stable, AWS-looking API id for a stack: ten lowercase hex characters.
pub fn local_api_id(stack: &str) -> String {
    let digest = Sha256::digest(stack.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_reads_a_json_path() {
        let s = Selection::parse("$request.body.action").unwrap();
        assert_eq!(s.select(r#"{"action":"send"}"#).as_deref(), Some("send"));
        assert_eq!(s.select("not json"), None);
        assert_eq!(s.select(r#"{"other":1}"#), None);
        let nested = Selection::parse("${request.body.meta.kind}").unwrap();
        assert_eq!(
            nested.select(r#"{"meta":{"kind":7}}"#).as_deref(),
            Some("7")
        );
        assert!(Selection::parse("$request.header.x").is_err());
    }
}
