//! `sockstack diff --base REF`: the stacks at a git revision, synthesized by this binary.
//!
//! The stack files, the handlers member and its `path =` dependencies (e.g. the runtime crate),
//! `contract/`, `Cargo.toml` and `Cargo.lock` at REF are exported
//! into a temporary folder (through [`Git`]) and every stack file there is synthesized as
//! `sockstack synth` would. Before anything is written the export is sized from git's own
//! record: a stack file over `SOCKSTACK_MAX_INPUT_BYTES`, or more than
//! `SOCKSTACK_MAX_INPUT_ARCHIVE_BYTES` in all, is refused naming `REF:path`. Errors name files as `REF:path` (never the temporary folder),
//! and every invalid stack at REF is listed at once. A revision that is not one, or a
//! stacks folder missing or empty at REF, is an error: a gate must never pass because it
//! compared nothing.

use super::input::Stacks;
use crate::emit::Format;
use crate::input;
use crate::pipeline;
use crate::raw::RawTemplate;
use crate::sources::HandlerSources;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `--base` needs from git.
pub trait Git {
    /// Succeeds when `rev` names a commit.
    fn verify_commit(&self, rev: &str) -> Result<(), String>;
    /// The repository's root folder (absolute).
    fn toplevel(&self) -> Result<PathBuf, String>;
    /// Whether `path` (from the repository root) exists at `rev`.
    fn exists(&self, rev: &str, path: &str) -> bool;
    /// Writes `paths` (from the repository root) as they are at `rev` into the folder `into`.
    fn export(&self, rev: &str, paths: &[String], into: &Path) -> Result<(), String>;
    /// Every file below `paths` at `rev`, from the repository root, with its size in bytes.
    fn sizes(&self, rev: &str, paths: &[String]) -> Result<Vec<(String, u64)>, String>;
}

/// [`Git`] through the `git` and `tar` programs, for the repository around the current folder.
pub struct GitCli;

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
        return Err(format!(
            "{} {} failed: {}",
            cmd.get_program().to_string_lossy(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

impl Git for GitCli {
    fn verify_commit(&self, rev: &str) -> Result<(), String> {
        run(Command::new("git").args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ]))
        .map(|_| ())
    }

    fn toplevel(&self) -> Result<PathBuf, String> {
        let out = run(Command::new("git").args(["rev-parse", "--show-toplevel"]))?;
        let top = PathBuf::from(String::from_utf8_lossy(&out).trim());
        Ok(top.canonicalize().unwrap_or(top))
    }

    fn exists(&self, rev: &str, path: &str) -> bool {
        run(Command::new("git").args(["cat-file", "-e", &format!("{rev}:{path}")])).is_ok()
    }

    fn export(&self, rev: &str, paths: &[String], into: &Path) -> Result<(), String> {
        let tar = into.join(".base.tar");
        // From the root: in a subfolder, `git archive` takes no path outside it.
        run(Command::new("git")
            .current_dir(self.toplevel()?)
            .args(["archive", "--format=tar", "-o"])
            .arg(&tar)
            .arg(rev)
            .arg("--")
            .args(paths))?;
        run(Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(into))?;
        std::fs::remove_file(&tar).map_err(|e| format!("cannot remove {}: {e}", tar.display()))
    }

    fn sizes(&self, rev: &str, paths: &[String]) -> Result<Vec<(String, u64)>, String> {
        let out = run(Command::new("git")
            .args(["ls-tree", "-r", "-l", "-z", "--full-tree", rev, "--"])
            .args(paths))?;
        // `<mode> blob <object> <size>\t<path>`, NUL-terminated; submodules have no size.
        Ok(out
            .split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (meta, path) = entry.split_once('\t')?;
                let mut fields = meta.split_whitespace();
                let kind = fields.nth(1)?;
                let size = fields.nth(1)?.parse().ok()?;
                (kind == "blob").then(|| (path.to_string(), size))
            })
            .collect())
    }
}

/// What `--base` may still export: every stack file within the input size limit, and
/// everything together within [`input::Limits::max_archive_bytes`], checked from the sizes
/// git reports before a byte is written.
struct Budget<'a> {
    rev: &'a str,
    stacks: &'a str,
    limits: input::Limits,
    used: u64,
}

impl Budget<'_> {
    fn admit(&mut self, git: &dyn Git, paths: &[String]) -> Result<(), String> {
        let rev = self.rev;
        let sizes = git.sizes(rev, paths)?;
        let under_stacks = |p: &str| {
            p.strip_prefix(self.stacks)
                .is_some_and(|rest| rest.starts_with('/'))
                && (p.ends_with(".yaml") || p.ends_with(".yml"))
        };
        for (path, size) in &sizes {
            if under_stacks(path) && *size > self.limits.max_bytes {
                return Err(format!(
                    "--base {rev}: {rev}:{path} is {size} bytes, more than the limit of {} (raise it with {}=BYTES)",
                    self.limits.max_bytes,
                    input::ENV_MAX_BYTES
                ));
            }
        }
        self.used += sizes.iter().map(|(_, s)| s).sum::<u64>();
        if self.used > self.limits.max_archive_bytes {
            let (path, size) = sizes
                .iter()
                .max_by_key(|(p, s)| (*s, std::cmp::Reverse(p.clone())))
                .cloned()
                .unwrap_or_default();
            return Err(format!(
                "--base {rev}: the files to export from {rev} are {} bytes in all, more than the limit of {} (raise it with {}=BYTES); the largest is {rev}:{path} ({size} bytes)",
                self.used,
                self.limits.max_archive_bytes,
                input::ENV_MAX_ARCHIVE_BYTES
            ));
        }
        Ok(())
    }
}

/// The stacks at git revision `rev`: `stacks_dir` and `handlers` are folders of the working tree
/// (absolute, or relative to the current folder), looked up at the same place in the repository
/// at `rev` (`contract/` and `Cargo.lock` sit beside the handlers folder, see [`crate::sources`]).
pub fn stacks_at(
    git: &dyn Git,
    rev: &str,
    stacks_dir: &Path,
    handlers: &Path,
) -> Result<Stacks, String> {
    git.verify_commit(rev)
        .map_err(|_| format!("--base {rev}: not a git revision here"))?;
    let top = git.toplevel()?;
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .map_err(|e| format!("cannot read the current folder: {e}"))?;
    // The path from the repository root, `/`-separated.
    let rel = |p: &Path| -> Result<String, String> {
        let abs = normalized(&cwd.join(p));
        let inside = abs.strip_prefix(&top).map_err(|_| {
            format!(
                "--base {rev}: {} is outside the git repository at {}",
                p.display(),
                top.display()
            )
        })?;
        Ok(inside.to_string_lossy().replace('\\', "/"))
    };
    let handlers_rel = rel(handlers)?;
    let beside = |name: &str| -> String {
        match handlers_rel.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{name}"),
            None => name.to_string(),
        }
    };
    let stacks_rel = rel(stacks_dir)?;
    if !git.exists(rev, &stacks_rel) {
        return Err(format!(
            "--base {rev}: {rev}:{stacks_rel} does not exist, so there is nothing to compare with\n  expected: the project's stack files at the same place in both revisions (sockstack.toml's `stacks`, or --stacks-dir relative to the current folder)"
        ));
    }
    let wanted = [
        stacks_rel.clone(),
        handlers_rel.clone(),
        beside("contract"),
        beside("Cargo.lock"),
        beside("Cargo.toml"),
    ];
    let present: Vec<String> = wanted
        .into_iter()
        .filter(|p| *p == stacks_rel || git.exists(rev, p))
        .collect();
    let mut budget = Budget {
        rev,
        stacks: &stacks_rel,
        limits: input::Limits::from_env()?,
        used: 0,
    };
    budget.admit(git, &present)?;
    let tmp = TempDir::new()?;
    git.export(rev, &present, tmp.path())?;
    export_path_dependencies(
        git,
        rev,
        &tmp.path().join(&handlers_rel),
        tmp.path(),
        &mut budget,
    )?;
    let shown = |text: String| {
        let root = format!("{}/", tmp.path().display());
        text.replace(&root, &format!("{rev}:"))
    };
    let stacks = synthesize_dir(
        &tmp.path().join(&stacks_rel),
        &tmp.path().join(&handlers_rel),
    )
    .map_err(|e| shown(format!("at --base {rev}: {e}")))?;
    Ok(stacks
        .into_iter()
        .map(|(name, (template, path))| {
            let inside = path.strip_prefix(tmp.path()).unwrap_or(&path);
            let named = PathBuf::from(format!("{rev}:{}", inside.display()));
            (name, (template, named))
        })
        .collect())
}

/// Exports, from `rev` into `root`, every `path =` dependency of the handler crate at `handlers`
/// (recursively, e.g. the runtime crate), so its bundle hash can be computed as at `rev`.
fn export_path_dependencies(
    git: &dyn Git,
    rev: &str,
    handlers: &Path,
    root: &Path,
    budget: &mut Budget<'_>,
) -> Result<(), String> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut exported: Vec<String> = Vec::new();
    loop {
        let Ok(sources) = HandlerSources::open(handlers) else {
            return Ok(());
        };
        let dirs = sources.crate_dirs().map_err(|e| e.to_string())?;
        let missing: Vec<String> = dirs
            .iter()
            .filter(|d| !d.join("Cargo.toml").is_file())
            .filter_map(|d| {
                normalized(d)
                    .strip_prefix(&root)
                    .ok()
                    .map(Path::to_path_buf)
            })
            .map(|d| d.to_string_lossy().replace('\\', "/"))
            .filter(|d| !exported.contains(d) && git.exists(rev, d))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        budget.admit(git, &missing)?;
        git.export(rev, &missing, &root)?;
        exported.extend(missing);
    }
}

/// `path` with `.` and `..` resolved lexically (the folder may not exist yet).
fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Synthesizes every stack file in `stacks_dir` with the handlers in `handlers`. The folder
/// must hold at least one stack file; every invalid stack is reported, not just the first.
pub fn synthesize_dir(stacks_dir: &Path, handlers: &Path) -> Result<Stacks, String> {
    if !stacks_dir.is_dir() {
        return Err(format!(
            "{}: no such folder, so there is nothing to compare\n  expected: --stacks-dir naming the stack files' folder",
            stacks_dir.display()
        ));
    }
    let files = pipeline::stack_files(&[], stacks_dir).map_err(|e| e.to_string())?;
    let sources = HandlerSources::open(handlers).map_err(|e| e.to_string())?;
    let mut stacks = Stacks::new();
    let mut problems = Vec::new();
    for file in files {
        match pipeline::synthesize(&file, &sources, Format::Yaml) {
            Ok(s) => match RawTemplate::parse(&s.text) {
                Ok(raw) => {
                    stacks.insert(s.name.clone(), (raw, file));
                }
                Err(e) => problems.push(format!("{}: {e}", file.display())),
            },
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(stacks)
    } else {
        Err(format!(
            "{} invalid stack file(s):\n{}",
            problems.len(),
            problems.join("\n")
        ))
    }
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        for i in 0..100u32 {
            let dir = base.join(format!("sockstack-diff-{}-{i}", std::process::id()));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("cannot create a temporary folder: {e}")),
            }
        }
        Err("cannot create a temporary folder: no free name".into())
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
