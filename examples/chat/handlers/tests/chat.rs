//! The chat routes against DynamoDB on moto_server and a local `@connections`
//! server: join answers with the history, send reaches every member of the
//! room once, gone members are cleaned up; the DynamoDB calls each route makes,
//! recorded on the wire, stay within its grants; and the binaries answer
//! under a local Lambda Runtime API with only their grants' variables.

use chat_handlers::messages::{self, Messages};
use chat_handlers::rooms::{self, Rooms};
use chat_handlers::routes::{self, Join, Send};
use serde_json::json;
use sockstack_runtime::aws_sdk_dynamodb::Client;
use sockstack_runtime::contract::{grants, naming, registry as reg};
use sockstack_runtime::fanout::Notifier;
use sockstack_runtime::registry::Connection;
use sockstack_runtime::testing::*;
use sockstack_runtime::{Registry, aws};
use std::collections::{BTreeMap, BTreeSet};

struct World {
    db: Client,
    registry: String,
    rooms: String,
    messages: String,
}

impl World {
    async fn new() -> World {
        let db = dynamodb().await;
        World {
            registry: create_registry(&db, &[]).await,
            rooms: create_table(
                &db,
                "rooms",
                &[(rooms::ROOM_ID, "S"), (rooms::CONNECTION_ID, "S")],
                &[],
            )
            .await,
            messages: create_table(
                &db,
                "messages",
                &[(messages::ROOM_ID, "S"), (messages::SENT_AT, "N")],
                &[],
            )
            .await,
            db,
        }
    }

    fn join(&self, db: Client) -> Join {
        Join {
            rooms: Rooms::new(db.clone(), &self.rooms),
            messages: Messages::new(db, &self.messages),
        }
    }

    async fn send(&self, db: Client, api: &ConnectionsServer) -> Send {
        let config = sdk_config(None).await;
        Send {
            rooms: Rooms::new(db.clone(), &self.rooms),
            messages: Messages::new(db.clone(), &self.messages),
            registry: Registry::new(db, &self.registry, []),
            notifier: Notifier::new(aws::connections_client(&config, &api.callback_url), 8),
        }
    }
}

fn ev(route: &str, id: &str, user: &str, body: &str) -> sockstack_runtime::RouteEvent {
    typed_route_event(
        route,
        id,
        Some(user),
        &[("userId", user), ("name", "Ann")],
        Some(body),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_answers_with_history_and_send_reaches_the_room_once() {
    let w = World::new().await;
    let api = ConnectionsServer::start().await;
    let (join, send) = (w.join(w.db.clone()), w.send(w.db.clone(), &api).await);
    for (id, user, room) in [
        ("a", "u1", "lobby"),
        ("b", "u2", "lobby"),
        ("gone", "u3", "lobby"),
        ("x", "u4", "other"),
    ] {
        let r = routes::join(
            &join,
            &ev(
                "join",
                id,
                user,
                &format!(r#"{{"action":"join","roomId":"{room}"}}"#),
            ),
        )
        .await;
        assert_eq!(r.status_code, 200, "{r:?}");
        assert_eq!(
            body(&r),
            json!({"type": "joined", "roomId": room, "history": []})
        );
    }
    Registry::new(w.db.clone(), &w.registry, [])
        .open(&Connection::opened("gone", [], now_ms()))
        .await
        .unwrap();
    api.set("gone", Behaviour::Gone);
    let r = routes::send(
        &send,
        &ev(
            "send",
            "a",
            "u1",
            r#"{"action":"send","roomId":"lobby","text":"hello"}"#,
        ),
    )
    .await;
    assert_eq!(r.status_code, 200, "{r:?}");
    assert_eq!(body(&r)["delivered"], 2);
    assert_eq!(
        api.delivered(),
        BTreeMap::from([("a".to_string(), 1), ("b".to_string(), 1)]),
        "every live member of the room once, none of another room"
    );
    let (_, _, sent) = api
        .requests()
        .into_iter()
        .find(|(id, _, _)| id == "b")
        .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(
        (
            sent["text"].clone(),
            sent["userId"].clone(),
            sent["name"].clone()
        ),
        (json!("hello"), json!("u1"), json!("Ann"))
    );
    // The gone member left the room and the registry.
    assert_eq!(
        Rooms::new(w.db.clone(), &w.rooms)
            .members("lobby", now_ms())
            .await
            .unwrap(),
        ["a", "b"]
    );
    assert_eq!(registry_row(&w.db, &w.registry, "gone").await, None);
    // Two more messages; a newcomer gets all three, oldest first.
    for text in ["two", "three"] {
        let body_text = format!(r#"{{"action":"send","roomId":"lobby","text":"{text}"}}"#);
        assert_eq!(
            routes::send(&send, &ev("send", "b", "u2", &body_text))
                .await
                .status_code,
            200
        );
    }
    let r = routes::join(
        &join,
        &ev("join", "c", "u5", r#"{"action":"join","roomId":"lobby"}"#),
    )
    .await;
    let history: Vec<_> = body(&r)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(history, [json!("hello"), json!("two"), json!("three")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_needs_membership_and_a_valid_message() {
    let w = World::new().await;
    let api = ConnectionsServer::start().await;
    let send = w.send(w.db.clone(), &api).await;
    let r = routes::send(
        &send,
        &ev(
            "send",
            "a",
            "u1",
            r#"{"action":"send","roomId":"lobby","text":"hi"}"#,
        ),
    )
    .await;
    assert_eq!(
        (r.status_code, body(&r)["error"].clone()),
        (403, json!("not_member"))
    );
    for (payload, code) in [
        ("{", "invalid_json"),
        (
            r#"{"action":"send","roomId":"no spaces","text":"x"}"#,
            "invalid_room",
        ),
        (r#"{"action":"send","roomId":"r","text":7}"#, "invalid_text"),
    ] {
        let r = routes::send(&send, &ev("send", "a", "u1", payload)).await;
        assert_eq!(
            (r.status_code, body(&r)["error"].clone()),
            (400, json!(code)),
            "{payload}"
        );
    }
    assert!(api.requests().is_empty());
}

/// The actions the chat stack file's grants give each route, by table.
fn granted(route: &str) -> BTreeSet<(&'static str, String)> {
    let on = |t: &'static str, actions: &[&str]| -> BTreeSet<_> {
        actions.iter().map(|a| (t, a.to_string())).collect()
    };
    match route {
        // rooms: write, messages: read
        "join" => &on("rooms", grants::TABLE_WRITE) | &on("messages", grants::TABLE_READ),
        // connections: send, rooms: readwrite, messages: write
        "send" => {
            &(&on("registry", grants::REGISTRY_SEND) | &on("rooms", grants::TABLE_READ))
                | &(&on("rooms", grants::TABLE_WRITE) | &on("messages", grants::TABLE_WRITE))
        }
        other => panic!("{other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_calls_only_what_its_grants_allow() {
    let w = World::new().await;
    let proxy = RecordingProxy::start(&moto_endpoint()).await;
    let db = proxy.client().await;
    let api = ConnectionsServer::start().await;
    let (join, send) = (w.join(db.clone()), w.send(db, &api).await);
    let table = |name: &str| match name {
        n if n == w.registry => "registry",
        n if n == w.rooms => "rooms",
        n if n == w.messages => "messages",
        other => panic!("call on unknown table {other}"),
    };
    let seen = |route: &str| -> BTreeSet<(&'static str, String)> {
        let calls: BTreeSet<_> = proxy
            .take()
            .into_iter()
            .map(|(a, t, _)| (table(&t), a))
            .collect();
        let allowed = granted(route);
        assert!(
            calls.is_subset(&allowed),
            "{route}: {:?} beyond its grants",
            calls.difference(&allowed).collect::<Vec<_>>()
        );
        calls
    };
    for id in ["a", "gone"] {
        routes::join(
            &join,
            &ev("join", id, "u1", r#"{"action":"join","roomId":"r"}"#),
        )
        .await;
    }
    let joined = seen("join");
    api.set("gone", Behaviour::Gone);
    routes::send(
        &send,
        &ev(
            "send",
            "a",
            "u1",
            r#"{"action":"send","roomId":"r","text":"t"}"#,
        ),
    )
    .await;
    let sent = seen("send");
    assert!(joined.contains(&("messages", "dynamodb:Query".into())));
    for needed in [
        ("registry", "dynamodb:DeleteItem"),
        ("rooms", "dynamodb:DeleteItem"),
        ("messages", "dynamodb:PutItem"),
    ] {
        assert!(
            sent.contains(&(needed.0, needed.1.to_string())),
            "send did not need {needed:?}: {sent:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_answer_with_only_their_grants_variables() {
    let w = World::new().await;
    let api = ConnectionsServer::start().await;
    let table_var = |t: &str| naming::table_env(t);
    let env = |pairs: &[(String, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    };
    let registry_vars = || vec![(reg::TABLE_ENV.to_string(), w.registry.as_str())];
    let mut connect = Function::start(
        env!("CARGO_BIN_EXE_connect"),
        "connect",
        &env(&registry_vars()),
    )
    .await;
    let out = connect
        .invoke(route_event(
            "$connect",
            "a",
            Some("u1"),
            &[("userId", "u1")],
            None,
        ))
        .await;
    assert_eq!(out.body()["type"], "connected");
    assert_eq!(
        attr(
            &registry_row(&w.db, &w.registry, "a").await.unwrap(),
            "userId"
        )
        .as_deref(),
        Some("u1")
    );

    let vars = [
        (table_var("rooms"), w.rooms.as_str()),
        (table_var("messages"), w.messages.as_str()),
    ];
    let mut join = Function::start(env!("CARGO_BIN_EXE_join"), "join", &env(&vars)).await;
    let out = join
        .invoke(route_event(
            "join",
            "a",
            Some("u1"),
            &[("userId", "u1")],
            Some(r#"{"action":"join","roomId":"r"}"#),
        ))
        .await;
    assert_eq!(out.body()["type"], "joined");

    let mut vars = vec![
        (table_var("rooms"), w.rooms.as_str()),
        (table_var("messages"), w.messages.as_str()),
        (reg::TABLE_ENV.to_string(), w.registry.as_str()),
        (grants::CALLBACK_URL.to_string(), api.callback_url.as_str()),
    ];
    let mut send = Function::start(env!("CARGO_BIN_EXE_send"), "send", &env(&vars)).await;
    let out = send
        .invoke(route_event(
            "send",
            "a",
            Some("u1"),
            &[("userId", "u1")],
            Some(r#"{"action":"send","roomId":"r","text":"t"}"#),
        ))
        .await;
    assert_eq!(out.body()["delivered"], 1, "{out:?}");
    drop(send);
    // Without its messages table, send stops at start-up naming the variable.
    vars.remove(1);
    send = Function::start(env!("CARGO_BIN_EXE_send"), "send", &env(&vars)).await;
    let (code, stderr) = send
        .wait_exit(std::time::Duration::from_secs(10))
        .await
        .expect("exits");
    assert_ne!(code, 0);
    assert!(stderr.contains("TABLE_MESSAGES"), "{stderr}");

    let mut default = Function::start(
        env!("CARGO_BIN_EXE_default"),
        "default",
        &env(&[(grants::ROUTE_KEYS.to_string(), "join,send")]),
    )
    .await;
    let out = default
        .invoke(route_event("$default", "a", Some("u1"), &[], Some("{}")))
        .await;
    assert_eq!(out.body()["validActions"], json!(["join", "send"]));
}
