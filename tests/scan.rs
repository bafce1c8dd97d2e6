//! The security gate: checkov and cfn-guard (AWS Control Tower proactive controls), installed
//! pinned into .tools/ by `make scan-tools`, plus `sockstack check`, on every synthesized stack.
//!
//! Our stacks must have zero unsuppressed findings; the deliberately insecure fixture must trip
//! every rule we suppress and every check rule, so a broken scanner setup or an over-broad
//! suppression fails here instead of passing silently.

mod common;

use common::{root, sockstack};
use serde_json::Value;
use sockstack::synth::security;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn tools() -> PathBuf {
    root().join(".tools")
}

fn checkov() -> PathBuf {
    let path = tools().join("checkov/bin/checkov");
    assert!(
        path.is_file(),
        "{} missing: run `make scan-tools`",
        path.display()
    );
    path
}

fn guard() -> (PathBuf, PathBuf) {
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
type CheckOnResource = (String, String);
/// A skipped check: id, logical id, the suppression comment.
type Skipped = (String, String, String);

/// checkov's failed checks, and its skipped checks with their comments.
fn run_checkov(template: &Path) -> (BTreeSet<CheckOnResource>, Vec<Skipped>) {
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
fn controls_and_resources(text: &str) -> (Vec<String>, Vec<String>) {
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
fn run_guard(template: &Path) -> BTreeSet<(String, String)> {
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
struct Exclusion {
    control: String,
    /// A stack folder name (`dev`), or `*` for every stack.
    stack: String,
    resource: String,
}

impl Exclusion {
    fn matches(&self, stack: &str, control: &str, resource: &str) -> bool {
        self.control == control
            && self.resource == resource
            && (self.stack == "*" || self.stack == stack)
    }
}

/// The reviewed guard exclusions.
fn guard_exclusions() -> Vec<Exclusion> {
    let text = std::fs::read_to_string(root().join("tests/scanners/guard-exclusions.txt")).unwrap();
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

/// (stack name, template) for every stack, synthesized as long-form JSON (what scanners read best).
fn synth_json(dir: &Path) -> Vec<(String, PathBuf)> {
    sockstack(&root())
        .args(["synth", "--format", "json", "--out"])
        .arg(dir)
        .assert()
        .success();
    ["dev", "prod"]
        .iter()
        .map(|s| (s.to_string(), dir.join(s).join("template.json")))
        .collect()
}

fn all_skips() -> Vec<security::Skip> {
    let mut skips = security::FUNCTION.to_vec();
    skips.extend(security::LOG_GROUP);
    skips.push(security::FUNCTION_ENVIRONMENT);
    skips.push(security::NO_RESERVED_CONCURRENCY);
    skips.push(security::TABLE_NOT_CUSTOMER_KEY);
    skips
}

#[test]
fn stacks_have_no_unsuppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    let exclusions = guard_exclusions();
    let mut used = vec![false; exclusions.len()];
    for (stack, template) in synth_json(dir.path()) {
        let (failed, skipped) = run_checkov(&template);
        assert!(
            failed.is_empty(),
            "checkov on {}: {failed:?}",
            template.display()
        );
        assert!(
            !skipped.is_empty(),
            "checkov skipped nothing: are the suppressions read at all?"
        );
        for (id, resource, comment) in &skipped {
            let ours = all_skips().into_iter().find(|s| s.id == id);
            assert_eq!(
                ours.map(|s| s.reason),
                Some(comment.as_str()),
                "{id} on {resource} has no reviewed reason"
            );
        }

        for (control, resource) in run_guard(&template) {
            let matching: Vec<usize> = (0..exclusions.len())
                .filter(|&i| exclusions[i].matches(&stack, &control, &resource))
                .collect();
            assert!(
                !matching.is_empty(),
                "cfn-guard {control} on {resource} in stack {stack} is neither fixed nor in tests/scanners/guard-exclusions.txt"
            );
            for i in matching {
                used[i] = true;
            }
        }

        let output = sockstack(&root())
            .args(["check", "--format", "json"])
            .arg(&template)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    for (e, used) in exclusions.iter().zip(used) {
        assert!(
            used,
            "stale guard exclusion: {} {} {}",
            e.control, e.stack, e.resource
        );
    }
}

#[test]
fn the_insecure_fixture_trips_every_suppressed_rule_and_every_check_rule() {
    let fixture = root().join("tests/fixtures/insecure.yaml");

    let (failed, _) = run_checkov(&fixture);
    let failed_ids: BTreeSet<&str> = failed.iter().map(|(id, _)| id.as_str()).collect();
    for skip in all_skips() {
        assert!(
            failed_ids.contains(skip.id),
            "checkov did not flag {} on the insecure fixture: {failed_ids:?}",
            skip.id
        );
    }

    let guard_controls: BTreeSet<String> =
        run_guard(&fixture).into_iter().map(|(c, _)| c).collect();
    for e in guard_exclusions() {
        assert!(
            guard_controls.contains(&e.control),
            "cfn-guard did not flag {}: {guard_controls:?}",
            e.control
        );
    }

    let output = sockstack(&root())
        .args(["check", "--format", "json"])
        .arg(&fixture)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let findings: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules: BTreeSet<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    let size_and_count = [
        "template-needs-s3",
        "template-too-large",
        "too-many",
        "no-resources",
        "route-quota",
    ];
    for rule in sockstack::check::RULES
        .iter()
        .filter(|r| !size_and_count.contains(r))
    {
        assert!(
            rules.contains(rule),
            "`sockstack check` did not report {rule} on the insecure fixture: {rules:?}"
        );
    }
}
