//! The fan-out against a local `@connections` server that answers 200, 410,
//! 413, 429 and 5xx: every live connection receives exactly one message,
//! throttled posts are retried, stale rows are deleted from both tables
//! (DynamoDB on moto), concurrency stays bounded; and the `notify` binary
//! pushing from outside AWS.

mod common;

use common::*;
use serde_json::Value;
use sockstack_handlers::aws;
use sockstack_handlers::notify::{Notifier, RetryPolicy, notify_connections, notify_team};
use sockstack_handlers::store::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

const FAST: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_delay: Duration::from_millis(5),
    max_delay: Duration::from_millis(20),
};

async fn notifier(api: &ConnectionsServer, concurrency: usize) -> Notifier {
    let config = sdk_config(None).await;
    Notifier::new(
        aws::connections_client(&config, &api.callback_url),
        concurrency,
    )
    .with_retry(FAST)
}

fn conn(id: &str, user: &str) -> Connection {
    Connection::opened(id, user, Some("team".into()), now_ms())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_handled() {
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 8).await;
    let mut targets = Vec::new();
    for i in 0..20 {
        targets.push(conn(&format!("ok-{i}"), "u"));
    }
    let special = [
        ("gone", Behaviour::Gone),
        ("big", Behaviour::TooLarge),
        ("throttled", Behaviour::Throttle(3)),
        ("flaky", Behaviour::Fail(2)),
        ("busy", Behaviour::AlwaysThrottle),
        ("denied", Behaviour::Forbidden),
        ("weird id/with+chars=", Behaviour::Ok),
    ];
    for (id, behaviour) in special {
        api.set(id, behaviour);
        targets.push(conn(id, "u"));
    }
    let result = notifier.fan_out(&targets, br#"{"hello":1}"#).await;

    let delivered: BTreeSet<_> = result.delivered.iter().cloned().collect();
    let mut expected: BTreeSet<String> = (0..20).map(|i| format!("ok-{i}")).collect();
    expected.extend(["throttled", "flaky", "weird id/with+chars="].map(String::from));
    assert_eq!(delivered, expected);
    assert_eq!(result.delivered.len(), expected.len(), "no duplicates");
    assert_eq!(
        result
            .gone
            .iter()
            .map(|c| c.connection_id.as_str())
            .collect::<Vec<_>>(),
        ["gone"]
    );
    assert_eq!(result.too_large, ["big"]);
    let failed: BTreeMap<_, _> = result.failed.iter().cloned().collect();
    assert_eq!(failed.keys().collect::<Vec<_>>(), ["busy", "denied"]);
    assert!(
        failed["busy"].contains("429") && failed["busy"].contains("after 4 attempts"),
        "{failed:?}"
    );
    assert!(failed["denied"].contains("403"), "{failed:?}");
    assert_eq!(result.retries, 3 + 2 + 3);

    // What the server saw: each live connection got exactly one message.
    let seen = api.delivered();
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    assert_eq!(api.attempts("throttled"), 4);
    assert_eq!(api.attempts("flaky"), 3);
    assert_eq!(api.attempts("busy"), FAST.max_attempts as usize);
    assert_eq!(api.attempts("big"), 1, "413 is not retried");
    assert_eq!(api.attempts("gone"), 1, "410 is not retried");
    assert_eq!(api.attempts("denied"), 1);
    assert!(
        api.bad().is_empty(),
        "unsigned or misrouted requests: {:?}",
        api.bad()
    );
    let body = &api.requests()[0].2;
    assert_eq!(body, br#"{"hello":1}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded() {
    let api = ConnectionsServer::start().await;
    api.set_delay(25);
    let notifier = notifier(&api, 5).await;
    let targets: Vec<_> = (0..40).map(|i| conn(&format!("c{i}"), "u")).collect();
    let result = notifier.fan_out(&targets, b"x").await;
    assert_eq!(result.delivered.len(), 40);
    let max = api
        .state
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(max <= 5, "{max} posts in flight");
    assert!(max >= 3, "posts ran concurrently ({max})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_connections_are_deleted_from_both_tables() {
    let t = Tables::create("notify").await;
    let store = t.store();
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 4).await;
    for (id, user) in [("live", "u1"), ("dead1", "u1"), ("dead2", "u2")] {
        store
            .connect(&Connection::opened(
                id,
                user,
                Some("team-x".into()),
                now_ms(),
            ))
            .await
            .unwrap();
    }
    api.set("dead1", Behaviour::Gone);
    api.set("dead2", Behaviour::Gone);
    let result = notify_team(&store, &notifier, "team-x", b"{}")
        .await
        .unwrap();
    assert_eq!(result.delivered, ["live"]);
    assert_eq!(result.gone.len(), 2);
    assert_eq!(t.connection_row("dead1").await, None);
    assert_eq!(t.connection_row("dead2").await, None);
    assert!(t.connection_row("live").await.is_some());
    assert_eq!(
        t.profile_connections("u1").await,
        BTreeSet::from(["live".to_string()])
    );
    assert!(t.profile_connections("u2").await.is_empty());
    // A second round reaches only the live one.
    let again = notify_connections(
        &store,
        &notifier,
        &store.team_connections("team-x", now_ms()).await.unwrap(),
        b"{}",
    )
    .await;
    assert_eq!(again.delivered, ["live"]);
    assert!(again.gone.is_empty());
}

fn notify_bin(t: &Tables, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_notify"))
        .args(args)
        .env_clear()
        .env("CONNECTIONS_TABLE", &t.connections)
        .env("PROFILES_TABLE", &t.profiles)
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
    let t = Tables::create("notifybin").await;
    let store = t.store();
    let api = ConnectionsServer::start().await;
    for (id, user, team) in [
        ("t1", "u1", "team-n"),
        ("t2", "u2", "team-n"),
        ("t3", "u1", "other"),
    ] {
        store
            .connect(&Connection::opened(id, user, Some(team.into()), now_ms()))
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
    assert_eq!(t.connection_row("t2").await, None);

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
