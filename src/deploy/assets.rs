//! The zips a stack needs: one per function, named by its bundle key
//! (`<handler>-<source hash>.zip`, the `Code.S3Key` of the template), either
//! built here by [`crate::bundle`] or taken from a folder of prebuilt ones.

use crate::bundle::{self, Arch, BundleError, Options, Progress};
use crate::config::stack::Architecture;
use crate::model::Model;
use std::fmt;
use std::path::{Path, PathBuf};

/// One zip the stack needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The handler it runs.
    pub handler: String,
    /// Its S3 key (also its file name).
    pub key: String,
    /// Where it is (or must be) on disk.
    pub path: PathBuf,
}

/// The zips of `model`'s functions, looked for in `dir`.
pub fn needed(model: &Model, dir: &Path) -> Vec<Asset> {
    model
        .functions
        .iter()
        .map(|f| Asset {
            handler: f.handler.clone(),
            key: f.bundle_key.clone(),
            path: dir.join(&f.bundle_key),
        })
        .collect()
}

/// Zips the stack needs that are not on disk.
#[derive(Debug)]
pub struct MissingBundles {
    /// The folder they were looked for in.
    pub dir: PathBuf,
    /// The missing ones.
    pub missing: Vec<Asset>,
}

impl fmt::Display for MissingBundles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bundle(s) missing from {}:",
            self.missing.len(),
            self.dir.display()
        )?;
        for a in &self.missing {
            write!(f, "\n  {} (handler `{}`)", a.key, a.handler)?;
        }
        write!(
            f,
            "\n  the name carries a hash of the handler's sources: rebuild them with \
             `sockstack bundle`, or deploy without --bundles to build them now"
        )
    }
}

impl std::error::Error for MissingBundles {}

/// Checks that every asset is a file.
pub fn check_present(dir: &Path, assets: &[Asset]) -> Result<(), MissingBundles> {
    let missing: Vec<Asset> = assets
        .iter()
        .filter(|a| !a.path.is_file())
        .cloned()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingBundles {
            dir: dir.to_path_buf(),
            missing,
        })
    }
}

/// The bundle architecture of a stack architecture.
pub fn arch(architecture: Architecture) -> Arch {
    match architecture {
        Architecture::Arm64 => Arch::Arm64,
        Architecture::X86_64 => Arch::X86_64,
    }
}

/// `model`'s handlers grouped by architecture, in function order.
pub fn by_arch(model: &Model) -> Vec<(Arch, Vec<String>)> {
    let mut groups: Vec<(Arch, Vec<String>)> = Vec::new();
    for f in &model.functions {
        let a = arch(f.architecture);
        match groups.iter_mut().find(|(g, _)| *g == a) {
            Some((_, handlers)) => handlers.push(f.handler.clone()),
            None => groups.push((a, vec![f.handler.clone()])),
        }
    }
    groups
}

/// Builds `model`'s zips into `out_dir` with [`crate::bundle`], for each
/// function's architecture, and returns them.
pub fn build(
    model: &Model,
    handlers_dir: &Path,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Asset>, BundleError> {
    for (arch, handlers) in by_arch(model) {
        let options = Options {
            arch,
            handlers_dir: handlers_dir.to_path_buf(),
            out_dir: out_dir.to_path_buf(),
            handlers,
        };
        bundle::bundle(&options, progress)?;
    }
    Ok(needed(model, out_dir))
}
