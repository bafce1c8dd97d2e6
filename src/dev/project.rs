//! Where dev meets the rest of the project: the project root, a stack's template in memory, and the handler
//! crate that implements its functions. Each is one small function, so that a change in how stacks are
//! synthesized or where handlers live is made here only.

use crate::emit::Format;
use crate::pipeline;
use crate::raw::{RawResource, RawTemplate};
use crate::sources::HandlerSources;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the stack's template could not be made.
#[derive(Debug)]
pub enum StackError {
    /// No such stack, or no project around.
    NotFound(String),
    /// The stack file has problems (the same located report `synth` prints).
    Invalid(crate::config::ConfigErrors),
    /// Something else, said plainly.
    Other(String),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::NotFound(s) | StackError::Other(s) => f.write_str(s),
            StackError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StackError {}

/// The project folder: the nearest of `start` and its parents that has a `stacks/` folder.
pub fn project_root(start: &Path) -> Result<PathBuf, StackError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join("stacks").is_dir() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(StackError::NotFound(format!(
        "no project around {}: no stacks/ folder in it or its parents",
        start.display()
    )))
}

/// A stack named as everywhere else: a path to its file, or a name under `stacks/` (`dev` → `stacks/dev.yaml`).
pub fn stack_file(root: &Path, stack: &str) -> Result<PathBuf, StackError> {
    let given = Path::new(stack);
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    for ext in ["yaml", "yml"] {
        let candidate = root.join("stacks").join(format!("{stack}.{ext}"));
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(StackError::NotFound(format!(
        "no stack {stack:?}: neither a file nor {}",
        root.join("stacks").join(format!("{stack}.yaml")).display()
    )))
}

/// The stack's local name: its file's stem (`dev`).
pub fn stack_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stack".into())
}

/// The stack's template, synthesized in memory by the same pipeline as `sockstack synth`.
pub fn stack_template(root: &Path, file: &Path) -> Result<RawTemplate, StackError> {
    let handlers = HandlerSources::open(&root.join("handlers"))
        .map_err(|e| StackError::Other(format!("{e}\n  expected: the handlers member")))?;
    let synthesized =
        pipeline::synthesize(file, &handlers, Format::Yaml).map_err(StackError::Invalid)?;
    RawTemplate::from_value(synthesized.template.to_value())
        .map_err(|e| StackError::Other(format!("the synthesized template: {e}")))
}

/// The crate whose binaries implement the functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerCrate {
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    /// The folders whose changes mean a rebuild (`--watch`).
    pub sources: Vec<PathBuf>,
}

/// The handler crate of the project at `root`: the `handlers/` member.
pub fn handler_crate(root: &Path) -> HandlerCrate {
    let dir = root.join("handlers");
    HandlerCrate {
        manifest: dir.join("Cargo.toml"),
        sources: vec![dir.join("src"), root.join("contract").join("src")],
    }
}

/// The handler binary behind a function resource: the `{handler}` of its bundle key `{handler}-{hash}.zip`.
pub fn handler_of(function: &RawResource) -> Option<String> {
    let key = function.properties.get("Code")?.get("S3Key")?.as_str()?;
    let stem = key.strip_suffix(".zip")?;
    let (handler, hash) = stem.rsplit_once('-')?;
    (!handler.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| handler.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handler_comes_from_the_bundle_key() {
        let r = RawTemplate::from_value(serde_json::json!({"Resources": {
            "F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "my-chat-0123456789abcdef.zip"}}},
            "G": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}}}
        }}))
        .unwrap();
        assert_eq!(handler_of(&r.resources["F"]).as_deref(), Some("my-chat"));
        assert_eq!(handler_of(&r.resources["G"]), None);
    }
}
