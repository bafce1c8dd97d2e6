//! Recognising a resource that moved to a new logical id, so a review shows one rename instead of an unrelated
//! delete and create.
//!
//! Candidates are a removed and an added resource **of the same type**. Their similarity is the share of
//! property leaves (paths to plain values, intrinsics counted whole) that are equal on both sides, over all leaf
//! paths of either side; references to other added or removed resources are masked first, because those move
//! together (a renamed route points at a renamed integration). Pairs at or above [`RENAME_THRESHOLD`] are
//! accepted greedily, most similar first (ties: the more similar logical ids, then alphabetical order).
//!
//! CloudFormation has no rename: the new logical id is created and the old one deleted, so a rename is a
//! replacement (and data loss for a stateful resource unless the old one's `DeletionPolicy` retains it).

use super::value;
use crate::raw::RawTemplate;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The least share of equal property leaves for a removed and an added resource to be one renamed resource.
pub const RENAME_THRESHOLD: f64 = 0.5;

/// A removed logical id recognised as an added one.
#[derive(Debug, Clone, PartialEq)]
pub struct Rename {
    /// The logical id in the old template.
    pub old: String,
    /// The logical id in the new template.
    pub new: String,
    /// Similarity in [`RENAME_THRESHOLD`], 1.0.
    pub score: f64,
}

/// Logical ids with their masked properties.
type Candidates<'a> = Vec<(&'a str, Value)>;

/// Pairs removed and added logical ids that are the same resource under a new id.
pub fn find_renames(
    old: &RawTemplate,
    new: &RawTemplate,
    removed: &[&String],
    added: &[&String],
) -> Vec<Rename> {
    if removed.is_empty() || added.is_empty() {
        return Vec::new();
    }
    let moving: BTreeSet<&str> = removed.iter().chain(added).map(|s| s.as_str()).collect();
    let is_moving = |id: &str| moving.contains(id);
    let masked = |t: &RawTemplate, id: &str| {
        let r = &t.resources[id];
        value::mask_references(&Value::Object(r.properties.clone()), &is_moving)
    };
    // Group by type so only same-type pairs are scored.
    let mut by_type: BTreeMap<&str, (Candidates, Candidates)> = BTreeMap::new();
    for id in removed {
        let t = old.resources[id.as_str()].type_name.as_str();
        by_type
            .entry(t)
            .or_default()
            .0
            .push((id.as_str(), masked(old, id)));
    }
    for id in added {
        let t = new.resources[id.as_str()].type_name.as_str();
        if let Some(entry) = by_type.get_mut(t) {
            entry.1.push((id.as_str(), masked(new, id)));
        }
    }
    let mut candidates = Vec::new();
    for (olds, news) in by_type.values() {
        for (o, ov) in olds {
            for (n, nv) in news {
                let score = value::similarity(ov, nv);
                if score >= RENAME_THRESHOLD {
                    candidates.push((score, id_similarity(o, n), *o, *n));
                }
            }
        }
    }
    candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(b.2))
            .then(a.3.cmp(b.3))
    });
    let mut used_old = BTreeSet::new();
    let mut used_new = BTreeSet::new();
    let mut renames = Vec::new();
    for (score, _, o, n) in candidates {
        if used_old.contains(o) || used_new.contains(n) {
            continue;
        }
        used_old.insert(o);
        used_new.insert(n);
        renames.push(Rename {
            old: o.to_owned(),
            new: n.to_owned(),
            score,
        });
    }
    renames.sort_by(|a, b| a.new.cmp(&b.new));
    renames
}

/// Shared prefix plus shared suffix over the longer id's length: `SendRoute`/`PostRoute` → 5/9.
fn id_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (prefix + suffix) as f64 / a.len().max(b.len()).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(resources: Value) -> RawTemplate {
        RawTemplate::from_value(json!({ "Resources": resources })).unwrap()
    }

    #[test]
    fn a_route_and_its_integration_move_together() {
        let old = template(json!({
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a"}},
            "SendRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "send", "AuthorizationType": "NONE", "Target": {"Fn::Sub": "integrations/${SendIntegration}"}}},
            "SendIntegration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY", "IntegrationUri": "x"}},
            "Other": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "other", "AuthorizationType": "NONE", "Target": "t"}}
        }));
        let new = template(json!({
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a"}},
            "PostRoute": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "post", "AuthorizationType": "NONE", "Target": {"Fn::Sub": "integrations/${PostIntegration}"}}},
            "PostIntegration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY", "IntegrationUri": "x"}},
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "post", "AuthorizationType": "NONE"}}
        }));
        let (removed, added) = crate::diff::removed_and_added(&old, &new);
        let renames = find_renames(&old, &new, &removed, &added);
        let pairs: Vec<(&str, &str)> = renames
            .iter()
            .map(|r| (r.old.as_str(), r.new.as_str()))
            .collect();
        // The route matches its renamed self (3 of 4 leaves equal), not the other route (2 of 4) and never the
        // table (another type).
        assert_eq!(
            pairs,
            [
                ("SendIntegration", "PostIntegration"),
                ("SendRoute", "PostRoute")
            ]
        );
        assert_eq!(renames[0].score, 1.0);
        assert_eq!(renames[1].score, 0.75);
    }

    #[test]
    fn below_the_threshold_stays_delete_and_create() {
        let old =
            template(json!({"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": 1, "Y": 2}}}));
        let new =
            template(json!({"B": {"Type": "AWS::SNS::Topic", "Properties": {"X": 3, "Y": 4}}}));
        let a = "A".to_owned();
        let b = "B".to_owned();
        assert!(find_renames(&old, &new, &[&a], &[&b]).is_empty());
    }
}
