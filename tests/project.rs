//! The project as a user meets it: the root found from any subfolder, stacks named
//! the same way in every command, checks across stack files, and validate's exit codes.
//!
//! The commands that talk to AWS (`deploy`, `outputs`, `destroy`, `diff --deployed`)
//! run against `moto_server` through the real AWS CLI (`common::moto`: `MOTO_ENDPOINT`
//! from `scripts/with-moto`, else one started for this binary).

mod common;

use common::moto::Moto;
use common::{git, sockstack};
use predicates::str::contains;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

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

/// Copies every file below `from` to `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            write(&target, &fs::read_to_string(&path).unwrap());
        }
    }
}

/// A project of its own at `root`, copied from examples/minimal: sockstack.toml names the
/// handler crate `crates/fns` (not the default `handlers`), and there are two stacks, `dev`
/// and `prod`, whose CloudFormation stack names are `<name>-dev` and `<name>-prod`. The stage
/// writes no access logs, so a deploy needs no account-wide CloudWatch role. Returns a
/// subfolder deep inside it.
fn echo_project(root: &Path, name: &str) -> PathBuf {
    let example = common::root().join("examples/minimal");
    write(&root.join("sockstack.toml"), "handlers = \"crates/fns\"\n");
    copy_tree(&example.join("handlers"), &root.join("crates/fns"));
    let manifest = root.join("crates/fns/Cargo.toml");
    let runtime = common::root().join("runtime");
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"../../../runtime\""), "{text}");
    fs::write(
        &manifest,
        text.replace(
            "\"../../../runtime\"",
            &format!("{:?}", runtime.display().to_string()),
        ),
    )
    .unwrap();
    let stack = fs::read_to_string(example.join("stacks/dev.yaml")).unwrap();
    let stack = stack.replace("accessLogs: true", "accessLogs: false");
    assert!(stack.contains("stack: echo-dev\n"), "{stack}");
    for env in ["dev", "prod"] {
        write(
            &root.join(format!("stacks/{env}.yaml")),
            &stack.replace("stack: echo-dev\n", &format!("stack: {name}-{env}\n")),
        );
    }
    let sub = root.join("crates/fns/src/bin");
    assert!(sub.is_dir());
    sub
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the command succeeded and returns its stdout.
fn success(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A name no earlier run on a shared moto used.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
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
fn a_stack_name_that_does_not_exist_lists_the_known_ones_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let sub = echo_project(dir.path(), "echo");
    let commands: &[&[&str]] = &[
        &["synth", "staging"],
        &["validate", "staging"],
        &["graph", "staging"],
        &["deploy", "staging", "--bucket", "my-artifacts"],
        &["deploy", "staging", "--bucket", "my-artifacts", "--dry-run"],
        &["outputs", "staging"],
        &["destroy", "staging", "--yes"],
        &["diff", "--deployed", "staging"],
        &["diff", "staging", "--deployed"],
    ];
    for args in commands {
        // No AWS is reachable: the name fails before any AWS call.
        sockstack(&sub)
            .args(*args)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .assert()
            .code(2)
            .stderr(contains("no stack `staging`"))
            .stderr(contains("one of dev, prod (or a path to a stack file)"));
    }
    // `bundle` names handlers, not stacks: an unknown one lists the handler crate's binaries,
    // found through sockstack.toml from the subfolder.
    sockstack(&sub)
        .args(["bundle", "nosuch"])
        .assert()
        .code(2)
        .stderr(contains(
            "no handler \"nosuch\" (handlers: connect, default, disconnect)",
        ));
}

#[test]
fn deploy_dry_run_from_a_subfolder_uses_the_projects_handler_crate_and_out_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let sub = echo_project(&root, "echo");
    let script = success(
        &sockstack(&sub)
            .args(["deploy", "dev", "--bucket", "my-artifacts", "--dry-run"])
            .output()
            .unwrap(),
        "deploy --dry-run from a subfolder",
    );
    assert!(
        root.join("out/dev/template.yaml").is_file(),
        "the template goes to the root's out/"
    );
    assert!(
        !sub.join("out").exists(),
        "nothing is written in the subfolder"
    );
    let handlers = root.join("crates/fns");
    let assets = root.join("out/assets");
    assert!(
        script.contains(&format!(
            "--handlers {} --out {}",
            handlers.display(),
            assets.display()
        )),
        "the script builds the crate sockstack.toml names into the root's out/assets:\n{script}"
    );
    assert!(script.contains("echo-dev"), "{script}");

    // From the root, the same paths read relative to it.
    let script = success(
        &sockstack(&root)
            .args(["deploy", "dev", "--bucket", "my-artifacts", "--dry-run"])
            .output()
            .unwrap(),
        "deploy --dry-run from the root",
    );
    assert!(
        script.contains("--handlers crates/fns --out out/assets"),
        "{script}"
    );

    // Explicit paths are relative to the working folder.
    let script = success(
        &sockstack(&sub)
            .args(["deploy", "dev", "--bucket", "my-artifacts", "--dry-run"])
            .args(["--out", "here", "--handlers", "../.."])
            .output()
            .unwrap(),
        "deploy --dry-run with explicit paths",
    );
    assert!(
        script.contains("--handlers ../.. --out here/assets"),
        "{script}"
    );
    assert!(sub.join("here/dev/template.yaml").is_file());
}

#[test]
fn deploy_outputs_diff_deployed_and_destroy_work_from_a_subfolder() {
    use sockstack::emit::Format;
    use sockstack::pipeline;
    use sockstack::sources::HandlerSources;

    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let name = unique("echo");
    let sub = echo_project(&root, &name);
    let stack_name = format!("{name}-dev");

    let bucket = unique("artifacts");
    moto.create_bucket(&bucket, common::moto::REGION);
    // Stand-in zips named by the real bundle keys (moto never runs them; building real bundles
    // takes minutes).
    let bundles = root.join("bundles");
    fs::create_dir_all(&bundles).unwrap();
    let sources = HandlerSources::open(&root.join("crates/fns")).unwrap();
    let synthesized =
        pipeline::synthesize(&root.join("stacks/dev.yaml"), &sources, Format::Yaml).unwrap();
    for f in &synthesized.model.functions {
        let zip = sockstack::bundle::zip_bootstrap(b"#!/bin/sh\n").unwrap();
        fs::write(bundles.join(&f.bundle_key), zip).unwrap();
    }

    let out = moto
        .sockstack(&sub)
        .args(["deploy", "dev", "--bucket", &bucket, "--yes", "--bundles"])
        .arg(&bundles)
        .output()
        .unwrap();
    let printed = success(&out, "deploy dev from a subfolder");
    assert!(printed.contains(&stack_name), "{printed}");
    assert!(root.join("out/dev/template.yaml").is_file());
    assert!(!sub.join("out").exists());
    let stacks = moto.aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &stack_name,
    ]);
    assert_eq!(
        stacks["Stacks"][0]["StackStatus"], "CREATE_COMPLETE",
        "{stacks}"
    );
    let resources = moto.aws(&[
        "cloudformation",
        "list-stack-resources",
        "--stack-name",
        &stack_name,
    ]);
    let functions: Vec<&Value> = resources["StackResourceSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ResourceType"] == "AWS::Lambda::Function")
        .collect();
    assert_eq!(
        functions.len(),
        synthesized.model.functions.len(),
        "{resources}"
    );

    let out = moto
        .sockstack(&sub)
        .args(["outputs", "dev", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&success(&out, "outputs dev from a subfolder")).unwrap();
    assert_eq!(v["stack"], stack_name.as_str(), "{v}");
    assert_eq!(v["status"], "CREATE_COMPLETE", "{v}");

    for args in [["diff", "--deployed", "dev"], ["diff", "dev", "--deployed"]] {
        let out = moto
            .sockstack(&sub)
            .args(args)
            .args(["--fail-on", "any"])
            .output()
            .unwrap();
        let report = success(&out, &args.join(" "));
        assert!(
            report.contains("no changes"),
            "the deployed stack is what stacks/dev.yaml says:\n{report}"
        );
    }
    // The prod stack is not deployed: every resource would be created.
    let out = moto
        .sockstack(&sub)
        .args(["diff", "prod", "--deployed", "--fail-on", "any"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("to create"),
        "{}",
        text(&out.stdout)
    );

    let out = moto
        .sockstack(&sub)
        .args(["destroy", "dev", "--yes"])
        .output()
        .unwrap();
    let printed = success(&out, "destroy dev from a subfolder");
    assert!(
        printed.contains(&format!("deleted {stack_name}")),
        "{printed}"
    );
    let gone = moto.try_aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &stack_name,
    ]);
    match gone {
        Err(e) => assert!(e.contains("does not exist"), "{e}"),
        Ok(v) => assert_eq!(v["Stacks"][0]["StackStatus"], "DELETE_COMPLETE", "{v}"),
    }
}

#[test]
fn diff_base_from_a_subfolder_compares_the_projects_stacks_at_the_revision() {
    // The project is a folder of the repository, not its root (like examples/ in sockstack's).
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().canonicalize().unwrap();
    let root = repo.join("app");
    let sub = echo_project(&root, "echo");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);

    let unchanged = success(
        &sockstack(&sub)
            .args(["diff", "--base", "HEAD", "--fail-on", "any"])
            .output()
            .unwrap(),
        "diff --base HEAD with nothing changed",
    );
    assert!(unchanged.contains("no changes"), "{unchanged}");

    let dev = root.join("stacks/dev.yaml");
    let edited = fs::read_to_string(&dev)
        .unwrap()
        .replace("memory: 128", "memory: 384");
    fs::write(&dev, edited).unwrap();
    for cwd in [&sub, &root, &root.join("crates")] {
        let out = sockstack(cwd)
            .args(["diff", "--base", "HEAD", "--format", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_str(&success(&out, "diff --base HEAD")).unwrap();
        let stacks = report["stacks"].as_array().unwrap();
        let names: Vec<&str> = stacks.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["dev", "prod"], "from {}", cwd.display());
        let shown = report.to_string();
        assert!(
            shown.contains("MemorySize") && shown.contains("384"),
            "from {}: {shown}",
            cwd.display()
        );
        assert!(
            shown.contains("HEAD:app/stacks/dev.yaml"),
            "the old side is the stack file at the revision: {shown}"
        );
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
