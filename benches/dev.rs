//! `sockstack dev` under load, each figure beside a baseline measured in the same run through the same
//! gateway code with no Lambda behind it:
//!
//! 1. connections opened per second: authorizer + `$connect` (real handlers, DynamoDB on moto) vs. an
//!    in-process gateway whose `$connect` is a bare echo;
//! 2. a vote delivered to a team of 100: p50/p99 from sending the vote to the last member receiving it vs.
//!    the same 100 sockets reached by posting to `@connections` directly (the fan-out without Lambda);
//! 3. messages per second through `$default` (the real handler's reply) vs. the bare-echo gateway.
//!
//! Run with `make bench` (or `cargo bench --bench dev`). `SOCKSTACK_BENCH_CONNECTIONS` (default 400),
//! `SOCKSTACK_BENCH_VOTES` (default 40) and `SOCKSTACK_BENCH_MESSAGES` (default 4000) size the runs.

#[path = "../tests/devkit/mod.rs"]
mod devkit;

use devkit::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sockstack::dev::gateway::{Gateway, Limits};
use sockstack::dev::instances::{Invoke, InvokeError, Log};
use sockstack::dev::plan::Plan;
use sockstack::raw::RawTemplate;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A function that answers at once with the event's body: no process, no Runtime API.
struct Echo;

impl Invoke for Echo {
    fn invoke(
        &self,
        event: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, InvokeError>> + Send + '_>> {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&event).unwrap_or(Value::Null);
            Ok(json!({"statusCode": 200, "body": event["body"]})
                .to_string()
                .into_bytes())
        })
    }
}

struct Quiet;

impl Log for Quiet {
    fn line(&self, _: &str) {}
}

/// An in-process gateway for a template with `$connect` and a two-way `$default`, both bare echoes.
async fn baseline_gateway() -> String {
    let fun = |name: &str| json!({"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": format!("{name}-0000000000000000.zip")}}});
    let route = |key: &str, integration: &str, two_way: bool| {
        let mut p = json!({"ApiId": {"Ref": "Api"}, "RouteKey": key, "Target": {"Fn::Join": ["/", ["integrations", {"Ref": integration}]]}});
        if two_way {
            p["RouteResponseSelectionExpression"] = json!("$default");
        }
        json!({"Type": "AWS::ApiGatewayV2::Route", "Properties": p})
    };
    let integration = |function: &str| {
        json!({"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::Sub": format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${{{function}.Arn}}/invocations")}}})
    };
    let template = RawTemplate::from_value(json!({"Resources": {
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}},
        "Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"StageName": "dev"}},
        "EchoFunction": fun("echo"),
        "ConnectIntegration": integration("EchoFunction"),
        "DefaultIntegration": integration("EchoFunction"),
        "ConnectRoute": route("$connect", "ConnectIntegration", false),
        "DefaultRoute": route("$default", "DefaultIntegration", true),
        "DefaultRouteResponse": {"Type": "AWS::ApiGatewayV2::RouteResponse", "Properties": {"RouteId": {"Ref": "DefaultRoute"}, "RouteResponseKey": "$default"}},
    }}))
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plan = Plan::read(&template, "bench", &|_| Some("echo".into()))
        .unwrap()
        .at(&template, &addr.to_string())
        .unwrap();
    let pools: BTreeMap<String, Arc<dyn Invoke>> = BTreeMap::from([(
        "EchoFunction".to_string(),
        Arc::new(Echo) as Arc<dyn Invoke>,
    )]);
    let gateway = Gateway::new(plan, pools, Limits::default(), None, Arc::new(Quiet));
    let app = gateway
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("ws://{addr}/dev")
}

async fn mint(http: &reqwest::Client, base: &str, user: &str, team: &str) -> String {
    http.get(format!(
        "{base}/.sockstack/token?sub={}&email=b%40example.test&team_id={}",
        urlencode(user),
        urlencode(team)
    ))
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
}

/// Opens one socket per URL, 50 at a time; the sockets and connections per second.
async fn open_all(urls: Vec<String>) -> (Vec<Socket>, f64) {
    let gate = Arc::new(Semaphore::new(50));
    let start = Instant::now();
    let tasks: Vec<_> = urls
        .into_iter()
        .map(|url| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                tokio_tungstenite::connect_async(url)
                    .await
                    .expect("connects")
                    .0
            })
        })
        .collect();
    let mut sockets = Vec::new();
    for t in tasks {
        sockets.push(t.await.unwrap());
    }
    let rate = sockets.len() as f64 / start.elapsed().as_secs_f64();
    (sockets, rate)
}

/// Sends `total` messages spread over `sockets`, each waiting for its replies; messages per second.
async fn throughput(sockets: Vec<Socket>, total: usize, message: &str) -> f64 {
    let per = total / sockets.len();
    let start = Instant::now();
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut s| {
            let message = message.to_string();
            tokio::spawn(async move {
                // Keep 16 in flight per socket.
                let mut sent = 0;
                let mut received = 0;
                while received < per {
                    while sent < per && sent - received < 16 {
                        s.send(Message::Text(message.clone().into())).await.unwrap();
                        sent += 1;
                    }
                    match tokio::time::timeout(Duration::from_secs(30), s.next()).await {
                        Ok(Some(Ok(Message::Text(_)))) => received += 1,
                        Ok(Some(Ok(_))) => {}
                        other => panic!("no reply: {other:?}"),
                    }
                }
            })
        })
        .collect();
    let n = tasks.len();
    for t in tasks {
        t.await.unwrap();
    }
    (per * n) as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Spawns a reader per socket that reports when it sees a text containing a marker; returns the channel.
fn readers(
    sockets: Vec<Socket>,
) -> (
    tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let tasks = sockets
        .into_iter()
        .map(|mut s| {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(Ok(m)) = s.next().await {
                    if let Message::Text(t) = m {
                        let _ = tx.send((t.to_string(), Instant::now()));
                    }
                }
            })
        })
        .collect();
    (rx, tasks)
}

/// Waits until `count` messages containing `marker` arrived; when the last did.
async fn last_arrival(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    marker: &str,
    count: usize,
) -> Instant {
    let mut seen = 0;
    let mut last = Instant::now();
    while seen < count {
        let (text, at) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("deliveries within 30 s")
            .unwrap();
        if text.contains(marker) {
            seen += 1;
            last = at;
        }
    }
    last
}

fn main() {
    let connections = env_usize("SOCKSTACK_BENCH_CONNECTIONS", 400);
    let votes = env_usize("SOCKSTACK_BENCH_VOTES", 40);
    let messages = env_usize("SOCKSTACK_BENCH_MESSAGES", 4000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dev = Dev::start(&["dev", "--max-instances", "16"]);
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let base = dev.http_base();
        let baseline = baseline_gateway().await;

        // 1. Connections per second.
        let mut urls = Vec::new();
        for i in 0..connections {
            let token = mint(&http, &base, &format!("c{i}"), &format!("conn-{}", i % 50)).await;
            urls.push(format!("{}?token={token}", dev.ws));
        }
        let (opened, dev_rate) = open_all(urls).await;
        let (base_opened, base_rate) = open_all(vec![baseline.clone(); connections]).await;
        drop(base_opened);

        // 3. $default throughput (on 8 of the opened sockets).
        let mut opened = opened;
        let eight: Vec<Socket> = opened.drain(..8).collect();
        drop(opened);
        let dev_msgs = throughput(eight, messages, r#"{"action":"nothing"}"#).await;
        let (base_eight, _) = open_all(vec![baseline.clone(); 8]).await;
        let base_msgs = throughput(base_eight, messages, r#"{"action":"nothing"}"#).await;

        // 2. A vote to a team of 100, and the same fan-out through @connections without Lambda.
        let team = format!("bench-team-{}", std::process::id());
        let mut urls = Vec::new();
        for i in 0..100 {
            let token = mint(&http, &base, &format!("m{i}"), &team).await;
            urls.push(format!("{}?token={token}", dev.ws));
        }
        let (mut members, _) = open_all(urls).await;
        let mut voter = members.remove(0);
        let (mut rx, _tasks) = readers(members);
        let mut vote_times = Vec::new();
        for n in 0..votes {
            let marker = format!("bench-vote-{n}");
            let start = Instant::now();
            voter
                .send(Message::Text(
                    json!({"action": "vote", "value": marker})
                        .to_string()
                        .into(),
                ))
                .await
                .unwrap();
            let last = last_arrival(&mut rx, &marker, 99).await;
            vote_times.push(last - start);
            // The voter's own copy and reply.
            for _ in 0..2 {
                let _ = tokio::time::timeout(Duration::from_secs(5), voter.next()).await;
            }
        }
        let ids = team_connection_ids(&dev, &team).await;
        let mut post_times = Vec::new();
        for n in 0..votes {
            let marker = format!("bench-post-{n}");
            let start = Instant::now();
            let posts: Vec<_> = ids
                .iter()
                .map(|id| {
                    http.post(format!("{}/{}", dev.callback, urlencode(id)))
                        .body(json!({"type": "vote", "value": marker}).to_string())
                        .send()
                })
                .collect();
            futures_util::future::join_all(posts).await;
            let last = last_arrival(&mut rx, &marker, 99).await;
            post_times.push(last - start);
        }
        vote_times.sort();
        post_times.sort();

        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("sockstack dev, {connections} connections, {votes} votes, {messages} messages");
        println!(
            "connections opened/s   dev {dev_rate:>8.0}   baseline {base_rate:>8.0}   ratio {:.2}",
            dev_rate / base_rate
        );
        println!(
            "vote to 100, p50 ms    dev {:>8.1}   baseline {:>8.1}   ratio {:.2}",
            ms(percentile(&vote_times, 0.5)),
            ms(percentile(&post_times, 0.5)),
            ms(percentile(&vote_times, 0.5)) / ms(percentile(&post_times, 0.5))
        );
        println!(
            "vote to 100, p99 ms    dev {:>8.1}   baseline {:>8.1}   ratio {:.2}",
            ms(percentile(&vote_times, 0.99)),
            ms(percentile(&post_times, 0.99)),
            ms(percentile(&vote_times, 0.99)) / ms(percentile(&post_times, 0.99))
        );
        println!(
            "$default messages/s    dev {dev_msgs:>8.0}   baseline {base_msgs:>8.0}   ratio {:.2}",
            dev_msgs / base_msgs
        );
    });
}
