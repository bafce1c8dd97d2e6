//! DynamoDB creates or deletes at most one global secondary index per table update:
//! a template change that adds or removes more than one at once fails mid-deploy.
//! This flags such a change on the table, so the reviewer splits it into steps.

use super::{Action, ResourceChange};
use crate::raw::RawTemplate;
use serde_json::Value;
use std::collections::BTreeMap;

/// Index name → its definition, from a table's `GlobalSecondaryIndexes`.
fn indexes(properties: &serde_json::Map<String, Value>) -> BTreeMap<String, &Value> {
    properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i.get("IndexName")?.as_str()?.to_string(), i)))
        .collect()
}

/// How many indexes an update of a table creates and deletes. An index whose key
/// schema or projection changes is deleted and created again (both count).
pub fn index_changes(
    old: &serde_json::Map<String, Value>,
    new: &serde_json::Map<String, Value>,
) -> (Vec<String>, Vec<String>) {
    let (before, after) = (indexes(old), indexes(new));
    let rebuilt = |a: &Value, b: &Value| {
        a.get("KeySchema") != b.get("KeySchema") || a.get("Projection") != b.get("Projection")
    };
    let mut created = Vec::new();
    let mut deleted = Vec::new();
    for (name, b) in &after {
        match before.get(name) {
            None => created.push(name.clone()),
            Some(a) if rebuilt(a, b) => {
                created.push(name.clone());
                deleted.push(name.clone());
            }
            Some(_) => {}
        }
    }
    deleted.extend(before.keys().filter(|n| !after.contains_key(*n)).cloned());
    deleted.sort();
    (created, deleted)
}

/// Adds a warning to an in-place table update that creates or deletes more than one index.
pub fn check(r: &mut ResourceChange, old: &RawTemplate, new: &RawTemplate) {
    if r.type_name != "AWS::DynamoDB::Table" || r.action != Action::Update {
        return;
    }
    let (Some(o), Some(n)) = (
        old.resources.get(&r.logical_id),
        new.resources.get(&r.logical_id),
    ) else {
        return;
    };
    let (created, deleted) = index_changes(&o.properties, &n.properties);
    if created.len() + deleted.len() > 1 {
        let list = |names: &[String]| {
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        };
        r.warnings.push(format!(
            "this update creates {} and deletes {} global secondary index(es) (created: {}; deleted: {}); DynamoDB allows one per table update, so the deploy fails mid-way: change one index per deploy",
            created.len(),
            deleted.len(),
            list(&created),
            list(&deleted)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(indexes: Value) -> serde_json::Map<String, Value> {
        json!({"GlobalSecondaryIndexes": indexes})
            .as_object()
            .unwrap()
            .clone()
    }

    fn index(name: &str, key: &str) -> Value {
        json!({"IndexName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}})
    }

    #[test]
    fn counts_added_removed_and_rebuilt_indexes() {
        let old = props(json!([
            index("ByRoom", "roomId"),
            index("ByUser", "userId")
        ]));
        let same = index_changes(&old, &old);
        assert_eq!(same, (vec![], vec![]));
        let one_more = props(json!([
            index("ByRoom", "roomId"),
            index("ByUser", "userId"),
            index("ByChannel", "channelId")
        ]));
        assert_eq!(
            index_changes(&old, &one_more),
            (vec!["ByChannel".to_string()], vec![])
        );
        let renamed = props(json!([
            index("ByRoom", "roomId"),
            index("ByUserId", "userId")
        ]));
        assert_eq!(
            index_changes(&old, &renamed),
            (vec!["ByUserId".to_string()], vec!["ByUser".to_string()])
        );
        let rekeyed = props(json!([index("ByRoom", "room"), index("ByUser", "userId")]));
        assert_eq!(
            index_changes(&old, &rekeyed),
            (vec!["ByRoom".to_string()], vec!["ByRoom".to_string()])
        );
        assert_eq!(index_changes(&old, &props(json!([]))).1.len(), 2);
    }
}
