//! Tables a stack file names as `existing`: the template does not create them (they live elsewhere on AWS),
//! so dev creates them on the local DynamoDB from what the stack file declares — the name the functions'
//! environment holds, the key schema and the indexes grants may name — on-demand, like the tables it creates.

use super::plan::TablePlan;
use crate::model::{self, Model, TableSource};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

fn key_schema(key: &model::KeySchema) -> Value {
    let mut schema = vec![json!({"AttributeName": key.partition.name, "KeyType": "HASH"})];
    if let Some(sort) = &key.sort {
        schema.push(json!({"AttributeName": sort.name, "KeyType": "RANGE"}));
    }
    Value::Array(schema)
}

fn projection(p: &model::Projection) -> Value {
    match p {
        model::Projection::All => json!({"ProjectionType": "ALL"}),
        model::Projection::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
        model::Projection::Include(attributes) => {
            json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": attributes})
        }
    }
}

/// The local table of one `existing` table: its CloudFormation-shaped properties (what
/// [`super::dynamo::create_table_request`] reads), under its real name.
pub fn table_plan(table: &model::Table, name: &str) -> TablePlan {
    let mut attributes: BTreeMap<&str, &str> = BTreeMap::new();
    for a in table.key.attributes() {
        attributes.insert(&a.name, a.kind.as_str());
    }
    for i in table.indexes() {
        for a in i.key.attributes() {
            attributes.insert(&a.name, a.kind.as_str());
        }
    }
    let mut properties = Map::new();
    properties.insert("KeySchema".into(), key_schema(&table.key));
    properties.insert(
        "AttributeDefinitions".into(),
        attributes
            .into_iter()
            .map(|(name, kind)| json!({"AttributeName": name, "AttributeType": kind}))
            .collect(),
    );
    properties.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
    if !table.indexes().is_empty() {
        properties.insert(
            "GlobalSecondaryIndexes".into(),
            table
                .indexes()
                .iter()
                .map(|i| {
                    json!({"IndexName": i.name, "KeySchema": key_schema(&i.key), "Projection": projection(&i.projection)})
                })
                .collect(),
        );
    }
    TablePlan {
        logical_id: table.name.clone(),
        name: name.to_string(),
        properties,
    }
}

/// Every `existing` table of `model`, by its stack-file name.
pub fn tables(model: &Model) -> BTreeMap<String, TablePlan> {
    model
        .tables
        .iter()
        .filter_map(|t| match &t.source {
            TableSource::Existing { name, .. } => Some((t.name.clone(), table_plan(t, name))),
            TableSource::Created(_) => None,
        })
        .collect()
}
