//! `sockstack init`: a project of the user's own, from one of the examples.
//!
//! A project is a Cargo workspace: `sockstack.toml`, `stacks/dev.yaml` (format
//! 2, with the schema beside it for editors), a `handlers` member (one binary
//! per function, its own tests) depending on `sockstack-runtime` by path, a
//! README with the next commands, `.gitignore`, and a `Cargo.lock`.
//!
//! The example sources are the crates of this repository, embedded at build
//! time (one source of truth, built and tested here): `team-health` is
//! `handlers/` with `stacks/dev.yaml`; `chat` and `minimal` are
//! `examples/<name>/`. Their crates are members of this workspace, so the
//! `Cargo.lock` sockstack was built with pins their dependencies: init writes
//! it, and [`Toolchain::prune_lock`] lets cargo drop what the project does not
//! use (keeping every version), so `cargo build --locked` works at once.
//!
//! Init refuses a folder that is not empty and never overwrites a file.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The examples a project can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    /// Team votes, broadcast to the team: JWT authorizer, registry indexed by team and user, a profiles table.
    TeamHealth,
    /// Rooms and messages: join (with history) and send (fan-out to the room), one function with more memory.
    Chat,
    /// A public echo: no authorizer, no tables, no grants.
    Minimal,
}

impl Example {
    /// Every example, in the order `--help` lists them.
    pub const ALL: [Example; 3] = [Example::TeamHealth, Example::Chat, Example::Minimal];

    /// The name `--example` takes.
    pub fn name(self) -> &'static str {
        match self {
            Example::TeamHealth => "team-health",
            Example::Chat => "chat",
            Example::Minimal => "minimal",
        }
    }

    /// One line on what it is.
    pub fn summary(self) -> &'static str {
        match self {
            Example::TeamHealth => {
                "team votes sent to the whole team: JWT authorizer, registry indexed by team and user, a profiles table"
            }
            Example::Chat => {
                "chat rooms: join (answers with the history) and send (to everyone in the room); rooms and messages tables"
            }
            Example::Minimal => "a public echo: no authorizer, no tables, no grants",
        }
    }

    /// The example's stack file.
    fn stack(self) -> &'static str {
        match self {
            Example::TeamHealth => include_str!("../stacks/dev.yaml"),
            Example::Chat => include_str!("../examples/chat/stacks/dev.yaml"),
            Example::Minimal => include_str!("../examples/minimal/stacks/dev.yaml"),
        }
    }

    /// The handler crate's files, relative to the crate.
    pub fn handler_files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Example::TeamHealth => TEAM_HEALTH,
            Example::Chat => CHAT,
            Example::Minimal => MINIMAL,
        }
    }

    /// Where the handler crate lives in this repository.
    pub fn source_dir(self) -> &'static str {
        match self {
            Example::TeamHealth => "handlers",
            Example::Chat => "examples/chat/handlers",
            Example::Minimal => "examples/minimal/handlers",
        }
    }

    /// The `path = "…"` of `sockstack-runtime` in the crate's `Cargo.toml` here.
    fn runtime_path_here(self) -> &'static str {
        match self {
            Example::TeamHealth => "../runtime",
            Example::Chat | Example::Minimal => "../../../runtime",
        }
    }
}

impl std::str::FromStr for Example {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Example::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown example {s:?}; examples: {}",
                    Example::ALL.map(Example::name).join(", ")
                )
            })
    }
}

macro_rules! files {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../", $dir, "/", $file)))),*]
    };
}

const TEAM_HEALTH: &[(&str, &str)] = files!("handlers":
    "Cargo.toml",
    "benches/startup.rs",
    "src/bin/authorizer.rs",
    "src/bin/connect.rs",
    "src/bin/default.rs",
    "src/bin/disconnect.rs",
    "src/bin/notify.rs",
    "src/bin/vote.rs",
    "src/connection.rs",
    "src/lib.rs",
    "src/profiles.rs",
    "src/vote.rs",
    "tests/notify.rs",
    "tests/routes.rs",
    "tests/runtime_api.rs",
);

const CHAT: &[(&str, &str)] = files!("examples/chat/handlers":
    "Cargo.toml",
    "src/bin/authorizer.rs",
    "src/bin/connect.rs",
    "src/bin/default.rs",
    "src/bin/disconnect.rs",
    "src/bin/join.rs",
    "src/bin/send.rs",
    "src/lib.rs",
    "src/messages.rs",
    "src/rooms.rs",
    "src/routes.rs",
    "tests/chat.rs",
);

const MINIMAL: &[(&str, &str)] = files!("examples/minimal/handlers":
    "Cargo.toml",
    "src/bin/connect.rs",
    "src/bin/default.rs",
    "src/bin/disconnect.rs",
    "src/lib.rs",
    "tests/echo.rs",
);

/// The JSON Schema of stack files, as `sockstack schema` prints it (kept current by its test).
const SCHEMA: &str = include_str!("../stacks/stack.schema.json");
/// The lock file this sockstack was built with: the versions every example is tested with.
const LOCK: &str = include_str!("../Cargo.lock");

const WORKSPACE: &str = r#"[workspace]
members = ["handlers"]
resolver = "3"

# The size profile of Lambda bundles (`sockstack bundle`): small binaries, slow builds.
[profile.lambda]
inherits = "release"
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
strip = true
"#;

const PROJECT_FILE: &str = "\
# The sockstack project: sockstack commands run anywhere below this folder find it.
# The handler crate: its src/bin/*.rs are the binaries the stack files' functions run.
handlers = \"handlers\"
stacks = \"stacks\"
";

/// `dev-values/` holds the local values of parameters and secrets for `sockstack dev`: secrets stay out of git.
const GITIGNORE: &str = "/target\n/out\n/dev-values\n";

/// The runtime crate this sockstack was built from (the default `--runtime-path`).
pub fn default_runtime_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime")
}

/// What touches the outside: cargo.
pub trait Toolchain {
    /// Lets cargo rewrite `dir/Cargo.lock` for the project in `dir`: packages it
    /// does not use are dropped, the versions of the others kept. Offline.
    fn prune_lock(&self, dir: &Path) -> Result<(), String>;
}

/// The cargo on `PATH` (or `$CARGO`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cargo;

impl Toolchain for Cargo {
    fn prune_lock(&self, dir: &Path) -> Result<(), String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--offline",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(dir.join("Cargo.toml"))
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

/// Why a project could not be created.
#[derive(Debug)]
pub enum InitError {
    /// The folder exists and is not empty.
    NotEmpty(PathBuf),
    /// The path exists and is not a folder.
    NotADirectory(PathBuf),
    /// `--runtime-path` is not the sockstack-runtime crate.
    NotRuntime(PathBuf),
    /// A file could not be written (never overwritten: `AlreadyExists` when it was there).
    Io(PathBuf, io::Error),
    /// Cargo could not fit the lock file to the project.
    Lock(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::NotEmpty(dir) => write!(
                f,
                "{} is not empty: sockstack init writes only into a new or empty folder",
                dir.display()
            ),
            InitError::NotADirectory(dir) => {
                write!(f, "{} exists and is not a folder", dir.display())
            }
            InitError::NotRuntime(dir) => write!(
                f,
                "--runtime-path {}: no sockstack-runtime crate there (expected its Cargo.toml with name = \"sockstack-runtime\")",
                dir.display()
            ),
            InitError::Io(path, e) if e.kind() == io::ErrorKind::AlreadyExists => {
                write!(f, "{} already exists: not overwritten", path.display())
            }
            InitError::Io(path, e) => write!(f, "cannot write {}: {e}", path.display()),
            InitError::Lock(why) => {
                write!(f, "cargo could not fit Cargo.lock to the project: {why}")
            }
        }
    }
}

impl std::error::Error for InitError {}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The handler crate's `Cargo.toml` with `sockstack-runtime` at `runtime`.
fn handler_manifest(example: Example, text: &str, runtime: &Path) -> String {
    let here = format!("path = \"{}\"", example.runtime_path_here());
    assert!(
        text.contains(&here),
        "{}/Cargo.toml must name the runtime as {here}",
        example.source_dir()
    );
    text.replace(
        &here,
        &format!("path = {}", toml_string(&runtime.to_string_lossy())),
    )
}

fn readme(example: Example) -> String {
    let functions: Vec<&str> = example
        .handler_files()
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("src/bin/")?.strip_suffix(".rs"))
        .collect();
    format!(
        "# A sockstack backend ({name})\n\n\
         Started with `sockstack init --example {name}`: {summary}.\n\n\
         - `stacks/dev.yaml`: the stack file (format 2; `stacks/stack.schema.json` lets editors check it).\n\
         - `handlers/`: the Lambda functions, one binary per function ({functions}), built on `sockstack-runtime`.\n\
         - `sockstack.toml`: where the handler crate and the stack files are.\n\n\
         ## Next\n\n\
         ```\n\
         cargo test --locked        # the handlers' own tests (local JWKS, @connections, DynamoDB on moto_server)\n\
         sockstack synth            # stacks/*.yaml -> out/<stack>/template.yaml\n\
         sockstack validate dev     # every check, nothing written\n\
         ```\n\n\
         Then edit `stacks/dev.yaml` (tables, functions and their grants, routes) and the handlers;\n\
         a function reads what its grants give it from its environment (see the sockstack README,\n\
         \"The handler contract\").\n",
        name = example.name(),
        summary = example.summary(),
        functions = functions.join(", "),
    )
}

/// Every file of a new project from `example`, with `sockstack-runtime` at
/// `runtime`: `(path relative to the project, contents)`, sorted by path.
pub fn files(example: Example, runtime: &Path) -> Vec<(PathBuf, String)> {
    let mut files = vec![
        (PathBuf::from("Cargo.toml"), WORKSPACE.to_string()),
        (PathBuf::from("Cargo.lock"), LOCK.to_string()),
        (PathBuf::from("sockstack.toml"), PROJECT_FILE.to_string()),
        (PathBuf::from(".gitignore"), GITIGNORE.to_string()),
        (PathBuf::from("README.md"), readme(example)),
        (
            PathBuf::from("stacks/dev.yaml"),
            example.stack().to_string(),
        ),
        (
            PathBuf::from("stacks/stack.schema.json"),
            SCHEMA.to_string(),
        ),
    ];
    for (path, text) in example.handler_files() {
        let text = if *path == "Cargo.toml" {
            handler_manifest(example, text, runtime)
        } else {
            text.to_string()
        };
        files.push((Path::new("handlers").join(path), text));
    }
    files.sort();
    files
}

/// Writes a new file: one that exists (say, appeared since the folder was
/// found empty) is reported, never replaced.
fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| InitError::Io(path.to_path_buf(), e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| InitError::Io(path.to_path_buf(), e))
}

/// What [`init`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The project folder.
    pub dir: PathBuf,
    /// The files written, relative to it.
    pub files: Vec<PathBuf>,
}

/// Creates a project from `example` in `dir` (new or empty) with
/// `sockstack-runtime` at `runtime`, then fits its `Cargo.lock` with `toolchain`.
pub fn init(
    dir: &Path,
    example: Example,
    runtime: &Path,
    toolchain: &dyn Toolchain,
) -> Result<Created, InitError> {
    let manifest = runtime.join("Cargo.toml");
    let is_runtime = fs::read_to_string(&manifest).is_ok_and(|t| {
        t.lines()
            .any(|l| l.trim() == "name = \"sockstack-runtime\"")
    });
    if !is_runtime {
        return Err(InitError::NotRuntime(runtime.to_path_buf()));
    }
    let runtime = fs::canonicalize(runtime).map_err(|e| InitError::Io(runtime.to_path_buf(), e))?;
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(InitError::NotEmpty(dir.to_path_buf()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| InitError::Io(dir.to_path_buf(), e))?;
        }
        Err(_) if dir.exists() => return Err(InitError::NotADirectory(dir.to_path_buf())),
        Err(e) => return Err(InitError::Io(dir.to_path_buf(), e)),
    }
    let files = files(example, &runtime);
    for (path, text) in &files {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).map_err(|e| InitError::Io(parent.to_path_buf(), e))?;
        }
        write_new(&full, text)?;
    }
    toolchain.prune_lock(dir).map_err(InitError::Lock)?;
    Ok(Created {
        dir: dir.to_path_buf(),
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn on_disk(dir: &Path) -> BTreeSet<String> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.insert(rel);
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(dir, dir, &mut out);
        out
    }

    #[test]
    fn every_file_of_each_example_crate_is_embedded() {
        for example in Example::ALL {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(example.source_dir());
            let embedded: BTreeSet<String> = example
                .handler_files()
                .iter()
                .map(|(p, _)| p.to_string())
                .collect();
            assert_eq!(
                embedded,
                on_disk(&dir),
                "{}: add new files to its list",
                example.name()
            );
        }
    }

    #[test]
    fn the_runtime_path_is_rewritten_and_quoted() {
        for example in Example::ALL {
            let files = files(example, Path::new("/opt/sock \"stack\"/runtime"));
            let manifest = &files
                .iter()
                .find(|(p, _)| p == Path::new("handlers/Cargo.toml"))
                .unwrap()
                .1;
            assert_eq!(
                manifest
                    .matches(r#"path = "/opt/sock \"stack\"/runtime""#)
                    .count(),
                2,
                "{}: dependency and dev-dependency\n{manifest}",
                example.name()
            );
            assert!(!manifest.contains("../runtime"));
        }
    }

    #[test]
    fn every_example_has_the_project_files() {
        for example in Example::ALL {
            let names: BTreeSet<PathBuf> = files(example, Path::new("/r"))
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            for expected in [
                "Cargo.toml",
                "Cargo.lock",
                "sockstack.toml",
                ".gitignore",
                "README.md",
                "stacks/dev.yaml",
                "stacks/stack.schema.json",
                "handlers/Cargo.toml",
                "handlers/src/lib.rs",
            ] {
                assert!(
                    names.contains(Path::new(expected)),
                    "{}: {expected}",
                    example.name()
                );
            }
            let stack = example.stack();
            assert!(stack.starts_with("# yaml-language-server: $schema=stack.schema.json\n"));
        }
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        fs::write(&path, "mine").unwrap();
        let err = write_new(&path, "theirs").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("Cargo.toml already exists: not overwritten"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "mine");
    }

    #[test]
    fn examples_parse_by_name() {
        assert_eq!("chat".parse(), Ok(Example::Chat));
        let err = "game".parse::<Example>().unwrap_err();
        assert!(err.contains("team-health, chat, minimal"), "{err}");
    }
}
