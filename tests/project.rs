//! The project as a user meets it: the root found from any subfolder, stacks named
//! the same way in every command, checks across stack files, and validate's exit codes.

mod common;

use common::sockstack;
use predicates::str::contains;
use std::fs;
use std::path::Path;

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A stack file with one public `$connect` and `extra` more routes, each with its own function.
fn stack(name: &str, extra: usize, tail: &str) -> String {
    let mut functions = String::from("functions:\n  connect: {}\n");
    let mut routes =
        String::from("routes:\n  - {key: $connect, function: connect, public: true}\n");
    for i in 0..extra {
        functions.push_str(&format!(
            "  fn{i}: {{binary: connect, memory: 512, grants: {{connections: [read, send], tables: {{items: readwrite}}}}}}\n"
        ));
        routes.push_str(&format!(
            "  - {{key: action{i}, function: fn{i}, twoWay: true}}\n"
        ));
    }
    format!(
        "version: 2\nstack: {name}\nstage: {{name: dev}}\ntables:\n  items: {{key: {{id: S}}}}\n{functions}{routes}{tail}"
    )
}

/// A project at `root` whose handler crate is `crates/fns` (named in sockstack.toml).
fn project(root: &Path) {
    write(&root.join("sockstack.toml"), "handlers = \"crates/fns\"\n");
    write(
        &root.join("crates/fns/Cargo.toml"),
        "[package]\nname = \"fns\"\n",
    );
    write(
        &root.join("crates/fns/src/bin/connect.rs"),
        "fn main() {}\n",
    );
}

#[test]
fn every_command_finds_the_project_from_a_subfolder_and_names_stacks_alike() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    project(root);
    write(&root.join("stacks/dev.yaml"), &stack("app-dev", 1, ""));
    write(&root.join("stacks/prod.yaml"), &stack("app-prod", 1, ""));
    let sub = root.join("crates/fns/src");

    sockstack(&sub)
        .args(["validate", "dev"])
        .assert()
        .success()
        .stdout(contains("stacks/dev.yaml"));
    sockstack(&sub)
        .args(["graph", "prod"])
        .assert()
        .success()
        .stdout(contains("app-prod"));
    sockstack(&sub).args(["synth", "dev"]).assert().success();
    assert!(
        root.join("out/dev/template.yaml").is_file(),
        "synth writes the project's out/"
    );
    assert!(!sub.join("out").exists());
    // By path, relative to the working folder, works too.
    sockstack(&root.join("crates"))
        .args(["validate", "../stacks/prod.yaml"])
        .assert()
        .success();

    for command in ["synth", "validate", "graph"] {
        sockstack(&sub)
            .args([command, "staging"])
            .assert()
            .code(2)
            .stderr(contains("no stack `staging`"))
            .stderr(contains("one of dev, prod"));
    }
}

#[test]
fn outside_any_project_the_error_says_so() {
    let dir = tempfile::tempdir().unwrap();
    sockstack(dir.path())
        .arg("validate")
        .assert()
        .code(2)
        .stderr(contains("no sockstack project"));
}

#[test]
fn validate_warns_but_exits_0_when_the_template_only_needs_s3_upload() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    // Enough routes that the template passes CloudFormation's 51,200-byte inline limit.
    write(&dir.path().join("stacks/big.yaml"), &stack("big", 25, ""));
    let out = sockstack(dir.path())
        .args(["validate", "big"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("inline limit"), "{stderr}");
    assert!(stderr.contains("warning"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn an_error_finding_exits_1_where_warnings_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("t.yaml");
    // `sockstack check` reads any template; an authorizer on a non-$connect route is an error.
    write(
        &template,
        "Resources:\n  Api: {Type: AWS::ApiGatewayV2::Api, Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}\n  VoteRoute: {Type: AWS::ApiGatewayV2::Route, Properties: {ApiId: {Ref: Api}, RouteKey: vote, AuthorizationType: CUSTOM, AuthorizerId: x}}\n",
    );
    sockstack(dir.path())
        .args(["check", "t.yaml"])
        .assert()
        .code(1);
}

#[test]
fn two_stack_files_with_one_stack_name_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write(&dir.path().join("stacks/a.yaml"), &stack("same", 0, ""));
    write(&dir.path().join("stacks/b.yaml"), &stack("same", 0, ""));
    sockstack(dir.path())
        .arg("synth")
        .assert()
        .code(2)
        .stderr(contains(
            "stacks/b.yaml: stack name `same` is also the stack name of stacks/a.yaml",
        ));
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn two_stacks_creating_the_account_role_need_different_declared_regions() {
    let role = "apiGatewayAccountRole: true\n";
    let cases = [
        ("", "", Some("does not say its region")),
        (
            "region: eu-west-1\n",
            "region: eu-west-1\n",
            Some("also creates API Gateway's account role in eu-west-1"),
        ),
        ("region: eu-west-1\n", "region: us-east-1\n", None),
    ];
    for (a, b, error) in cases {
        let dir = tempfile::tempdir().unwrap();
        project(dir.path());
        write(
            &dir.path().join("stacks/a.yaml"),
            &stack("a", 0, &format!("{role}{a}")),
        );
        write(
            &dir.path().join("stacks/b.yaml"),
            &stack("b", 0, &format!("{role}{b}")),
        );
        let out = sockstack(dir.path()).arg("validate").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match error {
            Some(needle) => {
                assert_eq!(out.status.code(), Some(2), "{a}{b}: {stderr}");
                assert!(stderr.contains(needle), "{needle}: {stderr}");
            }
            None => assert_eq!(out.status.code(), Some(0), "{a}{b}: {stderr}"),
        }
    }
    // One such stack alone needs no region.
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write(&dir.path().join("stacks/a.yaml"), &stack("a", 0, role));
    write(&dir.path().join("stacks/b.yaml"), &stack("b", 0, ""));
    sockstack(dir.path()).arg("validate").assert().success();
}
