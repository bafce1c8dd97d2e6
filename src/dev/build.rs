//! Building the handler binaries for this machine with cargo (debug by default, `--release` optional).

use super::project::HandlerCrate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Builds handler binaries: binary name → executable.
pub trait Build: Send + Sync {
    /// Builds every binary of the handler crate.
    fn build(&self, release: bool) -> Result<BTreeMap<String, PathBuf>, String>;
}

/// `cargo build --bins` of one crate; cargo's own progress goes to stderr.
pub struct Cargo {
    /// The crate.
    pub krate: HandlerCrate,
}

impl Build for Cargo {
    fn build(&self, release: bool) -> Result<BTreeMap<String, PathBuf>, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(&cargo);
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(&self.krate.manifest)
            .arg("--bins")
            .arg("--message-format=json-render-diagnostics")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if release {
            command.arg("--release");
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
        let mut binaries = BTreeMap::new();
        if let Some(out) = child.stdout.take() {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let Ok(message) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if message["reason"] != "compiler-artifact" {
                    continue;
                }
                let is_bin = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"));
                if let (true, Some(exe), Some(name)) = (
                    is_bin,
                    message["executable"].as_str(),
                    message["target"]["name"].as_str(),
                ) {
                    binaries.insert(name.to_string(), PathBuf::from(exe));
                }
            }
        }
        let status = child.wait().map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() {
            return Err(format!(
                "building the handlers ({}) failed ({status}); see cargo's messages above",
                self.krate.manifest.display()
            ));
        }
        Ok(binaries)
    }
}
