//! The connection registry on DynamoDB (moto_server): rows as
//! `contract::registry` describes them, tombstones, out-of-order events,
//! expired rows filtered, group queries through the indexes; and the calls
//! each operation makes, recorded on the wire, within the actions of the grant
//! it documents (`contract::grants`).

#[path = "../src/testing.rs"]
mod common;

use common::*;
use sockstack_contract::grants::{REGISTRY_READ, REGISTRY_SEND, REGISTRY_WRITE};
use sockstack_contract::registry::{
    CLOSED_AT, CONNECTED_AT, CONNECTION_ID, EXPIRES_AT, INDEXES_ENV, TABLE_ENV, TTL_SECONDS,
};
use sockstack_runtime::registry::{Connection, Opened, Registry};
use std::collections::BTreeSet;

const INDEXES: &[(&str, &str)] = &[("teamId", "ByTeam"), ("userId", "ByUserId")];

fn ctx(user: &str, team: &str) -> Vec<(String, String)> {
    vec![
        ("userId".to_string(), user.to_string()),
        ("teamId".to_string(), team.to_string()),
    ]
}

async fn fresh() -> (aws_sdk_dynamodb::Client, String, Registry) {
    let db = dynamodb().await;
    let table = create_registry(&db, INDEXES).await;
    let registry = registry(db.clone(), &table, INDEXES);
    (db, table, registry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_writes_the_contract_row_idempotently() {
    let (db, table, registry) = fresh().await;
    let at = now_ms() - 1000;
    let c = Connection::opened("c1=", ctx("u1", "team-a"), at);
    assert_eq!(registry.open(&c).await.unwrap(), Opened::Recorded);
    let row = registry_row(&db, &table, "c1=").await.expect("row written");
    assert_eq!(attr(&row, CONNECTION_ID).as_deref(), Some("c1="));
    assert_eq!(attr(&row, CONNECTED_AT), Some(at.to_string()));
    assert_eq!(
        attr(&row, EXPIRES_AT),
        Some((at / 1000 + TTL_SECONDS as i64).to_string()),
        "TTL two hours after the connection opened"
    );
    assert_eq!(attr(&row, "userId").as_deref(), Some("u1"));
    assert_eq!(attr(&row, "teamId").as_deref(), Some("team-a"));
    assert_eq!(
        row.len(),
        5,
        "nothing but the contract's attributes: {row:?}"
    );
    assert_eq!(registry.open(&c).await.unwrap(), Opened::Recorded);
    assert_eq!(registry_row(&db, &table, "c1=").await, Some(row));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_leaves_a_tombstone_in_no_index_and_open_never_resurrects_it() {
    let (db, table, registry) = fresh().await;
    for id in ["c1", "c2"] {
        registry
            .open(&Connection::opened(id, ctx("u1", "team-a"), now_ms()))
            .await
            .unwrap();
    }
    registry.close("c1", now_ms()).await.unwrap();
    let tomb = registry_row(&db, &table, "c1").await.expect("tombstone");
    assert!(tomb.contains_key(CLOSED_AT));
    assert!(tomb.contains_key(EXPIRES_AT), "tombstones expire");
    assert_eq!(attr(&tomb, "userId"), None, "in no index");
    let live = registry
        .members("teamId", "team-a", now_ms())
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].connection_id, "c2");
    assert_eq!(live[0].get("userId"), Some("u1"));
    assert_eq!(registry.get("c1", now_ms()).await.unwrap(), None);
    assert!(registry.get("c2", now_ms()).await.unwrap().is_some());
    // Again: harmless. A late $connect after $disconnect changes nothing.
    registry.close("c1", now_ms()).await.unwrap();
    registry.close("late", now_ms()).await.unwrap();
    let late = Connection::opened("late", ctx("u9", "team-z"), now_ms());
    assert_eq!(registry.open(&late).await.unwrap(), Opened::AlreadyClosed);
    assert!(
        registry
            .members("teamId", "team-z", now_ms())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_filter_out_expired_rows() {
    let (db, table, registry) = fresh().await;
    let now = now_ms();
    let live = Connection::opened("live", ctx("u1", "t"), now);
    let expired = Connection::opened("expired", ctx("u1", "t"), now - 3 * 3600 * 1000);
    registry.open(&live).await.unwrap();
    registry.open(&expired).await.unwrap();
    assert!(
        registry_row(&db, &table, "expired").await.is_some(),
        "still in the table (TTL is lazy)"
    );
    assert_eq!(
        registry.members("teamId", "t", now).await.unwrap(),
        vec![live.clone()]
    );
    assert_eq!(
        registry.members("userId", "u1", now).await.unwrap(),
        vec![live.clone()]
    );
    assert_eq!(registry.get("expired", now).await.unwrap(), None);
    // Expiry is checked against the time given.
    let later = now + (TTL_SECONDS as i64 + 1) * 1000;
    assert!(
        registry
            .members("teamId", "t", later)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_the_contract_variables() {
    let db = dynamodb().await;
    let env = |name: &str| match name {
        TABLE_ENV => Some("reg".to_string()),
        INDEXES_ENV => Some("teamId=ByTeam,userId=ByUserId".to_string()),
        _ => None,
    };
    let r = Registry::from_source(db.clone(), &env).unwrap();
    assert_eq!(r.table(), "reg");
    assert_eq!(r.indexes()["teamId"], "ByTeam");
    let no_indexes = |name: &str| (name == TABLE_ENV).then(|| "reg".to_string());
    assert!(
        Registry::from_source(db.clone(), &no_indexes)
            .unwrap()
            .indexes()
            .is_empty()
    );
    let err = Registry::from_source(db.clone(), &|_: &str| None).unwrap_err();
    assert!(err.to_string().contains(TABLE_ENV), "{err}");
    let bad = |name: &str| match name {
        INDEXES_ENV => Some("teamId".to_string()),
        other => env(other),
    };
    let err = Registry::from_source(db, &bad).unwrap_err();
    assert!(err.to_string().contains(INDEXES_ENV), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_calls_only_what_its_grant_allows() {
    let db = dynamodb().await;
    let table = create_registry(&db, INDEXES).await;
    let proxy = RecordingProxy::start(&moto_endpoint()).await;
    let registry = registry(proxy.client().await, &table, INDEXES);
    let actions = |calls: Vec<Call>| -> BTreeSet<String> {
        calls
            .into_iter()
            .map(|(action, t, _)| {
                assert_eq!(t, table, "a call on another table");
                action
            })
            .collect()
    };
    let within = |seen: &BTreeSet<String>, grant: &[&str], what: &str| {
        let grant: BTreeSet<String> = grant.iter().map(|a| a.to_string()).collect();
        assert!(
            seen.is_subset(&grant),
            "{what}: {seen:?} not within {grant:?}"
        );
        assert!(!seen.is_empty(), "{what} made no call");
    };
    let c = Connection::opened("p1", ctx("u", "t"), now_ms());
    registry.open(&c).await.unwrap();
    registry.close("p2", now_ms()).await.unwrap();
    registry
        .open(&Connection::opened("p2", ctx("u", "t"), now_ms()))
        .await
        .unwrap();
    within(
        &actions(proxy.take()),
        REGISTRY_WRITE,
        "open/close (connections: write)",
    );
    registry.get("p1", now_ms()).await.unwrap();
    registry.members("teamId", "t", now_ms()).await.unwrap();
    within(
        &actions(proxy.take()),
        REGISTRY_READ,
        "get/members (connections: read)",
    );
    registry.remove("p1").await.unwrap();
    within(
        &actions(proxy.take()),
        REGISTRY_SEND,
        "remove (connections: send)",
    );
}
