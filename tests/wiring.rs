//! What the template wires together, asserted directly (not through snapshots):
//! the authorizer, permissions, roles against the contract, the deployment.

mod common;

use common::{handlers, resources, root, synthesize_stack};
use serde_json::{Value, json};
use sockstack::model::{ConnectAuth, Model, RouteKey};
use sockstack::sources::HandlerSources;
use std::collections::BTreeSet;

fn model(name: &str) -> Model {
    let sources = HandlerSources::open(&handlers()).unwrap();
    sockstack::model::load(&root().join(format!("stacks/{name}.yaml")), &sources).unwrap()
}

fn reference(v: &Value) -> &str {
    v["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("not a Ref: {v}"))
}

/// The logical id of the function an integration or authorizer URI invokes.
fn invoked_function(uri: &Value) -> String {
    let sub = uri["Fn::Sub"].as_str().unwrap();
    let start = sub.find("functions/${").unwrap() + "functions/${".len();
    sub[start..].split('.').next().unwrap().to_string()
}

fn deployment_id(t: &Value) -> String {
    let ids: Vec<_> = resources(t, "AWS::ApiGatewayV2::Deployment")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids.len(), 1);
    ids[0].clone()
}

#[test]
fn only_connect_carries_the_authorizer() {
    for name in ["dev", "prod"] {
        let t = synthesize_stack(name).template.to_value();
        let routes = resources(&t, "AWS::ApiGatewayV2::Route");
        assert_eq!(routes.len(), 4);
        for (id, route) in &routes {
            let p = &route["Properties"];
            if p["RouteKey"] == "$connect" {
                assert_eq!(p["AuthorizationType"], "CUSTOM", "{id}");
                assert_eq!(reference(&p["AuthorizerId"]), "Authorizer");
            } else {
                assert_eq!(p["AuthorizationType"], "NONE", "{id}");
                assert!(p.get("AuthorizerId").is_none(), "{id}");
            }
        }
        let authorizers = resources(&t, "AWS::ApiGatewayV2::Authorizer");
        assert_eq!(authorizers.len(), 1);
        let a = &authorizers[0].1["Properties"];
        assert_eq!(a["AuthorizerType"], "REQUEST");
        assert_eq!(
            a["IdentitySource"],
            json!(["route.request.querystring.token"])
        );
        assert_eq!(invoked_function(&a["AuthorizerUri"]), "AuthorizerFunction");
    }
}

#[test]
fn each_route_has_its_integration_and_a_permission_scoped_to_it() {
    let s = synthesize_stack("dev");
    let t = s.template.to_value();
    let permissions = resources(&t, "AWS::Lambda::Permission");
    // One per route plus the authorizer's.
    assert_eq!(permissions.len(), 5);
    for (id, route) in resources(&t, "AWS::ApiGatewayV2::Route") {
        let p = &route["Properties"];
        let key = p["RouteKey"].as_str().unwrap();
        let target = &p["Target"]["Fn::Join"];
        assert_eq!(target[0], "/");
        let integration_id = reference(&target[1][1]);
        let integration = &t["Resources"][integration_id];
        assert_eq!(integration["Type"], "AWS::ApiGatewayV2::Integration");
        assert_eq!(integration["Properties"]["IntegrationType"], "AWS_PROXY");
        let function = invoked_function(&integration["Properties"]["IntegrationUri"]);

        let permission_id = id.replace("Route", "RoutePermission");
        let permission = &t["Resources"][&permission_id]["Properties"];
        assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
        assert_eq!(
            permission["FunctionName"]["Fn::GetAtt"][0],
            function.as_str(),
            "{permission_id}"
        );
        // SourceArn = arn:{partition}:execute-api:{region}:{account}:{api}/dev/{route key}
        assert_eq!(
            permission["SourceArn"],
            json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{WebSocketApi}}/dev/{key}")}),
            "{permission_id}"
        );
    }
    let auth = &t["Resources"]["AuthorizerPermission"]["Properties"];
    assert_eq!(auth["FunctionName"]["Fn::GetAtt"][0], "AuthorizerFunction");
    assert_eq!(
        auth["SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/authorizers/${Authorizer}"})
    );
}

#[test]
fn default_and_vote_answer_the_sender_and_the_others_do_not() {
    let t = synthesize_stack("dev").template.to_value();
    let mut responses: Vec<(String, String)> = resources(&t, "AWS::ApiGatewayV2::RouteResponse")
        .into_iter()
        .map(|(id, r)| {
            assert_eq!(r["Properties"]["RouteResponseKey"], "$default");
            (
                id.clone(),
                reference(&r["Properties"]["RouteId"]).to_string(),
            )
        })
        .collect();
    responses.sort();
    assert_eq!(
        responses,
        [
            (
                "DefaultRouteResponse".to_string(),
                "DefaultRoute".to_string()
            ),
            ("VoteRouteResponse".to_string(), "VoteRoute".to_string())
        ]
    );
    for (id, route) in resources(&t, "AWS::ApiGatewayV2::Route") {
        let two_way = route["Properties"]
            .get("RouteResponseSelectionExpression")
            .is_some();
        assert_eq!(two_way, id == "DefaultRoute" || id == "VoteRoute", "{id}");
    }
}

/// Every action a role grants, outside its own log group.
fn granted_actions(role: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for policy in role["Properties"]["Policies"].as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            if statement["Sid"] == "WriteOwnLogs" {
                continue;
            }
            for a in statement["Action"].as_array().unwrap() {
                actions.insert(a.as_str().unwrap().to_string());
            }
        }
    }
    actions
}

/// What `tracing: true` (the default) grants.
const XRAY: [&str; 2] = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"];

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn each_example_role_grants_exactly_what_its_stack_file_grants() {
    // connect/disconnect: `connections: write` + `profiles: write`; vote: `connections:
    // [read, send]` + `profiles: write`; default and the authorizer: nothing. Every function is traced (the
    // default), so every role may also send its traces to X-Ray.
    let profiles_write = [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ];
    let registry_write = ["CONNECTIONS_TABLE", "CONNECTIONS_INDEXES", "TABLE_PROFILES"];
    for name in ["dev", "prod"] {
        let s = synthesize_stack(name);
        let t = s.template.to_value();
        let kms: &[&str] = if name == "prod" {
            &[
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ]
        } else {
            &[]
        };
        let expected: [(&str, BTreeSet<String>, BTreeSet<String>); 5] = [
            (
                "Authorizer",
                set(&[]),
                set(&[
                    "JWKS_URL",
                    "JWT_ISSUER",
                    "JWT_AUDIENCE",
                    "TOKEN_SOURCE",
                    "AUTH_CONTEXT",
                    "AUTH_REQUIRED_CLAIMS",
                ]),
            ),
            (
                "Connect",
                set(&[&profiles_write[..], kms].concat()),
                set(&registry_write),
            ),
            (
                "Disconnect",
                set(&[&profiles_write[..], kms].concat()),
                set(&registry_write),
            ),
            ("Default", set(&[]), set(&["ROUTE_KEYS"])),
            (
                "Vote",
                set(&[
                    &profiles_write[..],
                    &[
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                        "execute-api:ManageConnections",
                    ],
                    kms,
                ]
                .concat()),
                set(&[
                    "CONNECTIONS_TABLE",
                    "CONNECTIONS_INDEXES",
                    "TABLE_PROFILES",
                    "CALLBACK_URL",
                    "NOTIFY_CONCURRENCY",
                ]),
            ),
        ];
        assert_eq!(s.model.functions.len(), expected.len());
        for (stem, actions, env) in expected {
            let role = &t["Resources"][format!("{stem}Role")];
            let actions = &actions | &set(&XRAY);
            assert_eq!(granted_actions(role), actions, "{name} {stem}");
            let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"];
            assert_eq!(
                trust,
                &json!([{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}])
            );
            // Logs only on its own group.
            let logs = &role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0];
            assert_eq!(
                logs["Resource"],
                json!([{"Fn::GetAtt": [format!("{stem}LogGroup"), "Arn"]}])
            );
            let variables = t["Resources"][format!("{stem}Function")]["Properties"]["Environment"]
                ["Variables"]
                .as_object()
                .map(|v| v.keys().cloned().collect::<BTreeSet<_>>())
                .unwrap_or_default();
            assert_eq!(variables, env, "{name} {stem}");
        }
    }
}

#[test]
fn vote_is_scoped_to_the_registry_indexes_and_its_own_stage() {
    let t = synthesize_stack("dev").template.to_value();
    let statements =
        &t["Resources"]["VoteRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    let by_sid = |sid: &str| {
        statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid}"))
            .clone()
    };
    assert_eq!(
        by_sid("ConnectionsIndexes")["Resource"],
        json!([
            {"Fn::Sub": "${ConnectionsTable.Arn}/index/ByTeam"},
            {"Fn::Sub": "${ConnectionsTable.Arn}/index/ByUser"}
        ])
    );
    assert_eq!(
        by_sid("ConnectionsIndexes")["Action"],
        json!(["dynamodb:Query"])
    );
    assert_eq!(
        by_sid("PostToConnections")["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/dev/POST/@connections/*"}])
    );
    // The authorizer and default touch no table and no API: they only send their traces.
    for role in ["AuthorizerRole", "DefaultRole"] {
        assert_eq!(granted_actions(&t["Resources"][role]), set(&XRAY), "{role}");
    }
}

#[test]
fn existing_tables_are_referenced_by_name() {
    let t = synthesize_stack("prod").template.to_value();
    assert!(t["Resources"].get("ProfilesTable").is_none());
    assert!(t["Resources"].get("ConnectionsTable").is_some());
    let connect = &t["Resources"]["ConnectFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(connect["TABLE_PROFILES"], "team-health-profiles");
    assert_eq!(
        connect["CONNECTIONS_TABLE"],
        json!({"Ref": "ConnectionsTable"})
    );
    let statements =
        &t["Resources"]["ConnectRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    let profiles = statements
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "ProfilesTable")
        .unwrap();
    assert_eq!(
        profiles["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/team-health-profiles"}])
    );
    assert_eq!(
        t["Outputs"]["ProfilesTableName"]["Value"],
        "team-health-profiles"
    );
}

#[test]
fn stateful_resources_have_explicit_policies() {
    for (name, retain) in [("dev", "Delete"), ("prod", "Retain")] {
        let t = synthesize_stack(name).template.to_value();
        for type_name in [
            "AWS::DynamoDB::Table",
            "AWS::Logs::LogGroup",
            "AWS::KMS::Key",
        ] {
            // The alarm topic's key encrypts only notifications in flight: it goes with the stack.
            let found: Vec<_> = resources(&t, type_name)
                .into_iter()
                .filter(|(id, _)| *id != sockstack::alarms::TOPIC_KEY)
                .collect();
            let expect_none = type_name == "AWS::KMS::Key" && name == "dev";
            assert_eq!(found.is_empty(), expect_none, "{name} {type_name}");
            for (id, r) in found {
                assert_eq!(r["DeletionPolicy"], retain, "{name} {id}");
                assert_eq!(r["UpdateReplacePolicy"], retain, "{name} {id}");
            }
        }
        let topic_key = &t["Resources"][sockstack::alarms::TOPIC_KEY];
        assert_eq!(topic_key["DeletionPolicy"], "Delete", "{name}");
        let table = &t["Resources"]["ConnectionsTable"]["Properties"];
        assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(
            table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        let sse = if name == "prod" {
            json!({"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": ["TableKey", "Arn"]}})
        } else {
            json!({"SSEEnabled": true, "SSEType": "KMS"})
        };
        assert_eq!(table["SSESpecification"], sse, "{name}");
        assert_eq!(
            table["TimeToLiveSpecification"]["AttributeName"],
            "expiresAt"
        );
        let indexes: Vec<_> = table["GlobalSecondaryIndexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["IndexName"].clone())
            .collect();
        assert_eq!(indexes, [json!("ByTeam"), json!("ByUser")]);
    }
}

#[test]
fn functions_run_bootstrap_on_al2023_from_the_artifact_bucket() {
    let s = synthesize_stack("dev");
    let t = s.template.to_value();
    let sources = HandlerSources::open(&handlers()).unwrap();
    for (id, f) in resources(&t, "AWS::Lambda::Function") {
        let p = &f["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Handler"], "bootstrap", "{id}");
        assert_eq!(p["Architectures"], json!(["arm64"]), "{id}");
        assert_eq!(p["Code"]["S3Bucket"], json!({"Ref": "ArtifactBucket"}));
        let handler = s
            .model
            .functions
            .iter()
            .find(|f| format!("{}Function", f.stem()) == *id)
            .unwrap();
        assert_eq!(
            p["Code"]["S3Key"],
            sources.bundle_key(&handler.handler).unwrap()
        );
        assert_eq!(
            p["LoggingConfig"]["LogGroup"],
            json!({"Ref": id.replace("Function", "LogGroup")})
        );
    }
}

#[test]
fn deployment_follows_routes_not_memory() {
    let base = model("dev");
    let base_t = sockstack::synth::synth(&base).to_value();
    let base_id = deployment_id(&base_t);

    // It depends on every route and route response.
    let depends: BTreeSet<String> = base_t["Resources"][&base_id]["DependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut expected: BTreeSet<String> = resources(&base_t, "AWS::ApiGatewayV2::Route")
        .into_iter()
        .map(|(id, _)| id.clone())
        .collect();
    expected.insert("DefaultRouteResponse".into());
    expected.insert("VoteRouteResponse".into());
    assert_eq!(depends, expected);
    assert_eq!(
        base_t["Resources"]["Stage"]["Properties"]["DeploymentId"],
        json!({"Ref": base_id})
    );

    let mut more_memory = base.clone();
    for f in &mut more_memory.functions {
        f.memory = 1024;
    }
    assert_eq!(
        deployment_id(&sockstack::synth::synth(&more_memory).to_value()),
        base_id
    );

    let mut renamed = base.clone();
    renamed
        .api
        .routes
        .iter_mut()
        .find(|r| r.key.as_str() == "vote")
        .unwrap()
        .key = RouteKey::parse("cast-vote").unwrap();
    assert_ne!(
        deployment_id(&sockstack::synth::synth(&renamed).to_value()),
        base_id
    );

    let mut one_way = base.clone();
    one_way
        .api
        .routes
        .iter_mut()
        .for_each(|r| r.two_way = false);
    assert_ne!(
        deployment_id(&sockstack::synth::synth(&one_way).to_value()),
        base_id
    );

    let mut other_token = base.clone();
    let ConnectAuth::Jwt(a) = &mut other_token.api.connect.as_mut().unwrap().auth else {
        panic!("dev's $connect has the authorizer")
    };
    a.identity_source = vec!["route.request.header.Authorization".into()];
    assert_ne!(
        deployment_id(&sockstack::synth::synth(&other_token).to_value()),
        base_id
    );
}

#[test]
fn outputs_name_the_api_and_stage() {
    let t = synthesize_stack("dev").template.to_value();
    assert_eq!(
        t["Outputs"]["WebSocketUrl"]["Value"],
        json!({"Fn::Join": ["/", [{"Fn::GetAtt": ["WebSocketApi", "ApiEndpoint"]}, "dev"]]})
    );
    assert_eq!(
        t["Outputs"]["CallbackUrl"]["Value"],
        json!({"Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"})
    );
    assert_eq!(
        t["Outputs"]["ConnectionsTableName"]["Value"],
        json!({"Ref": "ConnectionsTable"})
    );
    let vote_env = &t["Resources"]["VoteFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        vote_env["CALLBACK_URL"],
        t["Outputs"]["CallbackUrl"]["Value"]
    );
}

#[test]
fn account_role_only_when_asked_and_retained_with_the_account() {
    let dev = synthesize_stack("dev").template.to_value();
    assert!(dev["Resources"].get("ApiGatewayAccount").is_none());
    let prod = synthesize_stack("prod").template.to_value();
    // The account setting outlives the stack, and so must the role it points at.
    for id in ["ApiGatewayAccount", "ApiGatewayAccountRole"] {
        assert_eq!(prod["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(
            prod["Resources"][id]["UpdateReplacePolicy"], "Retain",
            "{id}"
        );
    }
    assert_eq!(
        prod["Resources"]["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"],
        json!({"Fn::GetAtt": ["ApiGatewayAccountRole", "Arn"]})
    );
    assert_eq!(
        prod["Resources"]["Stage"]["DependsOn"],
        json!(["ApiGatewayAccount"])
    );
    assert_eq!(
        prod["Resources"]["ApiGatewayAccountRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            [0]["Principal"],
        json!({"Service": ["apigateway.amazonaws.com"]})
    );
}
