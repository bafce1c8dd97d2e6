//! `sockstack dev` under load, each figure beside a baseline measured in the same run through the same
//! gateway code with no Lambda behind it:
//!
//! 1. connections opened per second: authorizer + `$connect` (real handlers) vs. an in-process gateway whose
//!    `$connect` is a bare echo;
//! 2. a vote delivered to a team of 100: p50/p99 from sending the vote to the last member receiving it vs.
//!    the same 100 sockets reached by posting to `@connections` directly (the fan-out without Lambda);
//! 3. messages per second through `$default` (the real handler's reply) vs. the bare-echo gateway.
//!
//! The handlers are built with `--release`. Each figure is measured twice: on dev's default DynamoDB
//! (moto_server) and on dynalite (`--dynamodb-endpoint`), with a breakdown line each: one `$default` round
//! trip alone, and one registry `PutItem` and the team's `Query` timed against that DynamoDB directly.
//!
//! Run with `make bench` (or `cargo bench --bench dev`). `SOCKSTACK_BENCH_CONNECTIONS` (default 400),
//! `SOCKSTACK_BENCH_VOTES` (default 40) and `SOCKSTACK_BENCH_MESSAGES` (default 4000) size the runs;
//! `SOCKSTACK_BENCH_RELEASE=0` uses debug handlers (CI's quick run, to skip their release build).

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

/// Sends `total` messages spread over `sockets`, each waiting for its replies; the sockets and messages per
/// second.
async fn throughput(sockets: Vec<Socket>, total: usize, message: &str) -> (Vec<Socket>, f64) {
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
                s
            })
        })
        .collect();
    let n = tasks.len();
    let mut sockets = Vec::with_capacity(n);
    for t in tasks {
        sockets.push(t.await.unwrap());
    }
    (sockets, (per * n) as f64 / start.elapsed().as_secs_f64())
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

/// A dynalite (npm, DynamoDB on LevelDB in memory) on a free port, from `make dev-tools`'s `.tools/dynalite`
/// (or the `cli.js` named by `SOCKSTACK_DYNALITE`); killed when dropped, and with the bench process.
struct Dynalite {
    endpoint: String,
    child: std::process::Child,
}

impl Dynalite {
    fn start() -> Dynalite {
        use std::os::unix::process::CommandExt;
        let cli = std::env::var_os("SOCKSTACK_DYNALITE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root().join(".tools/dynalite/node_modules/dynalite/cli.js"));
        assert!(
            cli.is_file(),
            "{} is missing: run `make dev-tools`",
            cli.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = std::process::Command::new("node");
        command
            .arg(&cli)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--createTableMs", "0", "--deleteTableMs", "0"])
            .stdin(std::process::Stdio::null());
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        let child = command.spawn().expect("node runs dynalite");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dynalite did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Dynalite {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `sockstack dev` measured, and the no-Lambda figures of the same run beside it.
struct Figures {
    /// The first quarter's rates, while the function instances start.
    cold_connections_per_s: f64,
    cold_messages_per_s: f64,
    connections_per_s: f64,
    vote_ms: Vec<Duration>,
    post_ms: Vec<Duration>,
    messages_per_s: f64,
    /// One `$default` message at a time: the round trip through the gateway, the Runtime API and the handler.
    serial_default: Duration,
    /// The breakdown: one registry `PutItem` and the team's `Query` on this DynamoDB, from the bench.
    put_item: Duration,
    team_query: Duration,
}

/// The median of `n` runs of `f`.
async fn median_of<F, Fut>(n: usize, mut f: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        f(i).await;
        times.push(start.elapsed());
    }
    times.sort();
    percentile(&times, 0.5)
}

/// One `$default` message at a time on one socket: the median round trip.
async fn serial_round_trip(socket: &mut Socket, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        socket
            .send(Message::Text(r#"{"action":"nothing"}"#.into()))
            .await
            .unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
                Ok(Some(Ok(Message::Text(_)))) => break,
                Ok(Some(Ok(_))) => {}
                other => panic!("no reply: {other:?}"),
            }
        }
        times.push(start.elapsed());
    }
    times.sort();
    percentile(&times, 0.5)
}

/// The three figures on `dev`, with the bare-echo gateway at `baseline` for the connection and message rates.
async fn measure(dev: &Dev, connections: usize, votes: usize, messages: usize) -> Figures {
    let http = reqwest::Client::new();
    let base = dev.http_base();

    // 1. Connections per second, after a quarter as many that start the function instances (Lambda's cold
    // starts, reported apart). Every socket stays open to the end: closing them would run their
    // `$disconnect`s (two DynamoDB writes each) during the measurements that follow.
    let mut urls = Vec::new();
    for i in 0..connections + connections / 4 {
        let token = mint(&http, &base, &format!("c{i}"), &format!("conn-{}", i % 50)).await;
        urls.push(format!("{}?token={token}", dev.ws));
    }
    let measured = urls.split_off(connections / 4);
    let (mut kept, cold_connections_per_s) = open_all(urls).await;
    let (mut opened, connections_per_s) = open_all(measured).await;

    // 3. $default throughput (on 8 of the opened sockets) after a quarter as many messages that start the
    // instances, then one message at a time.
    let mut eight: Vec<Socket> = opened.drain(..8).collect();
    kept.append(&mut opened);
    let mut one = eight.pop().unwrap();
    let (eight, cold_messages_per_s) =
        throughput(eight, messages / 4, r#"{"action":"nothing"}"#).await;
    let (eight, messages_per_s) = throughput(eight, messages, r#"{"action":"nothing"}"#).await;
    kept.extend(eight);
    let serial_default = serial_round_trip(&mut one, 50).await;

    // 2. A vote to a team of 100, and the same fan-out through @connections without Lambda.
    let team = format!("bench-team-{}-{}", std::process::id(), now_nanos());
    let mut urls = Vec::new();
    for i in 0..100 {
        let token = mint(&http, &base, &format!("m{i}"), &team).await;
        urls.push(format!("{}?token={token}", dev.ws));
    }
    let (mut members, _) = open_all(urls).await;
    let mut voter = members.remove(0);
    let (mut rx, _tasks) = readers(members);
    let mut vote_ms = Vec::new();
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
        vote_ms.push(last - start);
        // The voter's own copy and reply.
        for _ in 0..2 {
            let _ = tokio::time::timeout(Duration::from_secs(5), voter.next()).await;
        }
    }
    let ids = team_connection_ids(dev, &team).await;
    let mut post_ms = Vec::new();
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
        post_ms.push(last - start);
    }
    vote_ms.sort();
    post_ms.sort();

    // The breakdown: this DynamoDB alone, as the handlers use it.
    let db = dynamodb(dev);
    let table = sockstack::dev::plan::local_name("dev", "ConnectionsTable");
    let put_item = median_of(50, |i| {
        let item = json!({"TableName": table, "Item": {
            "connectionId": {"S": format!("bench-put-{i}=")}, "teamId": {"S": "bench-put"},
            "userId": {"S": format!("bench-put-{i}")}, "connectedAt": {"N": "1"}, "expiresAt": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(closedAt)"});
        let db = &db;
        async move {
            db.call("PutItem", item).await.unwrap();
        }
    })
    .await;
    let team_query = median_of(20, |_| async {
        assert_eq!(team_connection_ids(dev, &team).await.len(), 100);
    })
    .await;
    drop((voter, one, kept));
    Figures {
        cold_connections_per_s,
        cold_messages_per_s,
        connections_per_s,
        vote_ms,
        post_ms,
        messages_per_s,
        serial_default,
        put_item,
        team_query,
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(
    label: &str,
    f: &Figures,
    base_connections: f64,
    base_messages: f64,
    base_serial: Duration,
) {
    println!("{label}");
    println!(
        "  connections opened/s   dev {:>8.0}   baseline {base_connections:>8.0}   ratio {:.2}",
        f.connections_per_s,
        f.connections_per_s / base_connections
    );
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        let (v, b) = (ms(percentile(&f.vote_ms, p)), ms(percentile(&f.post_ms, p)));
        println!(
            "  vote to 100, {name} ms    dev {v:>8.1}   baseline {b:>8.1}   ratio {:.2}",
            v / b
        );
    }
    println!(
        "  $default messages/s    dev {:>8.0}   baseline {base_messages:>8.0}   ratio {:.2}",
        f.messages_per_s,
        f.messages_per_s / base_messages
    );
    println!(
        "  cold (instances starting): the first quarter of connections {:.0}/s, of messages {:.0}/s",
        f.cold_connections_per_s, f.cold_messages_per_s
    );
    println!(
        "  breakdown: one $default round trip {:.2} ms (baseline {:.2} ms); DynamoDB PutItem {:.2} ms, \
         Query of the team (100 items) {:.2} ms",
        ms(f.serial_default),
        ms(base_serial),
        ms(f.put_item),
        ms(f.team_query)
    );
}

fn main() {
    let connections = env_usize("SOCKSTACK_BENCH_CONNECTIONS", 400);
    let votes = env_usize("SOCKSTACK_BENCH_VOTES", 40);
    let messages = env_usize("SOCKSTACK_BENCH_MESSAGES", 4000);
    // Release handlers, as the goals are stated for; `make bench-quick` (CI) saves their build with 0.
    let release = env_usize("SOCKSTACK_BENCH_RELEASE", 1) != 0;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let max_instances =
        std::env::var("SOCKSTACK_BENCH_MAX_INSTANCES").unwrap_or_else(|_| "16".into());
    let mut args = vec!["dev", "--max-instances", max_instances.as_str()];
    if release {
        args.push("--release");
    }
    runtime.block_on(async {
        let baseline = baseline_gateway().await;
        let (base_opened, base_connections) = open_all(vec![baseline.clone(); connections]).await;
        drop(base_opened);
        let (mut base_eight, _) = open_all(vec![baseline.clone(); 9]).await;
        let mut base_one = base_eight.pop().unwrap();
        let (_, base_messages) = throughput(base_eight, messages, r#"{"action":"nothing"}"#).await;
        let base_serial = serial_round_trip(&mut base_one, 50).await;

        let handlers = if release { "release" } else { "debug" };
        println!(
            "sockstack dev, handlers in {handlers}, {connections} connections, {votes} votes, {messages} messages"
        );
        let moto = Dev::start(&args);
        let on_moto = measure(&moto, connections, votes, messages).await;
        drop(moto);
        report(
            "DynamoDB: moto_server (the default)",
            &on_moto,
            base_connections,
            base_messages,
            base_serial,
        );

        if std::env::var_os("SOCKSTACK_BENCH_MOTO_ONLY").is_some() {
            return;
        }
        let dynalite = Dynalite::start();
        let mut with_dynalite = args.clone();
        with_dynalite.extend(["--dynamodb-endpoint", dynalite.endpoint.as_str()]);
        let dev = Dev::start(&with_dynalite);
        let on_dynalite = measure(&dev, connections, votes, messages).await;
        drop(dev);
        report(
            "DynamoDB: dynalite (--dynamodb-endpoint)",
            &on_dynalite,
            base_connections,
            base_messages,
            base_serial,
        );
    });
}
