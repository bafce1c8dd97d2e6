//! The one parsed form of an intrinsic function, read from a template's long
//! form (what [`super::RawTemplate`] holds whatever form the text used). check
//! and diff interpret intrinsics only through [`Intrinsic::parse`].

use serde_json::{Map, Value};

/// An intrinsic function: a mapping with one key, `Ref`, `Condition` or `Fn::…`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Intrinsic<'a> {
    /// `{"Ref": "Id"}`: a resource, parameter or pseudo parameter (`AWS::Region`).
    Ref(&'a str),
    /// `{"Fn::GetAtt": ["Id", "Attr"]}` (the attribute may itself be an expression).
    GetAtt {
        /// The resource's logical id.
        resource: &'a str,
        /// The attribute, when it is a plain name.
        attribute: Option<&'a str>,
    },
    /// `{"Fn::Sub": "text"}` or `{"Fn::Sub": ["text", {vars}]}`.
    Sub {
        /// The text with `${…}` variables.
        text: &'a str,
        /// Variables bound by the second form.
        vars: Option<&'a Map<String, Value>>,
    },
    /// `{"Fn::Join": ["sep", [parts]]}`.
    Join {
        /// The separator.
        separator: &'a str,
        /// The parts (a list, or one expression that yields a list).
        parts: &'a Value,
    },
    /// `{"Condition": "Name"}`.
    Condition(&'a str),
    /// Any other function, or one of the above written in a shape CloudFormation rejects.
    Other {
        /// The key (`Fn::If`, `Fn::Select`, …).
        name: &'a str,
        /// Its argument, as written.
        args: &'a Value,
    },
}

impl<'a> Intrinsic<'a> {
    /// The intrinsic `value` is, if it is one.
    pub fn parse(value: &'a Value) -> Option<Intrinsic<'a>> {
        Intrinsic::from_map(value.as_object()?)
    }

    /// The intrinsic a mapping is, if it is one (exactly one key, `Ref`, `Condition` or `Fn::…`).
    pub fn from_map(map: &'a Map<String, Value>) -> Option<Intrinsic<'a>> {
        if map.len() != 1 {
            return None;
        }
        let (name, args) = map.iter().next()?;
        let parsed = match (name.as_str(), args) {
            ("Ref", Value::String(id)) => Intrinsic::Ref(id),
            ("Condition", Value::String(c)) => Intrinsic::Condition(c),
            ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 && parts[0].is_string() => {
                Intrinsic::GetAtt {
                    resource: parts[0].as_str().unwrap_or_default(),
                    attribute: parts[1].as_str(),
                }
            }
            ("Fn::Sub", Value::String(text)) => Intrinsic::Sub { text, vars: None },
            ("Fn::Sub", Value::Array(items))
                if items.len() == 2 && items[0].is_string() && items[1].is_object() =>
            {
                Intrinsic::Sub {
                    text: items[0].as_str().unwrap_or_default(),
                    vars: items[1].as_object(),
                }
            }
            ("Fn::Join", Value::Array(items)) if items.len() == 2 && items[0].is_string() => {
                Intrinsic::Join {
                    separator: items[0].as_str().unwrap_or_default(),
                    parts: &items[1],
                }
            }
            (name, args) if name == "Ref" || name == "Condition" || name.starts_with("Fn::") => {
                Intrinsic::Other { name, args }
            }
            _ => return None,
        };
        Some(parsed)
    }

    /// The resource or parameter a `Ref` or `Fn::GetAtt` points at (pseudo parameters excluded).
    pub fn target(&self) -> Option<&'a str> {
        match *self {
            Intrinsic::Ref(id) if !id.starts_with("AWS::") => Some(id),
            Intrinsic::GetAtt { resource, .. } => Some(resource),
            _ => None,
        }
    }
}

/// The `${…}` variables of an `Fn::Sub` string (`${!Literal}` left out).
pub fn sub_variables(text: &str) -> Vec<&str> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            vars.push(var.trim());
        }
        rest = &after[end + 1..];
    }
    vars
}

/// The logical ids a value refers to: `Ref`, `Fn::GetAtt` and `${Id}` / `${Id.Attr}` inside `Fn::Sub`
/// (pseudo parameters such as `AWS::Region` and variables bound by the `Fn::Sub` left out).
pub fn references(value: &Value, out: &mut Vec<String>) {
    match Intrinsic::parse(value) {
        Some(Intrinsic::Ref(_) | Intrinsic::GetAtt { .. }) => {
            out.extend(
                Intrinsic::parse(value)
                    .and_then(|i| i.target())
                    .map(str::to_owned),
            );
        }
        Some(Intrinsic::Sub { text, vars }) => {
            for var in sub_variables(text) {
                let id = var.split('.').next().unwrap_or(var);
                if !id.starts_with("AWS::") && !vars.is_some_and(|v| v.contains_key(id)) {
                    out.push(id.to_owned());
                }
            }
            for v in vars.into_iter().flat_map(|v| v.values()) {
                references(v, out);
            }
        }
        _ => match value {
            Value::Object(m) => m.values().for_each(|v| references(v, out)),
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_form_parses_to_its_variant() {
        let cases = [
            (json!({"Ref": "Api"}), Some(Intrinsic::Ref("Api"))),
            (
                json!({"Fn::GetAtt": ["Fn", "Arn"]}),
                Some(Intrinsic::GetAtt {
                    resource: "Fn",
                    attribute: Some("Arn"),
                }),
            ),
            (
                json!({"Condition": "IsProd"}),
                Some(Intrinsic::Condition("IsProd")),
            ),
            (json!({"Ref": "A", "Other": 1}), None),
            (json!({"Name": "x"}), None),
            (json!("plain"), None),
        ];
        for (value, want) in cases {
            assert_eq!(Intrinsic::parse(&value), want, "{value}");
        }
        let sub = json!({"Fn::Sub": ["${A}/${B}", {"B": "x"}]});
        assert!(matches!(
            Intrinsic::parse(&sub),
            Some(Intrinsic::Sub {
                text: "${A}/${B}",
                vars: Some(_)
            })
        ));
        let join = json!({"Fn::Join": ["/", ["a", "b"]]});
        assert!(matches!(
            Intrinsic::parse(&join),
            Some(Intrinsic::Join { separator: "/", .. })
        ));
        let odd = json!({"Ref": 5});
        assert!(matches!(
            Intrinsic::parse(&odd),
            Some(Intrinsic::Other { name: "Ref", .. })
        ));
        let other = json!({"Fn::If": ["C", 1, 2]});
        assert!(matches!(
            Intrinsic::parse(&other),
            Some(Intrinsic::Other { name: "Fn::If", .. })
        ));
    }

    #[test]
    fn short_long_and_dotted_forms_read_as_one_intrinsic() {
        let yaml = "Resources:\n  P:\n    Type: AWS::Lambda::Permission\n    Properties:\n      A: !GetAtt Fn.Arn\n      B: {\"Fn::GetAtt\": Fn.Arn}\n      C: {\"Fn::GetAtt\": [Fn, Arn]}\n      D: !Sub \"${Api}/dev\"\n";
        let t = super::super::RawTemplate::parse(yaml).unwrap();
        let props = &t.resources["P"].properties;
        let want = Intrinsic::GetAtt {
            resource: "Fn",
            attribute: Some("Arn"),
        };
        for key in ["A", "B", "C"] {
            assert_eq!(Intrinsic::parse(&props[key]), Some(want), "{key}");
        }
        assert_eq!(
            Intrinsic::parse(&props["D"]),
            Some(Intrinsic::Sub {
                text: "${Api}/dev",
                vars: None
            })
        );
    }

    #[test]
    fn references_skip_pseudo_parameters_and_bound_variables() {
        let v = json!({"A": {"Ref": "Api"}, "B": {"Ref": "AWS::Region"},
            "C": {"Fn::Sub": ["${Fn.Arn}/${Bound}/${AWS::Partition}/${!Literal}", {"Bound": {"Ref": "Table"}}]},
            "D": [{"Fn::GetAtt": ["Role", "Arn"]}]});
        let mut out = Vec::new();
        references(&v, &mut out);
        out.sort();
        assert_eq!(out, ["Api", "Fn", "Role", "Table"]);
    }
}
