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

        let lint = run_cfn_lint(&template);
        assert!(
            lint.is_empty(),
            "cfn-lint (with the serverless rules) on {stack}: {lint:?}"
        );

        // The long-form JSON written for the scanners may pass the 51,200-byte inline limit (the YAML that
        // deploy sends is smaller, and deploy goes through S3 above the limit): that warning is about this
        // file's size only, so it alone is allowed.
        let output = sockstack(&root())
            .args(["check", "--format", "json"])
            .arg(&template)
            .output()
            .unwrap();
        let findings: Value = serde_json::from_slice(&output.stdout).unwrap();
        let others: Vec<&Value> = findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] != "template-needs-s3")
            .collect();
        assert!(others.is_empty(), "sockstack check on {stack}: {others:#?}");
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

/// cfn-lint with every rule (informational ones too) and the serverless rules (`cfn-lint-serverless`):
/// `(rule, logical id)` of each finding.
fn run_cfn_lint(template: &Path) -> BTreeSet<(String, String)> {
    let output = Command::new(common::tool("cfn-lint"))
        .args([
            "--include-checks",
            "I",
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--format",
            "json",
            "--",
        ])
        .arg(template)
        .output()
        .expect("cfn-lint runs");
    let findings: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-lint gave no JSON ({e}); is cfn-lint-serverless installed (`make tools`)?\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    findings
        .as_array()
        .expect("a list of findings")
        .iter()
        .map(|f| {
            let path = f["Location"]["Path"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let id = match (path.first().and_then(Value::as_str), path.get(1)) {
                (Some("Resources"), Some(id)) => id.as_str().unwrap_or("").to_string(),
                _ => String::new(),
            };
            (f["Rule"]["Id"].as_str().unwrap_or("?").to_string(), id)
        })
        .collect()
}

/// The dev stack with an e-mail subscription to its alarms, as long-form JSON in `dir`.
fn dev_with_email(dir: &Path) -> (PathBuf, Value) {
    use sockstack::emit::Format;
    use sockstack::pipeline;
    use sockstack::sources::HandlerSources;

    let sources = HandlerSources::open(&common::handlers()).unwrap();
    let file = root().join("stacks/dev.yaml");
    let text = std::fs::read_to_string(&file).unwrap() + "\nalarms: {email: ops@example.com}\n";
    let model =
        sockstack::model::load_str(&file, &text, &sources).unwrap_or_else(|e| panic!("{e}"));
    let value = pipeline::from_model(&file, model, Format::Json)
        .template
        .to_value();
    let path = dir.join("dev-email.json");
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    (path, value)
}

/// The alarms with an e-mail subscription pass every scanner too (the example stacks have none).
#[test]
fn an_email_subscription_passes_every_scanner() {
    let dir = tempfile::tempdir().unwrap();
    let (file, value) = dev_with_email(dir.path());
    assert!(value["Resources"][sockstack::alarms::EMAIL_SUBSCRIPTION].is_object());
    let lint = run_cfn_lint(&file);
    assert!(
        lint.is_empty(),
        "cfn-lint (with the serverless rules): {lint:?}"
    );
    let (failed, _) = run_checkov(&file);
    assert!(failed.is_empty(), "checkov: {failed:?}");
    let exclusions = guard_exclusions();
    for (control, resource) in run_guard(&file) {
        assert!(
            exclusions
                .iter()
                .any(|e| e.matches("dev", &control, &resource)),
            "cfn-guard {control} on {resource} is neither fixed nor reviewed"
        );
    }
}

/// Every inline cfn-lint skip hides a finding cfn-lint would report: without the skips, cfn-lint reports
/// exactly those rules on exactly those resources.
#[test]
fn every_cfn_lint_skip_is_still_needed() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut value) = dev_with_email(dir.path());
    let mut skipped: BTreeSet<(String, String)> = BTreeSet::new();
    for (id, r) in value["Resources"].as_object_mut().unwrap() {
        let Some(metadata) = r.get_mut("Metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(lint) = metadata.remove("cfn-lint") {
            for rule in lint["config"]["ignore_checks"].as_array().unwrap() {
                let rule = rule.as_str().unwrap().to_string();
                assert!(
                    lint["reasons"][&rule]
                        .as_str()
                        .is_some_and(|r| r.len() > 20),
                    "{rule} on {id} has no reason"
                );
                skipped.insert((rule, id.clone()));
            }
        }
    }
    for rule in [
        sockstack::synth::security::FUNCTION_LOG_GROUP.id,
        sockstack::alarms::NO_REDRIVE.id,
    ] {
        assert!(
            skipped.iter().any(|(r, _)| r == rule),
            "{rule} is skipped somewhere"
        );
    }
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    assert_eq!(run_cfn_lint(&bare), skipped);
}
