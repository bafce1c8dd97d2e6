//! The handlers member's sources: which handler binaries exist, and the hash of
//! the files each one is built from.
//!
//! The hash names the bundle (`{handler}-{hash}.zip`, see
//! [`sockstack_contract::bundle::key`]) both in the template, which synth writes
//! without building anything, and on the zip that `sockstack bundle` builds.
//! A handler's sources are:
//! - the handler crate's `Cargo.toml` and `build.rs`,
//! - everything under its `src/` except the other binaries,
//! - the workspace's `Cargo.lock` (the nearest one above the crate),
//! - every `path =` dependency of the crate (normal, build, per-target, and through
//!   `workspace = true`), recursively: its `Cargo.toml`, `build.rs` and `src/`.
//!
//! Paths are hashed relative to the workspace with `/` separators (a dependency
//! outside the workspace by its package name), so the hash does not depend on
//! where the checkout lives.

use sha2::{Digest, Sha256};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A problem reading the handlers member.
#[derive(Debug)]
pub struct SourceError {
    /// The file or folder that could not be read.
    pub path: PathBuf,
    /// Why.
    pub source: io::Error,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for SourceError {}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |source| SourceError {
        path: path.to_path_buf(),
        source,
    }
}

/// The handlers member: a crate whose binaries (`src/bin/{name}.rs` or
/// `src/bin/{name}/main.rs`) are the Lambda functions.
#[derive(Debug, Clone)]
pub struct HandlerSources {
    dir: PathBuf,
    names: Vec<String>,
    /// Digest of the files every handler shares, computed on first use.
    shared: OnceLock<[u8; 32]>,
}

impl HandlerSources {
    /// Reads the list of handler binaries under `dir/src/bin`.
    pub fn open(dir: &Path) -> Result<Self, SourceError> {
        let bin = dir.join("src").join("bin");
        let mut names = Vec::new();
        for entry in fs::read_dir(&bin).map_err(read_err(&bin))? {
            let entry = entry.map_err(read_err(&bin))?;
            let path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if path.join("main.rs").is_file() {
                    names.push(file_name);
                }
            } else if let Some(stem) = file_name.strip_suffix(".rs") {
                names.push(stem.to_string());
            }
        }
        names.sort();
        Ok(HandlerSources {
            dir: dir.to_path_buf(),
            names,
            shared: OnceLock::new(),
        })
    }

    /// The handlers folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the handler binaries, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a handler binary of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The hex SHA-256 of everything `handler` is built from (see the module docs).
    ///
    /// The files all handlers share are digested once per `HandlerSources`; each
    /// handler's hash covers that digest and its own binary's sources.
    pub fn hash(&self, handler: &str) -> Result<String, SourceError> {
        let shared = match self.shared.get() {
            Some(digest) => *digest,
            None => {
                let digest = digest_files(&self.shared_files()?)?;
                *self.shared.get_or_init(|| digest)
            }
        };
        let bin_prefix = format!("{}/src/bin/", self.prefix());
        let mut own = Vec::new();
        let file = self.dir.join("src/bin").join(format!("{handler}.rs"));
        if file.is_file() {
            own.push((format!("{bin_prefix}{handler}.rs"), file));
        }
        collect(
            &self.dir.join("src/bin").join(handler),
            &format!("{bin_prefix}{handler}"),
            &mut own,
        )?;
        own.sort();
        let mut hasher = Sha256::new();
        hasher.update(shared);
        hasher.update(digest_files(&own)?);
        Ok(hex(&hasher.finalize()))
    }

    /// The handlers folder's name as it appears in hashed paths.
    fn prefix(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "handlers".to_string())
    }

    /// Files every handler is built from: the crate minus its binaries, the lock
    /// file, and every `path =` dependency of the crate, recursively.
    fn shared_files(&self) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let prefix = self.prefix();
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        crate_files(&self.dir, &prefix, &mut files)?;
        let bin_prefix = format!("{prefix}/src/bin/");
        files.retain(|(rel, _)| !rel.starts_with(&bin_prefix));
        let workspace = workspace_root(&self.dir);
        if let Some(ws) = &workspace {
            files.push(("Cargo.lock".to_string(), ws.join("Cargo.lock")));
        }
        for dep in self.crate_dirs()?.into_iter().skip(1) {
            let rel = match workspace
                .as_deref()
                .and_then(|ws| dep.strip_prefix(canonical(ws)).ok())
            {
                Some(inside) => inside.to_string_lossy().replace('\\', "/"),
                // Outside the workspace: named by the crate's package name, so the hash
                // does not depend on where it lives.
                None => format!("<{}>", package_name(&dep)?),
            };
            crate_files(&dep, &rel, &mut files)?;
        }
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// The handler crate's folder and the folders of its `path =` dependencies, recursively:
    /// where a change means a rebuild (`sockstack dev --watch`).
    pub fn crate_dirs(&self) -> Result<Vec<PathBuf>, SourceError> {
        let workspace = workspace_root(&self.dir);
        let mut seen: Vec<PathBuf> = vec![canonical(&self.dir)];
        let mut pending = path_dependencies(&self.dir, workspace.as_deref())?;
        while let Some(dep) = pending.pop() {
            let dep = canonical(&dep);
            if seen.contains(&dep) {
                continue;
            }
            seen.push(dep.clone());
            pending.extend(path_dependencies(&dep, workspace.as_deref())?);
        }
        Ok(seen)
    }

    /// The handler crate's package name (from its `Cargo.toml`), for `cargo build -p`.
    pub fn package(&self) -> Result<String, SourceError> {
        package_name(&self.dir)
    }

    /// The bundle key (`{handler}-{hash}.zip`) of `handler`.
    pub fn bundle_key(&self, handler: &str) -> Result<String, SourceError> {
        Ok(sockstack_contract::bundle::key(
            handler,
            &self.hash(handler)?,
        ))
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The nearest folder at or above `dir` with a `Cargo.lock` (the workspace root).
fn workspace_root(dir: &Path) -> Option<PathBuf> {
    canonical(dir)
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
}

/// A crate's `Cargo.toml`, `build.rs` and everything under `src/`, named `{rel}/…`.
fn crate_files(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), SourceError> {
    for name in ["Cargo.toml", "build.rs"] {
        let path = dir.join(name);
        if path.is_file() {
            out.push((format!("{rel}/{name}"), path));
        }
    }
    collect(&dir.join("src"), &format!("{rel}/src"), out)
}

fn read_manifest(path: &Path) -> Result<toml::Table, SourceError> {
    let text = fs::read_to_string(path).map_err(read_err(path))?;
    text.parse::<toml::Table>().map_err(|e| SourceError {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    })
}

fn package_name(dir: &Path) -> Result<String, SourceError> {
    let manifest = read_manifest(&dir.join("Cargo.toml"))?;
    Ok(manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("crate")
        .to_string())
}

/// The folders of `dir`'s `path =` dependencies (normal and build, also through
/// `workspace = true` entries of the workspace's `[workspace.dependencies]`).
fn path_dependencies(dir: &Path, workspace: Option<&Path>) -> Result<Vec<PathBuf>, SourceError> {
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        return Ok(Vec::new());
    }
    let manifest = read_manifest(&manifest_path)?;
    let workspace_deps = match workspace {
        Some(ws) if ws.join("Cargo.toml").is_file() => read_manifest(&ws.join("Cargo.toml"))?
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.as_table())
            .cloned(),
        _ => None,
    };
    let mut out = Vec::new();
    let mut tables: Vec<&toml::Table> = ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|k| manifest.get(*k).and_then(|d| d.as_table()))
        .collect();
    // `[target.'cfg(…)'.dependencies]` too.
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        for t in targets.values() {
            for k in ["dependencies", "build-dependencies"] {
                if let Some(d) = t.get(k).and_then(|d| d.as_table()) {
                    tables.push(d);
                }
            }
        }
    }
    for deps in tables {
        for (name, spec) in deps {
            if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                out.push(dir.join(path));
            } else if spec.get("workspace").and_then(|w| w.as_bool()) == Some(true)
                && let (Some(ws), Some(path)) = (
                    workspace,
                    workspace_deps
                        .as_ref()
                        .and_then(|d| d.get(name))
                        .and_then(|s| s.get("path"))
                        .and_then(|p| p.as_str()),
                )
            {
                out.push(ws.join(path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// SHA-256 over each file's relative path, length and bytes, in the given order.
fn digest_files(files: &[(String, PathBuf)]) -> Result<[u8; 32], SourceError> {
    let mut hasher = Sha256::new();
    for (rel, path) in files {
        let bytes = fs::read(path).map_err(read_err(path))?;
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher.finalize().into())
}

/// Adds every file below `dir` as `(rel/..., path)`.
fn collect(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), SourceError> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).map_err(read_err(dir))? {
        let entry = entry.map_err(read_err(dir))?;
        let path = entry.path();
        let child = format!("{rel}/{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            collect(&path, &child, out)?;
        } else {
            out.push((child, path));
        }
    }
    Ok(())
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn hash_covers_own_binary_and_library_only() {
        let ws = tempfile::tempdir().unwrap();
        let h = ws.path().join("handlers");
        write(&h.join("Cargo.toml"), "[package]");
        write(&h.join("src/lib.rs"), "// lib");
        write(&h.join("src/bin/send.rs"), "fn main() {}");
        write(&h.join("src/bin/chat/main.rs"), "fn main() {}");
        let sources = HandlerSources::open(&h).unwrap();
        assert_eq!(sources.names(), ["chat", "send"]);

        let send = sources.hash("send").unwrap();
        let chat = sources.hash("chat").unwrap();
        assert_ne!(send, chat);

        write(&h.join("src/bin/chat/main.rs"), "fn main() { loop {} }");
        assert_eq!(
            sources.hash("send").unwrap(),
            send,
            "another binary changed"
        );
        assert_ne!(sources.hash("chat").unwrap(), chat);

        write(&h.join("src/lib.rs"), "// lib v2");
        let reopened = HandlerSources::open(&h).unwrap();
        assert_ne!(reopened.hash("send").unwrap(), send, "the library changed");
    }

    /// A workspace at `ws` whose handler crate depends by path on `runtime`, which
    /// depends on `base`; the runtime lives at `runtime_dir` (inside or outside `ws`).
    fn workspace_with_runtime(ws: &Path, runtime_dir: &Path) -> PathBuf {
        let h = ws.join("app/handlers");
        // Inside the workspace the manifests say relative paths, as people write them.
        let (from_handlers, from_ws) = match runtime_dir.strip_prefix(ws) {
            Ok(rel) => (
                Path::new("../..").join(rel).to_string_lossy().into_owned(),
                rel.join("../base").to_string_lossy().into_owned(),
            ),
            Err(_) => (
                runtime_dir.to_string_lossy().into_owned(),
                runtime_dir.join("../base").to_string_lossy().into_owned(),
            ),
        };
        write(&ws.join("Cargo.lock"), "# lock");
        write(
            &ws.join("Cargo.toml"),
            &format!(
                "[workspace]\nmembers = [\"app/handlers\"]\n[workspace.dependencies]\nbase = {{ path = {from_ws:?} }}\n"
            ),
        );
        write(
            &h.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"h\"\n[dependencies]\nserde = \"1\"\nruntime = {{ path = {from_handlers:?} }}\n"
            ),
        );
        write(&h.join("src/bin/send.rs"), "fn main() {}");
        write(
            &runtime_dir.join("Cargo.toml"),
            "[package]\nname = \"runtime\"\n[dependencies]\nbase = { workspace = true }\n",
        );
        write(&runtime_dir.join("src/lib.rs"), "// runtime");
        write(
            &runtime_dir.join("../base/Cargo.toml"),
            "[package]\nname = \"base\"\n",
        );
        write(&runtime_dir.join("../base/src/lib.rs"), "// base");
        h
    }

    #[test]
    fn hash_covers_path_dependencies_recursively_and_the_lock_file() {
        for outside in [false, true] {
            let ws = tempfile::tempdir().unwrap();
            let elsewhere = tempfile::tempdir().unwrap();
            let runtime = if outside {
                elsewhere.path().join("libs/runtime")
            } else {
                ws.path().join("libs/runtime")
            };
            let h = workspace_with_runtime(ws.path(), &runtime);
            let hash = || HandlerSources::open(&h).unwrap().hash("send").unwrap();
            let first = hash();
            for (file, text) in [
                (runtime.join("src/lib.rs"), "// runtime v2"),
                (runtime.join("../base/src/lib.rs"), "// base v2"),
                (ws.path().join("Cargo.lock"), "# lock v2"),
            ] {
                let before = hash();
                write(&file, text);
                assert_ne!(
                    hash(),
                    before,
                    "outside={outside}: {} changed",
                    file.display()
                );
            }
            assert_ne!(hash(), first);
            // Files outside src/ (tests, benches, target/) are not built into the bundle.
            let before = hash();
            write(&runtime.join("tests/t.rs"), "#[test] fn t() {}");
            write(&runtime.join("target/debug/x"), "junk");
            assert_eq!(hash(), before, "outside={outside}");
        }
    }

    #[test]
    fn hash_does_not_depend_on_where_the_checkout_lives() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ha = workspace_with_runtime(a.path(), &a.path().join("libs/runtime"));
        let hb = workspace_with_runtime(b.path(), &b.path().join("libs/runtime"));
        assert_eq!(
            HandlerSources::open(&ha).unwrap().hash("send").unwrap(),
            HandlerSources::open(&hb).unwrap().hash("send").unwrap()
        );
    }
}
