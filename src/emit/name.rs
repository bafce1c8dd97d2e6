//! Which stack names may become folder names under `out/`.

use std::fmt;

/// Longest stack name, in characters (all ASCII).
pub const MAX_LEN: usize = 64;

/// Names sockstack uses itself inside an output folder, with the reason.
pub const RESERVED: &[(&str, &str)] = &[
    (
        "assets",
        "out/assets/ holds the handler bundles `sockstack bundle` builds",
    ),
    ("token", "`token` is a subcommand of `sockstack dev`"),
];

/// Why a name cannot be a stack's folder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// The name as given.
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` cannot be a stack name: {}\n  expected: a plain name of 1-{MAX_LEN} characters: a lower-case letter, then lower-case letters, digits or `-` (rename the stack file)",
            self.name.escape_debug(),
            self.reason
        )
    }
}

impl std::error::Error for NameError {}

/// Checks that `name` is a plain stack name (`[a-z][a-z0-9-]{0,63}`) and not reserved.
/// Dot-names (`.dev`, `.sockstack`, `..`) never match, so sockstack's own folders stay its own.
pub fn check(name: &str) -> Result<(), NameError> {
    let bad = |reason: &str| {
        Err(NameError {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if let Some((_, why)) = RESERVED.iter().find(|(r, _)| *r == name) {
        return bad(&format!("the name is reserved ({why})"));
    }
    let mut chars = name.chars();
    match chars.next() {
        None => return bad("it is empty"),
        Some('.') => {
            return bad(
                "names starting with `.` are reserved for sockstack's own folders (.dev, .sockstack)",
            );
        }
        Some(c) if !c.is_ascii_lowercase() => return bad("it must start with a lower-case letter"),
        Some(_) => {}
    }
    if name.chars().count() > MAX_LEN {
        return bad(&format!(
            "it has {} characters, more than {MAX_LEN}",
            name.chars().count()
        ));
    }
    if let Some(c) = chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return bad(&format!("it contains {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_names_pass() {
        for name in ["dev", "prod", "a", "eu-west-1", &"a".repeat(64)] {
            assert_eq!(check(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn reserved_dot_and_odd_names_fail() {
        for name in [
            "assets",
            "token",
            ".dev",
            ".sockstack",
            "..",
            ".",
            "",
            "Dev",
            "1dev",
            "-dev",
            "dev_1",
            "dev.yaml",
            "a/b",
            "dév",
            &"a".repeat(65),
        ] {
            let err = check(name).expect_err(name);
            assert!(err.to_string().contains("cannot be a stack name"), "{err}");
        }
    }
}
