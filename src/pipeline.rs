//! One stack file all the way through: config → model → template → text, with
//! the check findings and the human summary. Used by `synth`, `validate`,
//! `diff --base` and the benchmarks.

use crate::cfn::Template;
use crate::check::{self, Finding};
use crate::config::ConfigErrors;
use crate::emit::{self, Format, StackOutput};
use crate::model::Model;
use crate::sources::HandlerSources;
use crate::summary;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A stack file synthesized in memory.
pub struct Synthesized {
    /// The stack file.
    pub file: PathBuf,
    /// Output folder name: the stack file's stem (`dev` for `stacks/dev.yaml`).
    pub name: String,
    /// The model.
    pub model: Model,
    /// The template.
    pub template: Template,
    /// The template as text in the requested format.
    pub text: String,
    /// The format of `text`.
    pub format: Format,
    /// What the checks found in it.
    pub findings: Vec<Finding>,
}

impl Synthesized {
    /// Template file name: `template.yaml` or `template.json`.
    pub fn template_file(&self) -> String {
        format!("template.{}", self.format.extension())
    }

    /// The files of the stack's output folder.
    pub fn output(&self) -> StackOutput {
        StackOutput {
            name: self.name.clone(),
            files: vec![
                (self.template_file(), self.text.clone()),
                ("summary.txt".into(), summary::render(self)),
            ],
        }
    }
}

/// Why stacks could not be found or read.
#[derive(Debug)]
pub enum StackError {
    /// No stack files where they were looked for.
    NoStacks(PathBuf),
    /// A folder could not be listed.
    Io(PathBuf, io::Error),
    /// Two stack files would write the same output folder.
    SameName(PathBuf, PathBuf),
    /// A stack file's name cannot become an output folder's name.
    BadName(PathBuf, emit::name::NameError),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackError::NoStacks(dir) => write!(
                f,
                "no stack files (*.yaml, *.yml) in {}; name stack files as arguments or run from the project folder",
                dir.display()
            ),
            StackError::Io(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            StackError::SameName(a, b) => write!(
                f,
                "{} and {} would both write out/{}/: rename one",
                a.display(),
                b.display(),
                stem(a)
            ),
            StackError::BadName(file, e) => write!(f, "{}: {e}", file.display()),
        }
    }
}

impl std::error::Error for StackError {}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The stack files to work on: `given`, or every `*.yaml`/`*.yml` in `dir`, sorted.
/// Each file's stem must be a plain stack name ([`emit::name::check`]): it becomes a folder name.
pub fn stack_files(given: &[PathBuf], dir: &Path) -> Result<Vec<PathBuf>, StackError> {
    let mut files = if given.is_empty() {
        let entries = fs::read_dir(dir).map_err(|e| StackError::Io(dir.to_path_buf(), e))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| StackError::Io(dir.to_path_buf(), e))?
                .path();
            let is_stack = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            // Not only regular files: a FIFO or a link to a device named `*.yaml` is
            // refused by the reader with an error, never skipped in silence.
            if is_stack && !path.is_dir() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(StackError::NoStacks(dir.to_path_buf()));
        }
        files.sort();
        files
    } else {
        given.to_vec()
    };
    let mut seen: Vec<&PathBuf> = Vec::new();
    for f in &files {
        emit::name::check(&stem(f)).map_err(|e| StackError::BadName(f.clone(), e))?;
        if let Some(other) = seen.iter().find(|o| stem(o) == stem(f)) {
            return Err(StackError::SameName((*other).clone(), f.clone()));
        }
        seen.push(f);
    }
    files.dedup();
    Ok(files)
}

/// Synthesizes one stack file.
pub fn synthesize(
    file: &Path,
    handlers: &HandlerSources,
    format: Format,
) -> Result<Synthesized, ConfigErrors> {
    let model = crate::model::load(file, handlers)?;
    Ok(from_model(file, model, format))
}

/// Synthesizes an already loaded model.
pub fn from_model(file: &Path, model: Model, format: Format) -> Synthesized {
    let template = crate::synth::synth(&model);
    let origin = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = emit::render(&template, format, &origin);
    let findings = check::check_template(&template, text.len());
    Synthesized {
        file: file.to_path_buf(),
        name: stem(file),
        model,
        template,
        text,
        format,
        findings,
    }
}
