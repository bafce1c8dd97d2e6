//! Tables: the registry sockstack manages, and the stack file's own (created or existing).

use super::{AttributeType, TableKey, pascal_case};
use crate::config::Problem;
use crate::config::locate::child;
use crate::config::stack::{
    ConnectionsConfig, DataProtection, IndexBy, KeyMap, ProjectionConfig, ProjectionKind,
    TableConfig,
};
use sockstack_contract::registry;
use std::collections::{BTreeMap, BTreeSet};

/// A key attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: AttributeType,
}

/// A partition key and an optional sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    /// The partition (hash) key.
    pub partition: Attribute,
    /// The sort (range) key.
    pub sort: Option<Attribute>,
}

impl KeySchema {
    /// The key's attributes, partition key first.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        std::iter::once(&self.partition).chain(self.sort.as_ref())
    }
}

/// What an index copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// The keys only.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its key.
    pub key: KeySchema,
    /// What it copies.
    pub projection: Projection,
}

/// A table the stack creates.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedTable {
    /// Its global secondary indexes, sorted by name.
    pub indexes: Vec<Index>,
    /// The time-to-live attribute.
    pub ttl: Option<String>,
    /// `DeletionPolicy`/`UpdateReplacePolicy: Retain`.
    pub retain: bool,
    /// `DeletionProtectionEnabled`.
    pub deletion_protection: bool,
    /// Point-in-time recovery.
    pub point_in_time_recovery: bool,
    /// The KMS key that encrypts it.
    pub encryption: TableKey,
}

/// Where a table comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TableSource {
    /// The stack creates it.
    Created(CreatedTable),
    /// An existing table, by name.
    Existing {
        /// Its name.
        name: String,
        /// Its customer-managed key, if it has one.
        kms_key_arn: Option<String>,
        /// The indexes grants may name (declared in the stack file).
        indexes: Vec<Index>,
    },
}

/// One of the stack file's tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its name in the stack file (`messages`).
    pub name: String,
    /// Its key.
    pub key: KeySchema,
    /// Created or existing.
    pub source: TableSource,
}

impl Table {
    /// The logical id of a created table: `MessagesTable`.
    pub fn logical_id(&self) -> String {
        format!("{}Table", pascal_case(&self.name))
    }

    /// Its indexes (created or declared).
    pub fn indexes(&self) -> &[Index] {
        match &self.source {
            TableSource::Created(c) => &c.indexes,
            TableSource::Existing { indexes, .. } => indexes,
        }
    }
}

/// An indexed authorizer-context key of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryIndex {
    /// The context key (and attribute).
    pub key: String,
    /// The index name.
    pub index: String,
}

/// The connection registry (always created; logical id `ConnectionsTable`).
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    /// Its indexes, in stack-file order.
    pub indexes: Vec<RegistryIndex>,
    /// `DeletionPolicy: Retain` and deletion protection.
    pub retain: bool,
}

impl Registry {
    /// The value of `CONNECTIONS_INDEXES`.
    pub fn indexes_env(&self) -> String {
        registry::format_indexes(
            self.indexes
                .iter()
                .map(|i| (i.key.as_str(), i.index.as_str())),
        )
    }
}

fn valid_table_name(s: &str) -> bool {
    (3..=255).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// A key attribute's name: at most 255 characters (DynamoDB's naming rules).
pub const KEY_ATTRIBUTE_CHARS: usize = 255;

fn key_schema(path: &str, key: &KeyMap, p: &mut Vec<Problem>) -> Option<KeySchema> {
    let attr = |(name, kind): &(String, AttributeType)| Attribute {
        name: name.clone(),
        kind: *kind,
    };
    for (name, _) in &key.0 {
        let chars = name.chars().count();
        if !(1..=KEY_ATTRIBUTE_CHARS).contains(&chars) {
            p.push(Problem::key(
                child(path, name),
                format!("a key attribute's name has 1 to {KEY_ATTRIBUTE_CHARS} characters, this one {chars}"),
                "a name such as `userId` (DynamoDB counts characters, not bytes)",
            ));
        }
    }
    match key.0.as_slice() {
        [one] => Some(KeySchema {
            partition: attr(one),
            sort: None,
        }),
        [one, two] => Some(KeySchema {
            partition: attr(one),
            sort: Some(attr(two)),
        }),
        _ => {
            p.push(Problem::value(
                path,
                format!("a key has 1 or 2 attributes, this one has {}", key.0.len()),
                "the partition key, then optionally the sort key, e.g. `{roomId: S, sentAt: N}`",
            ));
            None
        }
    }
}

fn indexes(
    path: &str,
    table_key: &KeySchema,
    config: &BTreeMap<String, crate::config::stack::IndexConfig>,
    p: &mut Vec<Problem>,
) -> Vec<Index> {
    let mut out = Vec::new();
    let mut types: BTreeMap<String, AttributeType> = table_key
        .attributes()
        .map(|a| (a.name.clone(), a.kind))
        .collect();
    if config.len() > 20 {
        p.push(Problem::key(
            path,
            format!("{} indexes; DynamoDB allows 20 per table", config.len()),
            "at most 20 global secondary indexes",
        ));
    }
    for (name, index) in config {
        let ipath = child(path, name);
        if !valid_table_name(name) {
            p.push(Problem::key(
                ipath.clone(),
                format!("`{name}` is not a DynamoDB index name"),
                "3–255 letters, digits, `_`, `-` and `.`",
            ));
        }
        let Some(key) = key_schema(&child(&ipath, "key"), &index.key, p) else {
            continue;
        };
        for a in key.attributes() {
            match types.insert(a.name.clone(), a.kind) {
                Some(other) if other != a.kind => p.push(Problem::value(
                    child(&child(&ipath, "key"), &a.name),
                    format!(
                        "attribute `{}` is {} here but {} elsewhere in this table",
                        a.name,
                        a.kind.as_str(),
                        other.as_str()
                    ),
                    "one type per attribute across the table's key and indexes",
                )),
                _ => {}
            }
        }
        let projection = match &index.projection {
            ProjectionConfig::Kind(ProjectionKind::All) => Projection::All,
            ProjectionConfig::Kind(ProjectionKind::Keys) => Projection::KeysOnly,
            ProjectionConfig::Include(attrs) => {
                let unique: BTreeSet<&String> = attrs.iter().collect();
                if attrs.is_empty() || unique.len() != attrs.len() {
                    p.push(Problem::value(
                        child(&ipath, "projection"),
                        "the projected attributes are empty or repeated",
                        "each attribute to copy once, or `all` / `keys`",
                    ));
                }
                Projection::Include(attrs.clone())
            }
        };
        out.push(Index {
            name: name.clone(),
            key,
            projection,
        });
    }
    out
}

/// The stack file's tables.
pub(super) fn tables(
    config: &BTreeMap<String, TableConfig>,
    protection: &DataProtection,
    p: &mut Vec<Problem>,
) -> Vec<Table> {
    let mut out = Vec::new();
    let mut ids: BTreeMap<String, &str> = BTreeMap::new();
    for (name, t) in config {
        let path = child("tables", name);
        let stem = pascal_case(name);
        if stem.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            p.push(Problem::key(
                path.clone(),
                format!("table `{name}` cannot be named in the template"),
                "a name starting with a letter, e.g. `messages`",
            ));
            continue;
        }
        if format!("{stem}Table") == registry::LOGICAL_ID {
            p.push(Problem::key(
                path.clone(),
                format!(
                    "table `{name}` would take the registry's logical id `{}`",
                    registry::LOGICAL_ID
                ),
                "another name: sockstack manages the connection registry itself (`connections:`)",
            ));
            continue;
        }
        if let Some(other) = ids.insert(stem.clone(), name) {
            p.push(Problem::key(
                path.clone(),
                format!(
                    "tables `{other}` and `{name}` would both be `{stem}Table` in the template"
                ),
                "table names that differ in more than case and punctuation",
            ));
        }
        let Some(key) = key_schema(&child(&path, "key"), &t.key, p) else {
            continue;
        };
        let idx = indexes(&child(&path, "indexes"), &key, &t.indexes, p);
        let source = match &t.existing {
            Some(existing) => {
                if !valid_table_name(existing) {
                    p.push(Problem::value(
                        child(&path, "existing"),
                        format!("`{existing}` is not a DynamoDB table name"),
                        "3–255 letters, digits, `_`, `-` and `.`",
                    ));
                }
                for (field, set) in [
                    ("ttl", t.ttl.is_some()),
                    ("retain", t.retain.is_some()),
                    ("deletionProtection", t.deletion_protection.is_some()),
                    ("pointInTimeRecovery", t.point_in_time_recovery.is_some()),
                ] {
                    if set {
                        p.push(Problem::key(
                            child(&path, field),
                            format!("`{field}` has no effect on an existing table"),
                            "no settings but `key`, `indexes` and `kmsKeyArn` on an `existing` table (sockstack does not manage it)",
                        ));
                    }
                }
                if let Some(arn) = &t.kms_key_arn
                    && !is_kms_key_arn(arn)
                {
                    p.push(Problem::value(
                        child(&path, "kmsKeyArn"),
                        format!("`{arn}` is not a KMS key ARN"),
                        "arn:aws:kms:<region>:<account>:key/<key id>",
                    ));
                }
                TableSource::Existing {
                    name: existing.clone(),
                    kms_key_arn: t.kms_key_arn.clone(),
                    indexes: idx,
                }
            }
            None => {
                if t.kms_key_arn.is_some() {
                    p.push(Problem::key(
                        child(&path, "kmsKeyArn"),
                        "`kmsKeyArn` is only for an `existing` table",
                        "`dataProtection.tableKey` for the tables the stack creates",
                    ));
                }
                if let Some(ttl) = &t.ttl
                    && ttl.trim().is_empty()
                {
                    p.push(Problem::value(
                        child(&path, "ttl"),
                        "the time-to-live attribute is empty",
                        "an attribute name such as `expiresAt`",
                    ));
                }
                let retain = t.retain.unwrap_or(protection.retain_tables);
                TableSource::Created(CreatedTable {
                    indexes: idx,
                    ttl: t.ttl.clone(),
                    retain,
                    deletion_protection: t.deletion_protection.unwrap_or(retain),
                    point_in_time_recovery: t.point_in_time_recovery.unwrap_or(true),
                    encryption: protection.table_key,
                })
            }
        };
        out.push(Table {
            name: name.clone(),
            key,
            source,
        });
    }
    out
}

fn is_kms_key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty())
}

/// The registry, its indexes checked against the authorizer's context keys.
pub(super) fn registry(
    config: &ConnectionsConfig,
    context_keys: &BTreeSet<String>,
    protection: &DataProtection,
    p: &mut Vec<Problem>,
) -> Registry {
    let mut indexes: Vec<RegistryIndex> = Vec::new();
    for (i, entry) in config.index_by.iter().enumerate() {
        let path = crate::config::locate::item("connections.indexBy", i);
        let (key, index, index_path) = match entry {
            IndexBy::Key(key) => (key.clone(), registry::index_name(key), path.clone()),
            IndexBy::Named(n) => (n.key.clone(), n.index.clone(), child(&path, "index")),
        };
        if !context_keys.contains(&key) {
            p.push(Problem::value(
                match entry {
                    IndexBy::Key(_) => path.clone(),
                    IndexBy::Named(_) => child(&path, "key"),
                },
                format!("`{key}` is not a key of `authorizer.context`"),
                if context_keys.is_empty() {
                    "an authorizer with `context: {key: claim}`: only context keys are stored on a connection".to_string()
                } else {
                    format!(
                        "one of: {}",
                        context_keys.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                },
            ));
        }
        if !valid_table_name(&index) {
            p.push(Problem::value(
                index_path.clone(),
                format!("`{index}` is not a DynamoDB index name"),
                "3–255 letters, digits, `_`, `-` and `.`",
            ));
        }
        if indexes.iter().any(|x| x.key == key) {
            p.push(Problem::value(
                path.clone(),
                format!("context key `{key}` is indexed twice"),
                "each key once",
            ));
        } else if indexes.iter().any(|x| x.index == index) {
            p.push(Problem::value(
                index_path,
                format!("index name `{index}` is used twice"),
                "a name of its own for each index",
            ));
        }
        indexes.push(RegistryIndex { key, index });
    }
    if indexes.len() > 20 {
        p.push(Problem::key(
            "connections.indexBy",
            format!("{} indexes; DynamoDB allows 20 per table", indexes.len()),
            "at most 20 indexed keys",
        ));
    }
    Registry {
        indexes,
        retain: protection.retain_tables,
    }
}
