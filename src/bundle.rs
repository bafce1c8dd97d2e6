//! `sockstack bundle`: builds the handler binaries for Lambda's
//! `provided.al2023` runtime and zips each one reproducibly as `bootstrap`.
//!
//! - **Build.** One `cargo build --profile lambda -p <handler crate> --target T
//!   --bin …` for all requested handlers. Source paths are remapped
//!   (`--remap-path-prefix`: the workspace becomes `/sockstack`, the cargo
//!   home `/cargo`), so the same sources give the same bytes wherever the
//!   checkout lives. arm64 is cross-built with `cargo zigbuild` (PyPI's
//!   `cargo-zigbuild` + `ziglang`, installed by `make bundle-tools` into
//!   `.venv`), pinned to glibc 2.34, or with Debian's `aarch64-linux-gnu-gcc`
//!   when that is installed instead. x86_64 on an x86_64 machine needs nothing extra.
//! - **Check.** Every binary must need glibc ≤ [`MAX_GLIBC`] (what
//!   `provided.al2023` has) or be static.
//! - **Zip.** One entry, `bootstrap`, mode 0755, a fixed timestamp
//!   (1980-01-01 00:00), deflated at a fixed level, no extra fields.
//! - **Name.** `{handler}-{hash of its sources}.zip`
//!   ([`crate::sources::HandlerSources::bundle_key`]), the S3 key the template uses.

use crate::sources::{HandlerSources, SourceError};
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The newest glibc `provided.al2023` offers.
pub const MAX_GLIBC: (u32, u32) = (2, 34);
/// The cargo profile bundles are built with (defined in the workspace `Cargo.toml`).
pub const PROFILE: &str = "lambda";

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// AWS Graviton (`aarch64-unknown-linux-gnu`).
    #[value(name = "arm64")]
    Arm64,
    /// `x86_64-unknown-linux-gnu`.
    #[value(name = "x86_64")]
    X86_64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    /// Lambda's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }

    /// Whether this machine runs it natively.
    pub fn is_native(self) -> bool {
        match self {
            Arch::Arm64 => cfg!(target_arch = "aarch64") && cfg!(target_os = "linux"),
            Arch::X86_64 => cfg!(target_arch = "x86_64") && cfg!(target_os = "linux"),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to bundle.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target architecture.
    pub arch: Arch,
    /// The handlers member (`handlers/`); the workspace is its parent.
    pub handlers_dir: PathBuf,
    /// Where zips go.
    pub out_dir: PathBuf,
    /// Binaries to bundle; empty means every binary of the handler crate.
    pub handlers: Vec<String>,
}

/// Why bundling failed.
#[derive(Debug)]
pub enum BundleError {
    /// The handlers member could not be read.
    Sources(SourceError),
    /// A requested handler has no binary.
    UnknownHandler {
        /// The name asked for.
        name: String,
        /// The handlers that exist.
        known: Vec<String>,
    },
    /// Something the build needs is not installed.
    MissingTool(String),
    /// cargo failed.
    Build(String),
    /// A binary needs a newer glibc than Lambda has.
    Glibc {
        /// The handler.
        handler: String,
        /// The glibc it needs.
        needs: (u32, u32),
    },
    /// Reading the binary or writing the zip failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: io::Error,
    },
}

impl BundleError {
    /// Whether the error is the user's input or setup (exit 2) rather than a failed build (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            BundleError::Sources(_)
                | BundleError::UnknownHandler { .. }
                | BundleError::MissingTool(_)
        )
    }
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Sources(e) => write!(f, "{e}"),
            BundleError::UnknownHandler { name, known } => write!(
                f,
                "no handler {name:?} (handlers: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
            BundleError::MissingTool(what) => f.write_str(what),
            BundleError::Build(what) => write!(f, "build failed: {what}"),
            BundleError::Glibc { handler, needs } => write!(
                f,
                "{handler} needs glibc {}.{}, but provided.al2023 has {}.{}",
                needs.0, needs.1, MAX_GLIBC.0, MAX_GLIBC.1
            ),
            BundleError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for BundleError {}

impl From<SourceError> for BundleError {
    fn from(e: SourceError) -> Self {
        BundleError::Sources(e)
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One bundle written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The handler.
    pub handler: String,
    /// The zip (`{out_dir}/{handler}-{hash}.zip`).
    pub path: PathBuf,
    /// Size of the zip in bytes.
    pub zip_bytes: u64,
    /// Size of `bootstrap` in bytes.
    pub binary_bytes: u64,
    /// The newest glibc version it needs (`None`: static, or needs none).
    pub glibc: Option<(u32, u32)>,
}

/// What is going on, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The build is starting (cargo's own output follows on stderr).
    Building {
        /// Handlers being built.
        handlers: Vec<String>,
        /// The command line, for the curious.
        command: String,
    },
    /// A bundle was written.
    Wrote(Bundle),
}

/// The handlers `options` asks for, checked against the handlers member.
pub fn select(sources: &HandlerSources, requested: &[String]) -> Result<Vec<String>, BundleError> {
    if requested.is_empty() {
        return Ok(sources.names().to_vec());
    }
    let mut selected = Vec::new();
    for name in requested {
        if !sources.contains(name) {
            return Err(BundleError::UnknownHandler {
                name: name.clone(),
                known: sources.names().to_vec(),
            });
        }
        if !selected.contains(name) {
            selected.push(name.clone());
        }
    }
    Ok(selected)
}

/// Builds and zips the handlers. Returns the bundles in the order built.
pub fn bundle(
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Bundle>, BundleError> {
    let sources = HandlerSources::open(&options.handlers_dir)?;
    let handlers = select(&sources, &options.handlers)?;
    if handlers.is_empty() {
        return Ok(Vec::new());
    }
    let workspace = workspace_of(&options.handlers_dir)?;
    let package = sources.package()?;
    let mut command = build_command(options.arch, &workspace, &package, &handlers)?;
    progress(Progress::Building {
        handlers: handlers.clone(),
        command: describe(&command),
    });
    let status = command
        .status()
        .map_err(|e| BundleError::MissingTool(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(BundleError::Build(format!(
            "{} exited with {status}",
            describe(&command)
        )));
    }
    let target_dir = target_dir(&workspace);
    fs::create_dir_all(&options.out_dir).map_err(io_err(&options.out_dir))?;
    let mut bundles = Vec::new();
    for handler in &handlers {
        let binary = target_dir
            .join(options.arch.triple())
            .join(PROFILE)
            .join(handler);
        let bytes = fs::read(&binary).map_err(io_err(&binary))?;
        let glibc = max_glibc(&bytes);
        if let Some(needs) = glibc.filter(|v| *v > MAX_GLIBC) {
            return Err(BundleError::Glibc {
                handler: handler.clone(),
                needs,
            });
        }
        let zip = zip_bootstrap(&bytes).map_err(io_err(&binary))?;
        let path = options.out_dir.join(sources.bundle_key(handler)?);
        write_atomically(&path, &zip)?;
        let bundle = Bundle {
            handler: handler.clone(),
            path,
            zip_bytes: zip.len() as u64,
            binary_bytes: bytes.len() as u64,
            glibc,
        };
        progress(Progress::Wrote(bundle.clone()));
        bundles.push(bundle);
    }
    Ok(bundles)
}

/// The workspace root: the handlers folder's parent, as an absolute path.
fn workspace_of(handlers_dir: &Path) -> Result<PathBuf, BundleError> {
    let handlers = fs::canonicalize(handlers_dir).map_err(io_err(handlers_dir))?;
    let workspace = handlers
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| handlers.clone());
    if !workspace.join("Cargo.toml").is_file() {
        return Err(BundleError::MissingTool(format!(
            "{} is not inside a cargo workspace (no Cargo.toml beside it)",
            handlers_dir.display()
        )));
    }
    Ok(workspace)
}

/// Where cargo puts its output: `CARGO_TARGET_DIR`, or `target/` in the workspace.
fn target_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        }
        _ => workspace.join("target"),
    }
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// `PATH` with the workspace's `.venv/bin` first (where `make bundle-tools` installs).
fn search_path(workspace: &Path) -> OsString {
    let mut dirs = vec![workspace.join(".venv").join("bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

fn find_program(path: &OsString, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn target_installed(triple: &str) -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return true; // let cargo report it
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    sysroot.is_empty()
        || Path::new(&sysroot)
            .join("lib/rustlib")
            .join(triple)
            .join("lib")
            .is_dir()
}

/// The cargo command that builds `handlers` for `arch`.
fn build_command(
    arch: Arch,
    workspace: &Path,
    package: &str,
    handlers: &[String],
) -> Result<Command, BundleError> {
    let triple = arch.triple();
    if !target_installed(triple) {
        return Err(BundleError::MissingTool(format!(
            "the Rust standard library for {triple} is not installed: run `make bundle-tools` \
             (or `rustup target add {triple}`)"
        )));
    }
    let path = search_path(workspace);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command.current_dir(workspace).env("PATH", &path);
    let mut target = triple.to_string();
    if arch.is_native() {
        command.arg("build");
    } else if find_program(&path, "cargo-zigbuild").is_some() {
        // zig links against glibc 2.34's symbols: what provided.al2023 has.
        command.arg("zigbuild");
        target = format!("{triple}.{}.{}", MAX_GLIBC.0, MAX_GLIBC.1);
    } else if arch == Arch::Arm64 && find_program(&path, "aarch64-linux-gnu-gcc").is_some() {
        command
            .arg("build")
            .env(
                "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
                "aarch64-linux-gnu-gcc",
            )
            .env("CC_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-gcc")
            .env("AR_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-ar");
    } else {
        return Err(BundleError::MissingTool(format!(
            "no cross linker for {arch}: run `make bundle-tools` (installs cargo-zigbuild and zig \
             from PyPI into .venv), or install Debian's gcc-aarch64-linux-gnu"
        )));
    }
    command.args([
        "--locked",
        "--profile",
        PROFILE,
        "-p",
        package,
        "--target",
        &target,
    ]);
    for handler in handlers {
        command.args(["--bin", handler]);
    }
    // Remap source paths so the binary does not depend on where things live.
    // With --target, these flags reach only the target's crates, not build scripts.
    let mut flags = vec![format!(
        "--remap-path-prefix={}=/sockstack",
        workspace.display()
    )];
    if let Some(home) = cargo_home() {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    command.env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    command.env_remove("RUSTFLAGS");
    Ok(command)
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The newest `GLIBC_x.y` symbol version an ELF binary refers to (`None` when
/// it refers to none, e.g. a static binary).
pub fn max_glibc(binary: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_";
    let mut newest = None;
    let mut i = 0;
    while let Some(pos) = find(&binary[i..], TAG) {
        let start = i + pos + TAG.len();
        i = start;
        let digits = |from: usize| {
            let end = binary[from..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(binary.len(), |p| from + p);
            (end > from)
                .then(|| {
                    std::str::from_utf8(&binary[from..end])
                        .ok()?
                        .parse::<u32>()
                        .ok()
                })
                .flatten()
                .map(|n| (n, end))
        };
        let Some((major, end)) = digits(start) else {
            continue;
        };
        if binary.get(end) != Some(&b'.') {
            continue;
        }
        let Some((minor, end)) = digits(end + 1) else {
            continue;
        };
        // Version names end with NUL in .dynstr (GLIBC_2.34\0, not GLIBC_2.34.1).
        if binary.get(end) != Some(&0) {
            continue;
        }
        newest = newest.max(Some((major, minor)));
    }
    newest
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A zip holding `binary` as `bootstrap`, mode 0755, with a fixed timestamp:
/// the same bytes in give the same bytes out.
pub fn zip_bootstrap(binary: &[u8]) -> io::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755)
        .large_file(false);
    writer
        .start_file(sockstack_contract::bundle::EXECUTABLE, options)
        .map_err(io::Error::other)?;
    writer.write_all(binary)?;
    let cursor = writer.finish().map_err(io::Error::other)?;
    Ok(cursor.into_inner())
}

/// Writes `bytes` to `path` through a temporary file in the same folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let tmp = path.with_extension("zip.tmp");
    fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_is_reproducible_with_an_executable_bootstrap() {
        let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let a = zip_bootstrap(&binary).unwrap();
        let b = zip_bootstrap(&binary).unwrap();
        assert_eq!(a, b, "same input, same bytes");
        assert!(a.len() < binary.len(), "deflated");

        let mut archive = zip::ZipArchive::new(io::Cursor::new(&a)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.last_modified(), Some(zip::DateTime::default()));
        let mut content = Vec::new();
        io::Read::read_to_end(&mut entry, &mut content).unwrap();
        assert_eq!(content, binary);
    }

    #[test]
    fn glibc_versions_are_read_from_version_names() {
        let elf = b"\x7fELF..libc.so.6\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0";
        assert_eq!(max_glibc(elf), Some((2, 34)));
        assert_eq!(max_glibc(b"static binary, no versions"), None);
        assert_eq!(
            max_glibc(b"text mentioning GLIBC_2.99 in a sentence\0"),
            None
        );
    }

    #[test]
    fn selection_defaults_to_every_binary_and_rejects_unknown_names() {
        let dir = std::env::temp_dir().join(format!("sockstack-bundle-{}", std::process::id()));
        let bin = dir.join("handlers/src/bin");
        fs::create_dir_all(&bin).unwrap();
        for name in ["send", "connect", "tool"] {
            fs::write(bin.join(format!("{name}.rs")), "fn main() {}").unwrap();
        }
        let sources = HandlerSources::open(&dir.join("handlers")).unwrap();
        assert_eq!(select(&sources, &[]).unwrap(), ["connect", "send", "tool"]);
        assert_eq!(
            select(&sources, &["send".into(), "send".into(), "tool".into()]).unwrap(),
            ["send", "tool"]
        );
        let err = select(&sources, &["chat".into()]).unwrap_err();
        assert!(err.is_bad_input());
        assert!(err.to_string().contains("no handler \"chat\""), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
