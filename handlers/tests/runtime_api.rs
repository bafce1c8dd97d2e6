//! Each binary under a local Lambda Runtime API (`next` / `response` /
//! `error`), started with exactly the environment variables its grants give it
//! (SPEC-v2's table, names from the contract) plus the ones Lambda itself sets
//! and `AWS_ENDPOINT_URL` pointing at moto. Also: a missing required variable
//! stops the binary at start-up with a message naming it.

use serde_json::json;
use sockstack_handlers::profiles;
use sockstack_runtime::contract::{auth, grants, naming, registry};
use sockstack_runtime::testing::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn binary(function: &str) -> &'static str {
    match function {
        "authorizer" => env!("CARGO_BIN_EXE_authorizer"),
        "connect" => env!("CARGO_BIN_EXE_connect"),
        "disconnect" => env!("CARGO_BIN_EXE_disconnect"),
        "default" => env!("CARGO_BIN_EXE_default"),
        "vote" => env!("CARGO_BIN_EXE_vote"),
        other => panic!("no binary {other}"),
    }
}

/// The variables each function's grants (and role: authorizer, `$default`) give it.
fn variables(function: &str) -> Vec<String> {
    let profiles = naming::table_env(sockstack_handlers::PROFILES);
    let v: Vec<&str> = match function {
        "authorizer" => vec![
            auth::JWKS_URL,
            auth::JWT_ISSUER,
            auth::JWT_AUDIENCE,
            auth::TOKEN_SOURCE,
            auth::CONTEXT,
            auth::REQUIRED_CLAIMS,
        ],
        "connect" | "disconnect" => vec![registry::TABLE_ENV, registry::INDEXES_ENV, &profiles],
        "vote" => vec![
            registry::TABLE_ENV,
            registry::INDEXES_ENV,
            grants::CALLBACK_URL,
            grants::NOTIFY_CONCURRENCY,
            &profiles,
        ],
        "default" => vec![grants::ROUTE_KEYS],
        other => panic!("{other}"),
    };
    v.into_iter().map(str::to_string).collect()
}

/// Variables a function may run without (each has a default).
const OPTIONAL: &[&str] = &[
    auth::TOKEN_SOURCE,
    auth::CONTEXT,
    auth::REQUIRED_CLAIMS,
    grants::NOTIFY_CONCURRENCY,
    registry::INDEXES_ENV,
    grants::ROUTE_KEYS,
];

struct World {
    db: sockstack_runtime::aws_sdk_dynamodb::Client,
    registry_table: String,
    api: ConnectionsServer,
    key: RsaKey,
    _jwks: JwksServer,
    values: BTreeMap<String, String>,
}

impl World {
    async fn new() -> World {
        let db = dynamodb().await;
        let indexes = [("teamId", "ByTeam"), ("userId", "ByUser")];
        let registry_table = create_registry(&db, &indexes).await;
        let profiles_table = create_table(&db, "profiles", &[(profiles::USER_ID, "S")], &[]).await;
        let api = ConnectionsServer::start().await;
        let key = RsaKey::generate("rt-key");
        let jwks = JwksServer::start(vec![key.jwk()]).await;
        let values = BTreeMap::from([
            (auth::JWKS_URL.to_string(), jwks.url.clone()),
            (auth::JWT_ISSUER.to_string(), ISSUER.to_string()),
            (
                auth::JWT_AUDIENCE.to_string(),
                format!("another,{AUDIENCE}"),
            ),
            (
                auth::TOKEN_SOURCE.to_string(),
                "route.request.querystring.token".to_string(),
            ),
            (
                auth::CONTEXT.to_string(),
                "email=email,teamId=custom:team,userId=sub".to_string(),
            ),
            (
                auth::REQUIRED_CLAIMS.to_string(),
                "sub,custom:team".to_string(),
            ),
            (registry::TABLE_ENV.to_string(), registry_table.clone()),
            (
                registry::INDEXES_ENV.to_string(),
                registry::format_indexes(indexes),
            ),
            (
                naming::table_env(sockstack_handlers::PROFILES),
                profiles_table,
            ),
            (grants::CALLBACK_URL.to_string(), api.callback_url.clone()),
            (grants::NOTIFY_CONCURRENCY.to_string(), "8".to_string()),
            (grants::ROUTE_KEYS.to_string(), "vote".to_string()),
        ]);
        World {
            db,
            registry_table,
            api,
            key,
            _jwks: jwks,
            values,
        }
    }

    fn env(&self, function: &str) -> Vec<(String, String)> {
        variables(function)
            .into_iter()
            .map(|name| {
                let value = self.values[&name].clone();
                (name, value)
            })
            .collect()
    }

    async fn start(&self, function: &str, vars: &[(String, String)]) -> Function {
        Function::start(binary(function), function, vars).await
    }
}

fn route(route: &str, id: &str, user: &str, body: Option<&str>) -> serde_json::Value {
    route_event(
        route,
        id,
        Some(user),
        &[("userId", user), ("teamId", "team-r")],
        body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_binary_answers_under_the_runtime_api() {
    let w = World::new().await;

    // authorizer: principalId = sub, the context AUTH_CONTEXT maps.
    let mut f = w.start("authorizer", &w.env("authorizer")).await;
    let Outcome::Response(allowed) = f
        .invoke(authorizer_event(&w.key.token(&id_claims("user-r"))))
        .await
    else {
        panic!("no answer")
    };
    assert_eq!(allowed["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(allowed["principalId"], "user-r");
    assert_eq!(
        allowed["context"],
        json!({"email": "user-r@example.test", "teamId": "team-1", "userId": "user-r"})
    );
    let mut no_team = id_claims("user-q");
    no_team.as_object_mut().unwrap().remove("custom:team");
    for token in [w.key.token(&no_team), "nope".to_string()] {
        let Outcome::Response(denied) = f.invoke(authorizer_event(&token)).await else {
            panic!("no answer")
        };
        assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
    }

    // connect
    let mut f = w.start("connect", &w.env("connect")).await;
    for (id, user) in [("rc1", "user-r"), ("rc2", "user-s")] {
        let out = f.invoke(route("$connect", id, user, None)).await;
        assert_eq!(out.body()["type"], "connected", "{out:?}");
    }
    assert!(
        registry_row(&w.db, &w.registry_table, "rc1")
            .await
            .is_some()
    );

    // vote: reaches both connections of team-r.
    let mut f = w.start("vote", &w.env("vote")).await;
    let out = f
        .invoke(route(
            "vote",
            "rc1",
            "user-r",
            Some(r#"{"action":"vote","value":"13"}"#),
        ))
        .await;
    assert_eq!(out.body()["delivered"], 2, "{out:?}");
    assert_eq!(
        w.api.delivered(),
        BTreeMap::from([("rc1".into(), 1), ("rc2".into(), 1)])
    );
    let bad = f
        .invoke(route("vote", "rc1", "user-r", Some("{oops")))
        .await;
    assert_eq!(bad.body()["error"], "invalid_json");

    // disconnect
    let mut f = w.start("disconnect", &w.env("disconnect")).await;
    let out = f.invoke(route("$disconnect", "rc1", "user-r", None)).await;
    assert_eq!(out.body()["type"], "disconnected");

    // $default: the valid actions come from ROUTE_KEYS.
    let mut vars = w.env("default");
    vars[0].1 = "join,vote".to_string();
    let mut f = w.start("default", &vars).await;
    let out = f
        .invoke(route(
            "$default",
            "rc2",
            "user-s",
            Some(r#"{"action":"x"}"#),
        ))
        .await;
    let Outcome::Response(r) = &out else {
        panic!("{out:?}")
    };
    assert_eq!(r["statusCode"], 400);
    assert_eq!(out.body()["validActions"], json!(["join", "vote"]));
    // An event that is not a route event is a function error, and the process lives on.
    let broken = f.invoke(json!({"requestContext": "nonsense"})).await;
    assert!(matches!(broken, Outcome::Error { .. }), "{broken:?}");
    let again = f.invoke(route("$default", "rc2", "user-s", None)).await;
    assert!(matches!(again, Outcome::Response(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_setting_stops_the_binary_at_start_up() {
    let w = World::new().await;
    for function in ["authorizer", "connect", "disconnect", "vote"] {
        let full = w.env(function);
        for (name, _) in &full {
            let vars: Vec<_> = full.iter().filter(|(n, _)| n != name).cloned().collect();
            let optional = OPTIONAL.contains(&name.as_str());
            let mut f = w.start(function, &vars).await;
            let exited = f
                .wait_exit(Duration::from_secs(if optional { 1 } else { 10 }))
                .await;
            if optional {
                assert!(
                    exited.is_none(),
                    "{function} without optional {name} exited: {exited:?}"
                );
                continue;
            }
            let (code, stderr) =
                exited.unwrap_or_else(|| panic!("{function} without {name} kept running"));
            assert_ne!(code, 0);
            assert!(
                stderr.contains(name.as_str()),
                "{function} without {name}: {stderr}"
            );
            assert_eq!(f.polls(), 0, "{function} polled without {name}");
        }
    }
    // A malformed value is named too.
    let mut vars = w.env("vote");
    for (name, value) in vars.iter_mut() {
        if name == grants::NOTIFY_CONCURRENCY {
            *value = "0".into();
        }
    }
    let mut f = w.start("vote", &vars).await;
    let (code, stderr) = f.wait_exit(Duration::from_secs(10)).await.expect("exits");
    assert_ne!(code, 0);
    assert!(stderr.contains("NOTIFY_CONCURRENCY=\"0\""), "{stderr}");
}
