//! The short human summary written beside each template (`summary.txt`),
//! rendered with handlebars from `templates/summary.txt.hbs`.

use crate::model::TableSource;
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
    let first = m.functions.first();
    let data = json!({
        "stack_name": m.stack_name,
        "stage": m.stage.name,
        "origin": s.file.file_name().map(|n| n.to_string_lossy().into_owned()),
        "folder": s.name,
        "template_file": s.template_file(),
        "bytes": s.text.len(),
        "resource_count": s.template.resources.len(),
        "authorizer": m.api.authorizer().map(|a| json!({
            "handler": a.handler,
            "issuer": a.issuer,
            "token_source": a.identity_source.first(),
        })),
        "routes": m.api.all_routes().map(|(r, a)| json!({
            "key": r.key, "handler": r.handler, "authorizer": a.is_some(), "two_way": r.two_way,
        })).collect::<Vec<_>>(),
        "architecture": first.map(|f| f.architecture.as_str()),
        "memory": first.map(|f| f.memory),
        "timeout": first.map(|f| f.timeout),
        "log_retention_days": first.map(|f| f.log_retention_days),
        "functions": m.functions.iter().map(|f| json!({
            "logical_id": functions_logical_id(f), "profile": f.profile.name(), "bundle_key": f.bundle_key,
        })).collect::<Vec<_>>(),
        "tables": m.tables.iter().map(|t| json!({
            "name": t.table.name(),
            "source": match &t.source {
                TableSource::Created => "created by the stack".to_string(),
                TableSource::Existing(name) => format!("existing table `{name}`"),
            },
            "retain": t.retain && t.source == TableSource::Created,
        })).collect::<Vec<_>>(),
        "findings": s.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
    });
    hb.render_template(TEMPLATE, &data)
        .expect("the summary template renders every synthesized stack")
}
