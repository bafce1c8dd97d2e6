//! Malformed stack files: each exits 2 with the file, the exact line and column
//! of the offending key or value, and what was expected — and leaves `out/`
//! exactly as it was, even when a good stack is synthesized in the same run.

mod common;

use common::{fake_handlers, snapshot_dir, sockstack};
use std::fs;

const GOOD: &str = "\
version: 2
stack: good
stage:
  name: dev
functions:
  connect: {}
routes:
  - key: $connect
    function: connect
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
        "format-1",
        "stack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, handler: connect, public: true}\n",
        "1:1",
        "routes[].handler        -> routes[].function",
    ),
    (
        "format-3",
        "version: 3\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "1:10",
        "stack-file format 3 is not one this sockstack reads",
    ),
    (
        "yaml-syntax",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions: {connect: {}\nroutes: []\n",
        "5:1",
        "valid YAML",
    ),
    (
        "unknown-top-field",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nlambda: {memory: 512}\n",
        "8:1",
        "unknown field `lambda`",
    ),
    (
        "format-1-route-handler",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - key: $connect\n    handler: connect\n",
        "8:5",
        "unknown field `handler`",
    ),
    (
        "wrong-type",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  defaults:\n    memory: lots\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:13",
        "invalid type: string \"lots\"",
    ),
    (
        "wrong-type-bool",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - key: $connect\n    function: connect\n    public: maybe\n",
        "9:13",
        "invalid type",
    ),
    (
        "missing-routes",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n",
        "1:1",
        "missing field `routes`",
    ),
    (
        "missing-functions",
        "version: 2\nstack: t\nstage: {name: dev}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "1:1",
        "missing field `functions`",
    ),
    (
        "duplicate-yaml-key",
        "version: 2\nstack: t\nstack: u\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "3:1",
        "duplicate key `stack` (first at line 2, column 1)",
    ),
    (
        "duplicate-function",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  connect: {memory: 512}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:3",
        "duplicate key `connect` (first at line 5, column 3)",
    ),
    (
        "duplicate-route",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - {key: $connect, function: connect, public: true}\n",
        "8:11",
        "route `$connect` is defined twice",
    ),
    (
        "authorizer-on-custom-route",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  vote: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - {key: vote, function: vote, authorizer: true}\n",
        "9:33",
        "route `vote` cannot use the authorizer",
    ),
    (
        "http-api-identity-source",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\n  identitySource:\n    - $request.header.Authorization\n",
        "13:7",
        "HTTP API form",
    ),
    (
        "bad-stage-name",
        "version: 2\nstack: t\nstage:\n  name: dev stage\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "4:9",
        "not a valid stage name",
    ),
    (
        "bad-stack-name",
        "version: 2\nstack: 1team\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "2:8",
        "not a valid CloudFormation stack name",
    ),
    (
        "bad-region",
        "version: 2\nstack: t\nstage: {name: dev}\nregion: europe\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "4:9",
        "is not an AWS region",
    ),
    (
        "memory-too-small",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  defaults: {memory: 64}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "5:22",
        "memory 64 is out of range",
    ),
    (
        "function-memory-too-big",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    memory: 20000\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:13",
        "memory 20000 is out of range",
    ),
    (
        "route-timeout-over-29",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    timeout: 60\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:14",
        "timeout 60 s is out of range for function `connect`",
    ),
    (
        "authorizer-timeout-over-900",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer:\n    timeout: 1000\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\n",
        "6:14",
        "timeout 1000 s is out of range for function `authorizer`",
    ),
    (
        "log-retention",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  defaults:\n    logRetentionDays: 10\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:23",
        "not a CloudWatch retention period",
    ),
    (
        "unknown-function",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - key: chat\n    function: chatt\n",
        "9:15",
        "no function `chatt` under `functions:`",
    ),
    (
        "missing-binary",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  chat:\n    binary: chatt\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - {key: chat, function: chat}\n",
        "7:13",
        "no handler binary `chatt`",
    ),
    (
        "missing-default-binary",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  lobby: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - {key: lobby, function: lobby}\n",
        "6:10",
        "no handler binary `lobby`",
    ),
    (
        "unused-function",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  vote: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "6:3",
        "function `vote` serves no route and is not the authorizer",
    ),
    (
        "reserved-route-key",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - key: $vote\n    function: connect\n",
        "8:10",
        "only `$connect`, `$disconnect` and `$default` may start with `$`",
    ),
    (
        "route-key-with-space",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - key: cast vote\n    function: connect\n",
        "8:10",
        "contains white space",
    ),
    (
        "no-routes",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes: []\n",
        "6:9",
        "the stack has no routes",
    ),
    (
        "no-connect-not-public",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  default: {}\nroutes:\n  - {key: $default, function: default}\n",
        "7:3",
        "the stack has no `$connect` route",
    ),
    (
        "connect-without-auth",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect}\n",
        "7:11",
        "`$connect` has no authorizer",
    ),
    (
        "two-way-disconnect",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\n  disconnect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n  - key: $disconnect\n    function: disconnect\n    twoWay: true\n",
        "11:5",
        "`$disconnect` cannot answer",
    ),
    (
        "authorizer-unused",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\n",
        "9:1",
        "no route uses it",
    ),
    (
        "authorizer-function-missing",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\n",
        "9:3",
        "the authorizer's function `authorizer` is not under `functions:`",
    ),
    (
        "authorizer-serves-route",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\n  - {key: $default, function: authorizer}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\n",
        "9:31",
        "is the authorizer and cannot serve a route",
    ),
    (
        "jwks-not-https",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt:\n    jwksUrl: http://a.example.com/jwks\n    issuer: https://a.example.com/\n    audience: [web]\n",
        "11:14",
        "is not an https URL",
    ),
    (
        "jwt-and-cognito",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  cognito: {userPoolId: eu-west-1_abc, clientId: [web]}\n",
        "11:3",
        "both `jwt` and `cognito` are set",
    ),
    (
        "no-key-source",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  context: {userId: sub}\n",
        "9:1",
        "the authorizer has no key source",
    ),
    (
        "bad-cognito-pool",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  cognito:\n    userPoolId: mypool\n    clientId: [web]\n",
        "11:17",
        "not a Cognito user pool id",
    ),
    (
        "empty-client-id",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  cognito: {userPoolId: eu-west-1_abc, clientId: []}\n",
        "10:50",
        "no audience",
    ),
    (
        "reserved-context-key",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context:\n    expiresAt: exp\n",
        "12:5",
        "is an attribute of the connection registry itself",
    ),
    (
        "index-by-unknown-key",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\nconnections:\n  indexBy:\n    - roomId\n",
        "14:7",
        "`roomId` is not a key of `authorizer.context`",
    ),
    (
        "index-by-twice",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  authorizer: {}\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, authorizer: true}\nauthorizer:\n  jwt: {jwksUrl: https://a.example.com/jwks, issuer: https://a.example.com/, audience: [web]}\n  context: {userId: sub, teamId: team}\nconnections:\n  indexBy:\n    - teamId\n    - {key: teamId, index: ByTeam}\n",
        "15:8",
        "context key `teamId` is indexed twice",
    ),
    (
        "bad-existing-table",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  profiles:\n    key: {userId: S}\n    existing: a b\n",
        "11:15",
        "not a DynamoDB table name",
    ),
    (
        "key-three-attributes",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S, player: S, at: N}\n",
        "10:11",
        "a key has 1 or 2 attributes, this one has 3",
    ),
    (
        "key-bad-type",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: X}\n",
        "10:17",
        "unknown variant `X`",
    ),
    (
        "key-missing",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    ttl: expiresAt\n",
        "10:5",
        "missing field `key`",
    ),
    (
        "index-projection",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S}\n    indexes:\n      byPlayer: {key: {player: S}, projection: some}\n",
        "12:48",
        "unknown variant `some`",
    ),
    (
        "index-type-conflict",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S}\n    indexes:\n      byGame:\n        key: {game: N}\n",
        "13:21",
        "attribute `game` is N here but S elsewhere",
    ),
    (
        "table-named-connections",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  connections:\n    key: {id: S}\n",
        "9:3",
        "would take the registry's logical id `ConnectionsTable`",
    ),
    (
        "kms-key-on-created-table",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S}\n    kmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/abc\n",
        "11:5",
        "`kmsKeyArn` is only for an `existing` table",
    ),
    (
        "ttl-on-existing-table",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S}\n    existing: scores-prod\n    ttl: expiresAt\n",
        "12:5",
        "`ttl` has no effect on an existing table",
    ),
    (
        "unknown-connections-access",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      connections: everything\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:20",
        "unknown variant `everything`",
    ),
    (
        "connections-listed-twice",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      connections: [read, read]\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:27",
        "this access is listed twice",
    ),
    (
        "grant-unknown-table",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      tables: {scorez: read}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores: {key: {game: S}}\n",
        "7:16",
        "no table `scorez` in this stack file",
    ),
    (
        "grant-unknown-index",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      tables: {scores/byPlayer: read}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores: {key: {game: S}}\n",
        "7:16",
        "table `scores` has no index `byPlayer`",
    ),
    (
        "grant-index-write",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      tables: {scores/byPlayer: write}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores:\n    key: {game: S}\n    indexes: {byPlayer: {key: {player: S}}}\n",
        "7:33",
        "an index can only be read",
    ),
    (
        "grant-unknown-table-access",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      tables: {scores: everything}\nroutes:\n  - {key: $connect, function: connect, public: true}\ntables:\n  scores: {key: {game: S}}\n",
        "7:24",
        "unknown variant `everything`",
    ),
    (
        "env-name-collision",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      parameters: [/a/b, a-b]\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:26",
        "this sets environment variable `PARAM_A_B`",
    ),
    (
        "env-reserved-name",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    environment:\n      AWS_REGION: eu-west-1\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:7",
        "`AWS_REGION` cannot be set on a Lambda function",
    ),
    (
        "env-ref-unknown-table",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    environment:\n      ARCHIVE: {table: archive}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:24",
        "no table `archive` in this stack file",
    ),
    (
        "env-ref-two-things",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    environment:\n      ARCHIVE: {table: archive, callbackUrl: true}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:17",
        "a reference names exactly one thing, this one names 2",
    ),
    (
        "env-ref-unknown-field",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    environment:\n      ARCHIVE: {bucket: b}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:17",
        "unknown field `bucket`",
    ),
    (
        "bad-secret-name",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect:\n    grants:\n      secrets: [\"has space\"]\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "7:17",
        "is not a Secrets Manager secret name",
    ),
    (
        "burst-zero",
        "version: 2\nstack: t\nstage:\n  name: dev\n  throttling: {burstLimit: 0}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
        "5:28",
        "burst limit 0 is out of range",
    ),
    (
        "routes-not-a-list",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  vote: vote\n",
        "7:3",
        "invalid type: map",
    ),
    (
        "alarms-bad-email",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nalarms: {email: ops-at-example.com}\n",
        "8:17",
        "`ops-at-example.com` is not an e-mail address",
    ),
    (
        "alarms-bad-email-parameter",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nalarms:\n  email: {parameter: \"has space\"}\n",
        "9:22",
        "is not an SSM parameter name",
    ),
    (
        "alarms-enabled-not-bool",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nalarms:\n  enabled: maybe\n",
        "9:12",
        "invalid type",
    ),
    (
        "alarms-unknown-field",
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\nalarms: {sms: \"+100\"}\n",
        "8:10",
        "unknown field `sms`",
    ),
];

#[test]
fn every_malformed_stack_file_is_located_and_changes_nothing() {
    assert!(CASES.len() >= 60);
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(
        dir.path(),
        &[
            "authorizer",
            "connect",
            "disconnect",
            "default",
            "vote",
            "chat",
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
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  defaults:\n    memory: 1\n    timeout: 0\n  vote: {}\nroutes:\n  - {key: vote, function: vote, authorizer: true}\n",
    )
    .unwrap();
    let output = sockstack(dir.path())
        .args(["validate", "many.yaml", "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let positions: Vec<usize> = ["many.yaml:6:", "many.yaml:7:", "many.yaml:10:"]
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

/// Runs `validate` on `name` (written with `text`) in a folder with fake handlers.
fn validate(name: &str, text: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(dir.path(), &["connect", "vote"]);
    fs::write(dir.path().join(name), text).unwrap();
    let output = sockstack(dir.path())
        .args(["validate", name, "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn duplicate_keys_are_errors_at_every_level_naming_both_places() {
    let text = "\
version: 2
stack: t
stage: {name: dev, name: prod}
functions:
  connect:
    environment: {A: x, A: y}
  connect: {}
routes:
  - {key: $connect, function: connect, public: true, public: false}
tags:
  team: a
  team: b
stack: u
";
    let (code, stderr) = validate("dup.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    for (at, what) in [
        (
            "dup.yaml:3:20: stage.name: ",
            "duplicate key `name` (first at line 3, column 9)",
        ),
        (
            "dup.yaml:6:25: functions.connect.environment.A: ",
            "duplicate key `A` (first at line 6, column 19)",
        ),
        (
            "dup.yaml:7:3: functions.connect: ",
            "duplicate key `connect` (first at line 5, column 3)",
        ),
        (
            "dup.yaml:9:54: routes[0].public: ",
            "duplicate key `public` (first at line 9, column 40)",
        ),
        (
            "dup.yaml:12:3: tags.team: ",
            "duplicate key `team` (first at line 11, column 3)",
        ),
        (
            "dup.yaml:13:1: stack: ",
            "duplicate key `stack` (first at line 2, column 1)",
        ),
    ] {
        assert!(
            stderr.contains(&format!("{at}{what}")),
            "{at}{what} in:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("error: ").count(), 6, "{stderr}");
}

#[test]
fn yaml_tags_in_a_stack_file_are_errors_not_dropped() {
    let text = GOOD
        .replace("stack: good", "stack: !Ref good")
        .replace("name: dev", "name: !!str dev")
        .replace("  connect: {}", "  connect: !custom {}");
    let (code, stderr) = validate("tags.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    for (at, tag) in [
        ("tags.yaml:2:8: stack: ", "!Ref"),
        ("tags.yaml:4:9: stage.name: ", "!!str"),
        ("tags.yaml:6:12: functions.connect: ", "!custom"),
    ] {
        assert!(
            stderr.contains(&format!(
                "{at}YAML tag `{tag}` is not allowed in a stack file"
            )),
            "{at} {tag} in:\n{stderr}"
        );
    }
}

#[test]
fn every_line_ending_style_reads_the_same_and_locates_errors_alike() {
    let bad = format!("{GOOD}lambda: {{memory: 512}}\n");
    for (style, eol) in [("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")] {
        let (code, stderr) = validate("good.yaml", GOOD.replace('\n', eol).as_bytes());
        assert_eq!(code, Some(0), "{style}: {stderr}");
        let (code, stderr) = validate("bad.yaml", bad.replace('\n', eol).as_bytes());
        assert_eq!(code, Some(2), "{style}: {stderr}");
        assert!(
            stderr.contains("bad.yaml:11:1: lambda: unknown field `lambda`"),
            "{style}: {stderr}"
        );
        assert!(
            stderr.contains("  11 | lambda: {memory: 512}\n"),
            "{style}: the line is shown without its line break: {stderr:?}"
        );
        // A semantic error (after parsing) is located alike.
        let (code, stderr) = validate(
            "name.yaml",
            GOOD.replace("stack: good", "stack: 1good")
                .replace('\n', eol)
                .as_bytes(),
        );
        assert_eq!(code, Some(2), "{style}: {stderr}");
        assert!(
            stderr.contains("name.yaml:2:8: stack: "),
            "{style}: {stderr}"
        );
    }
}

#[test]
fn route_keys_with_control_or_bidirectional_characters_are_refused_and_shown_escaped() {
    for (written, shown, what) in [
        ("\\a", "\\u{7}", "a control character"),
        ("\\e", "\\u{1b}", "a control character"),
        (
            "\\u202A",
            "\\u{202a}",
            "a bidirectional-text control character",
        ),
        (
            "\\u202E",
            "\\u{202e}",
            "a bidirectional-text control character",
        ),
        (
            "\\u2066",
            "\\u{2066}",
            "a bidirectional-text control character",
        ),
        (
            "\\u2069",
            "\\u{2069}",
            "a bidirectional-text control character",
        ),
        (
            "\\u200E",
            "\\u{200e}",
            "a bidirectional-text control character",
        ),
        (
            "\\u200F",
            "\\u{200f}",
            "a bidirectional-text control character",
        ),
    ] {
        let text = format!("{GOOD}  - {{key: \"se{written}nd\", function: connect}}\n");
        let (code, stderr) = validate("keys.yaml", text.as_bytes());
        assert_eq!(code, Some(2), "{written}: {stderr}");
        let wanted = format!(
            "keys.yaml:11:11: routes[1].key: route key `se{shown}nd` contains {what}, {shown}, at character 3"
        );
        assert!(stderr.contains(&wanted), "{wanted} in:\n{stderr}");
    }
    // Written raw in the file, the character is escaped in the message and in the quoted line.
    let text = format!("{GOOD}  - {{key: se\u{202e}dn, function: connect}}\n");
    let (code, stderr) = validate("raw.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("  11 |   - {key: se\\u{202e}dn, function: connect}"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{202e}'), "never raw: {stderr:?}");
}

#[test]
fn thousands_of_problems_print_the_first_50_and_count_the_rest() {
    let mut text = GOOD.to_string();
    for i in 0..2000 {
        text.push_str(&format!("  - {{key: r{i}}}\n"));
    }
    let (code, stderr) = validate("many.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.matches("error: ").count(), 50, "{stderr}");
    assert!(
        stderr.contains("many.yaml:11:5: routes[1]: missing field `function`"),
        "the first in file order come first: {stderr}"
    );
    assert!(
        stderr.contains("\n… and 1950 more problems in many.yaml"),
        "{stderr}"
    );
    assert!(stderr.len() < 50 * 400, "bounded: {} bytes", stderr.len());
}

#[test]
fn a_long_offending_value_is_cut_in_the_message_and_in_the_quoted_line() {
    let name = format!("{}!", "a".repeat(5000));
    let text = GOOD.replace("stack: good", &format!("stack: \"{name}\""));
    let (code, stderr) = validate("long.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    let cut = format!(
        "`{}…` is not a valid CloudFormation stack name",
        "a".repeat(80)
    );
    assert!(stderr.contains(&cut), "{stderr}");
    assert!(stderr.len() < 1000, "bounded: {stderr}");
}

#[test]
fn four_shape_errors_in_one_file_are_all_reported_in_one_run() {
    let text = "\
version: 2
stack: t
stage:
  name: dev
  acessLogs: true
functions:
  defaults:
    memory: lots
    architecture: arm65
  connect: {}
routes:
  - function: connect
    public: true
";
    let (code, stderr) = validate("four.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    let wanted = [
        "four.yaml:5:3: stage.acessLogs: unknown field `acessLogs` (did you mean `accessLogs`?)",
        "four.yaml:8:13: functions.defaults.memory: invalid type: string \"lots\"",
        "four.yaml:9:19: functions.defaults.architecture: unknown variant `arm65`",
        "four.yaml:12:5: routes[0]: missing field `key`",
    ];
    let mut last = 0;
    for w in wanted {
        let at = stderr
            .find(w)
            .unwrap_or_else(|| panic!("{w} in:\n{stderr}"));
        assert!(at >= last, "in file order: {stderr}");
        last = at;
    }
    assert_eq!(stderr.matches("error: ").count(), 4, "{stderr}");
    for expected in [
        "expected: one of `accessLogs`, `name`, `throttling`",
        "expected: a whole number",
        "expected: one of `arm64`, `x86_64`",
        "expected: a `key` entry in this mapping",
    ] {
        assert!(stderr.contains(expected), "{expected} in:\n{stderr}");
    }
}
