//! DynamoDB tables: created with on-demand billing, point-in-time recovery and
//! KMS encryption, or existing ones referenced by name.

use super::{regional_arn, security};
use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchema, PointInTimeRecovery, Projection,
    SseSpecification, Table, TimeToLive,
};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::kms::Key;
use crate::cfn::{Expr, Properties, Resource, RetainPolicy, Template};
use crate::config::stack::TableKey;
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

/// Logical id of the customer-managed table key.
pub const TABLE_KEY: &str = "TableKey";

fn sse(key: TableKey) -> SseSpecification {
    match key {
        TableKey::AwsOwned => SseSpecification {
            sse_enabled: false,
            sse_type: None,
            kms_master_key_id: None,
        },
        TableKey::AwsManaged => SseSpecification {
            sse_enabled: true,
            sse_type: Some("KMS"),
            kms_master_key_id: None,
        },
        TableKey::CustomerManaged => SseSpecification {
            sse_enabled: true,
            sse_type: Some("KMS"),
            kms_master_key_id: Some(Expr::get_att(TABLE_KEY, "Arn")),
        },
    }
}

/// The customer-managed key: rotated yearly; the account administers it, as in
/// KMS's default key policy, so IAM policies decide who may use it.
fn table_key(retain: bool) -> Resource {
    let administer = Statement {
        sid: Some("AccountAdministersKey".into()),
        effect: "Allow",
        principal: Some(Principal::Aws(Expr::sub(
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root",
        ))),
        action: vec!["kms:*".into()],
        // In a key policy, `*` means this key and nothing else.
        resource: vec![Expr::str("*")],
        condition: None,
    };
    // Grants (how DynamoDB uses the key) may only be created for AWS resources by AWS services.
    let grants_only_for_services = Statement {
        sid: Some("GrantsOnlyForAwsServices".into()),
        effect: "Deny",
        principal: Some(Principal::Anyone),
        action: vec!["kms:CreateGrant".into()],
        resource: vec![Expr::str("*")],
        condition: Some(serde_json::json!({"BoolIfExists": {
            "kms:GrantIsForAWSResource": "false",
            "aws:PrincipalIsAWSService": "false"
        }})),
    };
    Resource::new(Properties::Key(Key {
        description: "Encrypts the sockstack tables".into(),
        enable_key_rotation: true,
        key_policy: PolicyDocument::new(vec![administer, grants_only_for_services]),
    }))
    .with_policy(if retain {
        RetainPolicy::Retain
    } else {
        RetainPolicy::Delete
    })
}

pub(super) fn add(model: &Model, template: &mut Template) {
    let created: Vec<&TableModel> = model
        .tables
        .iter()
        .filter(|t| t.source == TableSource::Created)
        .collect();
    if let Some(t) = created.iter().find(|t| t.key == TableKey::CustomerManaged) {
        template.add(TABLE_KEY, table_key(t.retain));
    }
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
            sse_specification: sse(t.key),
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
        let mut resource = Resource::new(Properties::Table(properties)).with_policy(policy);
        // Lets `sockstack check` tell a chosen AWS-owned key from a forgotten one.
        resource.metadata = Some(serde_json::json!({"sockstack": {"tableKey": t.key.as_str()}}));
        if t.key != TableKey::CustomerManaged {
            security::suppress(&mut resource, &[security::TABLE_NOT_CUSTOMER_KEY]);
        }
        template.add(logical_id(table), resource);
    }
}
