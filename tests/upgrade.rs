//! A deployed stack survives the move to stack-file format 2: the templates the
//! format-1 stacks gave (tests/fixtures/upgrade/, synthesized before the change)
//! and today's keep every stateful resource under the same logical id, and
//! `sockstack diff --fail-on data-loss` between them exits 0.

mod common;

use common::{root, sockstack};
use serde_json::Value;
use std::fs;
use std::path::Path;

fn template(path: &Path) -> Value {
    serde_yaml::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn old_and_new() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    for stack in ["dev", "prod"] {
        fs::create_dir_all(old.join(stack)).unwrap();
        fs::copy(
            root().join(format!("tests/fixtures/upgrade/{stack}.template.yaml")),
            old.join(stack).join("template.yaml"),
        )
        .unwrap();
    }
    let new = dir.path().join("new");
    sockstack(&root())
        .arg("synth")
        .arg("--out")
        .arg(&new)
        .assert()
        .success();
    (dir, old, new)
}

const STATEFUL: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
];

#[test]
fn stateful_resources_keep_their_logical_ids_and_indexes() {
    let (_dir, old, new) = old_and_new();
    for stack in ["dev", "prod"] {
        let before = template(&old.join(stack).join("template.yaml"));
        let after = template(&new.join(stack).join("template.yaml"));
        let mut kept = 0;
        for (id, r) in before["Resources"].as_object().unwrap() {
            let kind = r["Type"].as_str().unwrap();
            if !STATEFUL.contains(&kind) {
                continue;
            }
            let now = &after["Resources"][id];
            assert_eq!(now["Type"], kind, "{stack}: {id} is gone or changed type");
            kept += 1;
            if kind == "AWS::DynamoDB::Table" {
                let p = &r["Properties"];
                let q = &now["Properties"];
                assert_eq!(p["KeySchema"], q["KeySchema"], "{stack} {id}");
                assert_eq!(
                    p["GlobalSecondaryIndexes"], q["GlobalSecondaryIndexes"],
                    "{stack} {id}"
                );
                assert_eq!(
                    p["AttributeDefinitions"], q["AttributeDefinitions"],
                    "{stack} {id}"
                );
                assert_eq!(p["SSESpecification"], q["SSESpecification"], "{stack} {id}");
            }
        }
        assert!(kept > 0, "{stack} has stateful resources");
    }
}

#[test]
fn diff_from_format_1_templates_shows_no_data_loss() {
    let (_dir, old, new) = old_and_new();
    let output = sockstack(&root())
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--fail-on", "data-loss"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The account role is now retained with the account settings that point at it.
    assert!(
        stdout
            .contains("ApiGatewayAccountRole (AWS::IAM::Role)\n      + DeletionPolicy: \"Retain\""),
        "{stdout}"
    );
}

/// Synthesizes `dev.yaml` with `edit` applied into `out`, in a copy of the project.
fn synth_dev_variant(dir: &Path, out: &str, edit: impl Fn(String) -> String) {
    let project = dir.join(format!("project-{out}"));
    fs::create_dir_all(project.join("stacks")).unwrap();
    let text = fs::read_to_string(root().join("stacks/dev.yaml")).unwrap();
    fs::write(project.join("stacks/dev.yaml"), edit(text)).unwrap();
    sockstack(&project)
        .arg("synth")
        .arg("--handlers")
        .arg(root().join("handlers"))
        .arg("--out")
        .arg(dir.join(out))
        .assert()
        .success();
}

#[test]
fn diff_flags_a_table_update_that_creates_or_deletes_more_than_one_index() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let indexes = "    - {key: teamId, index: ByTeam}\n    - {key: userId, index: ByUser}\n";
    synth_dev_variant(dir, "base", |t| t);
    // One index more: DynamoDB can do it in one update.
    synth_dev_variant(dir, "one", |t| {
        t.replace(indexes, &format!("{indexes}    - email\n"))
    });
    // One index swapped for another: a delete and a create in one update.
    synth_dev_variant(dir, "two", |t| {
        t.replace(indexes, "    - {key: userId, index: ByUser}\n    - email\n")
    });
    let diff = |new: &str| {
        let out = sockstack(dir).args(["diff", "base", new]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let one = diff("one");
    assert!(one.contains("ConnectionsTable"), "{one}");
    assert!(!one.contains("global secondary index(es)"), "{one}");
    let two = diff("two");
    assert!(
        two.contains("this update creates 1 and deletes 1 global secondary index(es) (created: ByEmail; deleted: ByTeam)"),
        "{two}"
    );
}
