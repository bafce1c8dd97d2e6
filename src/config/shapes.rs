//! Stack-file values with more than one spelling (`read` or `[read, send]`, a
//! literal or a reference), read with hand-written visitors so that serde_yaml
//! keeps reporting the exact line and column of a bad value (serde's
//! `untagged` and `flatten` buffer the input and lose both the position and
//! the reason).

use super::stack::AttributeType;
use super::stack::{FunctionConfig, FunctionDefaults, NamedIndex, ProjectionKind};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// One value or a list of them: `read` or `[read, send]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one value or a list of values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let d: de::value::StrDeserializer<E> = v.into_deserializer();
                Ok(OneOrMany(vec![T::deserialize(d)?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "oneOf": [one, {"type": "array", "items": one, "minItems": 1, "uniqueItems": true}]
        })
    }
}

/// A key schema: attribute name → type, in file order (partition key, then sort key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap(pub Vec<(String, AttributeType)>);

impl<'de> Deserialize<'de> for KeyMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of attribute name to type (S, N or B), e.g. {userId: S}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, AttributeType)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    let kind = map.next_value()?;
                    if out.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate attribute `{name}`"
                        )));
                    }
                    out.push((name, kind));
                }
                Ok(KeyMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for KeyMap {
    fn schema_name() -> Cow<'static, str> {
        "KeyMap".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kind = generator.subschema_for::<AttributeType>();
        json_schema!({
            "description": "Key attributes in order: the partition key, then (optionally) the sort key.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 2,
            "additionalProperties": kind,
            "propertyNames": {"minLength": 1, "maxLength": 255}
        })
    }
}

/// An environment variable's value: a literal, or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// A literal (numbers and booleans are written as text).
    Literal(String),
    /// `{table: T}`, `{callbackUrl: true}` or `{parameter: P}`.
    Ref(EnvRef),
}

/// A reference in an environment variable (exactly one field is set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvRef {
    /// The name of this stack file's table.
    #[serde(default)]
    pub table: Option<String>,
    /// The `@connections` callback URL.
    #[serde(default)]
    pub callback_url: Option<bool>,
    /// An SSM parameter's name (the function is granted read on it).
    #[serde(default)]
    pub parameter: Option<String>,
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a literal, or one of {table: T}, {callbackUrl: true}, {parameter: P}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(EnvValue::Literal(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(EnvValue::Literal(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(EnvValue::Literal(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(EnvValue::Literal(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(EnvValue::Literal(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                EnvRef::deserialize(de::value::MapAccessDeserializer::new(map)).map(EnvValue::Ref)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for EnvValue {
    fn schema_name() -> Cow<'static, str> {
        "EnvValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A literal, or a reference: {table: T} (its name), {callbackUrl: true}, {parameter: P} (its name; read is granted).",
            "oneOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
                 "properties": {
                    "table": {"type": "string"},
                    "callbackUrl": {"const": true},
                    "parameter": {"type": "string"}
                 }}
            ]
        })
    }
}

/// One indexed context key: `roomId` (index `ByRoomId`) or `{key: roomId, index: ByRoom}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexBy {
    /// The key alone; the index is named by `contract::registry::index_name`.
    Key(String),
    /// The key and an explicit index name.
    Named(NamedIndex),
}

impl<'de> Deserialize<'de> for IndexBy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IndexBy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a context key, or {key: K, index: IndexName}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IndexBy::Key(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                NamedIndex::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(IndexBy::Named)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for IndexBy {
    fn schema_name() -> Cow<'static, str> {
        "IndexBy".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let named = generator.subschema_for::<NamedIndex>();
        json_schema!({
            "oneOf": [{"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}, named]
        })
    }
}

/// What an index copies: `all`, `keys`, or the keys and a list of attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionConfig {
    /// `all` or `keys`.
    Kind(ProjectionKind),
    /// The keys and these attributes.
    Include(Vec<String>),
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        ProjectionConfig::Kind(ProjectionKind::All)
    }
}

impl<'de> Deserialize<'de> for ProjectionConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProjectionConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`all`, `keys`, or a list of attribute names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let d: de::value::StrDeserializer<E> = v.into_deserializer();
                ProjectionKind::deserialize(d).map(ProjectionConfig::Kind)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(ProjectionConfig::Include(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ProjectionConfig {
    fn schema_name() -> Cow<'static, str> {
        "Projection".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kind = generator.subschema_for::<ProjectionKind>();
        json_schema!({
            "description": "`all` (default), `keys`, or the attributes to copy besides the keys.",
            "oneOf": [kind, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100, "uniqueItems": true}]
        })
    }
}

/// `functions:`: `defaults` and one entry per function, by name.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    /// Settings every function shares.
    pub defaults: FunctionDefaults,
    /// The functions, by name.
    pub functions: BTreeMap<String, FunctionConfig>,
}

/// The key of `functions:` that holds the shared settings.
pub const DEFAULTS: &str = "defaults";

impl<'de> Deserialize<'de> for Functions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Functions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of function name to its settings, and optional `defaults`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Functions::default();
                let mut seen_defaults = false;
                while let Some(name) = map.next_key::<String>()? {
                    if name == DEFAULTS {
                        if seen_defaults {
                            return Err(de::Error::custom("duplicate field `defaults`"));
                        }
                        seen_defaults = true;
                        out.defaults = map.next_value()?;
                    } else {
                        // `null` (`connect:` with nothing after it) is a function with every default.
                        let config: Option<FunctionConfig> = map.next_value()?;
                        if out
                            .functions
                            .insert(name.clone(), config.unwrap_or_default())
                            .is_some()
                        {
                            return Err(de::Error::custom(format_args!(
                                "duplicate function `{name}`"
                            )));
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for Functions {
    fn schema_name() -> Cow<'static, str> {
        "Functions".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let defaults = generator.subschema_for::<FunctionDefaults>();
        let function = generator.subschema_for::<FunctionConfig>();
        json_schema!({
            "description": "One entry per Lambda function (the key is its name), and `defaults` every function shares.",
            "type": "object",
            "properties": {"defaults": defaults},
            "additionalProperties": {"anyOf": [function, {"type": "null"}]},
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]*$", "maxLength": 64},
            "minProperties": 1
        })
    }
}
