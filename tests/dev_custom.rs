//! `sockstack dev` on a stack that is not team-health (tests/fixtures/dev-project): its own authorizer
//! handler reading a header, custom routes behind a custom route selection expression, no `$default`, and
//! handlers that fail, time out and crash.

mod devkit;

use devkit::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

fn fixture() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(|| Dev::start_in(&root().join("tests/fixtures/dev-project"), &["fixture"]))
}

async fn open(user: &str) -> Socket {
    connect_with(fixture(), "", &[("x-token", &format!("allow-{user}"))])
        .await
        .expect("an allowed connection")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_answers_as_api_gateway_does() {
    let dev = fixture();
    assert!(
        dev.ws.ends_with("/local"),
        "the stage comes from the template: {}",
        dev.ws
    );
    assert_eq!(
        connect_with(dev, "", &[]).await.err(),
        Some(401),
        "no identity header"
    );
    assert_eq!(
        connect_with(dev, "", &[("x-token", "deny")]).await.err(),
        Some(403)
    );
    assert_eq!(
        connect_with(dev, "", &[("x-token", "elsewhere")])
            .await
            .err(),
        Some(403),
        "an Allow on another resource is no Allow"
    );
    assert_eq!(
        connect_with(dev, "", &[("x-token", "boom")]).await.err(),
        Some(500),
        "an authorizer error"
    );
    assert_eq!(
        connect_with(dev, "?reject=409", &[("x-token", "allow-carol")])
            .await
            .err(),
        Some(409),
        "a non-2xx from $connect rejects the handshake with its status"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_routes_get_the_authorizer_context_and_two_way_replies() {
    let mut s = open("carol").await;
    send(&mut s, r#"{"kind":"echo","n":1}"#).await;
    let seen = next_json(&mut s).await;
    assert_eq!(seen["route"], "echo");
    assert_eq!(seen["principalId"], "carol");
    assert_eq!(
        seen["userId"], "carol",
        "the authorizer's context reaches every route"
    );
    assert_eq!(seen["body"], r#"{"kind":"echo","n":1}"#);
    send(&mut s, r#"{"kind":"quiet"}"#).await;
    assert_eq!(
        next(&mut s, Duration::from_millis(800)).await,
        Seen::Nothing,
        "a one-way route sends nothing back"
    );
}

fn assert_frame(frame: &Value, message: &str) {
    assert_eq!(frame["message"], message, "{frame}");
    assert!(
        frame["connectionId"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{frame}"
    );
    assert!(
        frame["requestId"].as_str().is_some_and(|s| !s.is_empty()),
        "{frame}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_default_unmatched_messages_get_forbidden_and_the_socket_stays_open() {
    let mut s = open("dan").await;
    for message in [r#"{"kind":"nope"}"#, "not json", r#"{"action":"echo"}"#] {
        send(&mut s, message).await;
        assert_frame(&next_json(&mut s).await, "Forbidden");
    }
    send(&mut s, r#"{"kind":"echo"}"#).await;
    assert_eq!(next_json(&mut s).await["route"], "echo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_timed_out_and_crashed_handlers_answer_internal_server_error() {
    let mut s = open("erin").await;
    for kind in ["fail", "slow", "crash"] {
        send(&mut s, &format!(r#"{{"kind":"{kind}"}}"#)).await;
        assert_frame(&next_json(&mut s).await, "Internal server error");
        // The socket stays open and the function works again (a new instance after a timeout or crash).
        send(&mut s, r#"{"kind":"echo"}"#).await;
        assert_eq!(next_json(&mut s).await["route"], "echo", "after {kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_instances_make_the_gateway_start_another() {
    let mut s = open("frank").await;
    for _ in 0..3 {
        send(&mut s, r#"{"kind":"hold"}"#).await;
    }
    let mut pids = BTreeSet::new();
    for _ in 0..3 {
        pids.insert(next_json(&mut s).await["pid"].as_u64().unwrap());
    }
    assert_eq!(
        pids.len(),
        3,
        "three overlapping invocations ran in three processes: {pids:?}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.file_name() == "out" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_swaps_a_changed_handler_while_the_socket_stays_open() {
    let project = tempfile::tempdir().unwrap();
    copy_dir(&root().join("tests/fixtures/dev-project"), project.path());
    let dev = Dev::start_in(project.path(), &["fixture", "--watch"]);
    let mut s = connect_with(&dev, "", &[("x-token", "allow-gina")])
        .await
        .unwrap();
    send(&mut s, r#"{"kind":"echo"}"#).await;
    assert!(next_json(&mut s).await.get("version").is_none());

    let source = project.path().join("handlers/src/bin/tool.rs");
    let text = std::fs::read_to_string(&source).unwrap();
    let changed = text.replace("\"route\": route,", "\"route\": route, \"version\": 2,");
    assert_ne!(text, changed, "the fixture has the line this test edits");
    std::fs::write(&source, changed).unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !dev.stderr().contains("watch: rebuilt; swapped") {
        assert!(
            std::time::Instant::now() < deadline,
            "no rebuild:\n{}",
            dev.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    send(&mut s, r#"{"kind":"echo"}"#).await;
    assert_eq!(
        next_json(&mut s).await["version"],
        2,
        "the same socket now reaches the rebuilt handler"
    );
}
