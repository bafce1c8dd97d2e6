//! Two CloudFormation templates → a change set people and CI can act on.
//!
//! - Resources added, removed and modified, with property-level detail: nested paths, list items matched by
//!   identity (`Tags[Key=owner]`, `Statement[Sid=Read]`) or by similarity ([`value`]).
//! - Replacement predicted from each type's create-only properties ([`replacement`]), also when a create-only
//!   property refers to a resource that is itself replaced; replacement or deletion of a stateful resource is
//!   marked as data loss unless its policy retains it; replacing a resource that keeps an explicit physical
//!   name is flagged as failing.
//! - A resource that moved to a new logical id is a rename ([`rename`]), which CloudFormation carries out as
//!   create + delete.
//! - Changes that are only a new bundle key in a function's `Code` fold into one line per function ([`fold`]).
//! - IAM and access changes get their own section ([`security`]).
//!
//! Reports are in [`report`]; the CLI is `crate::cli::diff`.

pub mod base;
pub mod fold;
pub mod indexes;
pub mod input;
pub mod rename;
pub mod replacement;
pub mod report;
pub mod security;
pub mod value;

use crate::raw::{RawResource, RawTemplate};
pub use replacement::{Replacement, Schemas};
pub use security::{SecurityChange, Severity};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use value::{Delta, PropPath};

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// New logical id: created.
    Create,
    /// Updated in place.
    Update,
    /// Same logical id, new physical resource (create-only property changed, or one it refers to is replaced).
    Replace,
    /// Moved to a new logical id: CloudFormation creates the new resource and deletes the old one.
    Rename,
    /// Logical id gone: deleted.
    Delete,
}

impl Action {
    /// The marker in reports: `+`, `~`, `-/+`, `-`.
    pub fn marker(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace | Action::Rename => "-/+",
            Action::Delete => "-",
        }
    }
}

/// One property (or resource attribute) that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// Path below `Properties` (or the attribute's name, e.g. `DeletionPolicy`).
    pub path: PropPath,
    /// Whether the path is a resource attribute (`DeletionPolicy`, `UpdateReplacePolicy`, `DependsOn`,
    /// `Condition`, `UpdatePolicy`, `CreationPolicy`) rather than a property.
    pub attribute: bool,
    /// Added, removed or modified, with the values.
    #[serde(flatten)]
    pub delta: Delta,
    /// Whether this change (alone) makes CloudFormation replace the resource (`always`), may (`conditional`), or
    /// not (`never`).
    pub replacement: Replacement,
}

/// One resource that is created, updated, replaced, renamed or deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// The logical id (the new one for a rename).
    pub logical_id: String,
    /// For a rename, the old logical id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// For a rename, the share of equal property leaves that matched it (see [`rename::RENAME_THRESHOLD`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// Resource type.
    pub type_name: String,
    /// What happens.
    pub action: Action,
    /// For updates: in place (`never`), `conditional`, `always`, or `unknown` (type not in the data).
    pub replacement: Replacement,
    /// Why it is replaced: the create-only properties that changed, or the replaced resources it refers to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced_because: Vec<String>,
    /// Property-level changes (empty for creations and deletions).
    pub changes: Vec<PropertyChange>,
    /// Whether data is lost: a stateful resource deleted or replaced without a policy that retains it.
    pub data_loss: bool,
    /// What a reviewer must know (data loss, a replacement that cannot succeed, retained leftovers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A section entry (`Outputs`, `Parameters`, `Conditions`, `Mappings`, …) added, removed or modified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionChange {
    /// `Outputs`, `Parameters`, `Conditions`, `Mappings`, or a top-level key (`Description`, `Transform`, …).
    pub section: String,
    /// Entry name (empty for a top-level key).
    pub name: String,
    /// What changed.
    #[serde(flatten)]
    pub delta: Delta,
}

/// Everything that differs between two templates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangeSet {
    /// Resources created, updated, replaced, renamed or deleted, by logical id.
    pub resources: Vec<ResourceChange>,
    /// Functions whose only change is a new bundle in `Code`: one line each.
    pub code: Vec<fold::CodeChange>,
    /// IAM and access changes, most severe first.
    pub security: Vec<SecurityChange>,
    /// Other sections.
    pub sections: Vec<SectionChange>,
}

/// Counts for a summary line or table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    /// Replacements, renames included.
    pub replace: usize,
    pub rename: usize,
    pub delete: usize,
    /// Functions with a new bundle only.
    pub code: usize,
    /// Entries in the security section.
    pub security: usize,
    /// Critical entries in the security section.
    pub critical: usize,
    /// Resources whose data is lost.
    pub data_loss: usize,
    /// Changed section entries (outputs, parameters, …).
    pub sections: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.create += o.create;
        self.update += o.update;
        self.replace += o.replace;
        self.rename += o.rename;
        self.delete += o.delete;
        self.code += o.code;
        self.security += o.security;
        self.critical += o.critical;
        self.data_loss += o.data_loss;
        self.sections += o.sections;
    }
}

impl ChangeSet {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.code.is_empty()
            && self.security.is_empty()
            && self.sections.is_empty()
    }

    /// How many of each.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.resources {
            match r.action {
                Action::Create => c.create += 1,
                Action::Update => c.update += 1,
                Action::Replace => c.replace += 1,
                Action::Rename => {
                    c.replace += 1;
                    c.rename += 1
                }
                Action::Delete => c.delete += 1,
            }
            if r.data_loss {
                c.data_loss += 1;
            }
        }
        c.code = self.code.len();
        c.security = self.security.len();
        c.critical = self
            .security
            .iter()
            .filter(|s| s.severity == Severity::Critical)
            .count();
        c.sections = self.sections.len();
        c
    }

    /// The change for a logical id (new id for renames).
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceChange> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }
}

/// Resource attributes compared besides `Properties` (`Metadata` is left out: tools write build details there).
pub const ATTRIBUTES: &[&str] = &[
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "UpdatePolicy",
    "UpdateReplacePolicy",
];

fn attributes(r: &RawResource) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    put("Condition", r.condition.clone().map(Value::from));
    put("CreationPolicy", r.creation_policy.clone());
    put("DeletionPolicy", r.deletion_policy.clone().map(Value::from));
    if !r.depends_on.is_empty() {
        // Order does not matter to CloudFormation.
        let set: BTreeSet<&String> = r.depends_on.iter().collect();
        put(
            "DependsOn",
            Some(Value::from(set.into_iter().cloned().collect::<Vec<_>>())),
        );
    }
    put("UpdatePolicy", r.update_policy.clone());
    put(
        "UpdateReplacePolicy",
        r.update_replace_policy.clone().map(Value::from),
    );
    m
}

/// Property and attribute changes between two versions of a resource, each marked with whether it forces
/// replacement according to `schema`.
fn property_changes(
    old: &RawResource,
    new: &RawResource,
    schema: Option<&replacement::TypeSchema>,
) -> Vec<PropertyChange> {
    let mut deltas = Vec::new();
    if old.properties != new.properties {
        value::diff_maps(
            &PropPath::default(),
            &old.properties,
            &new.properties,
            &mut deltas,
        );
    }
    let mut changes: Vec<PropertyChange> = deltas
        .into_iter()
        .map(|(path, delta)| {
            let replacement = match schema {
                None => Replacement::Unknown,
                Some(s) => path_replacement(s, &path, &old.properties, &new.properties),
            };
            PropertyChange {
                path,
                attribute: false,
                delta,
                replacement,
            }
        })
        .collect();
    // Attributes are compared whole: one line each.
    let (a, b) = (attributes(old), attributes(new));
    for name in ATTRIBUTES {
        let delta = match (a.get(*name), b.get(*name)) {
            (Some(x), Some(y)) if x != y => Delta::Modified {
                old: x.clone(),
                new: y.clone(),
            },
            (Some(x), None) => Delta::Removed { old: x.clone() },
            (None, Some(y)) => Delta::Added { new: y.clone() },
            _ => continue,
        };
        changes.push(PropertyChange {
            path: PropPath::key(name),
            attribute: true,
            delta,
            replacement: Replacement::Never,
        });
    }
    changes
}

/// Whether a change at `path` touches a create-only path whose value differs.
fn path_replacement(
    schema: &replacement::TypeSchema,
    path: &PropPath,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Replacement {
    let keys = path.keys();
    let touches = |p: &String| {
        let segs: Vec<&str> = p
            .split('/')
            .filter(|s| *s != "*" && s.parse::<usize>().is_err())
            .collect();
        let n = segs.len().min(keys.len());
        segs[..n] == keys[..n] && {
            let full: Vec<&str> = p.split('/').collect();
            replacement::values_at(old, &full) != replacement::values_at(new, &full)
        }
    };
    if schema.create_only.iter().any(touches) {
        Replacement::Always
    } else if schema.conditional.iter().any(touches) {
        Replacement::Conditional
    } else {
        Replacement::Never
    }
}

/// Logical ids only in `old` (removed) and only in `new` (added), each sorted.
pub(crate) fn removed_and_added<'t>(
    old: &'t RawTemplate,
    new: &'t RawTemplate,
) -> (Vec<&'t String>, Vec<&'t String>) {
    let only_in = |a: &'t RawTemplate, b: &RawTemplate| {
        a.resources
            .keys()
            .filter(|k| !b.resources.contains_key(*k))
            .collect::<Vec<_>>()
    };
    (only_in(old, new), only_in(new, old))
}

/// Compares two templates. `schemas` says which properties are create-only (usually [`Schemas::bundled`]).
pub fn diff(old: &RawTemplate, new: &RawTemplate, schemas: &Schemas) -> ChangeSet {
    let (removed, added) = removed_and_added(old, new);
    let renames = rename::find_renames(old, new, &removed, &added);
    let renamed_old: BTreeSet<&str> = renames.iter().map(|r| r.old.as_str()).collect();
    let renamed_new: BTreeMap<&str, &rename::Rename> =
        renames.iter().map(|r| (r.new.as_str(), r)).collect();

    let mut resources: Vec<ResourceChange> = Vec::new();
    let mut code = Vec::new();
    for (id, n) in &new.resources {
        let schema = schemas.get(&n.type_name);
        if let Some(o) = old.resources.get(id) {
            if o.type_name != n.type_name {
                // A new type under the same id: CloudFormation replaces it.
                resources.push(ResourceChange {
                    replaced_because: vec![format!("Type {} → {}", o.type_name, n.type_name)],
                    changes: property_changes(o, n, None),
                    ..change(id, n, Action::Replace, Replacement::Always)
                });
                continue;
            }
            let changes = property_changes(o, n, schema);
            if changes.is_empty() {
                continue;
            }
            if let Some(folded) = fold::code_only(id, n, &changes) {
                code.push(folded);
                continue;
            }
            let replacement = match schema {
                None => Replacement::Unknown,
                Some(_) => changes
                    .iter()
                    .map(|c| c.replacement)
                    .max()
                    .unwrap_or(Replacement::Never),
            };
            let mut replaced_because = Vec::new();
            if let Some(s) = schema {
                let (always, conditional) =
                    replacement::changed_create_only(s, &o.properties, &n.properties);
                replaced_because.extend(always.iter().map(|p| p.replace('/', ".")));
                replaced_because.extend(
                    conditional
                        .iter()
                        .map(|p| format!("{} (may replace)", p.replace('/', "."))),
                );
            }
            let action = if replacement >= Replacement::Conditional {
                Action::Replace
            } else {
                Action::Update
            };
            resources.push(ResourceChange {
                replaced_because,
                changes,
                ..change(id, n, action, replacement)
            });
        } else if let Some(r) = renamed_new.get(id.as_str()) {
            let o = &old.resources[&r.old];
            resources.push(ResourceChange {
                renamed_from: Some(r.old.clone()),
                similarity: Some((r.score * 100.0).round() / 100.0),
                replaced_because: vec![format!("logical id {} → {id}", r.old)],
                changes: property_changes(o, n, schema),
                ..change(id, n, Action::Rename, Replacement::Always)
            });
        } else {
            resources.push(change(id, n, Action::Create, Replacement::Never));
        }
    }
    for id in &removed {
        if !renamed_old.contains(id.as_str()) {
            resources.push(change(
                id,
                &old.resources[*id],
                Action::Delete,
                Replacement::Never,
            ));
        }
    }
    cascade(old, new, schemas, &mut resources, &mut code);
    for r in &mut resources {
        consequences(r, old, new, schemas);
        indexes::check(r, old, new);
    }
    resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    code.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    let security = security::analyze(old, new, &resources, &renames);
    ChangeSet {
        resources,
        code,
        security,
        sections: sections(old, new),
    }
}

fn change(id: &str, r: &RawResource, action: Action, replacement: Replacement) -> ResourceChange {
    ResourceChange {
        logical_id: id.to_owned(),
        renamed_from: None,
        similarity: None,
        type_name: r.type_name.clone(),
        action,
        replacement,
        replaced_because: Vec::new(),
        changes: Vec::new(),
        data_loss: false,
        warnings: Vec::new(),
    }
}

/// A resource whose create-only property refers to a replaced (or renamed) resource gets a new value there, so
/// it is replaced too; repeated until nothing more changes.
fn cascade(
    old: &RawTemplate,
    new: &RawTemplate,
    schemas: &Schemas,
    resources: &mut Vec<ResourceChange>,
    code: &mut Vec<fold::CodeChange>,
) {
    loop {
        let replaced: BTreeMap<String, Replacement> = resources
            .iter()
            .filter(|r| r.action == Action::Replace && r.replacement >= Replacement::Conditional)
            .map(|r| (r.logical_id.clone(), r.replacement))
            .collect();
        if replaced.is_empty() {
            return;
        }
        let mut grew = false;
        for (id, n) in &new.resources {
            let Some(schema) = schemas.get(&n.type_name) else {
                continue;
            };
            let Some(o) = old.resources.get(id) else {
                continue;
            };
            if o.type_name != n.type_name {
                continue;
            }
            let mut because = Vec::new();
            let mut level = Replacement::Never;
            for path in schema.create_only.iter().chain(&schema.conditional) {
                let segs: Vec<&str> = path.split('/').collect();
                let mut refs = Vec::new();
                for v in replacement::values_at(&n.properties, &segs) {
                    value::references(v, &mut refs);
                }
                for target in refs {
                    if target != *id
                        && let Some(&how) = replaced.get(&target)
                    {
                        let how = if schema.conditional.contains(path) {
                            Replacement::Conditional
                        } else {
                            how
                        };
                        level = level.max(how);
                        let reason = format!(
                            "{} refers to {target}, which is replaced",
                            path.replace('/', ".")
                        );
                        if !because.contains(&reason) {
                            because.push(reason);
                        }
                    }
                }
            }
            if level < Replacement::Conditional {
                continue;
            }
            match resources.iter_mut().find(|r| r.logical_id == *id) {
                Some(r)
                    if r.action == Action::Update
                        || (r.action == Action::Replace && r.replacement < level) =>
                {
                    r.action = Action::Replace;
                    r.replacement = level;
                    r.replaced_because.extend(because);
                    grew = true;
                }
                Some(_) => {}
                None => {
                    let mut r = change(id, n, Action::Replace, level);
                    r.replaced_because = because;
                    if let Some(pos) = code.iter().position(|c| c.logical_id == *id) {
                        code.remove(pos);
                        r.changes = property_changes(o, n, Some(schema));
                    }
                    resources.push(r);
                    grew = true;
                }
            }
        }
        if !grew {
            return;
        }
    }
}

/// Data loss, replacements that cannot succeed, and leftovers retained by policy.
fn consequences(r: &mut ResourceChange, old: &RawTemplate, new: &RawTemplate, schemas: &Schemas) {
    let old_id = r
        .renamed_from
        .clone()
        .unwrap_or_else(|| r.logical_id.clone());
    let o = old.resources.get(&old_id);
    let n = new.resources.get(&r.logical_id);
    let stateful = replacement::is_stateful(&r.type_name);
    let may = if r.replacement == Replacement::Conditional {
        "may "
    } else {
        ""
    };
    match r.action {
        Action::Delete if stateful => {
            let policy = o.and_then(|o| o.deletion_policy.as_deref());
            if replacement::retains(policy) {
                r.warnings.push(format!(
                    "removed from the stack but kept in the account (DeletionPolicy: {})",
                    policy.unwrap_or_default()
                ));
            } else {
                r.data_loss = true;
                r.warnings.push(format!(
                    "data loss: deleting {} deletes its data (DeletionPolicy: {})",
                    r.logical_id,
                    policy.unwrap_or("Delete, the default")
                ));
            }
        }
        Action::Replace | Action::Rename if stateful => {
            // A rename removes the old id, so its DeletionPolicy applies; a replacement uses UpdateReplacePolicy.
            let (attr, policy) = if r.action == Action::Rename {
                (
                    "DeletionPolicy",
                    o.and_then(|o| o.deletion_policy.as_deref()),
                )
            } else {
                (
                    "UpdateReplacePolicy",
                    n.and_then(|n| n.update_replace_policy.as_deref()),
                )
            };
            if replacement::retains(policy) {
                r.warnings.push(format!(
                    "the old resource is kept ({attr}: {}) but the new one {may}starts empty",
                    policy.unwrap_or_default()
                ));
            } else {
                r.data_loss = true;
                r.warnings.push(format!(
                    "data loss: replacing {} {} the old resource and its data ({attr}: {})",
                    r.logical_id,
                    if may.is_empty() {
                        "deletes"
                    } else {
                        "may delete"
                    },
                    policy.unwrap_or("Delete, the default")
                ));
            }
        }
        _ => {}
    }
    if matches!(r.action, Action::Replace | Action::Rename)
        && let (Some(o), Some(n), Some(schema)) = (o, n, schemas.get(&r.type_name))
    {
        for name in &schema.names {
            if let (Some(a), Some(b)) = (o.properties.get(name), n.properties.get(name))
                && a == b
            {
                r.warnings.push(format!(
                    "replacement {}: {name} stays {} and CloudFormation cannot replace a resource with a custom name; change {name} or remove it",
                    if may.is_empty() { "fails" } else { "may fail" },
                    value::show_short(b, 80)
                ));
            }
        }
    }
}

/// Changes in `Outputs`, `Parameters`, `Conditions`, `Mappings` and the other top-level keys.
fn sections(old: &RawTemplate, new: &RawTemplate) -> Vec<SectionChange> {
    let mut out = Vec::new();
    let named = [
        ("Parameters", &old.parameters, &new.parameters),
        ("Conditions", &old.conditions, &new.conditions),
        ("Mappings", &old.mappings, &new.mappings),
        ("Outputs", &old.outputs, &new.outputs),
    ];
    for (section, a, b) in named {
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let mut deltas = Vec::new();
            let path = PropPath::key(name);
            match (a.get(name), b.get(name)) {
                (Some(x), Some(y)) => value::diff_values(&path, x, y, &mut deltas),
                (Some(x), None) => deltas.push((path, Delta::Removed { old: x.clone() })),
                (None, Some(y)) => deltas.push((path, Delta::Added { new: y.clone() })),
                _ => {}
            }
            out.extend(deltas.into_iter().map(|(path, delta)| SectionChange {
                section: section.to_owned(),
                name: path.to_string(),
                delta,
            }));
        }
    }
    let skip = [
        "Resources",
        "Parameters",
        "Conditions",
        "Mappings",
        "Outputs",
        "Metadata",
    ];
    let empty = Map::new();
    let top_old = old.document.as_object().unwrap_or(&empty);
    let top_new = new.document.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = top_old
        .keys()
        .chain(top_new.keys())
        .filter(|k| !skip.contains(&k.as_str()))
        .collect();
    for key in keys {
        let delta = match (top_old.get(key), top_new.get(key)) {
            (Some(x), Some(y)) if x != y => Delta::Modified {
                old: x.clone(),
                new: y.clone(),
            },
            (Some(x), None) => Delta::Removed { old: x.clone() },
            (None, Some(y)) => Delta::Added { new: y.clone() },
            _ => continue,
        };
        out.push(SectionChange {
            section: key.clone(),
            name: String::new(),
            delta,
        });
    }
    out
}

/// One stack of a comparison: both sides, or one side only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackDiff {
    /// Stack name (folder name, or the file name without extension).
    pub name: String,
    /// `created` (new side only), `deleted` (old side only), `modified` or `unchanged`.
    pub status: StackStatus,
    /// Where the old side came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// Where the new side came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Counts over [`StackDiff::changes`].
    pub counts: Counts,
    /// The changes (a created stack: every resource created; a deleted one: every resource deleted).
    pub changes: ChangeSet,
}

/// Whether a stack exists on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StackStatus {
    Created,
    Deleted,
    Modified,
    Unchanged,
}

impl StackDiff {
    /// Compares one stack; `None` on one side means the stack exists only on the other.
    pub fn new(
        name: &str,
        old: Option<(&RawTemplate, String)>,
        new: Option<(&RawTemplate, String)>,
        schemas: &Schemas,
    ) -> StackDiff {
        let empty = RawTemplate::from_value(serde_json::json!({"Resources": {}}))
            .expect("an empty template");
        let changes = diff(
            old.as_ref().map_or(&empty, |o| o.0),
            new.as_ref().map_or(&empty, |n| n.0),
            schemas,
        );
        let status = match (&old, &new) {
            (None, _) => StackStatus::Created,
            (_, None) => StackStatus::Deleted,
            _ if changes.is_empty() => StackStatus::Unchanged,
            _ => StackStatus::Modified,
        };
        StackDiff {
            name: name.to_owned(),
            status,
            old: old.map(|o| o.1),
            new: new.map(|n| n.1),
            counts: changes.counts(),
            changes,
        }
    }
}

/// Every stack of a comparison, by name, with totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Version of this JSON shape; bumped on incompatible changes.
    pub version: u32,
    /// The stacks, by name.
    pub stacks: Vec<StackDiff>,
    /// Sums over the stacks.
    pub totals: Counts,
    /// Stacks created / deleted / modified.
    pub stacks_created: usize,
    pub stacks_deleted: usize,
    pub stacks_modified: usize,
}

impl DiffReport {
    /// Totals over `stacks` (sorted by name).
    pub fn new(mut stacks: Vec<StackDiff>) -> DiffReport {
        stacks.sort_by(|a, b| a.name.cmp(&b.name));
        let mut totals = Counts::default();
        for s in &stacks {
            totals += s.counts;
        }
        let count = |st: StackStatus| stacks.iter().filter(|s| s.status == st).count();
        DiffReport {
            version: 1,
            stacks_created: count(StackStatus::Created),
            stacks_deleted: count(StackStatus::Deleted),
            stacks_modified: count(StackStatus::Modified),
            stacks,
            totals,
        }
    }

    /// Whether nothing differs in any stack.
    pub fn is_empty(&self) -> bool {
        self.stacks
            .iter()
            .all(|s| s.status == StackStatus::Unchanged)
    }
}

/// What makes `--fail-on` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum FailOn {
    /// A resource is replaced (renames included; also "may be replaced").
    Replace,
    /// A resource is deleted (also the old side of a rename), a stack is deleted, or data is lost.
    Destroy,
    /// Any entry in the security section (IAM, invoke permissions, authorizers, route authorization).
    Iam,
    /// Any change at all.
    Any,
    /// Data would be lost: a stateful resource deleted or replaced without a retain policy (a narrower
    /// `destroy`).
    DataLoss,
    /// Access widens: a critical or widened entry in the security section (a narrower `iam`).
    Widened,
}

impl DiffReport {
    /// Why the report trips the gates in `on`: one line per stack and gate, empty when it passes.
    pub fn gate(&self, on: &[FailOn]) -> Vec<String> {
        let mut reasons = Vec::new();
        for s in &self.stacks {
            let c = &s.counts;
            for gate in on {
                let hit = match gate {
                    FailOn::Replace => {
                        (c.replace > 0).then(|| format!("{} resource(s) replaced", c.replace))
                    }
                    FailOn::Destroy => {
                        let n = c.delete + c.rename;
                        if s.status == StackStatus::Deleted {
                            Some("stack deleted".to_owned())
                        } else if n > 0 || c.data_loss > 0 {
                            Some(format!(
                                "{n} resource(s) deleted, data loss in {}",
                                c.data_loss
                            ))
                        } else {
                            None
                        }
                    }
                    FailOn::Iam => {
                        (c.security > 0).then(|| format!("{} security change(s)", c.security))
                    }
                    FailOn::Any => {
                        (s.status != StackStatus::Unchanged).then(|| "changed".to_owned())
                    }
                    FailOn::DataLoss => (c.data_loss > 0)
                        .then(|| format!("data loss in {} resource(s)", c.data_loss)),
                    FailOn::Widened => {
                        let n = s
                            .changes
                            .security
                            .iter()
                            .filter(|x| x.severity <= Severity::Widened)
                            .count();
                        (n > 0).then(|| {
                            format!("{n} change(s) widen access ({} critical)", c.critical)
                        })
                    }
                };
                if let Some(why) = hit {
                    let gate = clap::ValueEnum::to_possible_value(gate)
                        .map(|v| v.get_name().to_owned())
                        .unwrap_or_default();
                    reasons.push(format!("{}: --fail-on {gate}: {why}", s.name));
                }
            }
        }
        reasons
    }
}
