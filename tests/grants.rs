//! Each grant kind gives exactly the IAM actions on exactly the resources and the
//! environment variable of contract::grants, and a function without the grant
//! gets none of it. One stack holds one function per grant kind and `bare`,
//! which has no grant at all.

mod common;

use common::{cfn_lint, fake_handlers};
use serde_json::{Value, json};
use sockstack::sources::HandlerSources;
use std::collections::BTreeSet;
use std::path::Path;

const FUNCTIONS: &[&str] = &[
    "authorizer",
    "bare",
    "reader",
    "writer",
    "both",
    "indexed",
    "ledger",
    "registry-read",
    "registry-write",
    "sender",
    "params",
    "secrets",
    "traced",
    "refs",
    "default",
];

const STACK: &str = "\
version: 2
stack: grants
stage: {name: dev}
authorizer:
  jwt: {jwksUrl: https://id.example.com/jwks.json, issuer: https://id.example.com/, audience: [web, cli]}
  context: {userId: sub, teamId: team}
  requiredClaims: [sub, team]
connections:
  indexBy: [teamId]
tables:
  scores:
    key: {game: S, at: N}
    indexes:
      byPlayer: {key: {player: S}, projection: keys}
  ledger:
    existing: ledger-prod
    key: {id: S}
    kmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/ledger-key
functions:
  defaults: {tracing: false}   # tracing is on by default; off here so each function has only its grants
  authorizer: {}
  bare: {}
  reader: {grants: {tables: {scores: read}}}
  writer: {grants: {tables: {scores: write}}}
  both: {grants: {tables: {scores: readwrite}}}
  indexed: {grants: {tables: {scores/byPlayer: read}}}
  ledger: {grants: {tables: {ledger: read}}}
  registry-read: {grants: {connections: read}}
  registry-write: {grants: {connections: write}}
  sender: {grants: {connections: send}}
  params: {grants: {parameters: [/app/dev/api-key]}}
  secrets: {grants: {secrets: [app/dev/webhook]}}
  traced: {tracing: true}
  refs:
    environment:
      GREETING: hello
      ARCHIVE: {table: scores}
      URL: {callbackUrl: true}
      FLAG: {parameter: /app/dev/flag}
  default: {}
routes:
  - {key: $connect, function: bare, authorizer: true}
  - {key: $default, function: default}
  - {key: read, function: reader}
  - {key: write, function: writer}
  - {key: both, function: both}
  - {key: indexed, function: indexed}
  - {key: ledger, function: ledger}
  - {key: registry-read, function: registry-read}
  - {key: registry-write, function: registry-write}
  - {key: send, function: sender}
  - {key: params, function: params}
  - {key: secrets, function: secrets}
  - {key: traced, function: traced}
  - {key: refs, function: refs}
dataProtection: {tableKey: TABLE_KEY}
";

fn template(table_key: &str) -> sockstack::cfn::Template {
    let dir = tempfile::tempdir().unwrap();
    let h = fake_handlers(dir.path(), FUNCTIONS);
    let sources = HandlerSources::open(&h).unwrap();
    let text = STACK.replace("TABLE_KEY", table_key);
    let model = sockstack::model::load_str(Path::new("grants.yaml"), &text, &sources)
        .unwrap_or_else(|e| panic!("{e}"));
    sockstack::synth::synth(&model)
}

fn synth(table_key: &str) -> Value {
    template(table_key).to_value()
}

#[test]
fn every_grant_kind_together_is_lint_clean() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["aws-managed", "customer-managed"] {
        let file = dir.path().join(format!("{key}.yaml"));
        let text =
            sockstack::emit::render(&template(key), sockstack::emit::Format::Yaml, "grants.yaml");
        std::fs::write(&file, text).unwrap();
        cfn_lint(&file);
    }
}

fn aws_managed() -> Value {
    synth("aws-managed")
}

/// The role's statements other than its own log stream.
fn statements(t: &Value, stem: &str) -> Vec<Value> {
    t["Resources"][format!("{stem}Role")]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("no role {stem}Role"))
        .iter()
        .filter(|s| s["Sid"] != "WriteOwnLogs")
        .cloned()
        .collect()
}

fn env(t: &Value, stem: &str) -> Value {
    t["Resources"][format!("{stem}Function")]["Properties"]["Environment"]["Variables"].clone()
}

fn env_names(t: &Value, stem: &str) -> BTreeSet<String> {
    env(t, stem)
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every action in the role (outside its log stream).
fn actions(t: &Value, stem: &str) -> BTreeSet<String> {
    statements(t, stem)
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// The functions that are not `except` have none of `actions_` and none of `vars`.
fn nobody_else_has(t: &Value, except: &[&str], actions_: &[&str], vars: &[&str]) {
    for f in FUNCTIONS {
        let stem = sockstack_contract::naming::pascal_case(f);
        if except.contains(&stem.as_str()) {
            continue;
        }
        let granted = actions(t, &stem);
        for a in actions_ {
            assert!(!granted.contains(*a), "{stem} has {a}");
        }
        let names = env_names(t, &stem);
        for v in vars {
            assert!(!names.contains(*v), "{stem} has {v}");
        }
    }
}

fn statement(sid: &str, actions: &[&str], resources: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
}

const READ: &[&str] = &[
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
const WRITE: &[&str] = &[
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
];

#[test]
fn bare_function_gets_only_its_log_stream_and_no_environment() {
    let t = aws_managed();
    assert_eq!(statements(&t, "Bare"), Vec::<Value>::new());
    assert_eq!(env(&t, "Bare"), Value::Null);
    let role =
        &t["Resources"]["BareRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(
        role,
        &json!([statement(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            json!([{"Fn::GetAtt": ["BareLogGroup", "Arn"]}])
        )])
    );
}

#[test]
fn table_read_grants_read_actions_on_the_table_and_its_name() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Reader"),
        vec![statement(
            "ScoresTable",
            READ,
            json!([{"Fn::GetAtt": ["ScoresTable", "Arn"]}])
        )]
    );
    assert_eq!(
        env(&t, "Reader"),
        json!({"TABLE_SCORES": {"Ref": "ScoresTable"}})
    );
    nobody_else_has(
        &t,
        &["Reader", "Both", "Indexed", "Ledger"],
        &["dynamodb:BatchGetItem"],
        &[],
    );
    nobody_else_has(
        &t,
        &["Reader", "Writer", "Both", "Indexed"],
        &[],
        &["TABLE_SCORES"],
    );
}

#[test]
fn table_write_grants_write_actions_only() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Writer"),
        vec![statement(
            "ScoresTable",
            WRITE,
            json!([{"Fn::GetAtt": ["ScoresTable", "Arn"]}])
        )]
    );
    assert_eq!(
        env(&t, "Writer"),
        json!({"TABLE_SCORES": {"Ref": "ScoresTable"}})
    );
    nobody_else_has(
        &t,
        &["Writer", "Both"],
        &["dynamodb:BatchWriteItem", "dynamodb:UpdateItem"],
        &[],
    );
}

#[test]
fn table_readwrite_grants_both_lists() {
    let t = aws_managed();
    let mut both: Vec<&str> = READ.iter().chain(WRITE).copied().collect();
    both.sort();
    assert_eq!(
        statements(&t, "Both"),
        vec![statement(
            "ScoresTable",
            &both,
            json!([{"Fn::GetAtt": ["ScoresTable", "Arn"]}])
        )]
    );
    assert_eq!(
        env(&t, "Both"),
        json!({"TABLE_SCORES": {"Ref": "ScoresTable"}})
    );
}

#[test]
fn index_read_grants_query_and_scan_on_that_index_only() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Indexed"),
        vec![statement(
            "ScoresByPlayerIndex",
            &["dynamodb:Query", "dynamodb:Scan"],
            json!([{"Fn::Sub": "${ScoresTable.Arn}/index/byPlayer"}])
        )]
    );
    assert_eq!(
        env(&t, "Indexed"),
        json!({"TABLE_SCORES": {"Ref": "ScoresTable"}})
    );
    for f in FUNCTIONS {
        let stem = sockstack_contract::naming::pascal_case(f);
        if stem != "Indexed" {
            let text = serde_json::to_string(&statements(&t, &stem)).unwrap();
            assert!(!text.contains("/index/byPlayer"), "{stem}");
        }
    }
}

#[test]
fn existing_table_is_granted_by_arn_from_its_name_with_its_key_through_dynamodb() {
    let t = aws_managed();
    assert!(
        t["Resources"].get("LedgerTable").is_none(),
        "existing tables are not created"
    );
    assert_eq!(
        statements(&t, "Ledger"),
        vec![
            statement(
                "LedgerTable",
                READ,
                json!([{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/ledger-prod"}])
            ),
            json!({
                "Sid": "LedgerKey", "Effect": "Allow", "Action": ["kms:Decrypt"],
                "Resource": ["arn:aws:kms:eu-west-1:123456789012:key/ledger-key"],
                "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}}
            })
        ]
    );
    assert_eq!(env(&t, "Ledger"), json!({"TABLE_LEDGER": "ledger-prod"}));
    nobody_else_has(&t, &["Ledger"], &["kms:Decrypt"], &["TABLE_LEDGER"]);
}

#[test]
fn customer_managed_key_gives_each_granted_role_the_kms_actions_on_that_key_only_via_dynamodb() {
    let t = synth("customer-managed");
    let via = json!({"StringEquals": {"kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}});
    let key = json!([{"Fn::GetAtt": ["TableKey", "Arn"]}]);
    let kms_of = |stem: &str| -> Vec<Value> {
        statements(&t, stem)
            .into_iter()
            .filter(|s| s["Action"][0].as_str().unwrap().starts_with("kms:"))
            .collect()
    };
    let read = json!({"Sid": "TableKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key, "Condition": via});
    let write = json!({"Sid": "TableKey", "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
        "Resource": key, "Condition": via});
    for (stem, expected) in [
        ("Reader", &read),
        ("Indexed", &read),
        ("RegistryRead", &read),
        ("Writer", &write),
        ("Both", &write),
        ("RegistryWrite", &write),
        ("Sender", &write),
    ] {
        assert_eq!(kms_of(stem), vec![expected.clone()], "{stem}");
    }
    for stem in [
        "Bare",
        "Authorizer",
        "Params",
        "Secrets",
        "Traced",
        "Refs",
        "Default",
    ] {
        assert_eq!(kms_of(stem), Vec::<Value>::new(), "{stem}");
    }
    // Both the registry and the stack file's tables are encrypted with it.
    for id in ["ConnectionsTable", "ScoresTable"] {
        assert_eq!(
            t["Resources"][id]["Properties"]["SSESpecification"]["KMSMasterKeyId"],
            json!({"Fn::GetAtt": ["TableKey", "Arn"]}),
            "{id}"
        );
    }
    // Without a customer-managed key, no role names a key of the stack.
    let plain = aws_managed();
    assert!(plain["Resources"].get("TableKey").is_none());
    for f in FUNCTIONS {
        let stem = sockstack_contract::naming::pascal_case(f);
        assert!(
            !statements(&plain, &stem)
                .iter()
                .any(|s| s["Sid"] == "TableKey"),
            "{stem}"
        );
    }
}

#[test]
fn connections_read_queries_the_registry_and_its_indexes() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "RegistryRead"),
        vec![
            statement(
                "ConnectionsTable",
                &["dynamodb:GetItem", "dynamodb:Query"],
                json!([{"Fn::GetAtt": ["ConnectionsTable", "Arn"]}])
            ),
            statement(
                "ConnectionsIndexes",
                &["dynamodb:Query"],
                json!([{"Fn::Sub": "${ConnectionsTable.Arn}/index/ByTeamId"}])
            ),
        ]
    );
    assert_eq!(
        env(&t, "RegistryRead"),
        json!({"CONNECTIONS_TABLE": {"Ref": "ConnectionsTable"}, "CONNECTIONS_INDEXES": "teamId=ByTeamId"})
    );
    nobody_else_has(
        &t,
        &["RegistryRead", "RegistryWrite", "Sender"],
        &[],
        &["CONNECTIONS_TABLE"],
    );
    nobody_else_has(
        &t,
        &["RegistryRead", "RegistryWrite"],
        &[],
        &["CONNECTIONS_INDEXES"],
    );
}

#[test]
fn connections_write_puts_rows_in_the_registry_only() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "RegistryWrite"),
        vec![statement(
            "ConnectionsTable",
            &["dynamodb:PutItem"],
            json!([{"Fn::GetAtt": ["ConnectionsTable", "Arn"]}])
        )]
    );
    assert_eq!(
        env(&t, "RegistryWrite"),
        json!({"CONNECTIONS_TABLE": {"Ref": "ConnectionsTable"}, "CONNECTIONS_INDEXES": "teamId=ByTeamId"})
    );
}

#[test]
fn connections_send_posts_to_this_stage_and_cleans_up_gone_connections() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Sender"),
        vec![
            statement(
                "ConnectionsTable",
                &["dynamodb:DeleteItem"],
                json!([{"Fn::GetAtt": ["ConnectionsTable", "Arn"]}])
            ),
            statement(
                "PostToConnections",
                &["execute-api:ManageConnections"],
                json!([{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/dev/POST/@connections/*"}])
            ),
        ]
    );
    assert_eq!(
        env(&t, "Sender"),
        json!({
            "CALLBACK_URL": {"Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"},
            "CONNECTIONS_TABLE": {"Ref": "ConnectionsTable"},
            "NOTIFY_CONCURRENCY": "256"
        })
    );
    nobody_else_has(
        &t,
        &["Sender"],
        &["execute-api:ManageConnections"],
        &["NOTIFY_CONCURRENCY"],
    );
    nobody_else_has(&t, &["Sender", "Refs"], &[], &["CALLBACK_URL"]);
}

#[test]
fn parameters_are_read_by_name_without_the_leading_slash_in_the_arn() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Params"),
        vec![statement(
            "ReadParameters",
            &["ssm:GetParameter"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/app/dev/api-key"}])
        )]
    );
    assert_eq!(
        env(&t, "Params"),
        json!({"PARAM_APP_DEV_API_KEY": "/app/dev/api-key"})
    );
    nobody_else_has(
        &t,
        &["Params", "Refs"],
        &["ssm:GetParameter"],
        &["PARAM_APP_DEV_API_KEY"],
    );
}

#[test]
fn secrets_are_read_by_name_with_the_random_suffix_and_the_variable_holds_the_name() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Secrets"),
        vec![statement(
            "ReadSecrets",
            &["secretsmanager:GetSecretValue"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:app/dev/webhook-??????"}])
        )]
    );
    assert_eq!(
        env(&t, "Secrets"),
        json!({"SECRET_APP_DEV_WEBHOOK": "app/dev/webhook"})
    );
    nobody_else_has(
        &t,
        &["Secrets"],
        &["secretsmanager:GetSecretValue"],
        &["SECRET_APP_DEV_WEBHOOK"],
    );
}

#[test]
fn tracing_is_active_with_exactly_the_two_xray_actions_on_star() {
    let t = aws_managed();
    assert_eq!(
        statements(&t, "Traced"),
        vec![statement(
            "Tracing",
            &["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            json!(["*"])
        )]
    );
    assert_eq!(
        t["Resources"]["TracedFunction"]["Properties"]["TracingConfig"],
        json!({"Mode": "Active"})
    );
    for f in FUNCTIONS {
        let stem = sockstack_contract::naming::pascal_case(f);
        if stem != "Traced" {
            assert!(
                t["Resources"][format!("{stem}Function")]["Properties"]
                    .get("TracingConfig")
                    .is_none(),
                "{stem}"
            );
        }
    }
    nobody_else_has(
        &t,
        &["Traced"],
        &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        &[],
    );
}

#[test]
fn the_authorizer_gets_its_configuration_and_no_permission() {
    let t = aws_managed();
    assert_eq!(statements(&t, "Authorizer"), Vec::<Value>::new());
    assert_eq!(
        env(&t, "Authorizer"),
        json!({
            "AUTH_CONTEXT": "teamId=team,userId=sub",
            "AUTH_REQUIRED_CLAIMS": "sub,team",
            "JWKS_URL": "https://id.example.com/jwks.json",
            "JWT_AUDIENCE": "web,cli",
            "JWT_ISSUER": "https://id.example.com/",
            "TOKEN_SOURCE": "route.request.querystring.token"
        })
    );
    nobody_else_has(
        &t,
        &["Authorizer"],
        &[],
        &["JWKS_URL", "AUTH_CONTEXT", "AUTH_REQUIRED_CLAIMS"],
    );
}

#[test]
fn the_default_route_function_gets_the_sorted_custom_route_keys() {
    let t = aws_managed();
    assert_eq!(statements(&t, "Default"), Vec::<Value>::new());
    assert_eq!(
        env(&t, "Default"),
        json!({"ROUTE_KEYS": "both,indexed,ledger,params,read,refs,registry-read,registry-write,secrets,send,traced,write"})
    );
    nobody_else_has(&t, &["Default"], &[], &["ROUTE_KEYS"]);
}

#[test]
fn environment_literals_and_references_resolve_and_a_parameter_reference_grants_read() {
    let t = aws_managed();
    assert_eq!(
        env(&t, "Refs"),
        json!({
            "ARCHIVE": {"Ref": "ScoresTable"},
            "FLAG": "/app/dev/flag",
            "GREETING": "hello",
            "URL": {"Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"}
        })
    );
    // Naming a table gives its name, not access; naming a parameter grants reading it.
    assert_eq!(
        statements(&t, "Refs"),
        vec![statement(
            "ReadParameters",
            &["ssm:GetParameter"],
            json!([{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/app/dev/flag"}])
        )]
    );
}
