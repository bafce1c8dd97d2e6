//! The security gate: checkov and cfn-guard (AWS Control Tower proactive controls), installed
//! pinned into .tools/ by `make scan-tools`, plus `sockstack check`, on every synthesized stack.
//!
//! Our stacks must have zero unsuppressed findings; the deliberately insecure fixture must trip
//! every rule we suppress and every check rule, so a broken scanner setup or an over-broad
//! suppression fails here instead of passing silently.

mod common;

use common::scanners::{all_skips, guard_exclusions, run_checkov, run_guard};
use common::{root, sockstack};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

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

#[test]
fn stacks_have_no_unsuppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    let exclusions = guard_exclusions(&root().join("tests/scanners/guard-exclusions.txt"));
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
    for e in guard_exclusions(&root().join("tests/scanners/guard-exclusions.txt")) {
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
    let exclusions = guard_exclusions(&root().join("tests/scanners/guard-exclusions.txt"));
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
