//! Less noise: a function whose only change is the bundle it runs (a new `S3Key` in `Code`, as every build of
//! changed handler code produces) folds into one line instead of a property diff.

use super::{PropertyChange, value::Seg};
use crate::raw::RawResource;
use serde::Serialize;
use serde_json::Value;

/// A function that only gets a new bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeChange {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub type_name: String,
    /// The bundle key(s) before, e.g. `{"S3Key": "connect-3f2a….zip"}`.
    pub old: Value,
    /// The bundle key(s) after.
    pub new: Value,
}

/// Per type: the property holding the code, and the keys inside it that name a bundle.
const BUNDLE_KEYS: &[(&str, &str, &[&str])] = &[
    (
        "AWS::Lambda::Function",
        "Code",
        &["S3Key", "S3ObjectVersion", "ImageUri"],
    ),
    (
        "AWS::Lambda::LayerVersion",
        "Content",
        &["S3Key", "S3ObjectVersion"],
    ),
    ("AWS::Serverless::Function", "CodeUri", &["Key", "Version"]),
    (
        "AWS::Serverless::LayerVersion",
        "ContentUri",
        &["Key", "Version"],
    ),
];

/// When every change is to a bundle key of the resource's code, the folded line.
pub fn code_only(
    id: &str,
    resource: &RawResource,
    changes: &[PropertyChange],
) -> Option<CodeChange> {
    let (_, property, keys) = BUNDLE_KEYS
        .iter()
        .find(|(t, _, _)| *t == resource.type_name)?;
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    for c in changes {
        if c.attribute {
            return None;
        }
        let segs = &c.path.0;
        let key = match segs.as_slice() {
            [Seg::Key(p)] if p == property && resource.type_name.starts_with("AWS::Serverless") => {
                p.clone()
            }
            [Seg::Key(p), Seg::Key(k)] if p == property && keys.contains(&k.as_str()) => k.clone(),
            _ => return None,
        };
        let (a, b) = match &c.delta {
            super::Delta::Added { new } => (Value::Null, new.clone()),
            super::Delta::Removed { old } => (old.clone(), Value::Null),
            super::Delta::Modified { old, new } => (old.clone(), new.clone()),
        };
        // A whole CodeUri string (SAM) changes only when it is a plain S3 URI or local path, not a mapping.
        if a.is_object() || b.is_object() {
            return None;
        }
        old.insert(key.clone(), a);
        new.insert(key, b);
    }
    if old.is_empty() {
        return None;
    }
    Some(CodeChange {
        logical_id: id.to_owned(),
        type_name: resource.type_name.clone(),
        old: Value::Object(old),
        new: Value::Object(new),
    })
}
