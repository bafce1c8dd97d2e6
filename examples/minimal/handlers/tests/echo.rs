//! The echo functions as API Gateway calls them, and their binaries under a
//! local Lambda Runtime API with no settings at all.

use serde_json::json;
use sockstack_runtime::testing::*;

#[test]
fn default_echoes_json_and_text() {
    let r = minimal_handlers::echo(&typed_route_event(
        "$default",
        "c1",
        None,
        &[],
        Some(r#"{"a":[1]}"#),
    ));
    assert_eq!(r.status_code, 200);
    assert_eq!(body(&r), json!({"type": "echo", "message": {"a": [1]}}));
    let r = minimal_handlers::echo(&typed_route_event("$default", "c1", None, &[], Some("hi")));
    assert_eq!(body(&r)["message"], "hi");
}

#[test]
fn connect_accepts_a_public_connection() {
    let r = minimal_handlers::connect(&typed_route_event("$connect", "c1", None, &[], None));
    assert_eq!(r.status_code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_answer_under_the_runtime_api() {
    for (binary, route, expected) in [
        (env!("CARGO_BIN_EXE_connect"), "$connect", "connected"),
        (
            env!("CARGO_BIN_EXE_disconnect"),
            "$disconnect",
            "disconnected",
        ),
        (env!("CARGO_BIN_EXE_default"), "$default", "echo"),
    ] {
        let mut function = Function::start(binary, route, &[]).await;
        let out = function
            .invoke(route_event(route, "c1", None, &[], Some("ping")))
            .await;
        assert_eq!(out.body()["type"], expected, "{route}: {out:?}");
    }
}
