//! `sockstack dev` end to end on the team-health dev stack: the real binary, the real handlers, moto, a real
//! WebSocket client, and the AWS SDK against the local `@connections`.

mod devkit;

use devkit::*;
use serde_json::json;
use sockstack::dev::plan::local_name;
use std::sync::OnceLock;
use std::time::Duration;

/// One dev of the dev stack shared by the tests that need no dev of their own (each uses its own teams).
fn shared() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(|| Dev::start(&["dev"]))
}

fn connections_table() -> String {
    local_name("dev", "ConnectionsTable")
}

/// The registry row of a connection id, if any (DynamoDB's JSON form).
async fn row(dev: &Dev, id: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let out = dynamodb(dev)
        .call(
            "GetItem",
            json!({"TableName": connections_table(), "Key": {"connectionId": {"S": id}}, "ConsistentRead": true}),
        )
        .await
        .unwrap();
    out.get("Item").and_then(|i| i.as_object()).cloned()
}

/// Polls `check` until it holds (10 s at most).
async fn wait_for<F: AsyncFnMut() -> bool>(mut check: F, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorizer_refuses_a_missing_token_401_and_a_bad_signature_403() {
    let dev = shared();
    assert_eq!(connect(dev, None).await.err(), Some(401));
    let good = member("alice", &unique("team"));
    // Same header and claims, signature of another token: the authorizer must deny it.
    let other = member("mallory", "x");
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    assert_eq!(connect(dev, Some(&forged)).await.err(), Some(403));
    assert_eq!(connect(dev, Some("not-a-jwt")).await.err(), Some(403));
    let mut socket = connect(dev, Some(&good))
        .await
        .expect("a valid token connects");
    send(&mut socket, r#"{"action":"hello"}"#).await;
    let reply = next_json(&mut socket).await;
    assert!(
        reply.to_string().contains("vote"),
        "$default answers with the valid actions: {reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_reaches_the_voters_team_only_and_answers_the_voter() {
    let dev = shared();
    let (team_a, team_b) = (unique("a"), unique("b"));
    let mut a1 = connect(dev, Some(&member("a1", &team_a))).await.unwrap();
    let mut a2 = connect(dev, Some(&member("a2", &team_a))).await.unwrap();
    let mut b1 = connect(dev, Some(&member("b1", &team_b))).await.unwrap();
    send(&mut a1, r#"{"action":"vote","value":4}"#).await;
    let got = next_json(&mut a2).await;
    assert!(got.to_string().contains('4'), "A2 receives the vote: {got}");
    // A1 gets its own copy (it is in the team) and the two-way reply, in either order.
    let first = next_json(&mut a1).await;
    let second = next_json(&mut a1).await;
    let both = format!("{first} {second}");
    assert!(
        both.contains("delivered"),
        "A1 gets the two-way reply: {both}"
    );
    assert_eq!(
        next(&mut b1, Duration::from_millis(800)).await,
        Seen::Nothing,
        "B1 receives nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_action_and_non_json_go_to_default() {
    let dev = shared();
    let mut s = connect(dev, Some(&member("u", &unique("t"))))
        .await
        .unwrap();
    for message in [r#"{"action":"dance"}"#, "plain text", r#"{"no":"action"}"#] {
        send(&mut s, message).await;
        let reply = next_json(&mut s).await;
        assert!(reply.to_string().contains("vote"), "{message}: {reply}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_to_a_vanished_connection_gets_410_and_its_row_is_removed() {
    let dev = shared();
    let team = unique("ghosts");
    let ghost = "GhostConnId0000=";
    let now = sockstack::dev::events::now_ms();
    dynamodb(dev)
        .call(
            "PutItem",
            json!({"TableName": connections_table(), "Item": {
                "connectionId": {"S": ghost},
                "userId": {"S": "ghost"},
                "teamId": {"S": team},
                "connectedAt": {"N": now.to_string()},
                "expiresAt": {"N": (now / 1000 + 3600).to_string()},
            }}),
        )
        .await
        .unwrap();
    let mut voter = connect(dev, Some(&member("live", &team))).await.unwrap();
    send(&mut voter, r#"{"action":"vote","value":"yes"}"#).await;
    let _ = next_json(&mut voter).await;
    wait_for(
        async || row(dev, ghost).await.is_none(),
        "the vanished connection's row is deleted after 410",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_tombstones_the_row_and_the_id_is_gone_from_connections() {
    let dev = shared();
    let team = unique("leavers");
    let before = connection_ids(dev, &team).await;
    let socket = connect(dev, Some(&member("leaver", &team))).await.unwrap();
    let id = {
        let mut ids = Vec::new();
        wait_for(
            async || {
                ids = connection_ids(dev, &team).await;
                ids.len() > before.len()
            },
            "the connection row is written by $connect",
        )
        .await;
        ids.into_iter().find(|i| !before.contains(i)).unwrap()
    };
    let mut socket = socket;
    socket.close(None).await.unwrap();
    wait_for(
        async || {
            row(dev, &id)
                .await
                .is_some_and(|r| r.contains_key("closedAt") && !r.contains_key("teamId"))
        },
        "$disconnect replaces the row with a tombstone",
    )
    .await;
    let status = reqwest::Client::new()
        .post(format!("{}/{}", dev.callback, urlencode(&id)))
        .body("late")
        .send()
        .await
        .unwrap();
    assert_eq!(status.status().as_u16(), 410);
    assert_eq!(status.headers()["x-amzn-errortype"], "GoneException");
}

async fn connection_ids(dev: &Dev, team: &str) -> Vec<String> {
    team_connection_ids(dev, team).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_kb_message_closes_the_socket_with_1009() {
    let dev = shared();
    let mut s = connect(dev, Some(&member("big", &unique("t"))))
        .await
        .unwrap();
    let big = json!({"action": "vote", "value": "x".repeat(200 * 1024)}).to_string();
    send(&mut s, &big).await;
    assert_eq!(
        next(&mut s, Duration::from_secs(10)).await,
        Seen::Closed(Some(1009))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_api_gets_and_deletes_a_connection() {
    let dev = shared();
    let team = unique("managed");
    let mut s = connect(dev, Some(&member("m", &team))).await.unwrap();
    let mut ids = Vec::new();
    wait_for(
        async || {
            ids = connection_ids(dev, &team).await;
            !ids.is_empty()
        },
        "the row is written",
    )
    .await;
    let id = ids.remove(0);
    let endpoint = dev.callback.trim_end_matches("/@connections").to_string();
    let client = management(&endpoint);
    let got = client
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap();
    let connected = got.connected_at().expect("connectedAt");
    let age = sockstack::dev::events::now_ms() / 1000 - connected.secs();
    assert!((0..60).contains(&age), "connected {age} s ago");
    assert_eq!(got.identity().unwrap().source_ip(), Some("127.0.0.1"));
    assert!(got.last_active_at().is_some());
    client
        .post_to_connection()
        .connection_id(&id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            b"{\"hi\":1}".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        next(&mut s, Duration::from_secs(5)).await,
        Seen::Text("{\"hi\":1}".into())
    );
    let too_big = client
        .post_to_connection()
        .connection_id(&id)
        .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(
            vec![b'x'; 129 * 1024],
        ))
        .send()
        .await
        .unwrap_err();
    assert!(
        too_big
            .into_service_error()
            .is_payload_too_large_exception(),
        "413 over 128 KB"
    );
    client
        .delete_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap();
    assert!(matches!(
        next(&mut s, Duration::from_secs(5)).await,
        Seen::Closed(_)
    ));
    let gone = client
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        gone.into_service_error().is_gone_exception(),
        "410 after DELETE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_socket_is_closed_after_the_idle_timeout() {
    let dev = Dev::start(&["dev", "--idle-timeout", "2"]);
    let mut s = connect(&dev, Some(&member("idle", "t"))).await.unwrap();
    // Activity keeps it open past the timeout…
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        send(&mut s, r#"{"action":"ping"}"#).await;
        let _ = next_json(&mut s).await;
    }
    // …silence closes it with 1001.
    assert_eq!(
        next(&mut s, Duration::from_secs(5)).await,
        Seen::Closed(Some(1001))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_everything_dev_started_and_exits_0() {
    let dev = Dev::start(&["dev"]);
    let _s = connect(&dev, Some(&member("c", "t"))).await.unwrap();
    let children = dev.descendants();
    assert!(
        children.len() >= 2,
        "dev runs moto and the function processes: {children:?}"
    );
    dev.signal(libc::SIGINT);
    assert_eq!(
        dev.wait(Duration::from_secs(20)),
        Some(0),
        "{}",
        dev.stderr()
    );
    // A child dev did not wait for itself is killed by the kernel as dev exits (PR_SET_PDEATHSIG), which
    // takes a moment to be seen: allow a short grace, then name what is still running.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let left = loop {
        let left: Vec<u32> = children.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || std::time::Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let named: Vec<String> = left
        .iter()
        .map(|p| {
            let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            format!("{p} {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
        })
        .collect();
    assert!(named.is_empty(), "left behind: {named:?}");
    assert!(
        dev.stderr()
            .contains("$disconnect -> DisconnectFunction 200"),
        "open sockets were closed and their $disconnect ran before the functions stopped:\n{}",
        dev.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_die_even_when_dev_is_killed_with_sigkill() {
    let dev = Dev::start(&["dev"]);
    let children = dev.descendants();
    assert!(children.len() >= 2, "{children:?}");
    dev.signal(libc::SIGKILL);
    let _ = dev.wait(Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<u32> = children.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "left behind: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
