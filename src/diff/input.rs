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
