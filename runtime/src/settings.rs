//! Settings read from the environment once, at start-up.
//!
//! A binary builds its settings before it polls for the first event, so a
//! missing or malformed variable stops the function at once with a message
//! that names the variable, instead of failing on every invocation.

use std::fmt;

/// A setting that is missing or cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    /// A required variable is not set (or is empty).
    Missing(String),
    /// A variable is set to something unusable.
    Invalid {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What was expected.
        expected: String,
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Missing(name) => {
                write!(f, "environment variable {name} is not set")
            }
            SettingsError::Invalid {
                name,
                value,
                expected,
            } => write!(
                f,
                "environment variable {name}={value:?}: expected {expected}"
            ),
        }
    }
}

impl std::error::Error for SettingsError {}

/// Where settings come from: the process environment, or a map in tests.
pub trait Source {
    /// The value of `name`, if set. Empty values count as unset.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name).filter(|v| !v.trim().is_empty())
    }
}

/// A required variable.
pub fn required(source: &dyn Source, name: &str) -> Result<String, SettingsError> {
    source
        .get(name)
        .ok_or_else(|| SettingsError::Missing(name.to_string()))
}

/// An optional variable.
pub fn optional(source: &dyn Source, name: &str) -> Option<String> {
    source.get(name)
}

/// An optional positive integer, `default` when unset.
pub fn positive(source: &dyn Source, name: &str, default: usize) -> Result<usize, SettingsError> {
    match source.get(name) {
        None => Ok(default),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(SettingsError::Invalid {
                name: name.to_string(),
                value,
                expected: "a positive integer".to_string(),
            }),
        },
    }
}

/// A list variable: comma-separated, items trimmed, empty items dropped; empty when unset.
pub fn list(source: &dyn Source, name: &str) -> Vec<String> {
    source
        .get(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Prints the error and exits with status 1: what a binary does when its
/// settings are unusable (Lambda reports it as an init error).
pub fn exit_on_error<T>(result: Result<T, SettingsError>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            eprintln!("configuration error: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_invalid_name_the_variable() {
        let src = |name: &str| match name {
            "N" => Some("0".to_string()),
            "E" => Some("  ".to_string()),
            _ => None,
        };
        assert_eq!(required(&src, "X"), Err(SettingsError::Missing("X".into())));
        assert_eq!(required(&src, "E"), Err(SettingsError::Missing("E".into())));
        let err = positive(&src, "N", 3).unwrap_err();
        assert!(err.to_string().contains("N=\"0\""), "{err}");
        assert_eq!(positive(&src, "M", 3), Ok(3));
        let src = |_: &str| Some(" b, a ,,c".to_string());
        assert_eq!(list(&src, "L"), ["b", "a", "c"]);
    }
}
