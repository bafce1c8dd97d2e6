//! DynamoDB tables: created with on-demand billing, point-in-time recovery and
//! KMS encryption, or existing ones referenced by name.

use super::regional_arn;
use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchema, PointInTimeRecovery, Projection,
    SseSpecification, Table, TimeToLive,
};
use crate::cfn::{Expr, Properties, Resource, RetainPolicy, Template};
use crate::model::{Model, TableModel, TableSource};
use sockstack_contract::Table as ContractTable;

/// Logical id of a created table: `ConnectionsTable`.
pub fn logical_id(table: ContractTable) -> String {
    format!("{}Table", table.name())
}

/// The table's name as a value (a `Ref` when the stack creates it).
pub fn name(t: &TableModel) -> Expr {
    match &t.source {
        TableSource::Created => Expr::reference(logical_id(t.table)),
        TableSource::Existing(name) => Expr::str(name.clone()),
    }
}

/// The ARN of the table, or of one of its indexes.
pub fn arn(t: &TableModel, index: Option<&str>) -> Expr {
    let suffix = index.map(|i| format!("/index/{i}")).unwrap_or_default();
    match (&t.source, index) {
        (TableSource::Created, None) => Expr::get_att(logical_id(t.table), "Arn"),
        (TableSource::Created, Some(_)) => {
            Expr::sub(format!("${{{}.Arn}}{suffix}", logical_id(t.table)))
        }
        (TableSource::Existing(name), _) => {
            regional_arn("dynamodb", &format!("table/{name}{suffix}"))
        }
    }
}

fn key(attribute: &str) -> Vec<KeySchema> {
    vec![KeySchema {
        attribute_name: attribute.to_string(),
        key_type: "HASH",
    }]
}

pub(super) fn add(model: &Model, template: &mut Template) {
    for t in &model.tables {
        if t.source != TableSource::Created {
            continue;
        }
        let table = t.table;
        let mut attributes = vec![table.partition_key()];
        attributes.extend(table.indexes().iter().map(|(_, key)| *key));
        attributes.sort_unstable();
        attributes.dedup();
        let properties = Table {
            attribute_definitions: attributes
                .into_iter()
                .map(|a| AttributeDefinition {
                    attribute_name: a.to_string(),
                    attribute_type: "S",
                })
                .collect(),
            key_schema: key(table.partition_key()),
            billing_mode: "PAY_PER_REQUEST",
            global_secondary_indexes: table
                .indexes()
                .iter()
                .map(|(name, attribute)| GlobalSecondaryIndex {
                    index_name: name.to_string(),
                    key_schema: key(attribute),
                    projection: Projection {
                        projection_type: "ALL",
                    },
                })
                .collect(),
            point_in_time_recovery_specification: PointInTimeRecovery {
                point_in_time_recovery_enabled: true,
            },
            sse_specification: SseSpecification {
                sse_enabled: true,
                sse_type: Some("KMS"),
            },
            time_to_live_specification: table.ttl_attribute().map(|a| TimeToLive {
                attribute_name: a.to_string(),
                enabled: true,
            }),
        };
        let policy = if t.retain {
            RetainPolicy::Retain
        } else {
            RetainPolicy::Delete
        };
        template.add(
            logical_id(table),
            Resource::new(Properties::Table(properties)).with_policy(policy),
        );
    }
}
