//! The policy scanners as the security gate runs them: checkov and cfn-guard
//! (AWS Control Tower rules), pinned in `.tools/` by `make scan-tools`.

use super::root;
use serde_json::Value;
use sockstack::synth::security;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn tools() -> PathBuf {
    root().join(".tools")
}

pub fn checkov() -> PathBuf {
    let path = tools().join("checkov/bin/checkov");
    assert!(
        path.is_file(),
        "{} missing: run `make scan-tools`",
        path.display()
    );
    path
}

pub fn guard() -> (PathBuf, PathBuf) {
    let package = tools().join("guard/node_modules/@cdklabs/cdk-validator-cfnguard");
    let binary = package
        .join("bin/ubuntu")
        .join(std::env::consts::ARCH)
        .join("cfn-guard");
    assert!(
        binary.is_file(),
        "{} missing: run `make scan-tools`",
        binary.display()
    );
    (binary, package.join("rules/control-tower/cfn-guard"))
}

/// A checkov check id with the logical id it concerns.
pub type CheckOnResource = (String, String);
/// A skipped check: id, logical id, the suppression comment.
pub type Skipped = (String, String, String);

/// checkov's failed checks, and its skipped checks with their comments.
pub fn run_checkov(template: &Path) -> (BTreeSet<CheckOnResource>, Vec<Skipped>) {
    let output = Command::new(checkov())
        .args([
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
            "--file",
        ])
        .arg(template)
        .current_dir(template.parent().unwrap())
        .output()
        .expect("checkov runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov gave no JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let results = &report["results"];
    let logical = |r: &Value| {
        r["resource"]
            .as_str()
            .unwrap_or("")
            .rsplit('.')
            .next()
            .unwrap()
            .to_string()
    };
    let failed = results["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["check_id"].as_str().unwrap().to_string(), logical(c)))
        .collect();
    let skipped = results["skipped_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["check_id"].as_str().unwrap().to_string(),
                logical(c),
                c["check_result"]["suppress_comment"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    (failed, skipped)
}

/// Every `[CT.X.PR.N]` control id and every `/Resources/<id>` named in a guard report entry.
pub fn controls_and_resources(text: &str) -> (Vec<String>, Vec<String>) {
    let mut controls = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("[CT.") {
        let end = rest[i..].find(']').map(|e| i + e).unwrap_or(rest.len());
        controls.push(rest[i + 1..end].to_string());
        rest = &rest[end..];
    }
    let mut resources = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("/Resources/") {
        let tail = &rest[i + "/Resources/".len()..];
        let id: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !id.is_empty() && !resources.contains(&id) {
            resources.push(id);
        }
        rest = tail;
    }
    controls.sort();
    controls.dedup();
    (controls, resources)
}

/// cfn-guard's non-compliant (control, logical id) pairs.
pub fn run_guard(template: &Path) -> BTreeSet<(String, String)> {
    let (binary, rules) = guard();
    let output = Command::new(binary)
        .args([
            "validate",
            "--output-format",
            "json",
            "--structured",
            "--show-summary",
            "none",
            "--data",
        ])
        .arg(template)
        .arg("--rules")
        .arg(rules)
        .output()
        .expect("cfn-guard runs");
    let reports: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-guard gave no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut found = BTreeSet::new();
    for report in reports.as_array().expect("a list of reports") {
        for entry in report["not_compliant"].as_array().into_iter().flatten() {
            let (controls, resources) = controls_and_resources(&entry.to_string());
            for control in &controls {
                for resource in &resources {
                    found.insert((control.clone(), resource.clone()));
                }
            }
        }
    }
    found
}

/// One reviewed guard exclusion.
pub struct Exclusion {
    pub control: String,
    /// A stack folder name (`dev`), or `*` for every stack.
    pub stack: String,
    pub resource: String,
}

impl Exclusion {
    pub fn matches(&self, stack: &str, control: &str, resource: &str) -> bool {
        self.control == control
            && self.resource == resource
            && (self.stack == "*" || self.stack == stack)
    }
}

/// The reviewed guard exclusions.
pub fn guard_exclusions(file: &Path) -> Vec<Exclusion> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let control = parts.next().unwrap().to_string();
            let stack = parts.next().expect("a stack").to_string();
            let resource = parts.next().expect("a resource").to_string();
            let reason = parts.collect::<Vec<_>>().join(" ");
            assert!(reason.len() > 20, "exclusion without a reason: {l}");
            Exclusion {
                control,
                stack,
                resource,
            }
        })
        .collect()
}

pub fn all_skips() -> Vec<security::Skip> {
    let mut skips = security::FUNCTION.to_vec();
    skips.extend(security::LOG_GROUP);
    skips.push(security::FUNCTION_ENVIRONMENT);
    skips.push(security::NO_RESERVED_CONCURRENCY);
    skips.push(security::TABLE_NOT_CUSTOMER_KEY);
    skips
}
