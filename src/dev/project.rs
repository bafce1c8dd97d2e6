//! Where dev meets the rest of the project: the project root, a stack's template in memory, and the handler
//! crate that implements its functions. Each is one small function, so that a change in how stacks are
//! synthesized or where handlers live is made here only.

use crate::emit::Format;
use crate::model::Model;
use crate::pipeline;
use crate::project::Project;
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

/// The project around `start` (found as every command finds it: `sockstack.toml`, else a `stacks/` folder).
pub fn project(start: &Path) -> Result<Project, StackError> {
    Project::discover(start).map_err(|e| StackError::NotFound(e.to_string()))
}

/// The project folder around `start`.
pub fn project_root(start: &Path) -> Result<PathBuf, StackError> {
    project(start).map(|p| p.root)
}

/// A stack named as everywhere else: a path to its file, or a name (`dev` → `stacks/dev.yaml`).
pub fn stack_file(root: &Path, stack: &str) -> Result<PathBuf, StackError> {
    let project = project(root)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| root.to_path_buf());
    let file = project
        .stack(stack, &cwd)
        .map_err(|e| StackError::NotFound(e.to_string()))?;
    Ok(if file.is_absolute() {
        file
    } else {
        cwd.join(file)
    })
}

/// The stack's local name: its file's stem (`dev`).
pub fn stack_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stack".into())
}

/// The stack's template, synthesized in memory by the same pipeline as `sockstack synth`.
pub fn stack_template(root: &Path, file: &Path) -> Result<RawTemplate, StackError> {
    stack_synthesized(root, file).map(|(template, _)| template)
}

/// The stack's template and the model it was synthesized from (for what a template cannot say: the key
/// schema of an `existing` table).
pub fn stack_synthesized(root: &Path, file: &Path) -> Result<(RawTemplate, Model), StackError> {
    let handlers = HandlerSources::open(&project(root)?.handlers_dir)
        .map_err(|e| StackError::Other(format!("{e}\n  expected: the handler crate")))?;
    let synthesized =
        pipeline::synthesize(file, &handlers, Format::Yaml).map_err(StackError::Invalid)?;
    let template = RawTemplate::from_value(synthesized.template.to_value())
        .map_err(|e| StackError::Other(format!("the synthesized template: {e}")))?;
    Ok((template, synthesized.model))
}

/// The crate whose binaries implement the functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerCrate {
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    /// The folders whose changes mean a rebuild (`--watch`).
    pub sources: Vec<PathBuf>,
}

/// The handler crate of the project at `root` (`handlers` in `sockstack.toml`, default `handlers/`), and the
/// folders of it and its path dependencies (the runtime crate, …) for `--watch`.
pub fn handler_crate(root: &Path) -> HandlerCrate {
    let dir = project(root)
        .map(|p| p.handlers_dir)
        .unwrap_or_else(|_| root.join("handlers"));
    let sources = HandlerSources::open(&dir)
        .and_then(|s| s.crate_dirs())
        .unwrap_or_else(|_| vec![dir.clone()]);
    HandlerCrate {
        manifest: dir.join("Cargo.toml"),
        sources: sources.iter().map(|d| d.join("src")).collect(),
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
