//! `sockstack init`: each example scaffolded into a temporary folder builds
//! with `--locked` against the versions this repository's Cargo.lock pins (one
//! shared `CARGO_TARGET_DIR`), passes its own `cargo test`, synthesizes from a
//! subfolder, and its template passes `cfn-lint -c I`, checkov and cfn-guard as
//! the main stacks do (`tests/scan.rs`); init refuses a non-empty folder and
//! never overwrites a file.

mod common;

use common::scanners::{all_skips, guard_exclusions, run_checkov, run_guard};
use common::{cfn_lint, resources, root, sockstack};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One example at a time: their binaries share names in the shared target folder.
static CARGO: Mutex<()> = Mutex::new(());

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {} in {} failed:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Scaffolds `example`, builds and tests it, synthesizes it and scans the template.
fn scaffold_builds_tests_synthesizes_and_scans(example: &str) {
    let _one = CARGO.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    sockstack(tmp.path())
        .args(["init", "app", "--example", example])
        .assert()
        .success();
    let stack = std::fs::read_to_string(dir.join("stacks/dev.yaml")).unwrap();
    assert!(stack.starts_with("# yaml-language-server: $schema=stack.schema.json\n"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("stacks/stack.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        schema["properties"]["functions"].is_object(),
        "the schema file is the stack schema"
    );

    cargo(&dir, &["build", "--locked", "--all-targets"]);
    cargo(&dir, &["test", "--locked"]);

    // From a subfolder: the project root is found by walking up.
    let json = tmp.path().join("json");
    sockstack(&dir.join("handlers/src"))
        .args(["synth", "--format", "json", "--out"])
        .arg(&json)
        .assert()
        .success();
    sockstack(&dir).arg("synth").assert().success();
    let yaml = dir.join("out/dev/template.yaml");
    cfn_lint(&yaml);

    let template = json.join("dev/template.json");
    let (failed, skipped) = run_checkov(&template);
    assert!(
        failed.is_empty(),
        "checkov on the {example} scaffold: {failed:?}"
    );
    for (id, resource, comment) in &skipped {
        let ours = all_skips().into_iter().find(|s| s.id == id);
        assert_eq!(
            ours.map(|s| s.reason),
            Some(comment.as_str()),
            "{example}: {id} on {resource} has no reviewed reason"
        );
    }
    let exclusions = guard_exclusions(&root().join("tests/scanners/guard-exclusions-examples.txt"));
    let mut used = vec![false; exclusions.len()];
    for (control, resource) in run_guard(&template) {
        let matching: Vec<usize> = (0..exclusions.len())
            .filter(|&i| exclusions[i].matches(example, &control, &resource))
            .collect();
        assert!(
            !matching.is_empty(),
            "cfn-guard {control} on {resource} in the {example} scaffold is neither fixed nor in tests/scanners/guard-exclusions-examples.txt"
        );
        for i in matching {
            used[i] = true;
        }
    }
    for (e, used) in exclusions.iter().zip(used) {
        if e.stack == example {
            assert!(
                used,
                "stale guard exclusion: {} {} {}",
                e.control, e.stack, e.resource
            );
        }
    }
}

#[test]
fn team_health_scaffold_builds_locked_passes_its_tests_synthesizes_and_scans_clean() {
    scaffold_builds_tests_synthesizes_and_scans("team-health");
}

#[test]
fn chat_scaffold_builds_locked_passes_its_tests_synthesizes_and_scans_clean() {
    scaffold_builds_tests_synthesizes_and_scans("chat");
}

#[test]
fn minimal_scaffold_builds_locked_passes_its_tests_synthesizes_and_scans_clean() {
    scaffold_builds_tests_synthesizes_and_scans("minimal");
}

#[test]
fn init_refuses_a_folder_that_is_not_empty_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = sockstack(tmp.path())
        .args(["init", "app", "--example", "chat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("app is not empty"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing written");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_second_init_into_a_project_refuses_and_keeps_the_users_edits() {
    use sockstack::init::{Cargo, Example, init};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("app");
    let runtime = root().join("runtime");
    let created = init(&dir, Example::Minimal, &runtime, &Cargo).unwrap();
    assert!(
        created
            .files
            .contains(&PathBuf::from("handlers/src/lib.rs"))
    );
    std::fs::write(dir.join("README.md"), "my notes").unwrap();
    let err = init(&dir, Example::Chat, &runtime, &Cargo).unwrap_err();
    assert!(err.to_string().contains("is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "my notes"
    );
    assert!(
        !dir.join("handlers/src/rooms.rs").exists(),
        "nothing of the second example written"
    );
}

#[test]
fn init_explains_a_bad_runtime_path_and_an_unknown_example() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sockstack(tmp.path())
        .args(["init", "app", "--runtime-path", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--runtime-path nowhere: no sockstack-runtime crate")
    );
    assert!(!tmp.path().join("app").exists(), "nothing created");
    let out = sockstack(tmp.path())
        .args(["init", "app", "--example", "game"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("team-health, chat, minimal"));
    let help = sockstack(tmp.path())
        .args(["init", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("sockstack init chat-app --example chat"),
        "{help}"
    );
}

/// The resources of `type_name` in a template: (logical id, resource).

#[test]
fn chat_scaffold_deploys_on_moto_with_its_tables_roles_and_functions() {
    use common::moto::{Moto, REGION};
    use serde_json::Value;
    let moto = Moto::start();
    // The chat stack's stage writes access logs and it does not create the account role.
    moto.account_role(REGION);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chat");
    sockstack(tmp.path())
        .args(["init", "chat", "--example", "chat"])
        .assert()
        .success();
    // A stack name of its own (moto may be shared with other tests).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let stack_name = format!("chat-init-{}-{nanos}", std::process::id());
    let file = dir.join("stacks/dev.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("stack: chat-dev", &format!("stack: {stack_name}"), 1),
    )
    .unwrap();

    // Stand-in bundles named by the real keys (moto never runs the code).
    let sources = sockstack::sources::HandlerSources::open(&dir.join("handlers")).unwrap();
    let synthesized =
        sockstack::pipeline::synthesize(&file, &sources, sockstack::emit::Format::Yaml)
            .unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.join("bundles")).unwrap();
    for f in &synthesized.model.functions {
        let zip = sockstack::bundle::zip_bootstrap(b"#!/bin/sh\n# stand-in: moto never runs it\n")
            .unwrap();
        std::fs::write(dir.join("bundles").join(&f.bundle_key), zip).unwrap();
    }
    let bucket = format!("chat-init-{nanos}");
    moto.create_bucket(&bucket, REGION);
    let out = moto
        .sockstack(&dir)
        .args([
            "deploy",
            "dev",
            "--bucket",
            &bucket,
            "--bundles",
            "bundles",
            "--region",
            REGION,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "deploy failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let template = moto.aws(&[
        "cloudformation",
        "get-template",
        "--stack-name",
        &stack_name,
    ])["TemplateBody"]
        .clone();
    let template: Value = match template {
        Value::String(text) => serde_yaml::from_str(&text).unwrap(),
        other => other,
    };
    // Logical id → physical id (moto lists the ApiGatewayV2 resources it skips without ids).
    let physical = moto.physical_ids(&stack_name);

    // Tables: the registry, rooms and messages, with the declared keys, indexes and TTL.
    let tables = resources(&template, "AWS::DynamoDB::Table");
    let ids: Vec<&str> = tables.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["ConnectionsTable", "MessagesTable", "RoomsTable"]);
    for (id, r) in &tables {
        let p = &r["Properties"];
        let d = &moto.aws(&["dynamodb", "describe-table", "--table-name", &physical[*id]])["Table"];
        assert_eq!(d["KeySchema"], p["KeySchema"], "{id}: key schema");
        assert_eq!(
            d["GlobalSecondaryIndexes"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0),
            p["GlobalSecondaryIndexes"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0),
            "{id}: indexes"
        );
    }
    // moto's CloudFormation does not apply TimeToLiveSpecification: the TTL is
    // checked on the template CloudFormation received.
    for (id, r) in &tables {
        assert_eq!(
            r["Properties"]["TimeToLiveSpecification"]["AttributeName"], "expiresAt",
            "{id}: TTL"
        );
    }
    let messages = &moto.aws(&[
        "dynamodb",
        "describe-table",
        "--table-name",
        &physical["MessagesTable"],
    ])["Table"];
    assert_eq!(
        messages["KeySchema"],
        serde_json::json!([
            {"AttributeName": "roomId", "KeyType": "HASH"},
            {"AttributeName": "sentAt", "KeyType": "RANGE"}
        ])
    );

    // One role per function, each with its inline policy; the functions with their memory.
    let roles = resources(&template, "AWS::IAM::Role");
    for (id, _) in &roles {
        moto.aws(&["iam", "get-role", "--role-name", &physical[*id]]);
    }
    let functions = resources(&template, "AWS::Lambda::Function");
    assert_eq!(
        functions.len(),
        6,
        "authorizer, connect, disconnect, default, join, send"
    );
    assert!(roles.len() >= functions.len(), "a role per function");
    for (id, r) in &functions {
        let got = moto.aws(&["lambda", "get-function", "--function-name", &physical[*id]]);
        assert_eq!(
            got["Configuration"]["MemorySize"], r["Properties"]["MemorySize"],
            "{id}"
        );
    }
    let memory = |id: &str| {
        functions.iter().find(|(i, _)| i.as_str() == id).unwrap().1["Properties"]["MemorySize"]
            .clone()
    };
    assert_eq!(memory("SendFunction"), 512);
    assert_eq!(memory("JoinFunction"), 256);
}
