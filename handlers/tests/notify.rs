//! The `notify` tool pushing from outside AWS to a team's or a user's
//! connections (registry on moto, a local `@connections` server).

use serde_json::Value;
use sockstack_handlers::profiles;
use sockstack_runtime::contract::{naming, registry};
use sockstack_runtime::registry::Connection;
use sockstack_runtime::testing::*;
use std::collections::BTreeMap;
use std::process::Command;

/// The two tables' names.
struct T {
    registry: String,
    profiles: String,
}

fn notify_bin(t: &T, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_notify"))
        .args(args)
        .env_clear()
        .env(registry::TABLE_ENV, &t.registry)
        .env(registry::INDEXES_ENV, "teamId=ByTeam,userId=ByUser")
        .env(naming::table_env(sockstack_handlers::PROFILES), &t.profiles)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testkey")
        .env("AWS_SECRET_ACCESS_KEY", "testsecret")
        .env("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_binary_pushes_to_a_team_or_a_user_from_outside_aws() {
    let db = dynamodb().await;
    let t = T {
        registry: create_registry(&db, &[("teamId", "ByTeam"), ("userId", "ByUser")]).await,
        profiles: create_table(&db, "profiles", &[(profiles::USER_ID, "S")], &[]).await,
    };
    let reg = registry(
        db.clone(),
        &t.registry,
        &[("teamId", "ByTeam"), ("userId", "ByUser")],
    );
    let api = ConnectionsServer::start().await;
    for (id, user, team) in [
        ("t1", "u1", "team-n"),
        ("t2", "u2", "team-n"),
        ("t3", "u1", "other"),
    ] {
        let context =
            [("userId", user), ("teamId", team)].map(|(k, v)| (k.to_string(), v.to_string()));
        reg.open(&Connection::opened(id, context, now_ms()))
            .await
            .unwrap();
    }
    api.set("t2", Behaviour::Gone);
    let (code, out, err) = notify_bin(
        &t,
        &[
            "--team",
            "team-n",
            "--message",
            r#"{"type":"news"}"#,
            "--endpoint",
            &api.callback_url,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        serde_json::json!({"delivered": 1, "stale": 1, "tooLarge": 0, "failed": 0})
    );
    assert_eq!(registry_row(&db, &t.registry, "t2").await, None);

    let (code, out, err) = notify_bin(
        &t,
        &[
            "--user=u1",
            "--message=hi",
            &format!("--endpoint={}", api.callback_url),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["delivered"], 2);
    assert_eq!(
        api.delivered(),
        BTreeMap::from([("t1".into(), 2), ("t3".into(), 1)])
    );
    assert!(api.bad().is_empty(), "{:?}", api.bad());

    api.set("t3", Behaviour::TooLarge);
    let (code, out, err) = notify_bin(
        &t,
        &[
            "--user",
            "u1",
            "--message",
            "x",
            "--endpoint",
            &api.callback_url,
        ],
    );
    assert_eq!(
        (code, out["tooLarge"].clone()),
        (1, serde_json::json!(1)),
        "{err}"
    );
    assert!(err.contains("413"), "{err}");

    // Bad usage and missing settings: exit 2, naming what is wrong.
    let (code, _, err) = notify_bin(&t, &["--message", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--team or --user"), "{err}");
    let (code, _, err) = notify_bin(&t, &["--team", "x", "--message", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("CALLBACK_URL"), "{err}");
}
