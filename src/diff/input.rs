//! The two sides of `sockstack diff`: template files or output folders.
//!
//! A folder holds stacks as `<stack>/template.{yaml,yml,json}` (what `sockstack synth` writes) or as
//! `<stack>.template.{json,yaml,yml}` (a `cdk.out` folder). Stacks are paired by name; a stack on one side only
//! is created or deleted. Two files are one stack, named after the new file.

use super::{DiffReport, Schemas, StackDiff};
use crate::raw::{RawError, RawTemplate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Stacks read from one side, by name: the template and the path it came from.
pub type Stacks = BTreeMap<String, (RawTemplate, PathBuf)>;

const NAMES: &[&str] = &["template.yaml", "template.yml", "template.json"];
const SUFFIXES: &[&str] = &[".template.json", ".template.yaml", ".template.yml"];

/// The stack name of a template file: its folder for `…/<stack>/template.yaml`, else the file name without
/// `.template.json` / the extension.
pub fn stack_name(file: &Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if NAMES.contains(&name.as_str())
        && let Some(dir) = file.parent().and_then(Path::file_name)
    {
        return dir.to_string_lossy().into_owned();
    }
    for suffix in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem.to_owned();
        }
    }
    file.file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or(name)
}

/// The template files of an output folder, by stack name.
pub fn folder_templates(dir: &Path) -> Result<BTreeMap<String, PathBuf>, RawError> {
    let io = |e: std::io::Error| RawError {
        file: Some(dir.to_path_buf()),
        line: None,
        column: None,
        message: format!("cannot read the folder: {e}"),
    };
    let mut out = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if let Some(file) = NAMES.iter().map(|n| path.join(n)).find(|p| p.is_file()) {
                out.insert(name, file);
            }
        } else if let Some(suffix) = SUFFIXES.iter().find(|s| name.ends_with(*s)) {
            out.insert(name[..name.len() - suffix.len()].to_owned(), path);
        }
    }
    Ok(out)
}

/// Reads one side: a template file (one stack) or an output folder (every stack in it).
pub fn load(path: &Path) -> Result<Stacks, RawError> {
    if path.is_dir() {
        let mut stacks = Stacks::new();
        for (name, file) in folder_templates(path)? {
            let template = RawTemplate::read(&file)?;
            stacks.insert(name, (template, file));
        }
        Ok(stacks)
    } else {
        let template = RawTemplate::read(path)?;
        Ok([(stack_name(path), (template, path.to_path_buf()))].into())
    }
}

/// Compares two sides read by [`load`]. Two single files are one stack whatever their names.
pub fn compare(old: &Stacks, new: &Stacks, schemas: &Schemas) -> DiffReport {
    let single = old.len() == 1 && new.len() == 1;
    let mut stacks = Vec::new();
    if single {
        let (_, (o, op)) = old.iter().next().expect("one");
        let (name, (n, np)) = new.iter().next().expect("one");
        stacks.push(StackDiff::new(
            name,
            Some((o, op.display().to_string())),
            Some((n, np.display().to_string())),
            schemas,
        ));
    } else {
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let o = old.get(name).map(|(t, p)| (t, p.display().to_string()));
            let n = new.get(name).map(|(t, p)| (t, p.display().to_string()));
            stacks.push(StackDiff::new(name, o, n, schemas));
        }
    }
    DiffReport::new(stacks)
}

/// [`load`] both sides and [`compare`] them. A file on one side and a folder on the other is an error.
pub fn compare_paths(old: &Path, new: &Path, schemas: &Schemas) -> Result<DiffReport, RawError> {
    if old.is_dir() != new.is_dir() && old.exists() && new.exists() {
        return Err(RawError {
            file: Some(if old.is_dir() { new } else { old }.to_path_buf()),
            line: None,
            column: None,
            message: "compare a file with a file, or an output folder with an output folder".into(),
        });
    }
    let (a, b) = (load(old)?, load(new)?);
    if old.is_dir() {
        Ok(compare_folders(&a, &b, schemas))
    } else {
        Ok(compare(&a, &b, schemas))
    }
}

/// [`compare`] for folders: stacks are always paired by name.
pub fn compare_folders(old: &Stacks, new: &Stacks, schemas: &Schemas) -> DiffReport {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let stacks = names
        .into_iter()
        .map(|name| {
            let o = old.get(name).map(|(t, p)| (t, p.display().to_string()));
            let n = new.get(name).map(|(t, p)| (t, p.display().to_string()));
            StackDiff::new(name, o, n, schemas)
        })
        .collect();
    DiffReport::new(stacks)
}

/// What to compare, as the command line says it.
#[derive(Debug, Clone, Copy)]
pub enum Request<'a> {
    /// Two template files, or two output folders.
    Paths {
        /// The old side.
        old: &'a Path,
        /// The new side.
        new: &'a Path,
    },
    /// The stacks at a git revision against `new` (a template file or an output
    /// folder) or, without it, the working tree's stack files synthesized.
    Base {
        /// The revision.
        rev: &'a str,
        /// The new side, when given.
        new: Option<&'a Path>,
        /// The project's stack-file folder in the working tree (absolute or relative to the current
        /// folder); at the same place in the repository at `rev`.
        stacks_dir: &'a Path,
        /// The project's handler crate (likewise).
        handlers: &'a Path,
    },
}

/// Both sides of a diff, read.
pub struct Sides {
    /// The old side.
    pub old: Stacks,
    /// The new side.
    pub new: Stacks,
    /// Whether stacks are paired by name (folders, `--base`) rather than as two single files.
    pub by_name: bool,
}

impl Sides {
    /// The diff of the two sides.
    pub fn compare(&self, schemas: &Schemas) -> DiffReport {
        if self.by_name {
            compare_folders(&self.old, &self.new, schemas)
        } else {
            compare(&self.old, &self.new, schemas)
        }
    }
}

/// Reads both sides of `request`. Fails closed: a path that does not exist, a folder
/// holding no templates, a revision that is not one, or no stack files are errors, never
/// an empty side (which would report "no changes" and let a gate pass).
pub fn read_sides(request: &Request, git: &dyn super::base::Git) -> Result<Sides, String> {
    let shown = |e: RawError| e.to_string();
    match *request {
        Request::Paths { old, new } => {
            for p in [old, new] {
                if !p.exists() {
                    return Err(format!("{}: no such file or folder", p.display()));
                }
            }
            if old.is_dir() != new.is_dir() {
                let kind = |p: &Path| if p.is_dir() { "folder" } else { "file" };
                return Err(format!(
                    "{} is a {} but {} is a {}: compare a file with a file, or a folder with a folder",
                    old.display(),
                    kind(old),
                    new.display(),
                    kind(new),
                ));
            }
            Ok(Sides {
                old: load_some(old)?,
                new: load_some(new)?,
                by_name: old.is_dir(),
            })
        }
        Request::Base {
            rev,
            new,
            stacks_dir,
            handlers,
        } => {
            let mut old = super::base::stacks_at(git, rev, stacks_dir, handlers)?;
            let new = match new {
                Some(path) if path.is_file() => {
                    // One template file: compare it with the base stack of the same name.
                    let new = load(path).map_err(shown)?;
                    old.retain(|name, _| new.contains_key(name));
                    new
                }
                Some(path) if path.is_dir() => load_some(path)?,
                Some(path) => return Err(format!("{}: no such file or folder", path.display())),
                None => super::base::synthesize_dir(stacks_dir, handlers)?,
            };
            Ok(Sides {
                old,
                new,
                by_name: true,
            })
        }
    }
}

/// [`load`], refusing a folder that holds no templates.
fn load_some(path: &Path) -> Result<Stacks, String> {
    let stacks = load(path).map_err(|e| e.to_string())?;
    if stacks.is_empty() {
        return Err(format!(
            "{}: no templates in this folder, so there is nothing to compare\n  expected: <stack>/template.yaml or template.json (sockstack's out/), or <stack>.template.json (cdk.out/)",
            path.display()
        ));
    }
    Ok(stacks)
}
