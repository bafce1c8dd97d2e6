//! The fan-out against a local `@connections` server that answers 200, 410,
//! 413, 429 and 5xx: every live connection receives exactly one message,
//! throttled posts are retried, stale rows are deleted from the registry
//! (DynamoDB on moto), concurrency stays bounded.

#[path = "../src/testing.rs"]
mod common;

use common::*;
use sockstack_runtime::aws;
use sockstack_runtime::fanout::{Notifier, RetryPolicy, send_to_group, send_to_ids};
use sockstack_runtime::registry::Connection;
use std::collections::{BTreeMap, BTreeSet};
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

fn conn(id: &str, room: &str) -> Connection {
    Connection::opened(id, [("roomId".to_string(), room.to_string())], now_ms())
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
async fn a_group_send_reaches_its_live_members_and_deletes_gone_rows() {
    let db = dynamodb().await;
    let table = create_registry(&db, &[("roomId", "ByRoomId")]).await;
    let registry = registry(db.clone(), &table, &[("roomId", "ByRoomId")]);
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 4).await;
    for (id, room) in [
        ("live", "r1"),
        ("dead1", "r1"),
        ("dead2", "r1"),
        ("other", "r2"),
    ] {
        registry.open(&conn(id, room)).await.unwrap();
    }
    api.set("dead1", Behaviour::Gone);
    api.set("dead2", Behaviour::Gone);
    let result = send_to_group(&registry, &notifier, "roomId", "r1", b"{}")
        .await
        .unwrap();
    assert_eq!(result.delivered, ["live"]);
    assert_eq!(result.gone.len(), 2);
    assert_eq!(
        result.gone[0].get("roomId"),
        Some("r1"),
        "gone rows keep their context"
    );
    assert_eq!(registry_row(&db, &table, "dead1").await, None);
    assert_eq!(registry_row(&db, &table, "dead2").await, None);
    assert!(registry_row(&db, &table, "live").await.is_some());
    assert_eq!(api.attempts("other"), 0, "another group gets nothing");
    // A second round reaches only the live one.
    let again = send_to_group(&registry, &notifier, "roomId", "r1", b"{}")
        .await
        .unwrap();
    assert_eq!(again.delivered, ["live"]);
    assert!(again.gone.is_empty());
    // To ids: gone ones are removed too.
    api.set("live", Behaviour::Gone);
    let by_id = send_to_ids(&registry, &notifier, &["live".to_string()], b"{}").await;
    assert_eq!(by_id.gone.len(), 1);
    assert_eq!(registry_row(&db, &table, "live").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_send_on_a_key_without_index_says_which_keys_are_indexed() {
    let db = dynamodb().await;
    let table = create_registry(&db, &[("roomId", "ByRoomId")]).await;
    let registry = registry(db, &table, &[("roomId", "ByRoomId")]);
    let api = ConnectionsServer::start().await;
    let err = send_to_group(&registry, &notifier(&api, 1).await, "teamId", "t", b"{}")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"teamId\" is not indexed (indexed: roomId)"),
        "{err}"
    );
}
