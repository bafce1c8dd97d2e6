//! The terminal report: a tree like `terraform plan`, one block per stack.
//!
//! ```text
//! stack chat (modified): 1 to update, 1 to replace (1 renamed), 1 new bundle
//!   ~ ConnectFunction (AWS::Lambda::Function)
//!       ~ MemorySize: 128 → 256
//!   -/+ PostRoute (AWS::ApiGatewayV2::Route) — renamed from SendRoute (similarity 0.75): …
//!       ~ RouteKey: "send" → "post"
//!   ~ code NotifyFunction: S3Key "notify-1a2b.zip" → "notify-3c4d.zip"
//!   security:
//!   !! critical ConnectRoute: $connect no longer requires authorization: anyone can open a connection
//! ```

use super::{count_line, headline, property_line, section_line, status_label, totals_line};
use crate::diff::value::show_short;
use crate::diff::{Action, DiffReport, Severity, StackStatus};
use std::fmt::Write;

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Whether to write escape codes.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn by_marker(&self, line: &str) -> String {
        let code = if line.starts_with("-/+") {
            "35"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with('~') {
            "33"
        } else {
            return line.to_owned();
        };
        self.paint(code, line)
    }
}

/// Renders the report for a terminal.
pub fn render(report: &DiffReport, style: Style) -> String {
    let mut out = String::new();
    for stack in &report.stacks {
        let title = format!("stack {} ({})", stack.name, status_label(stack.status));
        let _ = writeln!(
            out,
            "{}: {}",
            style.paint("1", &title),
            count_line(&stack.counts)
        );
        if stack.status == StackStatus::Unchanged {
            continue;
        }
        let changes = &stack.changes;
        for r in &changes.resources {
            let _ = writeln!(out, "  {}", style.by_marker(&headline(r)));
            for w in &r.warnings {
                let code = if r.data_loss || w.contains("fails") {
                    "1;31"
                } else {
                    "33"
                };
                let _ = writeln!(out, "      {}", style.paint(code, &format!("! {w}")));
            }
            if matches!(r.action, Action::Create | Action::Delete) {
                continue;
            }
            for c in &r.changes {
                let _ = writeln!(out, "      {}", style.by_marker(&property_line(c)));
            }
        }
        for c in &changes.code {
            let keys: Vec<String> = c
                .new
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k} {} → {}", show_short(&c.old[k], 60), show_short(v, 60)))
                .collect();
            let line = format!("~ code {}: {}", c.logical_id, keys.join(", "));
            let _ = writeln!(out, "  {}", style.paint("2;33", &line));
        }
        for s in &changes.sections {
            let _ = writeln!(out, "  {}", style.by_marker(&section_line(s)));
        }
        if !changes.security.is_empty() {
            let _ = writeln!(out, "  {}", style.paint("1", "security:"));
            for s in &changes.security {
                let (mark, code) = match s.severity {
                    Severity::Critical => ("!!", "1;31"),
                    Severity::Widened => ("▲ ", "33"),
                    Severity::Changed => ("~ ", "36"),
                    Severity::Narrowed => ("▼ ", "32"),
                };
                let line = format!(
                    "{mark} {} {} ({}): {}",
                    s.severity.label(),
                    s.logical_id,
                    s.type_name,
                    s.summary
                );
                let _ = writeln!(out, "  {}", style.paint(code, &line));
                for d in &s.details {
                    let _ = writeln!(out, "        {d}");
                }
            }
        }
    }
    let _ = writeln!(out, "{}", style.paint("1", &totals_line(report)));
    out
}
