//! Intrinsic functions resolved to local values.
//!
//! What a deployed stack would have, made local: a table's `Ref` is its local table name and `GetAtt …Arn` its
//! ARN, a function's `Ref` its name, the API's `Ref` a fixed local API id, pseudo parameters have fixed local
//! values, and any `https://`/`wss://` URL on the API's execute-api domain becomes the local gateway's
//! `http://`/`ws://` URL — so a callback URL built with `Fn::Sub` points at the local `@connections`, whatever
//! variable carries it.

use crate::raw::RawTemplate;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use sockstack_lambda_local::{ACCOUNT, REGION};

/// The local values references resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locals {
    /// `AWS::StackName`.
    pub stack: String,
    /// The local API id (`Ref` of the WebSocket API).
    pub api_id: String,
    /// The stage name (`Ref` of the stage).
    pub stage: String,
    /// Where the gateway listens, `127.0.0.1:N` (empty before it is known).
    pub gateway: String,
    /// Physical names by logical id (tables, functions).
    pub names: BTreeMap<String, String>,
}

impl Locals {
    /// The API's domain as AWS would name it.
    pub fn aws_domain(&self) -> String {
        format!("{}.execute-api.{REGION}.amazonaws.com", self.api_id)
    }
}

/// Resolves the intrinsics of one template against [`Locals`].
pub struct Resolver<'a> {
    template: &'a RawTemplate,
    locals: &'a Locals,
}

/// What [`Resolver::resolve`] returns in place of `{"Ref": "AWS::NoValue"}`; removed from objects and lists.
const NO_VALUE: &str = "\u{0}sockstack-no-value";

impl<'a> Resolver<'a> {
    /// A resolver for `template`.
    pub fn new(template: &'a RawTemplate, locals: &'a Locals) -> Resolver<'a> {
        Resolver { template, locals }
    }

    /// `value` with every intrinsic replaced by its local value.
    pub fn resolve(&self, value: &Value) -> Result<Value, String> {
        let v = self.eval(value)?;
        Ok(self.localize(v))
    }

    /// `value` resolved to a string (numbers and booleans as written, lists and maps as JSON).
    pub fn resolve_string(&self, value: &Value) -> Result<String, String> {
        Ok(match self.resolve(value)? {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        })
    }

    fn localize(&self, value: Value) -> Value {
        match value {
            Value::String(s) if !self.locals.gateway.is_empty() => {
                let domain = self.locals.aws_domain();
                let local = &self.locals.gateway;
                Value::String(
                    s.replace(&format!("https://{domain}"), &format!("http://{local}"))
                        .replace(&format!("wss://{domain}"), &format!("ws://{local}")),
                )
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.localize(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.localize(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    fn eval(&self, value: &Value) -> Result<Value, String> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Ref" => self.reference(arg),
                    "Fn::GetAtt" => self.get_att(arg),
                    "Fn::Sub" => self.sub(arg),
                    "Fn::Join" => self.join(arg),
                    "Fn::Select" => self.select(arg),
                    "Fn::Split" => self.split(arg),
                    k if k.starts_with("Fn::") => {
                        Err(format!("{k} is not supported by sockstack dev"))
                    }
                    _ => self.object(map),
                }
            }
            Value::Object(map) => self.object(map),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    let v = self.eval(item)?;
                    if v != Value::String(NO_VALUE.into()) {
                        out.push(v);
                    }
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn object(&self, map: &Map<String, Value>) -> Result<Value, String> {
        let mut out = Map::new();
        for (k, v) in map {
            let v = self.eval(v)?;
            if v != Value::String(NO_VALUE.into()) {
                out.insert(k.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn name_of(&self, id: &str) -> String {
        self.locals
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn reference(&self, arg: &Value) -> Result<Value, String> {
        let name = arg
            .as_str()
            .ok_or_else(|| format!("Ref needs a name, found {arg}"))?;
        let l = self.locals;
        let value = match name {
            "AWS::Region" => REGION.to_string(),
            "AWS::AccountId" => ACCOUNT.to_string(),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "AWS::StackName" => l.stack.clone(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{}/local",
                l.stack
            ),
            "AWS::NoValue" => NO_VALUE.to_string(),
            _ => {
                if let Some(p) = self.template.parameters.get(name) {
                    return Ok(p
                        .get("Default")
                        .cloned()
                        .unwrap_or_else(|| Value::String(format!("local-{name}"))));
                }
                let resource = self
                    .template
                    .resources
                    .get(name)
                    .ok_or_else(|| format!("Ref {name}: no such parameter or resource"))?;
                match resource.type_name.as_str() {
                    "AWS::ApiGatewayV2::Api" => l.api_id.clone(),
                    "AWS::ApiGatewayV2::Stage" => l.stage.clone(),
                    _ => self.name_of(name),
                }
            }
        };
        Ok(Value::String(value))
    }

    fn attribute(&self, id: &str, attribute: &str) -> Result<String, String> {
        let resource = self
            .template
            .resources
            .get(id)
            .ok_or_else(|| format!("Fn::GetAtt {id}.{attribute}: no such resource"))?;
        let name = self.name_of(id);
        let l = self.locals;
        Ok(match (resource.type_name.as_str(), attribute) {
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
            }
            ("AWS::DynamoDB::Table", "StreamArn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}/stream/local")
            }
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
            }
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint") => format!("wss://{}", l.aws_domain()),
            ("AWS::ApiGatewayV2::Api", "ApiId") => l.api_id.clone(),
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*")
            }
            ("AWS::KMS::Key", "Arn") => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"),
            ("AWS::SSM::Parameter", "Value") => String::new(),
            (t, a) => {
                return Err(format!(
                    "Fn::GetAtt {id}.{a}: sockstack dev has no local value for {a} of a {t}"
                ));
            }
        })
    }

    fn get_att(&self, arg: &Value) -> Result<Value, String> {
        let parts = arg
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| format!("Fn::GetAtt needs [resource, attribute], found {arg}"))?;
        let id = parts[0].as_str().unwrap_or_default();
        let attribute = self.resolve_string(&parts[1])?;
        Ok(Value::String(self.attribute(id, &attribute)?))
    }

    fn sub(&self, arg: &Value) -> Result<Value, String> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(items) if items.len() == 2 => (
                items[0].as_str().ok_or("Fn::Sub needs a string")?,
                items[1].as_object().cloned().unwrap_or_default(),
            ),
            other => return Err(format!("Fn::Sub needs a string, found {other}")),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub {text:?}: unclosed ${{"))?;
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.resolve_string(v)?
            } else if let Some((id, attribute)) = name.split_once('.') {
                self.attribute(id, attribute)?
            } else {
                self.resolve_string(&Value::Object(Map::from_iter([(
                    "Ref".to_string(),
                    Value::String(name.to_string()),
                )])))?
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }

    fn join(&self, arg: &Value) -> Result<Value, String> {
        let parts = arg
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or("Fn::Join needs [delimiter, list]")?;
        let delimiter = parts[0].as_str().unwrap_or_default();
        let list = match self.eval(&parts[1])? {
            Value::Array(items) => items,
            other => return Err(format!("Fn::Join needs a list, found {other}")),
        };
        let strings: Vec<String> = list
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        Ok(Value::String(strings.join(delimiter)))
    }

    fn select(&self, arg: &Value) -> Result<Value, String> {
        let parts = arg
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or("Fn::Select needs [index, list]")?;
        let index: usize = self
            .resolve_string(&parts[0])?
            .parse()
            .map_err(|_| "Fn::Select needs a number index".to_string())?;
        match self.eval(&parts[1])? {
            Value::Array(items) => items
                .get(index)
                .cloned()
                .ok_or_else(|| format!("Fn::Select index {index} is out of range")),
            other => Err(format!("Fn::Select needs a list, found {other}")),
        }
    }

    fn split(&self, arg: &Value) -> Result<Value, String> {
        let parts = arg
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or("Fn::Split needs [delimiter, string]")?;
        let delimiter = parts[0].as_str().unwrap_or_default();
        let text = self.resolve_string(&parts[1])?;
        Ok(Value::Array(
            text.split(delimiter)
                .map(|s| Value::String(s.into()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> RawTemplate {
        RawTemplate::from_value(json!({
            "Parameters": {"Bucket": {"Type": "String"}, "Level": {"Type": "String", "Default": "info"}},
            "Resources": {
                "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
                "Items": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            }
        }))
        .unwrap()
    }

    fn locals() -> Locals {
        Locals {
            stack: "chat".into(),
            api_id: "abc123".into(),
            stage: "dev".into(),
            gateway: "127.0.0.1:4000".into(),
            names: BTreeMap::from([("Items".into(), "chat-Items".into())]),
        }
    }

    #[test]
    fn references_become_local_names_and_arns() {
        let t = template();
        let l = locals();
        let r = Resolver::new(&t, &l);
        assert_eq!(r.resolve(&json!({"Ref": "Items"})).unwrap(), "chat-Items");
        assert_eq!(
            r.resolve(&json!({"Fn::GetAtt": ["Items", "Arn"]})).unwrap(),
            "arn:aws:dynamodb:us-east-1:000000000000:table/chat-Items"
        );
        assert_eq!(r.resolve(&json!({"Ref": "Level"})).unwrap(), "info");
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Ref": "Items"}}]}))
                .unwrap(),
            "chat-Items-us-east-1"
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Join": ["/", [{"Fn::GetAtt": ["Api", "ApiEndpoint"]}, "dev"]]}))
                .unwrap(),
            "ws://127.0.0.1:4000/dev"
        );
        assert_eq!(
            r.resolve(&json!({"K": {"Ref": "AWS::NoValue"}, "L": [1, {"Ref": "AWS::NoValue"}]}))
                .unwrap(),
            json!({"L": [1]})
        );
        assert!(
            r.resolve(&json!({"Fn::GetAtt": ["Fn", "SnapStartResponse"]}))
                .unwrap_err()
                .contains("no local value")
        );
    }

    #[test]
    fn the_callback_url_points_at_the_local_gateway() {
        let t = template();
        let l = locals();
        let r = Resolver::new(&t, &l);
        let url =
            json!({"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"});
        assert_eq!(r.resolve(&url).unwrap(), "http://127.0.0.1:4000/dev");
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": "x-${!Literal}"})).unwrap(),
            "x-${Literal}"
        );
    }
}
