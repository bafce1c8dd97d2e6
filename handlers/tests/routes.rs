//! `$connect`, `$disconnect`, `vote` and `$default` against DynamoDB on
//! moto_server and a local `@connections` server, asserting the rows; and the
//! DynamoDB and `@connections` calls each handler makes, recorded on the wire,
//! within the actions `contract::grants` gives the grants its stack file entry has.

use serde_json::json;
use sockstack_contract::grants::{REGISTRY_READ, REGISTRY_SEND, REGISTRY_WRITE, TABLE_WRITE};
use sockstack_contract::registry::{CLOSED_AT, EXPIRES_AT};
use sockstack_handlers::connection::{self, Tables};
use sockstack_handlers::profiles::{self, Profiles};
use sockstack_handlers::vote::{self, Sender};
use sockstack_runtime::auth::{AuthSettings, Authorizer, TokenSource};
use sockstack_runtime::contract as sockstack_contract;
use sockstack_runtime::fanout::Notifier;
use sockstack_runtime::registry::Connection;
use sockstack_runtime::testing::*;
use sockstack_runtime::{aws, reply};
use std::collections::{BTreeMap, BTreeSet};

/// The registry indexes the team-health stack declares.
const INDEXES: &[(&str, &str)] = &[("teamId", "ByTeam"), ("userId", "ByUser")];

struct World {
    db: aws_sdk_dynamodb::Client,
    registry_table: String,
    profiles_table: String,
}

impl World {
    async fn new() -> World {
        let db = dynamodb().await;
        let registry_table = create_registry(&db, INDEXES).await;
        let profiles_table = create_table(&db, "profiles", &[(profiles::USER_ID, "S")], &[]).await;
        World {
            db,
            registry_table,
            profiles_table,
        }
    }

    fn tables(&self, db: aws_sdk_dynamodb::Client) -> Tables {
        Tables {
            registry: registry(db.clone(), &self.registry_table, INDEXES),
            profiles: Profiles::new(db, &self.profiles_table),
        }
    }

    async fn sender(&self, db: aws_sdk_dynamodb::Client, api: &ConnectionsServer) -> Sender {
        let t = self.tables(db);
        let config = sdk_config(None).await;
        Sender {
            registry: t.registry,
            profiles: t.profiles,
            notifier: Notifier::new(aws::connections_client(&config, &api.callback_url), 4),
        }
    }

    async fn row(&self, id: &str) -> Option<Row> {
        registry_row(&self.db, &self.registry_table, id).await
    }

    async fn profile(&self, user: &str) -> Option<Row> {
        get_row(
            &self.db,
            &self.profiles_table,
            &[(
                profiles::USER_ID,
                aws_sdk_dynamodb::types::AttributeValue::S(user.into()),
            )],
        )
        .await
    }

    async fn profile_connections(&self, user: &str) -> BTreeSet<String> {
        self.profile(user)
            .await
            .and_then(|row| {
                row.get(profiles::CONNECTIONS)
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
            })
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
}

use sockstack_runtime::aws_sdk_dynamodb;

/// A route event from a user of a team (the team-health authorizer's context).
fn event(
    route: &str,
    id: &str,
    user: Option<&str>,
    team: Option<&str>,
    body: Option<&str>,
) -> sockstack_runtime::RouteEvent {
    let email = user.map(|u| format!("{u}@example.test"));
    let mut context = Vec::new();
    if let Some(user) = user {
        context.push(("userId", user));
        context.push(("email", email.as_deref().unwrap()));
    }
    if let Some(team) = team {
        context.push(("teamId", team));
    }
    typed_route_event(route, id, user, &context, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_writes_the_registry_row_and_the_profile_idempotently() {
    let w = World::new().await;
    let t = w.tables(w.db.clone());
    let ev = event("$connect", "c1=", Some("u1"), Some("team-a"), None);
    let r = connection::connect(&t, &ev).await;
    assert_eq!(r.status_code, 200, "{r:?}");
    let row = w.row("c1=").await.expect("row written");
    assert_eq!(attr(&row, "userId").as_deref(), Some("u1"));
    assert_eq!(attr(&row, "teamId").as_deref(), Some("team-a"));
    assert_eq!(attr(&row, "email").as_deref(), Some("u1@example.test"));
    assert_eq!(
        w.profile_connections("u1").await,
        BTreeSet::from(["c1=".to_string()])
    );
    // The same event again changes nothing.
    assert_eq!(connection::connect(&t, &ev).await.status_code, 200);
    assert_eq!(w.row("c1=").await, Some(row));
    // A second connection of the same user joins the profile; one without a team has no teamId.
    let r = connection::connect(&t, &event("$connect", "c2", Some("u1"), None, None)).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(attr(&w.row("c2").await.unwrap(), "teamId"), None);
    assert_eq!(w.profile_connections("u1").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_tombstones_the_row_and_leaves_the_profile() {
    let w = World::new().await;
    let t = w.tables(w.db.clone());
    for id in ["c1", "c2"] {
        connection::connect(&t, &event("$connect", id, Some("u1"), Some("team-a"), None)).await;
    }
    let bye = event("$disconnect", "c1", Some("u1"), Some("team-a"), None);
    assert_eq!(connection::disconnect(&t, &bye).await.status_code, 200);
    let tomb = w.row("c1").await.expect("tombstone");
    assert!(tomb.contains_key(CLOSED_AT) && tomb.contains_key(EXPIRES_AT));
    assert_eq!(
        w.profile_connections("u1").await,
        BTreeSet::from(["c2".to_string()])
    );
    // Again: harmless.
    assert_eq!(connection::disconnect(&t, &bye).await.status_code, 200);
    // A user who never connected gets no profile row.
    connection::disconnect(&t, &event("$disconnect", "cx", Some("ghost"), None, None)).await;
    assert_eq!(w.profile("ghost").await, None);
    // Without the authorizer's context the row is still closed.
    let r = connection::disconnect(&t, &event("$disconnect", "c2", None, None, None)).await;
    assert_eq!(r.status_code, 200);
    assert!(w.row("c2").await.unwrap().contains_key(CLOSED_AT));
    // A connect after the disconnect does not resurrect it.
    let r = connection::connect(
        &t,
        &event("$connect", "c1", Some("u1"), Some("team-a"), None),
    )
    .await;
    assert_eq!(body(&r)["type"], "closed");
    assert!(!w.profile_connections("u1").await.contains("c1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_without_the_authorizer_context_is_refused_clearly() {
    let w = World::new().await;
    let t = w.tables(w.db.clone());
    let r = connection::connect(&t, &event("$connect", "c", None, None, None)).await;
    assert_eq!(r.status_code, 400);
    assert!(
        body(&r)["message"]
            .as_str()
            .unwrap()
            .contains("authorizer.userId")
    );
    assert_eq!(w.row("c").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_reaches_every_live_connection_of_the_team_once() {
    let w = World::new().await;
    let api = ConnectionsServer::start().await;
    let sender = w.sender(w.db.clone(), &api).await;
    let t = w.tables(w.db.clone());
    for (id, user, team) in [
        ("a1", "u1", "team-a"),
        ("a2", "u2", "team-a"),
        ("a3/x=", "u1", "team-a"),
        ("stale", "u3", "team-a"),
        ("b1", "u4", "team-b"),
    ] {
        connection::connect(&t, &event("$connect", id, Some(user), Some(team), None)).await;
    }
    let old = Connection::opened(
        "old",
        [("teamId".to_string(), "team-a".to_string())],
        now_ms() - 3 * 3600 * 1000,
    );
    t.registry.open(&old).await.unwrap();
    api.set("stale", Behaviour::Gone);
    api.set("a2", Behaviour::Throttle(2));
    let ev = event(
        "vote",
        "a1",
        Some("u1"),
        Some("team-a"),
        Some(r#"{"action":"vote","value":"8"}"#),
    );
    let r = vote::handle(&sender, &ev).await;
    assert_eq!(r.status_code, 200, "{r:?}");
    assert_eq!(
        body(&r),
        json!({"type": "voted", "delivered": 3, "stale": 1, "failed": 0})
    );
    assert_eq!(
        api.delivered(),
        BTreeMap::from([
            ("a1".to_string(), 1),
            ("a2".to_string(), 1),
            ("a3/x=".to_string(), 1)
        ]),
        "every live connection of team-a exactly once; none of team-b, none expired"
    );
    assert_eq!(api.attempts("a2"), 3, "throttled twice, then delivered");
    assert!(api.bad().is_empty(), "{:?}", api.bad());
    let (_, _, sent) = api
        .requests()
        .into_iter()
        .find(|(id, s, _)| id == "a1" && *s == 200)
        .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(
        (
            &sent["type"],
            &sent["value"],
            &sent["userId"],
            &sent["teamId"]
        ),
        (&json!("vote"), &json!("8"), &json!("u1"), &json!("team-a"))
    );
    // The stale connection is gone from the registry and from its profile.
    assert_eq!(w.row("stale").await, None);
    assert!(w.profile_connections("u3").await.is_empty());
    assert!(w.row("a1").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_votes_get_a_clear_error_and_send_nothing() {
    let w = World::new().await;
    let api = ConnectionsServer::start().await;
    let sender = w.sender(w.db.clone(), &api).await;
    for (payload, status, code) in [
        (Some("{not json"), 400, "invalid_json"),
        (None, 400, "invalid_json"),
        (Some(r#"{"action":"vote"}"#), 400, "invalid_value"),
        (
            Some(r#"{"action":"vote","value":[1,2]}"#),
            400,
            "invalid_value",
        ),
        (
            Some(r#"{"action":"vote","value":1,"admin":true}"#),
            400,
            "unexpected_field",
        ),
    ] {
        let r = vote::handle(
            &sender,
            &event("vote", "a1", Some("u1"), Some("team-a"), payload),
        )
        .await;
        assert_eq!(r.status_code, status, "{payload:?}");
        let b = body(&r);
        assert_eq!(
            (b["type"].as_str(), b["error"].as_str()),
            (Some("error"), Some(code))
        );
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    let r = vote::handle(
        &sender,
        &event(
            "vote",
            "a1",
            Some("u1"),
            None,
            Some(r#"{"action":"vote","value":1}"#),
        ),
    )
    .await;
    assert_eq!(
        (r.status_code, body(&r)["error"].clone()),
        (403, json!("no_team"))
    );
    assert!(api.requests().is_empty());
}

/// `(table, action)` pairs: what a handler called, or may call.
type Actions = BTreeSet<(&'static str, String)>;

const REGISTRY: &str = "registry";
const PROFILES: &str = "profiles";

/// The grants the team-health stack files give each function (SPEC-v2), as
/// `contract::grants` turns them into actions, and whether it may post.
fn granted(function: &str) -> (Actions, bool) {
    let on = |table: &'static str, actions: &[&str]| -> Actions {
        actions.iter().map(|a| (table, a.to_string())).collect()
    };
    match function {
        // connections: write, profiles: write
        "connect" | "disconnect" => (
            &on(REGISTRY, REGISTRY_WRITE) | &on(PROFILES, TABLE_WRITE),
            false,
        ),
        // connections: [read, send], profiles: write
        "vote" => (
            &(&on(REGISTRY, REGISTRY_READ) | &on(REGISTRY, REGISTRY_SEND))
                | &on(PROFILES, TABLE_WRITE),
            true,
        ),
        // no grants
        "default" | "authorizer" => (Actions::new(), false),
        other => panic!("no grants listed for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_handler_calls_only_what_its_grants_allow() {
    let w = World::new().await;
    let proxy = RecordingProxy::start(&moto_endpoint()).await;
    let db = proxy.client().await;
    let t = w.tables(db.clone());
    let api = ConnectionsServer::start().await;
    let sender = w.sender(db, &api).await;
    let table_of = |name: &str| {
        if name == w.registry_table {
            REGISTRY
        } else if name == w.profiles_table {
            PROFILES
        } else {
            panic!("call on unknown table {name}")
        }
    };
    let mut observed: BTreeMap<&str, (Actions, bool)> = BTreeMap::new();
    let mut record = |function: &'static str, posted_before: usize| {
        let actions = proxy
            .take()
            .into_iter()
            .map(|(action, table, _)| (table_of(&table), action))
            .collect();
        observed.insert(function, (actions, api.requests().len() > posted_before));
    };

    // The authorizer, with a real JWKS.
    let key = RsaKey::generate("k");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let authorizer = Authorizer::new(AuthSettings {
        jwks_url: jwks.url.clone(),
        issuer: ISSUER.into(),
        audiences: vec![AUDIENCE.into()],
        token_source: TokenSource::QueryString("token".into()),
        context: vec![("userId".into(), "sub".into())],
        required_claims: vec!["sub".into()],
    });
    assert!(
        authorizer
            .verify(&key.token(&id_claims("u1")))
            .await
            .is_ok()
    );
    record("authorizer", 0);

    // connect: several users, repeated.
    for (id, user) in [("c1", "u1"), ("c2", "u2"), ("c3", "u3"), ("c1", "u1")] {
        connection::connect(&t, &event("$connect", id, Some(user), Some("team-1"), None)).await;
    }
    record("connect", 0);
    // disconnect: known and unknown connections; then a late connect (connect's path).
    connection::disconnect(
        &t,
        &event("$disconnect", "c3", Some("u3"), Some("team-1"), None),
    )
    .await;
    connection::disconnect(&t, &event("$disconnect", "nope", Some("u8"), None, None)).await;
    record("disconnect", 0);
    connection::connect(
        &t,
        &event("$connect", "c3", Some("u3"), Some("team-1"), None),
    )
    .await;
    let late = proxy.take();
    assert!(
        late.iter()
            .all(|(a, _, _)| REGISTRY_WRITE.contains(&a.as_str()))
    );

    // vote: a stale connection exercises the clean-up path.
    api.set("c2", Behaviour::Gone);
    let posted = api.requests().len();
    let r = vote::handle(
        &sender,
        &event(
            "vote",
            "c1",
            Some("u1"),
            Some("team-1"),
            Some(r#"{"action":"vote","value":3}"#),
        ),
    )
    .await;
    assert_eq!(body(&r)["stale"], 1, "{r:?}");
    record("vote", posted);

    // $default.
    let posted = api.requests().len();
    reply::unknown_action(Some("{}"), &["vote".to_string()]);
    record("default", posted);

    for (function, (actions, posted)) in &observed {
        let (allowed, may_post) = granted(function);
        assert!(
            actions.is_subset(&allowed),
            "{function}: called {:?}, beyond its grants",
            actions.difference(&allowed).collect::<Vec<_>>()
        );
        assert!(
            !*posted || may_post,
            "{function} posted without connections: send"
        );
    }
    // The paths exercised really needed what the grants give (no grant is dead weight).
    assert!(
        observed["vote"]
            .0
            .contains(&(REGISTRY, "dynamodb:DeleteItem".into()))
    );
    assert!(
        observed["vote"]
            .0
            .contains(&(REGISTRY, "dynamodb:Query".into()))
    );
    assert!(observed["vote"].1, "vote posted");
    assert!(
        observed["connect"]
            .0
            .contains(&(PROFILES, "dynamodb:UpdateItem".into()))
    );
    assert_eq!(observed.len(), 5);
}
