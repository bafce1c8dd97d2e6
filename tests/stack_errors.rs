//! Malformed stack files: each exits 2 with the file, the exact line and column
//! of the offending key or value, and what was expected — and leaves `out/`
//! exactly as it was, even when a good stack is synthesized in the same run.

mod common;

use common::{fake_handlers, snapshot_dir, sockstack};
use std::fs;

const GOOD: &str = "\
stack: good
stage:
  name: dev
routes:
  - key: $connect
    handler: connect
    public: true
";

/// (case, stack file, expected `line:column`, text the message must contain)
const CASES: &[(&str, &str, &str, &str)] = &[
    ("empty", "", "1:1", "the stack file is empty"),
    (
        "comments-only",
        "# nothing here\n---\n",
        "1:1",
        "the stack file is empty",
    ),
    (
        "yaml-syntax",
        "stack: t\nstage: {name: dev\nroutes: []\n",
        "3:7",
        "valid YAML",
    ),
    (
        "unknown-top-field",
        "stak: t\nstage: {name: dev}\nroutes: []\n",
        "1:1",
        "unknown field `stak`",
    ),
    (
        "unknown-route-field",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $connect\n    handlr: connect\n",
        "5:5",
        "unknown field `handlr`",
    ),
    (
        "wrong-type",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\nlambda:\n  memory: lots\n",
        "6:11",
        "invalid type: string \"lots\"",
    ),
    (
        "wrong-type-bool",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $default\n    handler: default\n    twoWay: maybe\n",
        "6:13",
        "invalid type",
    ),
    (
        "missing-routes",
        "stack: t\nstage:\n  name: dev\n",
        "1:1",
        "missing field `routes`",
    ),
    (
        "duplicate-yaml-key",
        "stack: t\nstack: u\nstage: {name: dev}\nroutes: []\n",
        "2:1",
        "duplicate field `stack`",
    ),
    (
        "duplicate-route",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: vote\n    handler: vote\n  - key: vote\n    handler: vote\n",
        "6:10",
        "route `vote` is defined twice",
    ),
    (
        "authorizer-on-vote",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: vote\n    handler: vote\n    authorizer: true\n",
        "6:5",
        "route `vote` cannot use the authorizer",
    ),
    (
        "http-api-identity-source",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $connect\n    handler: connect\n    authorizer: true\nauthorizer:\n  jwksUrl: https://auth.example.com/jwks.json\n  issuer: https://auth.example.com/\n  audience: [web]\n  identitySource:\n    - $request.header.Authorization\n",
        "12:7",
        "HTTP API form",
    ),
    (
        "bad-stage-name",
        "stack: t\nstage:\n  name: dev stage\nroutes:\n  - {key: $connect, handler: connect}\n",
        "3:9",
        "not a valid stage name",
    ),
    (
        "bad-stack-name",
        "stack: 1team\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\n",
        "1:8",
        "not a valid CloudFormation stack name",
    ),
    (
        "memory-too-small",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\nlambda:\n  memory: 64\n",
        "6:11",
        "memory 64 MB is out of range",
    ),
    (
        "timeout-too-long",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\nlambda:\n  timeout: 60\n",
        "6:12",
        "timeout 60 s is out of range",
    ),
    (
        "log-retention",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\nlambda:\n  logRetentionDays: 10\n",
        "6:21",
        "not a CloudWatch retention period",
    ),
    (
        "unknown-handler",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $connect\n    handler: connect\n  - key: chat\n    handler: chatt\n",
        "7:14",
        "no handler `chatt`",
    ),
    (
        "reserved-route-key",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $vote\n    handler: vote\n",
        "4:10",
        "only `$connect`, `$disconnect` and `$default` may start with `$`",
    ),
    (
        "route-key-with-space",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: cast vote\n    handler: vote\n",
        "4:10",
        "contains white space",
    ),
    (
        "tool-as-handler",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: push\n    handler: notify\n",
        "5:14",
        "`notify` is a command-line tool of the handlers member, not a Lambda handler",
    ),
    (
        "no-routes",
        "stack: t\nstage: {name: dev}\nroutes: []\n",
        "3:9",
        "the stack has no routes",
    ),
    (
        "two-way-disconnect",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: $disconnect\n    handler: disconnect\n    twoWay: true\n",
        "6:5",
        "`$disconnect` cannot answer",
    ),
    (
        "authorizer-unused",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\nauthorizer:\n  jwksUrl: https://a.example.com/jwks\n  issuer: https://a.example.com/\n  audience: [web]\n",
        "5:1",
        "no route uses it",
    ),
    (
        "jwks-not-https",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect, authorizer: true}\nauthorizer:\n  jwksUrl: http://a.example.com/jwks\n  issuer: https://a.example.com/\n  audience: [web]\n",
        "6:12",
        "is not an https URL",
    ),
    (
        "jwks-and-cognito",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect, authorizer: true}\nauthorizer:\n  jwksUrl: https://a.example.com/jwks\n  issuer: https://a.example.com/\n  cognito:\n    userPoolId: eu-west-1_abc\n  audience: [web]\n",
        "8:3",
        "both `jwksUrl` and `cognito` are set",
    ),
    (
        "bad-cognito-pool",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect, authorizer: true}\nauthorizer:\n  cognito:\n    userPoolId: mypool\n  audience: [web]\n",
        "7:17",
        "not a Cognito user pool id",
    ),
    (
        "empty-audience",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect, authorizer: true}\nauthorizer:\n  cognito: {userPoolId: eu-west-1_abc}\n  audience: []\n",
        "7:13",
        "no audience",
    ),
    (
        "bad-existing-table",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect}\ntables:\n  profiles:\n    existing: a b\n",
        "7:15",
        "not a DynamoDB table name",
    ),
    (
        "burst-zero",
        "stack: t\nstage:\n  name: dev\n  throttling: {burstLimit: 0}\nroutes:\n  - {key: $connect, handler: connect}\n",
        "4:28",
        "burst limit 0 is out of range",
    ),
    (
        "routes-not-a-list",
        "stack: t\nstage: {name: dev}\nroutes:\n  vote: vote\n",
        "4:3",
        "invalid type: map",
    ),
    (
        "builtin-access-override",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: vote\n    handler: vote\n    access: reply\n",
        "6:13",
        "handler `vote` is built in with access `broadcast`",
    ),
    (
        "unknown-access",
        "stack: t\nstage: {name: dev}\nroutes:\n  - key: chat\n    handler: vote\n    access: everything\n",
        "6:13",
        "unknown variant `everything`",
    ),
];

#[test]
fn every_malformed_stack_file_is_located_and_changes_nothing() {
    assert!(CASES.len() >= 20);
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(
        dir.path(),
        &[
            "authorizer",
            "connect",
            "disconnect",
            "default",
            "vote",
            "notify",
        ],
    );
    let stacks = dir.path().join("stacks");
    fs::create_dir_all(&stacks).unwrap();
    fs::write(stacks.join("good.yaml"), GOOD).unwrap();

    // A previous, successful run left an output folder.
    let out = dir.path().join("out");
    sockstack(dir.path())
        .args(["synth", "stacks/good.yaml", "--handlers"])
        .arg(&handlers)
        .assert()
        .success();
    fs::write(out.join("keep-me.txt"), "user file").unwrap();
    let before = snapshot_dir(&out);

    let mut failures = Vec::new();
    for (name, text, position, needle) in CASES {
        let file = stacks.join(format!("{name}.yaml"));
        fs::write(&file, text).unwrap();
        let output = sockstack(dir.path())
            .args(["synth", "stacks/good.yaml"])
            .arg(format!("stacks/{name}.yaml"))
            .arg("--handlers")
            .arg(&handlers)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let located = format!("stacks/{name}.yaml:{position}: ");
        let ok = output.status.code() == Some(2)
            && stderr.contains(&located)
            && stderr.contains(needle)
            && stderr.contains("expected: ");
        if !ok {
            failures.push(format!(
                "{name}: exit {:?}, wanted `{located}` + `{needle}` + `expected:`, got:\n{stderr}",
                output.status.code()
            ));
        }
        assert_eq!(snapshot_dir(&out), before, "{name}: out/ changed");
        fs::remove_file(&file).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_problems_of_a_file_are_reported_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(dir.path(), &["connect", "vote"]);
    let file = dir.path().join("many.yaml");
    fs::write(
        &file,
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: vote, handler: vote, authorizer: true}\nlambda:\n  memory: 1\n  timeout: 0\n",
    )
    .unwrap();
    let output = sockstack(dir.path())
        .args(["validate", "many.yaml", "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let positions: Vec<usize> = ["many.yaml:4:", "many.yaml:6:", "many.yaml:7:"]
        .iter()
        .map(|p| {
            stderr
                .find(p)
                .unwrap_or_else(|| panic!("{p} missing in:\n{stderr}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stderr}");
}

#[test]
fn missing_handlers_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("s.yaml"), GOOD).unwrap();
    sockstack(dir.path())
        .args(["synth", "s.yaml", "--handlers", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nowhere"));
    assert!(!dir.path().join("out").exists());
}
