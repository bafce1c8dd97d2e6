//! The local values of a stack's SSM parameters and Secrets Manager secrets: `dev-values/<stack>.yaml` in the
//! project (git-ignored: it holds secrets), read before anything starts and seeded into the moto_server dev
//! runs.
//!
//! ```yaml
//! parameters:                      # SSM parameter name: value
//!   /chat/dev/api-key: local-key
//! secrets:                         # Secrets Manager secret name: value (a mapping is stored as JSON)
//!   chat/dev/webhook: https://hooks.example.test/1
//!   chat/dev/db: {username: app, password: local}
//! ```
//!
//! Every parameter and secret a function is granted needs a value here: dev refuses to start without one
//! (a made-up value would let a handler run on data nobody chose). Entries no function is granted are
//! seeded all the same (IAM is not enforced locally) and reported, since they are usually a typo.

use crate::config::locate::{Locations, child};
use crate::input::{Limits, read_checked};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folder of the values files, under the project root (one file per stack).
pub const FOLDER: &str = "dev-values";

/// The values file of stack `stack` (its file's stem) in the project at `root`.
pub fn path(root: &Path, stack: &str) -> PathBuf {
    root.join(FOLDER).join(format!("{stack}.yaml"))
}

/// SSM parameter and Secrets Manager secret values, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// SSM parameters (stored as `String` parameters).
    pub parameters: BTreeMap<String, String>,
    /// Secrets Manager secrets (stored as `SecretString`).
    pub secrets: BTreeMap<String, String>,
}

impl Values {
    /// Whether there is nothing to seed.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.secrets.is_empty()
    }
}

/// What the stack's functions are granted (from the template).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Granted {
    /// SSM parameter names → the functions granted each.
    pub parameters: BTreeMap<String, BTreeSet<String>>,
    /// Secret names → the functions granted each.
    pub secrets: BTreeMap<String, BTreeSet<String>>,
}

impl Granted {
    /// Whether no function is granted a parameter or a secret.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.secrets.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    parameters: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    secrets: BTreeMap<String, serde_yaml::Value>,
}

fn located(file: &Path, text: &str, at: &str, message: &str) -> String {
    let p = Locations::index(text).nearest(at, false);
    format!("{}:{}:{}: {message}", file.display(), p.line, p.column)
}

/// The text stored for one value: scalars as written; for a secret, a mapping or list as compact JSON.
fn text_of(value: &serde_yaml::Value, secret: bool) -> Result<String, &'static str> {
    use serde_yaml::Value as Y;
    match value {
        Y::String(s) if s.is_empty() => {
            Err("the value is empty (SSM and Secrets Manager store no empty values)")
        }
        Y::String(s) => Ok(s.clone()),
        Y::Number(n) => Ok(n.to_string()),
        Y::Bool(b) => Ok(b.to_string()),
        Y::Mapping(_) | Y::Sequence(_) if secret => serde_json::to_string(value)
            .map_err(|_| "this mapping cannot be written as JSON (keys must be strings)"),
        Y::Null => Err("the value is missing (write a value after the `:`)"),
        _ => Err("a parameter's value is one string, number or boolean"),
    }
}

/// Reads the values file `file`; an absent file is no values. Errors say file:line:col and what is wrong.
pub fn read(file: &Path) -> Result<Values, String> {
    if !file.exists() {
        return Ok(Values::default());
    }
    let text = read_checked(file, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    let parsed: File = if text.trim().is_empty() {
        File {
            parameters: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    } else {
        serde_yaml::from_str(&text).map_err(|e| {
            let (position, message) = match e.location() {
                Some(l) => {
                    let text = e.to_string();
                    let at = format!(" at line {} column {}", l.line(), l.column());
                    (
                        format!(":{}:{}", l.line(), l.column()),
                        text.strip_suffix(&at).unwrap_or(&text).to_string(),
                    )
                }
                None => (String::new(), e.to_string()),
            };
            format!(
                "{}{position}: {message}\n  expected: `parameters:` and `secrets:`, each a mapping of name: value",
                file.display()
            )
        })?
    };
    let mut values = Values::default();
    let mut problems = Vec::new();
    for (section, entries, out, secret) in [
        (
            "parameters",
            &parsed.parameters,
            &mut values.parameters,
            false,
        ),
        ("secrets", &parsed.secrets, &mut values.secrets, true),
    ] {
        for (name, value) in entries {
            match text_of(value, secret) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(why) => problems.push(located(
                    file,
                    &text,
                    &child(section, name),
                    &format!("{section}.{name}: {why}"),
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems.join("\n"))
    }
}

/// Checks that `values` (read from `file`) has a value for everything `granted`; the error names each missing
/// parameter or secret, the functions granted it, and the file to put it in, with an example.
pub fn check(values: &Values, granted: &Granted, file: &Path) -> Result<(), String> {
    let mut missing = Vec::new();
    let mut example = String::new();
    for (section, names, have) in [
        ("parameters", &granted.parameters, &values.parameters),
        ("secrets", &granted.secrets, &values.secrets),
    ] {
        let absent: Vec<_> = names
            .iter()
            .filter(|(n, _)| !have.contains_key(*n))
            .collect();
        if absent.is_empty() {
            continue;
        }
        example.push_str(&format!("\n    {section}:"));
        for (name, functions) in absent {
            let kind = if section == "parameters" {
                "SSM parameter"
            } else {
                "secret"
            };
            let functions: Vec<&str> = functions.iter().map(String::as_str).collect();
            missing.push(format!(
                "{kind} {name} (granted to {}) has no local value",
                functions.join(", ")
            ));
            example.push_str(&format!("\n      {name}: <its local value>"));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n  expected: {} with{example}\n  ({FOLDER}/ stays out of git: it holds secrets)",
        missing.join("\n"),
        file.display()
    ))
}

/// Entries of `values` that no function is granted (usually a typo), as sentences for the log.
pub fn ungranted(values: &Values, granted: &Granted) -> Vec<String> {
    let mut out = Vec::new();
    for name in values.parameters.keys() {
        if !granted.parameters.contains_key(name) {
            out.push(format!("parameter {name} is granted to no function"));
        }
    }
    for name in values.secrets.keys() {
        if !granted.secrets.contains_key(name) {
            out.push(format!("secret {name} is granted to no function"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dev.yaml");
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    #[test]
    fn values_are_text_and_secret_mappings_are_json() {
        let (_d, file) = write(
            "parameters:\n  /app/key: abc\n  /app/n: 5\nsecrets:\n  app/db: {user: u, password: p}\n",
        );
        let v = read(&file).unwrap();
        assert_eq!(v.parameters["/app/key"], "abc");
        assert_eq!(v.parameters["/app/n"], "5");
        assert_eq!(v.secrets["app/db"], r#"{"user":"u","password":"p"}"#);
    }

    #[test]
    fn an_absent_file_is_no_values_and_bad_ones_are_located() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("none.yaml")).unwrap().is_empty());
        let (_d, file) = write("parameters:\n  /app/key:\n");
        let e = read(&file).unwrap_err();
        assert!(e.contains("dev.yaml:2:"), "{e}");
        assert!(e.contains("/app/key") && e.contains("missing"), "{e}");
        let (_d, file) = write("paramters:\n  /app/key: x\n");
        let e = read(&file).unwrap_err();
        assert!(e.contains("dev.yaml:1:1") && e.contains("paramters"), "{e}");
    }

    #[test]
    fn a_granted_name_without_a_value_is_named_with_its_functions_and_the_file() {
        let granted = Granted {
            parameters: BTreeMap::from([("/app/key".into(), BTreeSet::from(["Reader".into()]))]),
            secrets: BTreeMap::from([("app/hook".into(), BTreeSet::from(["Send".into()]))]),
        };
        let values = Values {
            parameters: BTreeMap::from([("/app/key".into(), "k".into())]),
            ..Values::default()
        };
        let e = check(&values, &granted, Path::new("dev-values/dev.yaml")).unwrap_err();
        assert!(e.contains("secret app/hook (granted to Send)"), "{e}");
        assert!(!e.contains("/app/key"), "{e}");
        assert!(e.contains("dev-values/dev.yaml"), "{e}");
        let full = Values {
            secrets: BTreeMap::from([("app/hook".into(), "h".into())]),
            ..values
        };
        assert_eq!(check(&full, &granted, Path::new("x")), Ok(()));
        assert!(ungranted(&full, &Granted::default()).len() == 2);
    }
}
