//! The handlers member's sources: which handler binaries exist, and the hash of
//! the files each one is built from.
//!
//! The hash names the bundle (`{handler}-{hash}.zip`, see
//! [`sockstack_contract::bundle::key`]) both in the template, which synth writes
//! without building anything, and on the zip that `sockstack bundle` builds.
//! A handler's sources are:
//! - the handlers crate's `Cargo.toml` and `build.rs`,
//! - everything under its `src/` except the other handlers' binaries,
//! - the workspace's `Cargo.lock` and the contract crate (`contract/Cargo.toml`, `contract/src/`),
//!   found beside the handlers folder.
//!
//! Paths are hashed relative to the workspace with `/` separators, so the hash
//! does not depend on where the checkout lives.

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

    /// Files every handler is built from: the crate minus its binaries, the lock file, the contract.
    fn shared_files(&self) -> Result<Vec<(String, PathBuf)>, SourceError> {
        let workspace = self.dir.parent().unwrap_or(Path::new("."));
        let prefix = self.prefix();
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for name in ["Cargo.toml", "build.rs"] {
            let path = self.dir.join(name);
            if path.is_file() {
                files.push((format!("{prefix}/{name}"), path));
            }
        }
        collect(&self.dir.join("src"), &format!("{prefix}/src"), &mut files)?;
        let bin_prefix = format!("{prefix}/src/bin/");
        files.retain(|(rel, _)| !rel.starts_with(&bin_prefix));
        let lock = workspace.join("Cargo.lock");
        if lock.is_file() {
            files.push(("Cargo.lock".to_string(), lock));
        }
        let contract = workspace.join("contract");
        if contract.join("Cargo.toml").is_file() {
            files.push((
                "contract/Cargo.toml".to_string(),
                contract.join("Cargo.toml"),
            ));
            collect(&contract.join("src"), "contract/src", &mut files)?;
        }
        files.sort();
        Ok(files)
    }

    /// The bundle key (`{handler}-{hash}.zip`) of `handler`.
    pub fn bundle_key(&self, handler: &str) -> Result<String, SourceError> {
        Ok(sockstack_contract::bundle::key(
            handler,
            &self.hash(handler)?,
        ))
    }
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
        write(&h.join("src/bin/vote.rs"), "fn main() {}");
        write(&h.join("src/bin/chat/main.rs"), "fn main() {}");
        let sources = HandlerSources::open(&h).unwrap();
        assert_eq!(sources.names(), ["chat", "vote"]);

        let vote = sources.hash("vote").unwrap();
        let chat = sources.hash("chat").unwrap();
        assert_ne!(vote, chat);

        write(&h.join("src/bin/chat/main.rs"), "fn main() { loop {} }");
        assert_eq!(
            sources.hash("vote").unwrap(),
            vote,
            "another binary changed"
        );
        assert_ne!(sources.hash("chat").unwrap(), chat);

        write(&h.join("src/lib.rs"), "// lib v2");
        let reopened = HandlerSources::open(&h).unwrap();
        assert_ne!(reopened.hash("vote").unwrap(), vote, "the library changed");
    }
}
