//! `sockstack dev` serves what a function is granted beyond the template's own tables
//! (tests/fixtures/dev-grants): an SSM parameter and a Secrets Manager secret, seeded from the project's
//! `dev-values/<stack>.yaml` into the moto_server dev runs, and an `existing` table created from the key
//! schema the stack file declares. The handler reads all three through the AWS SDK, as it would on AWS.

mod common;
mod devkit;

use devkit::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn project() -> PathBuf {
    root().join("tests/fixtures/dev-grants")
}

fn shared() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(|| Dev::start_in(&project(), &["grants"]))
}

async fn ask(dev: &Dev, message: Value) -> Value {
    let mut socket = connect(dev, None).await.expect("a public stack connects");
    send(&mut socket, &message.to_string()).await;
    next_json(&mut socket).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_parameter_and_secret_reach_the_handler_through_the_sdk() {
    let reply = ask(shared(), json!({"action": "values"})).await;
    assert_eq!(reply["parameter"], "hello from the local parameter store");
    assert_eq!(
        serde_json::from_str::<Value>(reply["secret"].as_str().unwrap()).unwrap(),
        json!({"user": "probe", "password": "s3cr3t-local"}),
        "a secret written as a mapping is stored as JSON: {reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_table_is_created_from_the_stack_files_key_schema_under_its_own_name() {
    let dev = shared();
    let note = unique("note");
    let reply = ask(
        dev,
        json!({"action": "ledger", "account": "acct-1", "entry": 7, "note": note}),
    )
    .await;
    assert_eq!(
        reply,
        json!({"table": "shared-ledger", "note": note}),
        "the handler wrote and read the existing table by the name its environment holds"
    );
    let described = dynamodb(dev)
        .call("DescribeTable", json!({"TableName": "shared-ledger"}))
        .await
        .unwrap();
    let table = &described["Table"];
    assert_eq!(
        table["KeySchema"],
        json!([
            {"AttributeName": "accountId", "KeyType": "HASH"},
            {"AttributeName": "entryId", "KeyType": "RANGE"}
        ])
    );
    assert_eq!(table["GlobalSecondaryIndexes"][0]["IndexName"], "byNote");
}

/// A copy of the fixture project (without its values file) in a temporary folder.
fn copy_of_project() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let name = entry.file_name();
            if name == "out" || name == "dev-values" {
                continue;
            }
            let target = to.join(&name);
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&project(), dir.path());
    dir
}

/// `sockstack dev grants` in `dir`, which must fail before building anything: (exit code, stderr).
fn dev_fails(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sockstack"))
        .args(["dev", "grants", "--port", "0"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path_with_venv())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_granted_value_missing_from_the_values_file_stops_dev_naming_it_and_the_file() {
    let dir = copy_of_project();
    let (code, stderr) = dev_fails(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("SSM parameter /dev-values/greeting (granted to ProbeFunction)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("secret dev-values/token (granted to ProbeFunction)"),
        "{stderr}"
    );
    assert!(stderr.contains("dev-values/grants.yaml"), "{stderr}");
    assert!(!stderr.contains("Compiling"), "nothing is built: {stderr}");

    std::fs::create_dir(dir.path().join("dev-values")).unwrap();
    std::fs::write(
        dir.path().join("dev-values/grants.yaml"),
        "parameters:\n  /dev-values/greeting: hi\nsecrets:\n  dev-values/other: x\n",
    )
    .unwrap();
    let (code, stderr) = dev_fails(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("secret dev-values/token"), "{stderr}");
    assert!(!stderr.contains("/dev-values/greeting ("), "{stderr}");
}

#[test]
fn a_bad_values_file_is_a_located_error() {
    let dir = copy_of_project();
    std::fs::create_dir(dir.path().join("dev-values")).unwrap();
    let file = dir.path().join("dev-values/grants.yaml");
    for (text, position, what) in [
        (
            "parameters:\n  /dev-values/greeting:\nsecrets:\n  dev-values/token: t\n",
            "grants.yaml:2:",
            "missing",
        ),
        (
            "parameter:\n  /dev-values/greeting: x\n",
            "grants.yaml:1:",
            "parameter",
        ),
        ("parameters: [a, b]\n", "grants.yaml:1:", "parameters"),
    ] {
        std::fs::write(&file, text).unwrap();
        let (code, stderr) = dev_fails(dir.path());
        assert_eq!(code, Some(2), "{text}: {stderr}");
        assert!(stderr.contains(position), "{text}: {stderr}");
        assert!(stderr.contains(what), "{text}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beside_a_users_own_dynamodb_dev_starts_a_moto_for_parameters_and_secrets() {
    // The shared dev's moto plays the DynamoDB the user runs (it serves no SSM of this dev's).
    let users = shared();
    let dev = Dev::start_in(
        &project(),
        &["grants", "--dynamodb-endpoint", &users.dynamodb],
    );
    assert_eq!(dev.dynamodb, users.dynamodb);
    let ssm = dev.stdout_value("ssm").expect("an ssm: line");
    assert_ne!(ssm, users.dynamodb, "SSM is served by a moto of dev's own");
    assert_eq!(
        dev.stdout_value("secretsmanager").as_deref(),
        Some(ssm.as_str())
    );
    assert_eq!(
        ask(&dev, json!({"action": "values"})).await["parameter"],
        "hello from the local parameter store"
    );
    let note = unique("theirs");
    assert_eq!(
        ask(
            &dev,
            json!({"action": "ledger", "account": "acct-2", "entry": 1, "note": note})
        )
        .await["note"],
        note,
        "the existing table is on the user's DynamoDB"
    );
}

/// Whether git ignores `path` in the repository at `dir`.
fn git_ignores(dir: &Path, path: &str) -> bool {
    let status = Command::new("git")
        .args(["check-ignore", "-q", path])
        .current_dir(dir)
        .status()
        .unwrap();
    status.code() == Some(0)
}

#[test]
fn values_files_stay_out_of_git_in_a_scaffold_and_in_this_repository() {
    let dir = tempfile::tempdir().unwrap();
    common::sockstack(dir.path())
        .args(["init", "app", "--example", "minimal"])
        .assert()
        .success();
    let app = dir.path().join("app");
    common::git(&app, &["init", "-q"]);
    assert!(
        git_ignores(&app, "dev-values/dev.yaml"),
        "the scaffold's .gitignore"
    );
    assert!(!git_ignores(&app, "stacks/dev.yaml"));
    assert!(
        git_ignores(&root(), "dev-values/dev.yaml"),
        "this repository's .gitignore"
    );
}
