//! The short human summary written beside each template (`summary.txt`),
//! rendered with handlebars from `templates/summary.txt.hbs`.

use crate::model::{ConnectionsAccess, Function, Grant, TableAccess, TableSource};
use crate::pipeline::Synthesized;
use crate::synth::functions_logical_id;
use handlebars::Handlebars;
use serde_json::json;

const TEMPLATE: &str = include_str!("../templates/summary.txt.hbs");

/// Renders the summary of one synthesized stack.
pub fn render(s: &Synthesized) -> String {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    let m = &s.model;
    let data = json!({
        "stack_name": m.stack_name,
        "stage": m.stage.name,
        "origin": s.file.file_name().map(|n| n.to_string_lossy().into_owned()),
        "folder": s.name,
        "template_file": s.template_file(),
        "bytes": s.text.len(),
        "resource_count": s.template.resources.len(),
        "authorizer": m.api.authorizer().map(|a| json!({
            "function": a.function,
            "issuer": a.issuer,
            "token_source": a.identity_source.first(),
        })),
        "routes": m.api.all_routes().map(|(r, a)| json!({
            "key": r.key.as_str(), "function": r.function, "authorizer": a.is_some(), "two_way": r.two_way,
        })).collect::<Vec<_>>(),
        "functions": m.functions.iter().map(|f| json!({
            "logical_id": functions_logical_id(f),
            "settings": format!("{}, {} MB, {} s, logs kept {} days{}", f.architecture.as_str(), f.memory, f.timeout, f.log_retention_days, if f.tracing { ", traced" } else { "" }),
            "grants": grants_text(f),
            "bundle_key": f.bundle_key,
        })).collect::<Vec<_>>(),
        "registry": json!({
            "indexes": m.registry.indexes.iter().map(|i| format!("{} ({})", i.key, i.index)).collect::<Vec<_>>().join(", "),
            "retain": m.registry.retain,
        }),
        "tables": m.tables.iter().map(|t| json!({
            "name": t.name,
            "source": match &t.source {
                TableSource::Created(_) => "created by the stack".to_string(),
                TableSource::Existing { name, .. } => format!("existing table `{name}`"),
            },
            "retain": matches!(&t.source, TableSource::Created(c) if c.retain),
        })).collect::<Vec<_>>(),
        "findings": s.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
    });
    hb.render_template(TEMPLATE, &data)
        .expect("the summary template renders every synthesized stack")
}

/// `messages readwrite, connections read, connections send` — the grants in one line.
fn grants_text(f: &Function) -> String {
    let parts: Vec<String> = f
        .grants
        .iter()
        .map(|g| match g {
            Grant::Connections(a) => format!(
                "connections {}",
                match a {
                    ConnectionsAccess::Read => "read",
                    ConnectionsAccess::Write => "write",
                    ConnectionsAccess::Send => "send",
                }
            ),
            Grant::Table { table, access } => format!(
                "{table} {}",
                match access {
                    TableAccess::Read => "read",
                    TableAccess::Write => "write",
                    TableAccess::Readwrite => "readwrite",
                }
            ),
            Grant::Index { table, index } => format!("{table}/{index} read"),
            Grant::Parameter(p) => format!("parameter {p}"),
            Grant::Secret(s) => format!("secret {s}"),
        })
        .collect();
    if parts.is_empty() {
        "no grants".to_string()
    } else {
        parts.join(", ")
    }
}
