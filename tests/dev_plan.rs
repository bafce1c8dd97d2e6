//! The dev stack's template read the way API Gateway would, with every reference resolved to its local value;
//! a bad stack file fails `dev` as it fails `synth`.

use sockstack::dev::plan::{IdentitySource, Plan};
use sockstack::dev::project;
use std::path::Path;

fn dev_plan() -> (sockstack::raw::RawTemplate, Plan) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = project::stack_file(root, "dev").unwrap();
    let template = project::stack_template(root, &file).unwrap();
    let plan = Plan::read(&template, "dev", &project::handler_of).unwrap();
    (template, plan)
}

#[test]
fn routes_functions_and_the_authorizer_come_from_the_template() {
    let (_, plan) = dev_plan();
    assert_eq!(plan.stage(), "dev");
    assert_eq!(plan.selection.path, ["action"]);
    let connect = &plan.routes["$connect"];
    assert!(connect.authorized);
    assert!(plan.routes["vote"].two_way);
    assert!(!plan.routes["$disconnect"].two_way);
    let authorizer = plan.authorizer.as_ref().unwrap();
    assert_eq!(
        authorizer.identity_sources,
        [IdentitySource::Query("token".into())]
    );
    let f = &plan.functions[&authorizer.function];
    assert_eq!(f.handler, "authorizer");
    assert_eq!(
        plan.functions[&plan.routes["vote"].function].handler,
        "vote"
    );
    assert!(plan.tables.contains_key("ConnectionsTable"));
}

#[test]
fn environment_references_resolve_to_local_tables_and_the_local_callback_url() {
    let (template, plan) = dev_plan();
    let plan = plan.at(&template, "127.0.0.1:4567").unwrap();
    let vote = &plan.functions[&plan.routes["vote"].function];
    let table = &plan.tables["ConnectionsTable"].name;
    assert!(
        vote.environment.values().any(|v| v == table),
        "a Ref to the table is its local name: {:?}",
        vote.environment
    );
    assert!(
        vote.environment
            .values()
            .any(|v| v == "http://127.0.0.1:4567/dev"),
        "the callback URL built with Fn::Sub is the local @connections: {:?}",
        vote.environment
    );
    assert!(
        !vote
            .environment
            .values()
            .any(|v| v.contains("amazonaws.com")),
        "nothing points at AWS: {:?}",
        vote.environment
    );
}

#[test]
fn a_bad_stack_file_gets_the_same_located_error_and_exit_2_as_synth() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let good =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.yaml"))
            .unwrap();
    let broken = good.replace(
        "{key: vote, function: vote, twoWay: true}",
        "{key: vote, function: vote, twoWay: true, authorizer: true}",
    );
    assert_ne!(broken, good, "the test must break the stack file");
    std::fs::write(&bad, broken).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sockstack"))
            .args(args)
            .arg(&bad)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let synth = run(&["synth", "--out", dir.path().join("out").to_str().unwrap()]);
    let dev = run(&["dev", "--port", "0"]);
    let token = run(&["dev", "token"]);
    assert_eq!(synth.status.code(), Some(2));
    assert_eq!(dev.status.code(), Some(2));
    assert_eq!(token.status.code(), Some(2));
    let synth_err = String::from_utf8_lossy(&synth.stderr);
    assert!(synth_err.contains("bad.yaml:"), "{synth_err}");
    assert_eq!(String::from_utf8_lossy(&dev.stderr), synth_err);
    assert_eq!(String::from_utf8_lossy(&token.stderr), synth_err);
}

#[test]
fn parameters_and_secrets_come_from_the_roles_and_existing_tables_from_the_stack_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dev-grants");
    let file = project::stack_file(&root, "grants").unwrap();
    let (template, model) = project::stack_synthesized(&root, &file).unwrap();
    let plan = Plan::read(&template, "grants", &project::handler_of).unwrap();
    let probe = &plan.functions["ProbeFunction"];
    assert_eq!(
        probe.parameters,
        ["/dev-values/greeting"],
        "the leading / SSM's ARNs drop is back"
    );
    assert_eq!(probe.secrets, ["dev-values/token"]);
    let granted = plan.granted();
    assert_eq!(
        granted.parameters["/dev-values/greeting"]
            .iter()
            .collect::<Vec<_>>(),
        ["ProbeFunction"]
    );
    assert!(
        !template
            .resources
            .values()
            .any(|r| r.type_name == "AWS::DynamoDB::Table"
                && r.properties.get("TableName").and_then(|n| n.as_str()) == Some("shared-ledger")),
        "the existing table is not in the template"
    );
    let existing = sockstack::dev::existing::tables(&model);
    let ledger = &existing["ledger"];
    assert_eq!(
        ledger.name, "shared-ledger",
        "its real name, as TABLE_LEDGER holds"
    );
    assert_eq!(probe.environment["TABLE_LEDGER"], ledger.name);
    let request = sockstack::dev::dynamo::create_table_request(ledger);
    assert_eq!(
        request["KeySchema"],
        serde_json::json!([
            {"AttributeName": "accountId", "KeyType": "HASH"},
            {"AttributeName": "entryId", "KeyType": "RANGE"}
        ])
    );
    assert_eq!(
        request["AttributeDefinitions"],
        serde_json::json!([
            {"AttributeName": "accountId", "AttributeType": "S"},
            {"AttributeName": "entryId", "AttributeType": "N"},
            {"AttributeName": "note", "AttributeType": "S"}
        ])
    );
    assert_eq!(
        request["GlobalSecondaryIndexes"][0]["Projection"]["ProjectionType"],
        "KEYS_ONLY"
    );
}

#[test]
fn a_stack_without_grants_reads_no_parameters_or_secrets() {
    let (_, plan) = dev_plan();
    assert!(plan.granted().is_empty(), "{:?}", plan.granted());
}
