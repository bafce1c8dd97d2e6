//! DynamoDB tables: the registry and the stack file's own, created with on-demand
//! billing, point-in-time recovery and KMS encryption, or existing ones referenced by name.

use super::{regional_arn, security};
use crate::cfn::dynamodb::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchema, PointInTimeRecovery, Projection,
    SseSpecification, Table, TimeToLive,
};
use crate::cfn::iam::PolicyDocument;
use crate::cfn::kms::{self, Key};
use crate::cfn::{Expr, Properties, Resource, RetainPolicy, Template};
use crate::model::{self, AttributeType, Model, TableKey, TableSource};
use sockstack_contract::registry;
use std::collections::BTreeMap;

/// Logical id of the customer-managed table key.
pub const TABLE_KEY: &str = "TableKey";

/// The name of the stack file's table `t` as a value (a `Ref` when the stack creates it).
pub fn name(t: &model::Table) -> Expr {
    match &t.source {
        TableSource::Created(_) => Expr::reference(t.logical_id()),
        TableSource::Existing { name, .. } => Expr::str(name.clone()),
    }
}

/// The ARN of table `t`, or of one of its indexes.
pub fn arn(t: &model::Table, index: Option<&str>) -> Expr {
    let suffix = index.map(|i| format!("/index/{i}")).unwrap_or_default();
    match (&t.source, index) {
        (TableSource::Created(_), None) => Expr::get_att(t.logical_id(), "Arn"),
        (TableSource::Created(_), Some(_)) => {
            Expr::sub(format!("${{{}.Arn}}{suffix}", t.logical_id()))
        }
        (TableSource::Existing { name, .. }, _) => {
            regional_arn("dynamodb", &format!("table/{name}{suffix}"))
        }
    }
}

/// The ARN of the registry, or of one of its indexes.
pub fn registry_arn(index: Option<&str>) -> Expr {
    match index {
        None => Expr::get_att(registry::LOGICAL_ID, "Arn"),
        Some(i) => Expr::sub(format!("${{{}.Arn}}/index/{i}", registry::LOGICAL_ID)),
    }
}

/// The customer-managed key that encrypts table `t`, if any.
pub fn customer_key(t: &model::Table) -> Option<Expr> {
    match &t.source {
        TableSource::Created(c) => {
            (c.encryption == TableKey::CustomerManaged).then(|| Expr::get_att(TABLE_KEY, "Arn"))
        }
        TableSource::Existing { kms_key_arn, .. } => kms_key_arn.clone().map(Expr::str),
    }
}

/// The key that encrypts the registry, if customer-managed.
pub fn registry_key(model: &Model) -> Option<Expr> {
    model
        .creates_table_key()
        .then(|| Expr::get_att(TABLE_KEY, "Arn"))
}

fn key_schema(key: &model::KeySchema) -> Vec<KeySchema> {
    let mut out = vec![KeySchema {
        attribute_name: key.partition.name.clone(),
        key_type: "HASH",
    }];
    if let Some(sort) = &key.sort {
        out.push(KeySchema {
            attribute_name: sort.name.clone(),
            key_type: "RANGE",
        });
    }
    out
}

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
    Resource::new(Properties::Key(Key {
        description: "Encrypts the sockstack tables".into(),
        enable_key_rotation: true,
        key_policy: PolicyDocument::new(vec![
            kms::account_administers_key(),
            kms::grants_only_for_aws_services(),
        ]),
    }))
    .with_policy(policy(retain))
}

fn policy(retain: bool) -> RetainPolicy {
    if retain {
        RetainPolicy::Retain
    } else {
        RetainPolicy::Delete
    }
}

/// Everything a created table's resource needs.
struct Spec<'a> {
    key: &'a model::KeySchema,
    indexes: &'a [model::Index],
    ttl: Option<&'a str>,
    retain: bool,
    deletion_protection: bool,
    point_in_time_recovery: bool,
    encryption: TableKey,
}

fn table(spec: Spec<'_>) -> Resource {
    let mut attributes: BTreeMap<&str, AttributeType> = BTreeMap::new();
    for a in spec.key.attributes() {
        attributes.insert(&a.name, a.kind);
    }
    for i in spec.indexes {
        for a in i.key.attributes() {
            attributes.insert(&a.name, a.kind);
        }
    }
    let properties = Table {
        attribute_definitions: attributes
            .into_iter()
            .map(|(name, kind)| AttributeDefinition {
                attribute_name: name.to_string(),
                attribute_type: kind.as_str(),
            })
            .collect(),
        key_schema: key_schema(spec.key),
        billing_mode: "PAY_PER_REQUEST",
        global_secondary_indexes: spec
            .indexes
            .iter()
            .map(|i| GlobalSecondaryIndex {
                index_name: i.name.clone(),
                key_schema: key_schema(&i.key),
                projection: match &i.projection {
                    model::Projection::All => Projection {
                        projection_type: "ALL",
                        non_key_attributes: Vec::new(),
                    },
                    model::Projection::KeysOnly => Projection {
                        projection_type: "KEYS_ONLY",
                        non_key_attributes: Vec::new(),
                    },
                    model::Projection::Include(attrs) => Projection {
                        projection_type: "INCLUDE",
                        non_key_attributes: attrs.clone(),
                    },
                },
            })
            .collect(),
        point_in_time_recovery_specification: PointInTimeRecovery {
            point_in_time_recovery_enabled: spec.point_in_time_recovery,
        },
        sse_specification: sse(spec.encryption),
        time_to_live_specification: spec.ttl.map(|a| TimeToLive {
            attribute_name: a.to_string(),
            enabled: true,
        }),
        deletion_protection_enabled: spec.deletion_protection,
    };
    let mut resource =
        Resource::new(Properties::Table(properties)).with_policy(policy(spec.retain));
    // Lets `sockstack check` tell a chosen AWS-owned key from a forgotten one.
    resource.metadata =
        Some(serde_json::json!({"sockstack": {"tableKey": spec.encryption.as_str()}}));
    if spec.encryption != TableKey::CustomerManaged {
        security::suppress(&mut resource, &[security::TABLE_NOT_CUSTOMER_KEY]);
    }
    resource
}

pub(super) fn add(model: &Model, template: &mut Template) {
    if model.creates_table_key() {
        template.add(TABLE_KEY, table_key(model.retain_table_key));
    }
    let reg = &model.registry;
    let registry_key = model::KeySchema {
        partition: model::Attribute {
            name: registry::CONNECTION_ID.to_string(),
            kind: AttributeType::S,
        },
        sort: None,
    };
    let registry_indexes: Vec<model::Index> = reg
        .indexes
        .iter()
        .map(|i| model::Index {
            name: i.index.clone(),
            key: model::KeySchema {
                partition: model::Attribute {
                    name: i.key.clone(),
                    kind: AttributeType::S,
                },
                sort: None,
            },
            projection: model::Projection::All,
        })
        .collect();
    template.add(
        registry::LOGICAL_ID,
        table(Spec {
            key: &registry_key,
            indexes: &registry_indexes,
            ttl: Some(registry::EXPIRES_AT),
            retain: reg.retain,
            deletion_protection: reg.retain,
            point_in_time_recovery: true,
            encryption: model.table_key,
        }),
    );
    for t in &model.tables {
        let TableSource::Created(c) = &t.source else {
            continue;
        };
        template.add(
            t.logical_id(),
            table(Spec {
                key: &t.key,
                indexes: &c.indexes,
                ttl: c.ttl.as_deref(),
                retain: c.retain,
                deletion_protection: c.deletion_protection,
                point_in_time_recovery: c.point_in_time_recovery,
                encryption: c.encryption,
            }),
        );
    }
}
