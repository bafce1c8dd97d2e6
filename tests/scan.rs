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
