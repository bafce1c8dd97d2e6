//! The Markdown report, for a pull-request comment: rendered with handlebars from `templates/diff.md.hbs`.
//! A summary table first, then per stack the security entries, a resource table, and the property details in
//! collapsible sections. Kept under GitHub's 65,536-character comment limit: when the full report is longer,
//! the property details are left out, then the resource rows and security details are cut per stack, and a
//! truncation note says so.

use super::{count_line, headline, notes, property_line, section_line, status_label, totals_line};
use crate::diff::rename::RENAME_THRESHOLD;
use crate::diff::value::show_short;
use crate::diff::{Action, DiffReport, Severity, StackDiff, StackStatus};
use handlebars::Handlebars;
use serde::Serialize;

/// The template, compiled into the binary.
pub const TEMPLATE: &str = include_str!("../../../templates/diff.md.hbs");

/// GitHub's limit for a comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

#[derive(Serialize)]
struct View {
    empty: bool,
    stack_count: usize,
    totals_line: String,
    rows: Vec<Row>,
    critical: usize,
    data_loss: usize,
    stacks: Vec<StackView>,
    truncated: Option<String>,
    threshold: String,
}

#[derive(Serialize)]
struct Row {
    name: String,
    status: &'static str,
    create: usize,
    update: usize,
    replace: usize,
    delete: usize,
    code: usize,
    security: String,
    data_loss: usize,
}

#[derive(Serialize)]
struct StackView {
    name: String,
    status: &'static str,
    counts_line: String,
    security: Vec<SecurityView>,
    resources: Vec<ResourceRow>,
    hidden_resources: usize,
    code: Vec<String>,
    code_count: usize,
    details: String,
    sections: String,
}

#[derive(Serialize)]
struct SecurityView {
    icon: &'static str,
    label: &'static str,
    id: String,
    type_name: String,
    summary: String,
    details: Vec<String>,
}

#[derive(Serialize)]
struct ResourceRow {
    marker: &'static str,
    id: String,
    type_name: String,
    notes: String,
}

/// How much to show.
#[derive(Clone, Copy)]
struct Budget {
    details: bool,
    max_rows: usize,
}

/// Escapes text for a Markdown table cell or list item (no HTML, no pipes, one line).
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// Text inside an inline code span: one line, no backticks, pipes escaped (GitHub tables split on them).
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// Text inside a fenced block: no closing fence.
fn fenced(text: &str) -> String {
    text.replace("```", "'''")
}

fn stack_view(stack: &StackDiff, budget: Budget) -> StackView {
    let c = &stack.changes;
    let security = c
        .security
        .iter()
        .map(|s| SecurityView {
            icon: match s.severity {
                Severity::Critical => "🛑",
                Severity::Widened => "🔺",
                Severity::Changed => "🔸",
                Severity::Narrowed => "🔻",
            },
            label: s.severity.label(),
            id: code(&s.logical_id),
            type_name: cell(&s.type_name),
            summary: cell(&s.summary),
            details: s
                .details
                .iter()
                .take(budget.max_rows)
                .map(|d| code(d))
                .collect(),
        })
        .collect();
    let resources: Vec<ResourceRow> = c
        .resources
        .iter()
        .take(budget.max_rows)
        .map(|r| {
            let mut text = notes(r).unwrap_or_else(|| {
                // An update: which properties change.
                let mut paths: Vec<String> = r.changes.iter().map(|c| c.path.to_string()).collect();
                paths.dedup();
                let more = paths.len().saturating_sub(4);
                paths.truncate(4);
                let mut s = paths.join(", ");
                if more > 0 {
                    s.push_str(&format!(" and {more} more"));
                }
                s
            });
            for w in &r.warnings {
                if !text.is_empty() {
                    text.push_str("<br>");
                }
                text.push_str(&format!("⚠️ {}", cell(w)));
            }
            ResourceRow {
                marker: r.action.marker(),
                id: code(&r.logical_id),
                type_name: code(&r.type_name),
                notes: if r.warnings.is_empty() {
                    cell(&text)
                } else {
                    text
                },
            }
        })
        .collect();
    let mut details = String::new();
    if budget.details {
        for r in c
            .resources
            .iter()
            .filter(|r| matches!(r.action, Action::Update | Action::Replace | Action::Rename))
        {
            if r.changes.is_empty() {
                continue;
            }
            details.push_str(&headline(r));
            details.push('\n');
            for ch in &r.changes {
                details.push_str("    ");
                details.push_str(&property_line(ch));
                details.push('\n');
            }
        }
    }
    let mut sections = String::new();
    for s in &c.sections {
        sections.push_str(&section_line(s));
        sections.push('\n');
    }
    let code_lines = c
        .code
        .iter()
        .map(|f| {
            let keys: Vec<String> = f
                .new
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k} {} → {}", show_short(&f.old[k], 60), show_short(v, 60)))
                .collect();
            code(&format!("{}: {}", f.logical_id, keys.join(", ")))
        })
        .collect();
    StackView {
        name: code(&stack.name),
        status: status_label(stack.status),
        counts_line: cell(&count_line(&stack.counts)),
        security,
        hidden_resources: c.resources.len().saturating_sub(budget.max_rows),
        resources,
        code_count: c.code.len(),
        code: code_lines,
        details: fenced(details.trim_end()),
        sections: fenced(sections.trim_end()),
    }
}

fn view(report: &DiffReport, budget: Budget, truncated: Option<String>) -> View {
    View {
        empty: report.is_empty(),
        stack_count: report.stacks.len(),
        totals_line: cell(&totals_line(report)),
        rows: report
            .stacks
            .iter()
            .map(|s| Row {
                name: code(&s.name),
                status: status_label(s.status),
                create: s.counts.create,
                update: s.counts.update,
                replace: s.counts.replace,
                delete: s.counts.delete,
                code: s.counts.code,
                security: if s.counts.critical > 0 {
                    format!("{} (**{} critical**)", s.counts.security, s.counts.critical)
                } else {
                    s.counts.security.to_string()
                },
                data_loss: s.counts.data_loss,
            })
            .collect(),
        critical: report.totals.critical,
        data_loss: report.totals.data_loss,
        stacks: report
            .stacks
            .iter()
            .filter(|s| s.status != StackStatus::Unchanged)
            .map(|s| stack_view(s, budget))
            .collect(),
        truncated,
        threshold: format!("{RENAME_THRESHOLD}"),
    }
}

/// The compiled template (compiled once per process).
fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: std::sync::OnceLock<Handlebars<'static>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_template_string("diff", TEMPLATE)
            .expect("templates/diff.md.hbs compiles");
        hb
    })
}

/// Renders the report as Markdown no longer than `limit` characters (use [`GITHUB_COMMENT_LIMIT`]).
pub fn render_limited(report: &DiffReport, limit: usize) -> String {
    let hb = registry();
    let render = |budget: Budget, note: Option<String>| -> String {
        hb.render("diff", &view(report, budget, note))
            .expect("the diff template renders")
    };
    let fits = |s: &String| s.chars().count() <= limit;
    let most = report
        .stacks
        .iter()
        .map(|s| s.changes.resources.len())
        .max()
        .unwrap_or(0);
    let full = render(
        Budget {
            details: true,
            max_rows: usize::MAX,
        },
        None,
    );
    if fits(&full) {
        return full;
    }
    let note =
        "property details are left out to stay under GitHub's 65,536-character comment limit; \
                run `sockstack diff` locally or use `--format json` for everything."
            .to_owned();
    let without_details = render(
        Budget {
            details: false,
            max_rows: usize::MAX,
        },
        Some(note),
    );
    if fits(&without_details) {
        return without_details;
    }
    // Largest number of rows per stack that fits.
    let (mut lo, mut hi) = (0usize, most);
    let note_for = |rows: usize| {
        format!(
            "property details are left out and each stack shows at most {rows} resource(s) and {rows} detail \
             line(s) per security entry, to stay under GitHub's 65,536-character comment limit; run \
             `sockstack diff` locally or use `--format json` for everything."
        )
    };
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(&render(
            Budget {
                details: false,
                max_rows: mid,
            },
            Some(note_for(mid)),
        )) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let out = render(
        Budget {
            details: false,
            max_rows: lo,
        },
        Some(note_for(lo)),
    );
    if fits(&out) {
        out
    } else {
        // Even the summary does not fit (thousands of stacks): cut the text itself.
        let mut cut: String = out.chars().take(limit.saturating_sub(200)).collect();
        cut.push_str(
            "\n\n> [!NOTE]\n> **Truncated:** the report was cut at GitHub's comment limit.\n",
        );
        cut
    }
}

/// Renders the report as Markdown under GitHub's comment limit.
pub fn render(report: &DiffReport) -> String {
    render_limited(report, GITHUB_COMMENT_LIMIT - 536)
}
