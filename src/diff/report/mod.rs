//! Reports of a [`DiffReport`]: [`terminal`] (a tree like `terraform plan`), [`markdown`] (a PR comment, from
//! `templates/diff.md.hbs`) and [`json`] (stable, documented shape). The lines below are shared.

pub mod json;
pub mod markdown;
pub mod terminal;

use super::value::{Delta, show_pair, show_short};
use super::{Action, Counts, DiffReport, PropertyChange, Replacement, ResourceChange, StackStatus};

/// Longest rendering of one value in a line.
pub const VALUE_WIDTH: usize = 120;

/// `-/+ PostRoute (AWS::ApiGatewayV2::Route) renamed from SendRoute (similarity 0.75); replace: …`
pub fn headline(r: &ResourceChange) -> String {
    let mut s = format!("{} {} ({})", r.action.marker(), r.logical_id, r.type_name);
    if let Some(notes) = notes(r) {
        s.push_str(" — ");
        s.push_str(&notes);
    }
    s
}

/// What the action means, for a headline or a table cell: `replace (KeySchema)`, `renamed from X`, ….
pub fn notes(r: &ResourceChange) -> Option<String> {
    let mut parts = Vec::new();
    match r.action {
        Action::Rename => parts.push(format!(
            "renamed from {} (similarity {:.2}): created anew, old one deleted",
            r.renamed_from.as_deref().unwrap_or("?"),
            r.similarity.unwrap_or(0.0)
        )),
        Action::Replace => {
            let verb = if r.replacement == Replacement::Conditional {
                "may be replaced"
            } else {
                "replaced"
            };
            parts.push(format!("{verb}: {}", r.replaced_because.join("; ")));
        }
        Action::Update if r.replacement == Replacement::Unknown => {
            parts.push("replacement not predicted (type not in data/create-only.json)".into())
        }
        _ => {}
    }
    if r.data_loss {
        parts.push("DATA LOSS".into());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// One line per property change: `~ MemorySize: 128 → 256`, `+ Tags[Key=owner]: {…}`, with
/// `(forces replacement)` where it does.
pub fn property_line(c: &PropertyChange) -> String {
    let what = match &c.delta {
        Delta::Added { new } => format!("+ {}: {}", c.path, show_short(new, VALUE_WIDTH)),
        Delta::Removed { old } => format!("- {}: {}", c.path, show_short(old, VALUE_WIDTH)),
        Delta::Modified { old, new } => {
            format!("~ {}: {}", c.path, show_pair(old, new, VALUE_WIDTH))
        }
    };
    match c.replacement {
        Replacement::Always => format!("{what}  (forces replacement)"),
        Replacement::Conditional => format!("{what}  (may force replacement)"),
        _ => what,
    }
}

/// One line for a section change: `~ Outputs.StageName.Value: "dev" → "prod"`.
pub fn section_line(s: &super::SectionChange) -> String {
    let name = if s.name.is_empty() {
        s.section.clone()
    } else {
        format!("{}.{}", s.section, s.name)
    };
    match &s.delta {
        Delta::Added { new } => format!("+ {name}: {}", show_short(new, VALUE_WIDTH)),
        Delta::Removed { old } => format!("- {name}: {}", show_short(old, VALUE_WIDTH)),
        Delta::Modified { old, new } => format!("~ {name}: {}", show_pair(old, new, VALUE_WIDTH)),
    }
}

/// `1 to create, 2 to update, 1 to replace (1 rename), 1 to delete, 3 new bundles`, or `no changes`.
pub fn count_line(c: &Counts) -> String {
    let mut parts = Vec::new();
    let mut put = |n: usize, text: &str| {
        if n > 0 {
            parts.push(format!("{n} {text}"));
        }
    };
    put(c.create, "to create");
    put(c.update, "to update");
    if c.replace > 0 {
        parts.push(if c.rename > 0 {
            format!("{} to replace ({} renamed)", c.replace, c.rename)
        } else {
            format!("{} to replace", c.replace)
        });
    }
    let mut put = |n: usize, text: &str| {
        if n > 0 {
            parts.push(format!("{n} {text}"));
        }
    };
    put(c.delete, "to delete");
    put(
        c.code,
        if c.code == 1 {
            "new bundle"
        } else {
            "new bundles"
        },
    );
    put(
        c.sections,
        if c.sections == 1 {
            "output/parameter change"
        } else {
            "output/parameter changes"
        },
    );
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}

/// `created`, `deleted`, `modified`, `unchanged`.
pub fn status_label(s: StackStatus) -> &'static str {
    match s {
        StackStatus::Created => "created",
        StackStatus::Deleted => "deleted",
        StackStatus::Modified => "modified",
        StackStatus::Unchanged => "unchanged",
    }
}

/// The last line: totals over every stack.
pub fn totals_line(report: &DiffReport) -> String {
    let mut s = format!("{} stack(s)", report.stacks.len());
    let mut extra = Vec::new();
    if report.stacks_created > 0 {
        extra.push(format!("{} created", report.stacks_created));
    }
    if report.stacks_deleted > 0 {
        extra.push(format!("{} deleted", report.stacks_deleted));
    }
    if report.stacks_modified > 0 {
        extra.push(format!("{} modified", report.stacks_modified));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s.push_str(": ");
    s.push_str(&count_line(&report.totals));
    if report.totals.security > 0 {
        s.push_str(&format!(
            "; {} security change(s){}",
            report.totals.security,
            if report.totals.critical > 0 {
                format!(", {} critical", report.totals.critical)
            } else {
                String::new()
            }
        ));
    }
    if report.totals.data_loss > 0 {
        s.push_str(&format!(
            "; data loss in {} resource(s)",
            report.totals.data_loss
        ));
    }
    s
}
