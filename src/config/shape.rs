//! The shape of a stack file checked against its JSON Schema, every problem at once.
//!
//! serde stops at the first field it cannot read, so a file with four typos would take four
//! runs. This walk over the positioned tree ([`super::tree`]) reports, in one pass, what serde
//! would refuse: duplicate keys, YAML tags, unknown fields (with the nearest known one), values
//! of the wrong type, unknown enum values and missing required fields. It reads only the
//! schema keywords that mirror serde (`type`, `properties`, `additionalProperties`, `required`,
//! `items`, string `enum`/`const`, `anyOf`/`oneOf`, `$ref`); value rules such as ranges and
//! patterns are the model's ([`crate::model::build`]), with messages of their own.

use super::locate::{Position, child, item};
use super::tree::{Kind, Node};
use serde_json::Value;

/// One shape problem, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Where it is.
    pub at: Position,
    /// The path of the node (`routes[2].function`).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What was expected instead.
    pub expected: String,
}

/// Every shape problem of `doc` against `schema` (a JSON Schema with `$ref`s into itself).
pub fn check(schema: &Value, doc: &Node) -> Vec<Found> {
    let mut out = Vec::new();
    Walk { root: schema }.node(schema, doc, "", &mut out);
    out
}

struct Walk<'s> {
    root: &'s Value,
}

/// What a node is, in serde's words ("invalid type: string \"lots\"").
fn what(node: &Node) -> String {
    match &node.kind {
        Kind::Map(_) => "map".into(),
        Kind::Seq(_) => "sequence".into(),
        Kind::Scalar { .. } if node.is_null() => "unit value".into(),
        Kind::Scalar { text, plain } => {
            let shown = format!("{text:?}");
            if !plain {
                format!("string {shown}")
            } else if as_bool(text).is_some() {
                format!("boolean `{text}`")
            } else if as_integer(text).is_some() {
                format!("integer `{text}`")
            } else if as_number(text) {
                format!("floating point `{text}`")
            } else {
                format!("string {shown}")
            }
        }
    }
}

fn as_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn as_integer(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

fn as_number(text: &str) -> bool {
    as_integer(text).is_some()
        || matches!(
            text,
            ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        )
        || (text.parse::<f64>().is_ok() && text.bytes().any(|b| b.is_ascii_digit()))
}

/// Whether `node` is of the JSON Schema type `ty` the way serde_yaml reads it.
fn is_type(node: &Node, ty: &str) -> bool {
    match (&node.kind, ty) {
        (Kind::Map(_), "object") | (Kind::Seq(_), "array") => true,
        (Kind::Scalar { .. }, "null") => node.is_null(),
        // serde_yaml reads any scalar as text where text is wanted.
        (Kind::Scalar { .. }, "string") => true,
        (Kind::Scalar { text, plain: true }, "boolean") => as_bool(text).is_some(),
        (Kind::Scalar { text, plain: true }, "integer") => as_integer(text).is_some(),
        (Kind::Scalar { text, plain: true }, "number") => as_number(text),
        _ => false,
    }
}

fn describe(ty: &str) -> &'static str {
    match ty {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "`true` or `false`",
        "null" => "nothing (null)",
        _ => "a value",
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn branches(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

impl<'s> Walk<'s> {
    /// `schema` with its `$ref` followed (a JSON pointer into the root), and a lone `allOf`
    /// (how draft-07 gives a `$ref` a description) unwrapped.
    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..32 {
            if let Some(Value::String(r)) = schema.get("$ref") {
                // `#/definitions/Name` (every reference schemars writes) is looked up directly: a
                // general JSON pointer allocates to unescape each segment, once per node walked.
                let direct = r
                    .strip_prefix("#/definitions/")
                    .filter(|name| !name.contains(['/', '~']))
                    .and_then(|name| self.root.get("definitions")?.get(name));
                match direct.or_else(|| r.strip_prefix('#').and_then(|p| self.root.pointer(p))) {
                    Some(target) => schema = target,
                    None => break,
                }
            } else if let Some(Value::Array(all)) = schema.get("allOf")
                && all.len() == 1
            {
                schema = &all[0];
            } else {
                break;
            }
        }
        schema
    }

    /// The string values a schema allows, when it is an enumeration of strings.
    fn variants(&self, schema: &'s Value) -> Option<Vec<&'s str>> {
        let schema = self.resolve(schema);
        if let Some(Value::String(c)) = schema.get("const") {
            return Some(vec![c.as_str()]);
        }
        if let Some(Value::Array(values)) = schema.get("enum") {
            return values.iter().map(Value::as_str).collect();
        }
        let mut all = Vec::new();
        for b in branches(schema)? {
            all.extend(self.variants(b)?);
        }
        Some(all)
    }

    /// Whether the node's kind fits the schema at all (its type, or one branch's).
    fn fits(&self, schema: &'s Value, node: &Node) -> bool {
        let schema = self.resolve(schema);
        let ts = types(schema);
        if !ts.is_empty() {
            return ts.iter().any(|t| is_type(node, t));
        }
        match branches(schema) {
            Some(bs) => bs.iter().any(|b| self.fits(b, node)),
            None => true,
        }
    }

    /// What the schema expects, in words.
    fn expectation(&self, schema: &'s Value) -> String {
        let schema = self.resolve(schema);
        if let Some(vs) = self.variants(schema) {
            return one_of(&vs);
        }
        let mut words: Vec<String> = types(schema)
            .into_iter()
            .filter(|t| *t != "null")
            .map(|t| describe(t).to_string())
            .collect();
        if words.is_empty()
            && let Some(bs) = branches(schema)
        {
            for b in bs {
                let b = self.resolve(b);
                if types(b) == ["null"] {
                    continue;
                }
                let w = self.expectation(b);
                if !words.contains(&w) {
                    words.push(w);
                }
            }
        }
        if words.is_empty() {
            "a value".into()
        } else {
            words.join(" or ")
        }
    }

    fn node(&self, schema: &'s Value, node: &Node, path: &str, out: &mut Vec<Found>) {
        if let Some(tag) = &node.tag {
            out.push(Found {
                at: node.at,
                path: path.into(),
                message: format!("YAML tag `{tag}` is not allowed in a stack file"),
                expected: "a plain value without a tag (tags such as CloudFormation's `!Ref` belong in templates; quote the text if it starts with `!`)".into(),
            });
            return;
        }
        let schema = self.resolve(schema);
        if let Some(vs) = self.variants(schema)
            && matches!(node.kind, Kind::Scalar { .. })
            && !node.is_null()
        {
            let Kind::Scalar { text, .. } = &node.kind else {
                unreachable!()
            };
            if !vs.contains(&text.as_str()) {
                out.push(Found {
                    at: node.at,
                    path: path.into(),
                    message: format!("unknown variant `{text}`"),
                    expected: one_of(&vs),
                });
            }
            return;
        }
        if let Some(bs) = branches(schema) {
            let mut best: Option<Vec<Found>> = None;
            for b in bs.iter().filter(|b| self.fits(b, node)) {
                let mut found = Vec::new();
                self.node(b, node, path, &mut found);
                if found.is_empty() {
                    return;
                }
                best.get_or_insert(found);
            }
            match best {
                Some(found) => out.extend(found),
                None => out.push(self.wrong_type(schema, node, path)),
            }
            return;
        }
        let ts = types(schema);
        if !ts.is_empty() && !ts.iter().any(|t| is_type(node, t)) {
            out.push(self.wrong_type(schema, node, path));
            return;
        }
        match &node.kind {
            Kind::Scalar { text, .. } => {
                let unsigned = schema
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.starts_with("uint"));
                if unsigned && as_integer(text).is_some_and(|n| n < 0) {
                    out.push(Found {
                        at: node.at,
                        path: path.into(),
                        message: format!("invalid value: integer `{text}`"),
                        expected: "a whole number, 0 or more".into(),
                    });
                }
            }
            Kind::Seq(items) => {
                if let Some(each) = schema.get("items").filter(|s| s.is_object()) {
                    for (i, n) in items.iter().enumerate() {
                        self.node(each, n, &item(path, i), out);
                    }
                }
            }
            Kind::Map(entries) => self.map(schema, node, entries, path, out),
        }
    }

    fn map(
        &self,
        schema: &'s Value,
        node: &Node,
        entries: &[(Node, Node)],
        path: &str,
        out: &mut Vec<Found>,
    ) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        // Keys seen, with where: a hash map, so a mapping of 100,000 entries stays linear.
        let mut seen: std::collections::HashMap<&str, Position> = std::collections::HashMap::new();
        for (key, value) in entries {
            let Kind::Scalar { text: name, .. } = &key.kind else {
                continue;
            };
            let at = child(path, name);
            if let Some(tag) = &key.tag {
                out.push(Found {
                    at: key.at,
                    path: at.clone(),
                    message: format!("YAML tag `{tag}` is not allowed in a stack file"),
                    expected: "a plain key without a tag".into(),
                });
            }
            if let Some(first) = seen.get(name.as_str()) {
                out.push(Found {
                    at: key.at,
                    path: at,
                    message: format!(
                        "duplicate key `{name}` (first at line {}, column {})",
                        first.line, first.column
                    ),
                    expected: format!(
                        "`{name}` once in this mapping (a later entry would silently replace the first)"
                    ),
                });
                continue;
            }
            seen.insert(name, key.at);
            match (properties.and_then(|p| p.get(name.as_str())), additional) {
                (Some(sub), _) => self.node(sub, value, &at, out),
                (None, Some(Value::Bool(false))) => {
                    let known: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let hint = nearest(name, &known)
                        .map(|n| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default();
                    out.push(Found {
                        at: key.at,
                        path: at,
                        message: format!("unknown field `{name}`{hint}"),
                        expected: one_of(&known),
                    });
                }
                (None, Some(sub)) if sub.is_object() => self.node(sub, value, &at, out),
                _ => {}
            }
        }
        if let Some(Value::Array(required)) = schema.get("required") {
            for field in required.iter().filter_map(Value::as_str) {
                if !seen.contains_key(field) {
                    out.push(Found {
                        at: node.at,
                        path: path.into(),
                        message: format!("missing field `{field}`"),
                        expected: format!(
                            "a `{field}` entry in this mapping (`sockstack schema` shows the whole shape)"
                        ),
                    });
                }
            }
        }
    }

    fn wrong_type(&self, schema: &'s Value, node: &Node, path: &str) -> Found {
        Found {
            at: node.at,
            path: path.into(),
            message: format!("invalid type: {}", what(node)),
            expected: self.expectation(schema),
        }
    }
}

fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "no field here".into(),
        [one] => one.clone(),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

/// The known name closest to `name`, when it is close enough to be a typo.
fn nearest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= (k.chars().count() / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<String> {
        let schema = super::super::schema::value();
        let doc = super::super::tree::parse(text).unwrap();
        check(schema, &doc)
            .into_iter()
            .map(|f| format!("{}:{} {}: {}", f.at.line, f.at.column, f.path, f.message))
            .collect()
    }

    const OK: &str = "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n  send: {memory: 512, grants: {connections: [read, send], tables: {a: readwrite}}, environment: {A: 1, B: {table: a}}}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  a: {key: {id: S}, indexes: {byX: {key: {x: N}, projection: [y]}}}\nalarms: {email: {parameter: /a/b}}\nconnections: {indexBy: [userId, {key: k, index: ByK}]}\n";

    #[test]
    fn a_well_formed_file_has_no_shape_problems() {
        assert_eq!(shape(OK), Vec::<String>::new());
    }

    #[test]
    fn every_shape_problem_is_found_in_one_pass() {
        let text = "version: 2\nstak: t\nstage: {name: dev, accessLogs: sometimes}\nfunctions:\n  defaults: {architecture: arm65}\n  connect: {}\nroutes:\n  - {function: connect}\ntags: {a: x, a: y}\n";
        assert_eq!(
            shape(text),
            [
                "2:1 stak: unknown field `stak` (did you mean `stack`?)",
                "3:32 stage.accessLogs: invalid type: string \"sometimes\"",
                "5:28 functions.defaults.architecture: unknown variant `arm65`",
                "8:5 routes[0]: missing field `key`",
                "9:14 tags.a: duplicate key `a` (first at line 9, column 8)",
                "1:1 : missing field `stack`",
            ]
        );
    }

    #[test]
    fn problems_below_a_described_reference_are_found() {
        // `throttling` is a `$ref` with a description: draft-07 wraps it in a lone `allOf`.
        let text = OK.replace(
            "stage: {name: dev}",
            "stage: {name: dev, throttling: {burstLimit: lots}}",
        );
        assert_eq!(
            shape(&text),
            ["3:45 stage.throttling.burstLimit: invalid type: string \"lots\""]
        );
    }

    #[test]
    fn tags_are_refused_wherever_they_are() {
        let found = shape(
            &OK.replace("stack: t", "stack: !Ref t")
                .replace("{id: S}", "{id: !!str S}"),
        );
        assert_eq!(
            found,
            [
                "2:8 stack: YAML tag `!Ref` is not allowed in a stack file",
                "10:17 tables.a.key.id: YAML tag `!!str` is not allowed in a stack file",
            ]
        );
    }
}
