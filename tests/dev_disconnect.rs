//! Every connection whose `$connect` succeeded gets exactly one `$disconnect`, also when the client vanishes
//! before the WebSocket upgrade completes. A raw TCP client sends the upgrade request and resets the
//! connection (RST) at the worst moments; the fixture's `$disconnect` handler logs
//! `disconnected principal=P code=C`, which dev prints on stderr prefixed with the function's name.

mod devkit;

use devkit::*;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn fixture() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(|| Dev::start_in(&root().join("tests/fixtures/dev-project"), &["fixture"]))
}

/// `host:port/stage` of dev's `ws://` URL.
fn address(dev: &Dev) -> (String, String) {
    let rest = dev.ws.strip_prefix("ws://").unwrap();
    let (host, stage) = rest.split_once('/').unwrap();
    (host.to_string(), stage.to_string())
}

/// Sends a WebSocket upgrade request for `user` (its `$connect` waits `hold_ms` first) on a raw socket.
async fn upgrade_request(dev: &Dev, user: &str, query: &str) -> TcpStream {
    let (host, stage) = address(dev);
    let mut socket = TcpStream::connect(&host).await.unwrap();
    let request = format!(
        "GET /{stage}{query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         x-token: allow-{user}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

/// Closes `socket` with a reset (SO_LINGER 0), as a client that crashes or loses its network does.
fn reset(socket: TcpStream) {
    socket.set_zero_linger().unwrap();
    drop(socket);
}

/// The response head the gateway sent (up to the blank line).
async fn response_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut byte))
            .await
            .expect("a response within 10 s")
            .unwrap();
        assert_eq!(n, 1, "the gateway closed before answering");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// How many `$disconnect`s dev ran for `user`, with their close codes.
fn disconnects(dev: &Dev, user: &str) -> Vec<String> {
    let needle = format!("disconnected principal={user} code=");
    dev.stderr()
        .lines()
        .filter_map(|l| {
            l.split_once(&needle)
                .map(|(_, code)| code.trim().to_string())
        })
        .collect()
}

/// Waits until `user` has had a `$disconnect`, then a little longer, and returns all of them.
async fn settled_disconnects(dev: &Dev, user: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while disconnects(dev, user).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no $disconnect for {user} within 10 s; stderr:\n{}",
            dev.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second $disconnect, if there were one, would follow at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    disconnects(dev, user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_while_connect_runs_gets_one_disconnect_after_connect_succeeds() {
    let dev = fixture();
    let user = unique("vanished-during-connect");
    let socket = upgrade_request(dev, &user, "?hold=800").await;
    // The request is read and the authorizer has answered; $connect is still holding when the client resets.
    tokio::time::sleep(Duration::from_millis(300)).await;
    reset(socket);
    assert_eq!(
        settled_disconnects(dev, &user).await,
        ["1006"],
        "one $disconnect, close code 1006, for a connection whose $connect succeeded but whose upgrade never completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_right_after_the_101_gets_one_disconnect() {
    let dev = fixture();
    let user = unique("vanished-after-101");
    let mut socket = upgrade_request(dev, &user, "").await;
    let head = response_head(&mut socket).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    reset(socket);
    assert_eq!(settled_disconnects(dev, &user).await, ["1006"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_gets_no_disconnect() {
    let dev = fixture();
    let user = unique("refused");
    let mut socket = upgrade_request(dev, &user, "?reject=409").await;
    let head = response_head(&mut socket).await;
    assert!(head.starts_with("HTTP/1.1 409"), "{head}");
    drop(socket);
    // A refused client that resets while $connect runs is not admitted either.
    let other = unique("refused-and-gone");
    let socket = upgrade_request(dev, &other, "?reject=409&hold=800").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    reset(socket);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(disconnects(dev, &user), Vec::<String>::new());
    assert_eq!(disconnects(dev, &other), Vec::<String>::new());
}
