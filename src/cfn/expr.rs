//! CloudFormation values: literals and intrinsic functions, always serialized in
//! long form (`{"Fn::GetAtt": [id, attr]}`), which every tool and scanner reads.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// A property value that may be computed by CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expr {
    /// A literal string.
    Str(String),
    /// `Ref`: a resource's primary id, a parameter, or a pseudo parameter (`AWS::Region`).
    Ref(String),
    /// `Fn::GetAtt`: an attribute of a resource.
    GetAtt(String, &'static str),
    /// `Fn::Sub`: a string with `${Name}` / `${Name.Attr}` substitutions.
    Sub(String),
    /// `Fn::Join`: parts joined with a separator.
    Join(&'static str, Vec<Expr>),
}

impl Expr {
    /// A literal.
    pub fn str(s: impl Into<String>) -> Self {
        Expr::Str(s.into())
    }

    /// `Ref` to a logical id or parameter.
    pub fn reference(id: impl Into<String>) -> Self {
        Expr::Ref(id.into())
    }

    /// `Fn::GetAtt` of `id`'s `attr`.
    pub fn get_att(id: impl Into<String>, attr: &'static str) -> Self {
        Expr::GetAtt(id.into(), attr)
    }

    /// `Fn::Sub` of a template string.
    pub fn sub(s: impl Into<String>) -> Self {
        Expr::Sub(s.into())
    }

    /// `Fn::Join` of `parts` with `separator`.
    pub fn join(separator: &'static str, parts: Vec<Expr>) -> Self {
        Expr::Join(separator, parts)
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Str(s.to_string())
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Str(s)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(s) => serializer.serialize_str(s),
            Expr::Ref(id) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("Ref", id)?;
                map.end()
            }
            Expr::GetAtt(id, attr) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("Fn::GetAtt", &[id.as_str(), attr])?;
                map.end()
            }
            Expr::Sub(s) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("Fn::Sub", s)?;
                map.end()
            }
            Expr::Join(sep, parts) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("Fn::Join", &(sep, parts))?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_long_form() {
        let value = serde_json::to_value(vec![
            Expr::reference("Api"),
            Expr::get_att("Fn", "Arn"),
            Expr::sub("${Api}/x"),
            Expr::join(":", vec!["a".into(), Expr::reference("AWS::Region")]),
        ])
        .unwrap();
        assert_eq!(
            value,
            json!([
                {"Ref": "Api"},
                {"Fn::GetAtt": ["Fn", "Arn"]},
                {"Fn::Sub": "${Api}/x"},
                {"Fn::Join": [":", ["a", {"Ref": "AWS::Region"}]]}
            ])
        );
    }
}
