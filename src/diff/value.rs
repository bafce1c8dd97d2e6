//! Comparing JSON values: property paths, list items matched by identity, similarity, and a short rendering
//! of values (intrinsics in their `!Ref`/`!GetAtt`/`!Sub` short form) for people.

use crate::raw::Intrinsic;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// One step of a property path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A list item found by position.
    Index(usize),
    /// A list item found by identity, e.g. `Tags[Key=owner]` or `Statement[Sid=ReadTable]`.
    Item { key: String, value: String },
}

/// A path into a resource, e.g. `KeySchema[0].AttributeName` or `Policies[PolicyName=table].PolicyDocument`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PropPath(pub Vec<Seg>);

impl PropPath {
    /// A path of one key.
    pub fn key(key: &str) -> PropPath {
        PropPath(vec![Seg::Key(key.to_owned())])
    }

    /// This path, one step further.
    pub fn child(&self, seg: Seg) -> PropPath {
        let mut segs = self.0.clone();
        segs.push(seg);
        PropPath(segs)
    }

    /// The mapping keys along the path (list steps left out): what create-only paths are matched against.
    pub fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The first key, if the path starts with one.
    pub fn first_key(&self) -> Option<&str> {
        match self.0.first() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for PropPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Item { key, value } => write!(f, "[{key}={value}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for PropPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What happened at one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Delta {
    /// Present only in the new value.
    Added { new: Value },
    /// Present only in the old value.
    Removed { old: Value },
    /// Present in both, different.
    Modified { old: Value, new: Value },
}

impl Delta {
    /// The marker people read: `+`, `-` or `~`.
    pub fn marker(&self) -> &'static str {
        match self {
            Delta::Added { .. } => "+",
            Delta::Removed { .. } => "-",
            Delta::Modified { .. } => "~",
        }
    }
}

/// Keys that identify an item in a list of mappings, tried in order. A key is used only when every item on both
/// sides has it as a string and no two items on one side share a value.
pub const IDENTITY_KEYS: &[&str] = &[
    "Sid",
    "Key",
    "AttributeName",
    "IndexName",
    "PolicyName",
    "RouteKey",
    "Name",
    "Id",
];

/// Items of a list without identity are paired when at least this share of their leaves is equal.
pub const ITEM_SIMILARITY: f64 = 0.5;

/// Whether a mapping is an intrinsic function (`Ref`, `Condition` or `Fn::…`, alone).
pub fn is_intrinsic(map: &Map<String, Value>) -> bool {
    Intrinsic::from_map(map).is_some()
}

fn is_atomic(value: &Value) -> bool {
    match value {
        Value::Object(m) => is_intrinsic(m),
        Value::Array(_) => false,
        _ => true,
    }
}

/// Every difference between `old` and `new` below `path`, appended to `out` in path order.
pub fn diff_values(path: &PropPath, old: &Value, new: &Value, out: &mut Vec<(PropPath, Delta)>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if !is_intrinsic(a) && !is_intrinsic(b) => {
            diff_maps(path, a, b, out);
        }
        (Value::Array(a), Value::Array(b)) => diff_lists(path, a, b, out),
        _ => out.push((
            path.clone(),
            Delta::Modified {
                old: old.clone(),
                new: new.clone(),
            },
        )),
    }
}

/// [`diff_values`] for two mappings, keys in sorted order.
pub fn diff_maps(
    path: &PropPath,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    out: &mut Vec<(PropPath, Delta)>,
) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (x, y) = (a.get(key), b.get(key));
        if x == y {
            continue;
        }
        let p = path.child(Seg::Key(key.clone()));
        match (x, y) {
            (Some(x), Some(y)) => diff_values(&p, x, y, out),
            (Some(x), None) => out.push((p, Delta::Removed { old: x.clone() })),
            (None, Some(y)) => out.push((p, Delta::Added { new: y.clone() })),
            (None, None) => {}
        }
    }
}

fn diff_lists(path: &PropPath, a: &[Value], b: &[Value], out: &mut Vec<(PropPath, Delta)>) {
    // Lists of plain values (and intrinsics) are shown whole: `[a, b] → [a, b, c]`.
    if a.iter().chain(b).any(is_atomic) {
        out.push((
            path.clone(),
            Delta::Modified {
                old: Value::Array(a.to_vec()),
                new: Value::Array(b.to_vec()),
            },
        ));
        return;
    }
    for (i, j, seg) in match_items(a, b) {
        match (i, j) {
            (Some(i), Some(j)) => diff_values(&path.child(seg), &a[i], &b[j], out),
            (Some(i), None) => out.push((path.child(seg), Delta::Removed { old: a[i].clone() })),
            (None, Some(j)) => out.push((path.child(seg), Delta::Added { new: b[j].clone() })),
            (None, None) => {}
        }
    }
}

/// Pairs the items of two lists of mappings: by an identity key (see [`IDENTITY_KEYS`]) when they have one,
/// else equal items first, then the most similar pairs at or above [`ITEM_SIMILARITY`]. Unpaired items are added
/// or removed. Returned in the order of the new list, removals after.
pub fn match_items(a: &[Value], b: &[Value]) -> Vec<(Option<usize>, Option<usize>, Seg)> {
    if let Some(key) = identity_key(a, b) {
        let id = |v: &Value| v[key].as_str().unwrap_or_default().to_owned();
        let seg = |v: &Value| Seg::Item {
            key: key.to_owned(),
            value: id(v),
        };
        let mut pairs = Vec::new();
        for (j, item) in b.iter().enumerate() {
            let i = a.iter().position(|x| id(x) == id(item));
            pairs.push((i, Some(j), seg(item)));
        }
        for (i, item) in a.iter().enumerate() {
            if !b.iter().any(|y| id(y) == id(item)) {
                pairs.push((Some(i), None, seg(item)));
            }
        }
        return pairs;
    }
    let mut old_for_new: Vec<Option<usize>> = vec![None; b.len()];
    let mut used = vec![false; a.len()];
    for (j, item) in b.iter().enumerate() {
        if let Some(i) = (0..a.len()).find(|&i| !used[i] && a[i] == *item) {
            used[i] = true;
            old_for_new[j] = Some(i);
        }
    }
    let mut candidates = Vec::new();
    for (j, item) in b.iter().enumerate() {
        if old_for_new[j].is_some() {
            continue;
        }
        for (i, old) in a.iter().enumerate() {
            if !used[i] {
                let score = similarity(old, item);
                if score >= ITEM_SIMILARITY {
                    candidates.push((score, i, j));
                }
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for (_, i, j) in candidates {
        if !used[i] && old_for_new[j].is_none() {
            used[i] = true;
            old_for_new[j] = Some(i);
        }
    }
    let mut pairs: Vec<_> = old_for_new
        .iter()
        .enumerate()
        .map(|(j, i)| (*i, Some(j), Seg::Index(j)))
        .collect();
    pairs.extend(
        (0..a.len())
            .filter(|&i| !used[i])
            .map(|i| (Some(i), None, Seg::Index(i))),
    );
    pairs
}

fn identity_key(a: &[Value], b: &[Value]) -> Option<&'static str> {
    IDENTITY_KEYS.iter().copied().find(|key| {
        [a, b].iter().all(|side| {
            let mut seen = std::collections::HashSet::new();
            side.iter().all(|v| match v.get(*key) {
                Some(Value::String(s)) => seen.insert(s.as_str()),
                _ => false,
            })
        })
    })
}

/// Leaves of a value by path (intrinsics are leaves; so are empty lists and mappings).
pub fn leaves(value: &Value) -> BTreeMap<String, &Value> {
    fn walk<'a>(prefix: &mut String, value: &'a Value, out: &mut BTreeMap<String, &'a Value>) {
        match value {
            Value::Object(m) if !m.is_empty() && !is_intrinsic(m) => {
                for (k, v) in m {
                    let len = prefix.len();
                    prefix.push('.');
                    prefix.push_str(k);
                    walk(prefix, v, out);
                    prefix.truncate(len);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    let len = prefix.len();
                    prefix.push_str(&format!("[{i}]"));
                    walk(prefix, v, out);
                    prefix.truncate(len);
                }
            }
            _ => {
                out.insert(prefix.clone(), value);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&mut String::new(), value, &mut out);
    out
}

/// The share of leaf paths, over both values, whose values are equal: 1.0 for equal values, 0.0 for nothing in
/// common.
pub fn similarity(a: &Value, b: &Value) -> f64 {
    if a == b {
        return 1.0;
    }
    let (la, lb) = (leaves(a), leaves(b));
    let mut total = la.len();
    let mut same = 0;
    for (path, v) in &lb {
        match la.get(path) {
            Some(w) if w == v => same += 1,
            Some(_) => {}
            None => total += 1,
        }
    }
    if total == 0 {
        1.0
    } else {
        same as f64 / total as f64
    }
}

pub use crate::raw::intrinsic::{references, sub_variables};

/// A copy of `value` where every reference to one of `ids` reads `*` instead (so that two resources that differ
/// only in which renamed resource they point at compare equal).
pub fn mask_references(value: &Value, ids: &dyn Fn(&str) -> bool) -> Value {
    let masked = |v: &Value| mask_references(v, ids);
    match (Intrinsic::parse(value), value) {
        (Some(Intrinsic::Ref(id)), _) if ids(id) => serde_json::json!({"Ref": "*"}),
        (Some(Intrinsic::GetAtt { resource, .. }), Value::Object(m)) if ids(resource) => {
            let mut parts = m["Fn::GetAtt"].as_array().cloned().unwrap_or_default();
            parts[0] = Value::from("*");
            serde_json::json!({ "Fn::GetAtt": parts })
        }
        (Some(Intrinsic::Sub { text, vars: None }), _) => {
            serde_json::json!({ "Fn::Sub": mask_sub(text, ids) })
        }
        (
            Some(Intrinsic::Sub {
                text,
                vars: Some(vars),
            }),
            _,
        ) => {
            let vars: Map<String, Value> =
                vars.iter().map(|(k, v)| (k.clone(), masked(v))).collect();
            serde_json::json!({ "Fn::Sub": [mask_sub(text, ids), vars] })
        }
        (_, Value::Object(m)) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), masked(v))).collect())
        }
        (_, Value::Array(items)) => Value::Array(items.iter().map(masked).collect()),
        (_, other) => other.clone(),
    }
}

fn mask_sub(text: &str, ids: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start + 2]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            rest = after;
            break;
        };
        let var = &after[..end];
        let id = var.split('.').next().unwrap_or(var);
        if ids(id) {
            out.push('*');
            out.push_str(&var[id.len()..]);
        } else {
            out.push_str(var);
        }
        out.push('}');
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A value as people read it in a template: intrinsics in short form (`!Ref X`, `!GetAtt X.Arn`,
/// `!Sub "…"`), mappings and lists in flow style, strings quoted.
pub fn show(value: &Value) -> String {
    let mut out = String::new();
    write_short(value, &mut out);
    out
}

/// [`show`], cut to about `max` characters with `…`.
pub fn show_short(value: &Value, max: usize) -> String {
    let s = show(value);
    if s.chars().count() <= max {
        s
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// `old → new` for people: both values in short form; when either is longer than `max`, the common start and
/// end are elided (`…`) so the part that differs stays visible.
pub fn show_pair(old: &Value, new: &Value, max: usize) -> String {
    let (a, b) = (show(old), show(new));
    let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if ca.len() <= max && cb.len() <= max {
        return format!("{a} → {b}");
    }
    let prefix = ca.iter().zip(&cb).take_while(|(x, y)| x == y).count();
    let suffix = ca[prefix..]
        .iter()
        .rev()
        .zip(cb[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |c: &[char]| -> String {
        let differing = c.len() - prefix - suffix;
        let context = (max.saturating_sub(differing) / 2).min(24);
        let mut start = prefix.saturating_sub(context);
        // Start at a whole token: after the next space inside the context.
        if start > 0
            && let Some(space) = c[start..prefix].iter().position(|ch| *ch == ' ')
        {
            start += space + 1;
        }
        let end = (c.len() - suffix + context.min(suffix)).min(c.len());
        let mut middle: String = c[start..end].iter().collect();
        if middle.chars().count() > max {
            middle = middle.chars().take(max.saturating_sub(1)).collect();
            middle.push('…');
            return if start > 0 {
                format!("…{middle}")
            } else {
                middle
            };
        }
        format!(
            "{}{middle}{}",
            if start > 0 { "…" } else { "" },
            if end < c.len() { "…" } else { "" }
        )
    };
    format!("{} → {}", cut(&ca), cut(&cb))
}

fn write_short(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_short(v, out);
            }
            out.push(']');
        }
        Value::Object(m) if let Some(intrinsic) = Intrinsic::from_map(m) => match intrinsic {
            Intrinsic::Ref(id) => {
                out.push_str("!Ref ");
                out.push_str(id);
            }
            Intrinsic::GetAtt {
                resource,
                attribute: Some(attribute),
            } => {
                out.push_str("!GetAtt ");
                out.push_str(resource);
                out.push('.');
                out.push_str(attribute);
            }
            Intrinsic::Condition(c) => {
                out.push_str("!Condition ");
                out.push_str(c);
            }
            _ => {
                let (k, v) = m.iter().next().expect("one entry");
                out.push('!');
                out.push_str(k.trim_start_matches("Fn::"));
                out.push(' ');
                write_short(v, out);
            }
        },
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                write_short(v, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changes(old: Value, new: Value) -> Vec<String> {
        let mut out = Vec::new();
        diff_values(&PropPath::default(), &old, &new, &mut out);
        out.iter()
            .map(|(p, d)| match d {
                Delta::Added { new } => format!("+ {p}: {}", show(new)),
                Delta::Removed { old } => format!("- {p}: {}", show(old)),
                Delta::Modified { old, new } => format!("~ {p}: {} → {}", show(old), show(new)),
            })
            .collect()
    }

    #[test]
    fn nested_paths_and_identity() {
        let old = json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "X": {"Y": 1}});
        let new = json!({"Tags": [{"Key": "b", "Value": "3"}, {"Key": "c", "Value": "4"}], "X": {"Y": 2, "Z": true}});
        assert_eq!(
            changes(old, new),
            [
                "~ Tags[Key=b].Value: \"2\" → \"3\"",
                "+ Tags[Key=c]: {Key: \"c\", Value: \"4\"}",
                "- Tags[Key=a]: {Key: \"a\", Value: \"1\"}",
                "~ X.Y: 1 → 2",
                "+ X.Z: true",
            ]
        );
    }

    #[test]
    fn items_without_identity_are_paired_by_similarity() {
        let old = json!([{"Effect": "Allow", "Action": "a", "Resource": "r"}]);
        let new = json!([{"Effect": "Deny", "Action": "x", "Resource": "y"}, {"Effect": "Allow", "Action": "b", "Resource": "r"}]);
        assert_eq!(
            changes(old, new),
            [
                "+ [0]: {Action: \"x\", Effect: \"Deny\", Resource: \"y\"}",
                "~ [1].Action: \"a\" → \"b\""
            ]
        );
    }

    #[test]
    fn references_and_masking() {
        let v = json!({"A": {"Ref": "Api"}, "B": {"Fn::GetAtt": ["Fn", "Arn"]}, "C": {"Fn::Sub": "x/${Route}/${AWS::Region}/${Api.ApiEndpoint}"}});
        let mut refs = Vec::new();
        references(&v, &mut refs);
        assert_eq!(refs, ["Api", "Fn", "Route", "Api"]);
        let masked = mask_references(&v, &|id| id == "Route" || id == "Api");
        assert_eq!(
            masked["C"],
            json!({"Fn::Sub": "x/${*}/${AWS::Region}/${*.ApiEndpoint}"})
        );
        assert_eq!(masked["A"], json!({"Ref": "*"}));
        assert_eq!(show(&v["B"]), "!GetAtt Fn.Arn");
    }

    #[test]
    fn long_pairs_show_where_they_differ() {
        let a = json!({"Fn::Join": ["/", ["arn", "a-long-prefix-that-is-the-same", "dev", "$connect", "suffix"]]});
        let b = json!({"Fn::Join": ["/", ["arn", "a-long-prefix-that-is-the-same", "prod", "$connect", "suffix"]]});
        assert_eq!(
            show_pair(&a, &b, 40),
            "…\"dev\", \"$connect\", \"su… → …\"prod\", \"$connect\", \"su…"
        );
        assert_eq!(show_pair(&json!(1), &json!(2), 40), "1 → 2");
    }

    #[test]
    fn similarity_counts_equal_leaves() {
        assert_eq!(
            similarity(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3})),
            0.5
        );
        assert_eq!(similarity(&json!({"a": 1}), &json!({"b": 1})), 0.0);
        assert_eq!(similarity(&json!({}), &json!({})), 1.0);
    }
}
