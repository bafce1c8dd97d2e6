//! `$connect`, `$disconnect`, `vote` and `$default` against DynamoDB on
//! moto_server and a local `@connections` server, asserting the rows; and the
//! DynamoDB and `@connections` actions each handler makes, recorded on the
//! wire, compared with what its role grants (`contract::access`).

mod common;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use common::*;
use serde_json::{Value, json};
use sockstack_handlers::auth::{AuthSettings, Authorizer, TokenSource};
use sockstack_handlers::legacy::AccessProfile;
use sockstack_handlers::legacy::access::handlers;
use sockstack_handlers::legacy::tables::{Table, connections};
use sockstack_handlers::notify::Notifier;
use sockstack_handlers::store::{CLOSED_AT, Connection, Opened};
use sockstack_handlers::{aws, connection, reply, vote};
use std::collections::{BTreeMap, BTreeSet};

fn event(
    route: &str,
    id: &str,
    user: Option<&str>,
    team: Option<&str>,
    body: Option<&str>,
) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(route_event(route, id, user, team, body)).unwrap()
}

fn body(r: &ApiGatewayProxyResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("no JSON body: {other:?}"),
    }
}

fn s(
    row: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    k: &str,
) -> Option<String> {
    row.get(k).map(|v| match v {
        aws_sdk_dynamodb::types::AttributeValue::S(s) => s.clone(),
        aws_sdk_dynamodb::types::AttributeValue::N(n) => n.clone(),
        other => format!("{other:?}"),
    })
}

async fn notifier(api: &ConnectionsServer, concurrency: usize) -> Notifier {
    let config = sdk_config(None).await;
    Notifier::new(
        aws::connections_client(&config, &api.callback_url),
        concurrency,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_writes_the_row_and_the_profile_idempotently() {
    let t = Tables::create("connect").await;
    let store = t.store();
    let ev = event("$connect", "c1=", Some("u1"), Some("team-a"), None);
    let connected_at = ev.request_context.connected_at;
    let r = connection::connect(&store, &ev).await;
    assert_eq!(r.status_code, 200, "{r:?}");
    let row = t.connection_row("c1=").await.expect("row written");
    assert_eq!(s(&row, connections::CONNECTION_ID).as_deref(), Some("c1="));
    assert_eq!(s(&row, connections::USER_ID).as_deref(), Some("u1"));
    assert_eq!(s(&row, connections::TEAM_ID).as_deref(), Some("team-a"));
    assert_eq!(
        s(&row, connections::CONNECTED_AT),
        Some(connected_at.to_string())
    );
    assert_eq!(
        s(&row, connections::EXPIRES_AT),
        Some((connected_at / 1000 + connections::TTL_SECONDS as i64).to_string()),
        "TTL two hours after the connection opened"
    );
    assert_eq!(
        t.profile_connections("u1").await,
        BTreeSet::from(["c1=".to_string()])
    );

    // The same event again changes nothing.
    assert_eq!(connection::connect(&store, &ev).await.status_code, 200);
    assert_eq!(t.connection_row("c1=").await, Some(row));
    assert_eq!(t.profile_connections("u1").await.len(), 1);

    // A second connection of the same user joins the profile; one without a team has no teamId.
    let r = connection::connect(&store, &event("$connect", "c2", Some("u1"), None, None)).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(
        s(&t.connection_row("c2").await.unwrap(), connections::TEAM_ID),
        None
    );
    assert_eq!(
        t.profile_connections("u1").await,
        BTreeSet::from(["c1=".to_string(), "c2".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_removes_both_and_is_idempotent() {
    let t = Tables::create("disconnect").await;
    let store = t.store();
    for id in ["c1", "c2"] {
        connection::connect(
            &store,
            &event("$connect", id, Some("u1"), Some("team-a"), None),
        )
        .await;
    }
    let bye = event("$disconnect", "c1", Some("u1"), Some("team-a"), None);
    assert_eq!(connection::disconnect(&store, &bye).await.status_code, 200);
    let tombstone = t.connection_row("c1").await.expect("tombstone");
    assert!(tombstone.contains_key(CLOSED_AT));
    assert!(
        tombstone.contains_key(connections::EXPIRES_AT),
        "tombstones expire"
    );
    assert_eq!(s(&tombstone, connections::USER_ID), None, "in no index");
    assert_eq!(s(&tombstone, connections::TEAM_ID), None);
    assert_eq!(
        t.profile_connections("u1").await,
        BTreeSet::from(["c2".to_string()])
    );
    assert_eq!(
        store
            .team_connections("team-a", now_ms())
            .await
            .unwrap()
            .len(),
        1,
        "only c2 is live"
    );

    // Again: harmless.
    assert_eq!(connection::disconnect(&store, &bye).await.status_code, 200);
    assert_eq!(
        t.profile_connections("u1").await,
        BTreeSet::from(["c2".to_string()])
    );

    // The last connection leaves an empty profile (the set attribute disappears).
    connection::disconnect(
        &store,
        &event("$disconnect", "c2", Some("u1"), Some("team-a"), None),
    )
    .await;
    let profile = t.profile_row("u1").await.expect("the profile row stays");
    assert!(!profile.contains_key(sockstack_handlers::legacy::tables::profiles::CONNECTIONS));

    // A user who never connected gets no profile row.
    connection::disconnect(
        &store,
        &event("$disconnect", "cx", Some("ghost"), None, None),
    )
    .await;
    assert_eq!(t.profile_row("ghost").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_after_disconnect_does_not_resurrect() {
    let t = Tables::create("order").await;
    let store = t.store();
    let hello = event("$connect", "late", Some("u9"), Some("team-z"), None);
    let bye = event("$disconnect", "late", Some("u9"), Some("team-z"), None);
    assert_eq!(connection::disconnect(&store, &bye).await.status_code, 200);
    let r = connection::connect(&store, &hello).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(body(&r)["type"], "closed");
    assert!(
        t.connection_row("late")
            .await
            .unwrap()
            .contains_key(CLOSED_AT)
    );
    assert!(t.profile_connections("u9").await.is_empty());
    assert!(
        store
            .team_connections("team-z", now_ms())
            .await
            .unwrap()
            .is_empty()
    );
    // Directly through the store, too.
    let c = Connection::opened("late", "u9", Some("team-z".into()), now_ms());
    assert_eq!(store.connect(&c).await.unwrap(), Opened::AlreadyClosed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_filter_out_expired_rows() {
    let t = Tables::create("ttl").await;
    let store = t.store();
    let now = now_ms();
    let live = Connection::opened("live", "u1", Some("t".into()), now);
    let mut expired = Connection::opened("expired", "u1", Some("t".into()), now - 3 * 3600 * 1000);
    assert!(expired.expires_at < now / 1000);
    store.connect(&live).await.unwrap();
    store.connect(&expired).await.unwrap();
    assert!(
        t.connection_row("expired").await.is_some(),
        "still in the table (TTL is lazy)"
    );
    assert_eq!(
        store.team_connections("t", now).await.unwrap(),
        vec![live.clone()]
    );
    assert_eq!(
        store.user_connections("u1", now).await.unwrap(),
        vec![live.clone()]
    );
    // Expiry is checked against the time given.
    expired.expires_at = now / 1000 + 1;
    store
        .connect(&Connection {
            connection_id: "soon".into(),
            ..expired
        })
        .await
        .unwrap();
    assert_eq!(
        store.team_connections("t", now + 5_000).await.unwrap(),
        vec![live]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_authorizer_context_is_a_clear_error() {
    let t = Tables::create("noauth").await;
    let store = t.store();
    let r = connection::connect(&store, &event("$connect", "c", None, None, None)).await;
    assert_eq!(r.status_code, 400);
    assert!(body(&r)["message"].as_str().unwrap().contains("authorizer"));
    // Disconnect without context still closes the row.
    let r = connection::disconnect(&store, &event("$disconnect", "c", None, None, None)).await;
    assert_eq!(r.status_code, 200);
    assert!(t.connection_row("c").await.unwrap().contains_key(CLOSED_AT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_reaches_every_live_connection_of_the_team_once() {
    let t = Tables::create("vote").await;
    let store = t.store();
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 4).await;
    let now = now_ms();
    for (id, user, team) in [
        ("a1", "u1", "team-a"),
        ("a2", "u2", "team-a"),
        ("a3/x=", "u1", "team-a"),
        ("stale", "u3", "team-a"),
        ("b1", "u4", "team-b"),
    ] {
        store
            .connect(&Connection::opened(id, user, Some(team.into()), now))
            .await
            .unwrap();
    }
    store
        .connect(&Connection::opened(
            "old",
            "u5",
            Some("team-a".into()),
            now - 3 * 3600 * 1000,
        ))
        .await
        .unwrap();
    api.set("stale", Behaviour::Gone);
    api.set("a2", Behaviour::Throttle(2));

    let ev = event(
        "vote",
        "a1",
        Some("u1"),
        Some("team-a"),
        Some(r#"{"action":"vote","value":"8"}"#),
    );
    let r = vote::handle(&store, &notifier, &ev).await;
    assert_eq!(r.status_code, 200, "{r:?}");
    assert_eq!(
        body(&r),
        json!({"type": "voted", "delivered": 3, "stale": 1, "failed": 0})
    );

    let delivered = api.delivered();
    assert_eq!(
        delivered,
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
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["type"], "vote");
    assert_eq!(sent["value"], "8");
    assert_eq!(sent["userId"], "u1");
    assert_eq!(sent["teamId"], "team-a");

    // The stale connection is gone from both tables.
    assert_eq!(t.connection_row("stale").await, None);
    assert!(t.profile_connections("u3").await.is_empty());
    assert!(t.connection_row("a1").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_votes_get_a_clear_error_and_send_nothing() {
    let t = Tables::create("badvote").await;
    let store = t.store();
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 4).await;
    store
        .connect(&Connection::opened(
            "a1",
            "u1",
            Some("team-a".into()),
            now_ms(),
        ))
        .await
        .unwrap();
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
            &store,
            &notifier,
            &event("vote", "a1", Some("u1"), Some("team-a"), payload),
        )
        .await;
        assert_eq!(r.status_code, status, "{payload:?}");
        let b = body(&r);
        assert_eq!(b["type"], "error");
        assert_eq!(b["error"], code, "{payload:?}: {b}");
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    let r = vote::handle(
        &store,
        &notifier,
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

#[test]
fn default_answers_with_the_valid_actions() {
    let r = reply::unknown_action(Some(r#"{"action":"dance"}"#));
    assert_eq!(r.status_code, 400);
    let b = body(&r);
    assert_eq!(b["error"], "unknown_action");
    assert_eq!(b["validActions"], json!([handlers::VOTE]));
}

/// (table, index, action) triples a handler made, or may make.
type Actions = BTreeSet<(Table, Option<String>, String)>;

fn granted(handler: &str) -> (Actions, bool) {
    let access = AccessProfile::for_handler(handler)
        .unwrap_or_else(|| panic!("{handler} has no access profile"))
        .access();
    let mut actions = Actions::new();
    for grant in access.grants {
        for action in grant.actions {
            actions.insert((
                grant.table,
                grant.index.map(str::to_string),
                action.to_string(),
            ));
        }
    }
    (actions, access.manage_connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_each_handler_calls_equal_what_its_role_grants() {
    let t = Tables::create("access").await;
    let proxy = RecordingProxy::start(&moto_endpoint()).await;
    let store = t.store_with(proxy.client().await);
    let api = ConnectionsServer::start().await;
    let notifier = notifier(&api, 4).await;
    let table_of = |name: &str| {
        if name == t.connections {
            Table::Connections
        } else if name == t.profiles {
            Table::Profiles
        } else {
            panic!("call on unknown table {name}")
        }
    };
    let mut observed: BTreeMap<&str, (Actions, bool)> = BTreeMap::new();
    let mut record = |handler: &'static str, posted_before: usize| {
        let actions = proxy
            .take()
            .into_iter()
            .map(|(action, table, index)| (table_of(&table), index, action))
            .collect();
        observed.insert(handler, (actions, api.requests().len() > posted_before));
    };

    // The authorizer, with a real JWKS.
    let key = RsaKey::generate("k");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let authorizer = Authorizer::new(AuthSettings {
        jwks_url: jwks.url.clone(),
        issuer: ISSUER.into(),
        audiences: vec![AUDIENCE.into()],
        token_source: TokenSource::QueryString("token".into()),
        user_id_claim: "sub".into(),
        email_claim: "email".into(),
        team_id_claim: "custom:team".into(),
    });
    assert!(
        authorizer
            .verify(&key.token(&id_claims("u1")))
            .await
            .is_ok()
    );
    record(handlers::AUTHORIZER, 0);

    // connect: several users, repeated, and after a disconnect (every path).
    for (id, user) in [("c1", "u1"), ("c2", "u2"), ("c3", "u3"), ("c1", "u1")] {
        connection::connect(
            &store,
            &event("$connect", id, Some(user), Some("team-1"), None),
        )
        .await;
    }
    record(handlers::CONNECT, 0);

    // disconnect: known and unknown connections.
    connection::disconnect(
        &store,
        &event("$disconnect", "c3", Some("u3"), Some("team-1"), None),
    )
    .await;
    connection::disconnect(
        &store,
        &event("$disconnect", "nope", Some("u8"), None, None),
    )
    .await;
    record(handlers::DISCONNECT, 0);
    connection::connect(
        &store,
        &event("$connect", "c3", Some("u3"), Some("team-1"), None),
    )
    .await;
    proxy.take(); // the late connect above belongs to connect, already covered

    // vote: a stale connection exercises the clean-up path.
    api.set("c2", Behaviour::Gone);
    let posted = api.requests().len();
    let r = vote::handle(
        &store,
        &notifier,
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
    record(handlers::VOTE, posted);

    // $default.
    let posted = api.requests().len();
    reply::unknown_action(Some("{}"));
    record(handlers::DEFAULT, posted);

    for (handler, (actions, posted)) in &observed {
        let (expected, manage) = granted(handler);
        assert_eq!(
            actions, &expected,
            "{handler}: actions called vs actions granted"
        );
        assert_eq!(
            *posted, manage,
            "{handler}: posts to @connections vs ManageConnections"
        );
    }
    assert_eq!(observed.len(), 5);
}
