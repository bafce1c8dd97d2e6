//! `sockstack check`: one failing fixture per rule (each fires exactly its rule), one passing.
//! Fixtures live in tests/fixtures/check/<rule>.yaml; the rules about size and counts need
//! templates too large to commit, so they are generated here.

mod common;

use common::{root, sockstack};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// The rules `sockstack check` reports for `file`, and its exit code.
fn rules_of(file: &Path) -> (Option<i32>, BTreeSet<String>) {
    let output = sockstack(&root())
        .args(["check", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let rules = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    (output.status.code(), rules)
}

fn generated(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let pass = fs::read_to_string(root().join("tests/fixtures/check/pass.yaml")).unwrap();
    let mut out = Vec::new();
    let mut write = |rule: &str, text: String| {
        let path = dir.join(format!("{rule}.yaml"));
        fs::write(&path, text).unwrap();
        out.push((rule.to_string(), path));
    };
    write(
        "template-needs-s3",
        format!("Description: {}\n{pass}", "x".repeat(60_000)),
    );
    write(
        "template-too-large",
        format!("Description: {}\n{pass}", "x".repeat(1_100_000)),
    );
    let mut many = pass.clone();
    for i in 0..500 {
        many.push_str(&format!("  Log{i}:\n    Type: AWS::Logs::LogGroup\n"));
    }
    write("too-many", many);
    let mut routes = pass.clone();
    for i in 0..300 {
        routes.push_str(&format!(
            "  R{i}:\n    Type: AWS::ApiGatewayV2::Route\n    Properties: {{ApiId: !Ref Api, RouteKey: r{i}, AuthorizationType: NONE}}\n"
        ));
    }
    write("route-quota", routes);
    out
}

#[test]
fn each_rule_has_a_fixture_that_fires_exactly_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, std::path::PathBuf)> =
        fs::read_dir(root().join("tests/fixtures/check"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_stem().unwrap() != "pass")
            .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
            .collect();
    cases.extend(generated(dir.path()));

    let covered: BTreeSet<&str> = cases.iter().map(|(rule, _)| rule.as_str()).collect();
    let all: BTreeSet<&str> = sockstack::check::RULES.iter().copied().collect();
    assert_eq!(covered, all, "every rule needs exactly one fixture");

    for (rule, file) in &cases {
        let (code, rules) = rules_of(file);
        assert_eq!(code, Some(1), "{rule}");
        assert_eq!(rules, BTreeSet::from([rule.clone()]), "{}", file.display());
    }
}

#[test]
fn the_passing_fixture_and_our_stacks_pass() {
    let (code, rules) = rules_of(&root().join("tests/fixtures/check/pass.yaml"));
    assert_eq!((code, rules), (Some(0), BTreeSet::new()));
}

#[test]
fn choices_made_in_the_stack_file_are_reported_as_info() {
    let dir = tempfile::tempdir().unwrap();
    let pass = fs::read_to_string(root().join("tests/fixtures/check/pass.yaml")).unwrap();
    // What synth writes when the stack file picks the AWS-owned key and a public $connect.
    let chosen = pass
        .replace("      SSESpecification: {SSEEnabled: true}\n", "    Metadata: {sockstack: {tableKey: aws-owned}}\n")
        .replace(
            "    Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: CUSTOM, AuthorizerId: !Ref Auth}",
            "    Metadata: {sockstack: {publicConnect: true}}\n    Properties: {ApiId: !Ref Api, RouteKey: $connect, AuthorizationType: NONE}",
        );
    let file = dir.path().join("chosen.yaml");
    fs::write(&file, chosen).unwrap();
    let output = sockstack(dir.path())
        .args(["check", "chosen.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("info[table-aws-owned-key]"), "{stdout}");
    assert!(
        stdout.contains("info[connect-without-authorizer]"),
        "{stdout}"
    );
}
