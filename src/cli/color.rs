//! Colour for human output, honouring `--color` and `NO_COLOR`.

use crate::check::{Finding, Severity};
use std::io::IsTerminal;

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// When writing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Applies ANSI styles, or not.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Decides for standard error.
    pub fn for_stderr(when: When) -> Self {
        Self::decide(when, std::io::stderr().is_terminal())
    }

    /// Decides for standard output.
    pub fn for_stdout(when: When) -> Self {
        Self::decide(when, std::io::stdout().is_terminal())
    }

    fn decide(when: When, terminal: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            enabled: match when {
                When::Always => true,
                When::Never => false,
                When::Auto => terminal && !no_color,
            },
        }
    }

    /// Whether styles are applied.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn style(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Red, bold.
    pub fn error(&self, text: &str) -> String {
        self.style("1;31", text)
    }

    /// Yellow, bold.
    pub fn warning(&self, text: &str) -> String {
        self.style("1;33", text)
    }

    /// Cyan.
    pub fn info(&self, text: &str) -> String {
        self.style("36", text)
    }

    /// Green.
    pub fn good(&self, text: &str) -> String {
        self.style("32", text)
    }

    /// Bold.
    pub fn bold(&self, text: &str) -> String {
        self.style("1", text)
    }

    /// A finding, its severity coloured.
    pub fn finding(&self, origin: &str, f: &Finding) -> String {
        let severity = f.severity.to_string();
        let label = match f.severity {
            Severity::Error => self.error(&severity),
            Severity::Warning => self.warning(&severity),
            Severity::Info => self.info(&severity),
        };
        let resource = f
            .resource
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        format!("{label}[{}] {origin}{resource}: {}", f.rule, f.message)
    }

    /// A multi-line error report: `error:` prefixes coloured.
    pub fn errors(&self, text: &str) -> String {
        text.replace("error: ", &format!("{} ", self.error("error:")))
    }
}
