//! `sockstack graph`: the architecture of one stack, drawn from the model (client → API → routes → functions
//! → tables, the authorizer on `$connect`, functions that push back through `@connections`), rendered with
//! handlebars from `templates/graph.mermaid.hbs` or `templates/graph.dot.hbs`. For PR descriptions and the
//! README: GitHub renders Mermaid in Markdown; Graphviz renders DOT (`dot -Tsvg`).

use crate::model::{ConnectionsAccess, Grant, Model, TableAccess, TableSource};
use handlebars::Handlebars;
use serde::Serialize;

/// The Mermaid template, compiled into the binary.
pub const MERMAID: &str = include_str!("../templates/graph.mermaid.hbs");
/// The DOT template, compiled into the binary.
pub const DOT: &str = include_str!("../templates/graph.dot.hbs");

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (GitHub renders it in Markdown inside a ```mermaid block).
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

#[derive(Serialize)]
struct View {
    stack: String,
    api: String,
    stage: String,
    authorizer: Option<AuthorizerView>,
    routes: Vec<RouteView>,
    functions: Vec<Node>,
    tables: Vec<Node>,
    uses: Vec<Edge>,
    posts: Vec<String>,
}

#[derive(Serialize)]
struct Node {
    id: String,
    label: String,
}

#[derive(Serialize)]
struct AuthorizerView {
    id: String,
    label: String,
    function: String,
}

#[derive(Serialize)]
struct RouteView {
    id: String,
    key: String,
    function: String,
    two_way: bool,
    authorized: bool,
}

#[derive(Serialize)]
struct Edge {
    from: String,
    to: String,
    label: String,
}

/// A node id: letters, digits and `_` only.
fn id(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{}", clean.trim_matches('_'))
}

/// Escapes a label for both formats (inside double quotes): no quotes, no angle brackets.
fn label(text: &str) -> String {
    text.replace('"', "'").replace('<', "‹").replace('>', "›")
}

fn view(model: &Model) -> View {
    let authorizer = model.api.authorizer().map(|a| AuthorizerView {
        id: "authorizer".into(),
        label: label(&format!(
            "JWT authorizer\\ntoken from {}",
            a.identity_source.first().map(String::as_str).unwrap_or("?")
        )),
        function: id("fn", &a.function),
    });
    let routes = model
        .api
        .all_routes()
        .map(|(r, a)| RouteView {
            id: id("route", r.key.as_str().trim_start_matches('$')),
            key: label(r.key.as_str()),
            function: id("fn", &r.function),
            two_way: r.two_way,
            authorized: a.is_some(),
        })
        .collect();
    let functions: Vec<Node> = model
        .functions
        .iter()
        .map(|f| Node {
            id: id("fn", &f.name),
            label: label(&format!(
                "λ {}\\n{} MB, {}",
                f.name,
                f.memory,
                f.architecture.as_str()
            )),
        })
        .collect();
    let registry_id = id("table", "connections registry");
    let mut tables = vec![Node {
        id: registry_id.clone(),
        label: label(&format!(
            "connection registry{}",
            if model.registry.retain {
                "\\n(retained)"
            } else {
                ""
            }
        )),
    }];
    tables.extend(model.tables.iter().map(|t| Node {
        id: id("table", &t.name),
        label: label(&match &t.source {
            TableSource::Created(c) => format!(
                "{} table{}",
                t.name,
                if c.retain { "\\n(retained)" } else { "" }
            ),
            TableSource::Existing { name, .. } => format!("{} table\\nexisting: {name}", t.name),
        }),
    }));
    let mut uses = Vec::new();
    let mut posts = Vec::new();
    for f in &model.functions {
        let mut registry: Vec<&str> = Vec::new();
        let mut by_table: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for g in &f.grants {
            match g {
                Grant::Connections(a) => registry.push(match a {
                    ConnectionsAccess::Read => "read",
                    ConnectionsAccess::Write => "write",
                    ConnectionsAccess::Send => "send",
                }),
                Grant::Table { table, access } => {
                    by_table.entry(table).or_default().push(match access {
                        TableAccess::Read => "read",
                        TableAccess::Write => "write",
                        TableAccess::Readwrite => "read, write",
                    })
                }
                Grant::Index { table, .. } => {
                    by_table.entry(table).or_default().push("query index")
                }
                Grant::Parameter(_) | Grant::Secret(_) => {}
            }
        }
        if !registry.is_empty() {
            uses.push(Edge {
                from: id("fn", &f.name),
                to: registry_id.clone(),
                label: label(&registry.join(", ")),
            });
        }
        for (table, what) in by_table {
            uses.push(Edge {
                from: id("fn", &f.name),
                to: id("table", table),
                label: label(&what.join(", ")),
            });
        }
        if f.has_connections(ConnectionsAccess::Send) {
            posts.push(id("fn", &f.name));
        }
    }
    View {
        stack: label(&model.stack_name),
        api: label(&model.api.name),
        stage: label(&model.stage.name),
        authorizer,
        routes,
        functions,
        tables,
        uses,
        posts,
    }
}

/// Draws the model's architecture.
pub fn render(model: &Model, format: GraphFormat) -> String {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_template_string("mermaid", MERMAID)
        .expect("templates/graph.mermaid.hbs compiles");
    hb.register_template_string("dot", DOT)
        .expect("templates/graph.dot.hbs compiles");
    let name = match format {
        GraphFormat::Mermaid => "mermaid",
        GraphFormat::Dot => "dot",
    };
    let text = hb
        .render(name, &view(model))
        .expect("the graph template renders");
    match format {
        // Mermaid wants <br/> for a line break inside a label.
        GraphFormat::Mermaid => text.replace("\\n", "<br/>"),
        GraphFormat::Dot => text,
    }
}
