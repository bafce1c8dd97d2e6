//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod moto;
pub mod scanners;
pub mod stack_cases;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The smallest valid stack file: one public `$connect` served by `connect`.
pub const GOOD_STACK: &str = "\
version: 2
stack: good
stage:
  name: dev
functions:
  connect: {}
routes:
  - key: $connect
    function: connect
    public: true
";

/// Runs `git ARGS` in `dir` as a throwaway identity (no signing), and fails the test if git does.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `stacks/NAME.yaml` of this repository, synthesized with its handler crate.
pub fn synthesize_stack(name: &str) -> sockstack::pipeline::Synthesized {
    let sources = sockstack::sources::HandlerSources::open(&handlers()).unwrap();
    sockstack::pipeline::synthesize(
        &root().join(format!("stacks/{name}.yaml")),
        &sources,
        sockstack::emit::Format::Yaml,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A git repository holding a copy of this project's stack files, handler crate (its manifest,
/// sources and build script), the crates it depends on by path and `Cargo.lock`, committed on
/// `main`: a base for `diff --base`.
pub fn committed_project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path, to: &Path| {
        let status = Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    for item in [
        "stacks",
        "contract",
        "runtime",
        "lambda-local",
        "Cargo.lock",
    ] {
        copy(&root().join(item), &dir.path().join(item));
    }
    fs::create_dir_all(dir.path().join("handlers")).unwrap();
    for item in ["Cargo.toml", "src", "build.rs"] {
        let from = root().join("handlers").join(item);
        if from.exists() {
            copy(&from, &dir.path().join("handlers").join(item));
        }
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

/// A template's resources of type `type_name`, by logical id.
pub fn resources<'a>(
    t: &'a serde_json::Value,
    type_name: &str,
) -> Vec<(&'a String, &'a serde_json::Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .collect()
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real handlers member.
pub fn handlers() -> PathBuf {
    root().join("handlers")
}

/// The `sockstack` binary, run from `dir`.
pub fn sockstack(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_sockstack"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// A Python tool from the project's venv (`make tools`), else from PATH.
/// Panics with the fix when it is missing: a missing tool must fail the suite, never skip it.
pub fn tool(name: &str) -> PathBuf {
    let venv = root().join(".venv/bin").join(name);
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "`{name}` not found: run `make tools` (it installs the pinned Python tools into .venv)"
        )
    })
}

/// Runs cfn-lint with every rule, informational ones included; panics with its output on any finding.
pub fn cfn_lint(template: &Path) {
    let output = Command::new(tool("cfn-lint"))
        .args(["--include-checks", "I", "--"])
        .arg(template)
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success(),
        "cfn-lint found problems in {}:\n{}{}",
        template.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file below `dir` with its contents, for before/after comparisons.
pub fn snapshot_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if dir.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                out.push((path.clone(), Vec::new()));
                out.extend(snapshot_dir(&path));
            } else {
                out.push((path.clone(), fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// A throwaway handlers member with the given binaries (empty `main`s).
pub fn fake_handlers(dir: &Path, names: &[&str]) -> PathBuf {
    let h = dir.join("handlers");
    fs::create_dir_all(h.join("src/bin")).unwrap();
    fs::write(h.join("Cargo.toml"), "[package]\nname = \"fake\"\n").unwrap();
    fs::write(h.join("src/lib.rs"), "").unwrap();
    for name in names {
        fs::write(h.join(format!("src/bin/{name}.rs")), "fn main() {}\n").unwrap();
    }
    h
}
