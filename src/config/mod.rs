//! Reading stack files: parse (serde, unknown fields rejected), validate, and
//! report every problem with the file, line and column and what was expected.

pub mod locate;
pub mod schema;
pub mod shape;
pub mod shapes;
pub mod show;
pub mod stack;
pub mod tree;

pub use locate::Position;
pub use stack::StackFile;

use crate::input;
use locate::Locations;
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a stack file, located.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The stack file.
    pub file: PathBuf,
    /// Where in it (none for a problem of the whole file, such as one that cannot be read).
    pub position: Option<Position>,
    /// Path of the offending key or value (`routes[2].handler`), when known.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What was expected instead.
    pub expected: Option<String>,
    /// The source line, for display.
    pub line_text: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(f, ": ")?;
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            write!(f, "{}: ", show::message(path))?;
        }
        write!(f, "{}", show::message(&self.message))?;
        if let Some(expected) = &self.expected {
            write!(f, "\n  expected: {}", show::message(expected))?;
        }
        if let (Some(line), Some(position)) = (&self.line_text, self.position) {
            let (text, column) = show::source_line(line, position.column);
            let number = position.line.to_string();
            let pad = " ".repeat(number.len());
            let caret = " ".repeat(column.saturating_sub(1));
            write!(f, "\n  {pad} |\n  {number} | {text}\n  {pad} | {caret}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one stack file (at least one).
#[derive(Debug, Clone)]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// Most problems of one file printed; the rest are counted.
pub const SHOWN_PROBLEMS: usize = 50;

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().take(SHOWN_PROBLEMS).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {e}")?;
        }
        if let Some(more) = self.0.len().checked_sub(SHOWN_PROBLEMS).filter(|n| *n > 0) {
            let file = self.0[0].file.display();
            write!(f, "\n… and {more} more problems in {file}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn error_at(
    file: &Path,
    text: &str,
    position: Position,
    path: Option<String>,
    message: String,
    expected: Option<String>,
) -> ConfigError {
    let line_text = text
        .lines()
        .nth(position.line.saturating_sub(1))
        .map(str::to_string);
    ConfigError {
        file: file.to_path_buf(),
        position: Some(position),
        path,
        message,
        expected,
        line_text,
    }
}

/// Parses stack-file text (`file` is only used in errors), reporting every problem of its
/// shape at once: duplicate keys, YAML tags, unknown fields, wrong types, unknown values and
/// missing fields, each located ([`shape`]). Line breaks may be LF, CRLF or a lone CR.
pub fn parse(file: &Path, text: &str) -> Result<StackFile, ConfigErrors> {
    let text = &normalize_newlines(text);
    let has_content = text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && l != "---"
    });
    if !has_content {
        return Err(ConfigErrors(vec![error_at(
            file,
            text,
            Position::START,
            None,
            "the stack file is empty".into(),
            Some("a stack definition with at least `version: 2`, `stack`, `stage`, `functions` and `routes` (see `sockstack schema`)".into()),
        )]));
    }
    if !has_version(text) {
        return Err(ConfigErrors(vec![error_at(
            file,
            text,
            Position::START,
            None,
            "this stack file has no `version`: it is format 1, which this sockstack no longer reads".into(),
            Some(FORMAT_1_CHANGES.into()),
        )]));
    }
    if let Some(doc) = tree::parse(text) {
        let found = shape::check(schema::value(), &doc);
        if !found.is_empty() {
            let mut errors: Vec<ConfigError> = found
                .into_iter()
                .map(|f| error_at(file, text, f.at, Some(f.path), f.message, Some(f.expected)))
                .collect();
            errors.sort_by_key(|e| e.position);
            return Err(ConfigErrors(errors));
        }
    }
    // What the shape check does not see (it reads only part of the schema) serde still refuses.
    serde_yaml::from_str::<StackFile>(text).map_err(|e| {
        let mut position = e
            .location()
            .map(|l| Position {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or(Position::START);
        let (message, mut expected) = split_serde_message(&e.to_string());
        if let Some((path, field)) = field_in(&message, "duplicate field `") {
            // serde points at the mapping; point at the repeated key instead.
            let full = locate::child(path, field);
            if let Some(at) = Locations::index(text).repeated_key(&full) {
                position = at;
            }
            expected = Some(format!("`{field}` once in this mapping"));
        } else if let Some((path, function)) = field_in(&message, "duplicate function `") {
            let full = locate::child(path, function);
            if let Some(at) = Locations::index(text).repeated_key(&full) {
                position = at;
            }
            expected = Some(format!("function `{function}` once under `functions:`"));
        } else if let Some((_, field)) = field_in(&message, "missing field `") {
            expected = Some(format!(
                "a `{field}` entry in this mapping (`sockstack schema` shows the whole shape)"
            ));
        } else if expected.is_none() && !message.contains(": ") {
            expected = Some("valid YAML".to_string());
        }
        ConfigErrors(vec![error_at(
            file, text, position, None, message, expected,
        )])
    })
}

/// `text` with every CRLF and lone CR as LF: one line break each, so lines and columns stay
/// what an editor shows.
pub fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}

/// For "path: duplicate field `x`" (with `marker` = "duplicate field `"), the path and `x`.
fn field_in<'m>(message: &'m str, marker: &str) -> Option<(&'m str, &'m str)> {
    let at = message.find(marker)?;
    let path = message[..at].strip_suffix(": ").unwrap_or("");
    let rest = &message[at + marker.len()..];
    let field = &rest[..rest.find('`')?];
    Some((path, field))
}

/// serde_yaml says "path: what, expected X at line L column C"; keep the what
/// and the expectation, drop the position (we print our own).
fn split_serde_message(raw: &str) -> (String, Option<String>) {
    let without_position = strip_positions(raw);
    match without_position.find(", expected ") {
        Some(i) => (
            without_position[..i].to_string(),
            Some(without_position[i + ", expected ".len()..].to_string()),
        ),
        None => (without_position, None),
    }
}

/// Removes every " at line N column M" from a message.
fn strip_positions(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let n = digits(tail);
        match tail[n..].strip_prefix(" column ") {
            Some(after) if n > 0 => rest = &after[digits(after)..],
            _ => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One semantic problem of a parsed stack file, named by its path; [`locate`]
/// turns it into a [`ConfigError`] with line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Path of the offending node, e.g. `routes[3].authorizer`.
    pub path: String,
    /// Point at the value (true) or at the key (false).
    pub at_value: bool,
    /// What is wrong.
    pub message: String,
    /// What was expected instead.
    pub expected: String,
}

impl Problem {
    /// A problem with the value at `path`.
    pub fn value(
        path: impl Into<String>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Problem {
            path: path.into(),
            at_value: true,
            message: message.into(),
            expected: expected.into(),
        }
    }

    /// A problem with the key at `path`.
    pub fn key(
        path: impl Into<String>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Problem {
            at_value: false,
            ..Problem::value(path, message, expected)
        }
    }
}

/// Locates `problems` of the stack file `file` (text `text`), in file order.
pub fn locate(file: &Path, text: &str, problems: Vec<Problem>) -> ConfigErrors {
    let locations = Locations::index(text);
    let mut errors: Vec<ConfigError> = problems
        .into_iter()
        .map(|p| {
            let position = locations.nearest(&p.path, p.at_value);
            error_at(
                file,
                text,
                position,
                Some(p.path),
                p.message,
                Some(p.expected),
            )
        })
        .collect();
    errors.sort_by_key(|e| e.position);
    ConfigErrors(errors)
}

/// Reads a stack file's text within the input limits ([`input::Limits::from_env`]): a regular
/// file only (a FIFO or a link to a device is refused before a byte is read), at most
/// `SOCKSTACK_MAX_INPUT_BYTES`, its nesting and collection sizes checked before any value is
/// built. A refusal is one error, located where the limit is passed.
pub fn read(file: &Path) -> Result<String, ConfigErrors> {
    let whole_file = |message: String| {
        ConfigErrors(vec![ConfigError {
            file: file.to_path_buf(),
            position: None,
            path: None,
            message,
            expected: None,
            line_text: None,
        }])
    };
    let limits = input::Limits::from_env().map_err(whole_file)?;
    let text = input::read_bounded(file, &limits).map_err(|e| match e.position {
        // Only text that is not UTF-8 has a position here.
        Some((line, column)) => ConfigErrors(vec![ConfigError {
            position: Some(Position { line, column }),
            ..whole_file(e.message).0.remove(0)
        }]),
        None => whole_file(e.message),
    })?;
    match input::check_yaml_limits(&text, &limits) {
        // Text that is not YAML is reported by [`parse`] (serde points where the construct
        // left open starts); the limits held up to where the text stops being YAML.
        Err(e) if e.message.starts_with("invalid YAML") => Ok(text),
        Err(e) => {
            let at = e
                .position
                .map_or(Position::START, |(line, column)| Position { line, column });
            Err(ConfigErrors(vec![error_at(
                file, &text, at, None, e.message, None,
            )]))
        }
        Ok(()) => Ok(text),
    }
}

/// What changed from format 1, for the message that rejects a format-1 file.
pub const FORMAT_1_CHANGES: &str = "\
`version: 2` as the first key, and:
    routes[].handler        -> routes[].function (a key of `functions:`)
    lambda:                 -> functions.defaults (and one entry per function under `functions:`)
    routes[].access         -> functions.<name>.grants (connections: read|write|send, tables: {T: read|write|readwrite}, parameters, secrets)
    tables.connections      -> connections: {indexBy: [...]} (the registry sockstack manages)
    tables.<fixed table>    -> tables.<name>: {key: {attr: S|N|B}} (any tables of your own)
    authorizer.claims       -> authorizer.context (context key <- claim) and authorizer.requiredClaims
    authorizer.jwksUrl/issuer/audience -> authorizer.jwt: {jwksUrl, issuer, audience}
    authorizer.cognito.userPoolId + audience -> authorizer.cognito: {userPoolId, clientId}
  (see `sockstack schema` and the README's stack-file section)";

/// Whether the document has a top-level `version` key.
fn has_version(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("version")
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    }) || Locations::index(text).key("version").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_split() {
        let (m, e) = split_serde_message(
            "routes[0]: unknown field `handlr`, expected one of `key`, `handler` at line 4 column 5",
        );
        assert_eq!(m, "routes[0]: unknown field `handlr`");
        assert_eq!(e.as_deref(), Some("one of `key`, `handler`"));
        assert_eq!(
            strip_positions("did not find ',' at line 3 column 7, while parsing"),
            "did not find ',', while parsing"
        );
    }
}
