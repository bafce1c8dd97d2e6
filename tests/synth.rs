//! `sockstack synth`, `validate`, `schema` and `check` as a user runs them.

mod common;

use common::{cfn_lint, fake_handlers, handlers, root, snapshot_dir, sockstack};
use std::fs;
use std::path::Path;

fn synth_into(out: &Path, extra: &[&str]) {
    sockstack(&root())
        .arg("synth")
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn default_stacks_synthesize_lint_clean_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("yaml", "yaml"), ("json", "json")] {
        let out = dir.path().join(format);
        synth_into(&out, &["--format", format]);
        for stack in ["dev", "prod"] {
            let template = out.join(stack).join(format!("template.{ext}"));
            assert!(template.is_file(), "{}", template.display());
            assert!(out.join(stack).join("summary.txt").is_file());
            cfn_lint(&template);
        }
    }
}

#[test]
fn two_runs_give_byte_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    synth_into(&a, &[]);
    synth_into(&b, &[]);
    let strip = |snapshot: Vec<(std::path::PathBuf, Vec<u8>)>, base: &Path| {
        snapshot
            .into_iter()
            .map(|(p, bytes)| (p.strip_prefix(base).unwrap().to_path_buf(), bytes))
            .collect::<Vec<_>>()
    };
    let first = strip(snapshot_dir(&a), &a);
    assert!(first.len() >= 4, "{first:?}");
    assert_eq!(first, strip(snapshot_dir(&b), &b));
}

#[test]
fn summary_tells_what_was_built() {
    let dir = tempfile::tempdir().unwrap();
    synth_into(dir.path(), &["stacks/dev.yaml"]);
    let summary = fs::read_to_string(dir.path().join("dev/summary.txt")).unwrap();
    for needle in [
        "team-health-dev (stage dev)",
        "$connect -> connect  [authorizer]",
        "$default -> default  [two-way]",
        "vote -> vote",
        "VoteFunction  arm64, 256 MB, 10 s, logs kept 7 days",
        "grants: profiles write, connections read, connections send",
        "sockstack deploy dev --bucket",
    ] {
        assert!(summary.contains(needle), "`{needle}` missing:\n{summary}");
    }
    assert!(
        !dir.path().join("prod").exists(),
        "only the named stack is written"
    );
}

#[test]
fn a_new_route_is_one_file_and_one_entry() {
    let dir = tempfile::tempdir().unwrap();
    let h = fake_handlers(dir.path(), &["connect", "disconnect", "default"]);
    let stack = "version: 2\nstack: chat-dev\nstage: {name: dev}\nfunctions:\n  connect: {}\n  chat: {grants: {connections: send}}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - {key: chat, function: chat}\n";
    fs::write(dir.path().join("chat.yaml"), stack).unwrap();

    // Without the binary: a clear error naming the handler and the fix.
    sockstack(dir.path())
        .args(["synth", "chat.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no handler binary `chat`"))
        .stderr(predicates::str::contains("add src/bin/chat.rs"));

    // One new file in the handlers member, and it synthesizes.
    fs::write(h.join("src/bin/chat.rs"), "fn main() {}\n").unwrap();
    sockstack(dir.path())
        .args(["synth", "chat.yaml"])
        .assert()
        .success();
    let template = fs::read_to_string(dir.path().join("out/chat/template.yaml")).unwrap();
    for id in [
        "ChatRoute:",
        "ChatIntegration:",
        "ChatRoutePermission:",
        "ChatFunction:",
        "ChatRole:",
    ] {
        assert!(template.contains(id), "{id} missing");
    }
    assert!(template.contains("S3Key: chat-"));
    cfn_lint(&dir.path().join("out/chat/template.yaml"));
}

#[test]
fn committed_schema_is_current() {
    let output = sockstack(&root()).arg("schema").output().unwrap();
    assert!(output.status.success());
    let committed = fs::read_to_string(root().join("stacks/stack.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        committed,
        "stacks/stack.schema.json is stale: run `cargo run -- schema > stacks/stack.schema.json`"
    );
}

#[test]
fn validate_reports_ok_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("stacks");
    fs::create_dir_all(&copy).unwrap();
    fs::copy(root().join("stacks/dev.yaml"), copy.join("dev.yaml")).unwrap();
    sockstack(dir.path())
        .args(["validate", "--handlers"])
        .arg(handlers())
        .assert()
        .success()
        .stdout(predicates::str::contains("ok stacks/dev.yaml"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["synth", "validate", "check", "schema"] {
        let output = sockstack(&root())
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Examples:"),
            "{command} --help has no example:\n{help}"
        );
        assert!(help.contains("sockstack "), "{command}");
    }
}

#[test]
fn usage_errors_exit_2() {
    sockstack(&root())
        .args(["synth", "--format", "xml"])
        .assert()
        .code(2);
    sockstack(&root()).arg("frobnicate").assert().code(2);
    sockstack(&root())
        .args(["synth", "--stacks-dir", "no-such-dir"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no-such-dir"));
}

#[test]
fn check_finds_websocket_mistakes_in_any_template() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    fs::write(
        &bad,
        "Resources:\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n    Properties: {Name: a, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}\n  Auth:\n    Type: AWS::ApiGatewayV2::Authorizer\n    Properties:\n      ApiId: !Ref Api\n      AuthorizerType: REQUEST\n      Name: a\n      IdentitySource: [$request.header.Authorization]\n  Vote:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      ApiId: !Ref Api\n      RouteKey: vote\n      AuthorizationType: CUSTOM\n      AuthorizerId: !Ref Auth\n",
    )
    .unwrap();
    let output = sockstack(dir.path())
        .args(["check", "bad.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("error[authorizer-not-on-connect] bad.yaml Vote"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error[bad-identity-source] bad.yaml Auth"),
        "{stdout}"
    );

    // Our own templates pass.
    let out = dir.path().join("out");
    synth_into(&out, &[]);
    sockstack(dir.path())
        .args(["check", "out/dev/template.yaml", "out/prod/template.yaml"])
        .assert()
        .success();

    // Unreadable input: exit 2 with file and position.
    fs::write(dir.path().join("broken.json"), "{\n  \"Resources\": [\n").unwrap();
    sockstack(dir.path())
        .args(["check", "broken.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("broken.json:3:"));
}
