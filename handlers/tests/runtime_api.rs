//! Each binary under a local Lambda Runtime API (`next` / `response` /
//! `error`), started with exactly the environment variables the synthesized
//! template gives that function (`AccessProfile::…access().env`) plus the ones
//! Lambda itself sets — and, for the functions that use DynamoDB,
//! `AWS_ENDPOINT_URL` pointing at moto. Also: a missing required variable
//! stops the binary at start-up with a message naming it.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::*;
use serde_json::{Value, json};
use sockstack_handlers::legacy::AccessProfile;
use sockstack_handlers::legacy::access::handlers;
use sockstack_handlers::legacy::env;
use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Response(Value),
    Error(Value),
}

struct RuntimeState {
    queue: tokio::sync::Mutex<mpsc::Receiver<(String, Value)>>,
    outcomes: Mutex<HashMap<String, Outcome>>,
    init_errors: Mutex<Vec<Value>>,
    done: Notify,
    polls: AtomicUsize,
    first_poll: Mutex<Option<Instant>>,
}

/// A Lambda Runtime API for one function process.
struct RuntimeApi {
    addr: String,
    events: mpsc::Sender<(String, Value)>,
    state: Arc<RuntimeState>,
    seq: AtomicUsize,
}

async fn next(State(s): State<Arc<RuntimeState>>) -> impl IntoResponse {
    s.polls.fetch_add(1, Ordering::SeqCst);
    s.first_poll
        .lock()
        .unwrap()
        .get_or_insert_with(Instant::now);
    let Some((id, event)) = s.queue.lock().await.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    let deadline = (now_ms() + 30_000).to_string();
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_str(&deadline).unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:test"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, headers, event.to_string())
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

async fn response(
    State(s): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    s.outcomes
        .lock()
        .unwrap()
        .insert(id, Outcome::Response(parse(&body)));
    s.done.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(
    State(s): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    s.outcomes
        .lock()
        .unwrap()
        .insert(id, Outcome::Error(parse(&body)));
    s.done.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    s.init_errors.lock().unwrap().push(parse(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    async fn start() -> RuntimeApi {
        let (tx, rx) = mpsc::channel(16);
        let state = Arc::new(RuntimeState {
            queue: tokio::sync::Mutex::new(rx),
            outcomes: Mutex::new(HashMap::new()),
            init_errors: Mutex::new(Vec::new()),
            done: Notify::new(),
            polls: AtomicUsize::new(0),
            first_poll: Mutex::new(None),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let addr = serve(router).await;
        RuntimeApi {
            addr: addr.to_string(),
            events: tx,
            state,
            seq: AtomicUsize::new(0),
        }
    }

    async fn invoke(&self, event: Value) -> Outcome {
        let id = format!("req-{}", self.seq.fetch_add(1, Ordering::SeqCst));
        self.events.send((id.clone(), event)).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.state.done.notified();
            if let Some(outcome) = self.state.outcomes.lock().unwrap().get(&id) {
                return outcome.clone();
            }
            assert!(Instant::now() < deadline, "no answer to {id} within 30 s");
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }
}

/// A function process, killed when dropped.
struct Function {
    child: Child,
    started: Instant,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(handler: &str) -> &'static str {
    match handler {
        handlers::AUTHORIZER => env!("CARGO_BIN_EXE_authorizer"),
        handlers::CONNECT => env!("CARGO_BIN_EXE_connect"),
        handlers::DISCONNECT => env!("CARGO_BIN_EXE_disconnect"),
        handlers::DEFAULT => env!("CARGO_BIN_EXE_default"),
        handlers::VOTE => env!("CARGO_BIN_EXE_vote"),
        other => panic!("no binary {other}"),
    }
}

/// Settings the template does not have to give (the binaries have defaults).
const OPTIONAL: &[&str] = &[
    env::TOKEN_SOURCE,
    env::USER_ID_CLAIM,
    env::EMAIL_CLAIM,
    env::TEAM_ID_CLAIM,
    env::NOTIFY_CONCURRENCY,
];

/// Values for every variable the contract may list.
struct Values(BTreeMap<&'static str, String>);

impl Values {
    /// The function's environment: exactly the variables its profile lists.
    fn for_handler(&self, handler: &str) -> Vec<(&'static str, String)> {
        let profile = AccessProfile::for_handler(handler).expect("built-in handler");
        profile
            .access()
            .env
            .iter()
            .map(|name| {
                let value = self.0.get(name).unwrap_or_else(|| {
                    panic!("the contract gives {handler} {name}, which this test has no value for")
                });
                (*name, value.clone())
            })
            .collect()
    }
}

fn spawn(handler: &str, runtime: &RuntimeApi, vars: &[(&'static str, String)]) -> Function {
    let mut command = Command::new(binary(handler));
    command
        .env_clear()
        // What Lambda itself sets on every function.
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("test-{handler}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/sockstack/test-{handler}"),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testkey")
        .env("AWS_SECRET_ACCESS_KEY", "testsecret")
        .env("AWS_SESSION_TOKEN", "testtoken")
        // Test only: DynamoDB is moto.
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    Function {
        started: Instant::now(),
        child: command.spawn().unwrap(),
    }
}

struct World {
    tables: Tables,
    api: ConnectionsServer,
    key: RsaKey,
    _jwks: JwksServer,
    values: Values,
}

async fn world() -> World {
    let tables = Tables::create("runtime").await;
    let api = ConnectionsServer::start().await;
    let key = RsaKey::generate("rt-key");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let values = Values(BTreeMap::from([
        (env::JWKS_URL, jwks.url.clone()),
        (env::JWT_ISSUER, ISSUER.to_string()),
        (env::JWT_AUDIENCE, format!("another,{AUDIENCE}")),
        (
            env::TOKEN_SOURCE,
            "route.request.querystring.token".to_string(),
        ),
        (env::USER_ID_CLAIM, "sub".to_string()),
        (env::EMAIL_CLAIM, "email".to_string()),
        (env::TEAM_ID_CLAIM, "custom:team".to_string()),
        (env::CONNECTIONS_TABLE, tables.connections.clone()),
        (env::PROFILES_TABLE, tables.profiles.clone()),
        (env::CALLBACK_URL, api.callback_url.clone()),
        (env::NOTIFY_CONCURRENCY, "8".to_string()),
    ]));
    World {
        tables,
        api,
        key,
        _jwks: jwks,
        values,
    }
}

fn authorizer_event(token: &str) -> Value {
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/test/$connect",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {},
        "queryStringParameters": {"token": token},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "stage": "test",
            "connectedAt": now_ms(), "requestTimeEpoch": now_ms(), "requestId": "r",
            "connectionId": "c-auth", "apiId": "abc123", "identity": {"sourceIp": "127.0.0.1"}
        }
    })
}

fn response_body(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Response(r) => serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap(),
        Outcome::Error(e) => panic!("function error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_binary_answers_under_the_runtime_api() {
    let w = world().await;
    let mut start_times = Vec::new();

    // authorizer
    let rt = RuntimeApi::start().await;
    let f = spawn(
        handlers::AUTHORIZER,
        &rt,
        &w.values.for_handler(handlers::AUTHORIZER),
    );
    let allowed = rt
        .invoke(authorizer_event(&w.key.token(&id_claims("user-r"))))
        .await;
    let Outcome::Response(allowed) = allowed else {
        panic!("{allowed:?}")
    };
    assert_eq!(allowed["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(allowed["principalId"], "user-r");
    assert_eq!(allowed["context"]["teamId"], "team-1");
    let denied = rt.invoke(authorizer_event("nope")).await;
    let Outcome::Response(denied) = denied else {
        panic!("{denied:?}")
    };
    assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
    start_times.push((handlers::AUTHORIZER, first_poll(&rt, &f)));
    drop(f);

    // connect
    let rt = RuntimeApi::start().await;
    let f = spawn(
        handlers::CONNECT,
        &rt,
        &w.values.for_handler(handlers::CONNECT),
    );
    for (id, user) in [("rc1", "user-r"), ("rc2", "user-s")] {
        let out = rt
            .invoke(route_event(
                "$connect",
                id,
                Some(user),
                Some("team-r"),
                None,
            ))
            .await;
        assert_eq!(response_body(&out)["type"], "connected", "{out:?}");
    }
    assert!(w.tables.connection_row("rc1").await.is_some());
    assert_eq!(w.tables.profile_connections("user-r").await.len(), 1);
    start_times.push((handlers::CONNECT, first_poll(&rt, &f)));
    drop(f);

    // vote
    let rt = RuntimeApi::start().await;
    let f = spawn(handlers::VOTE, &rt, &w.values.for_handler(handlers::VOTE));
    let out = rt
        .invoke(route_event(
            "vote",
            "rc1",
            Some("user-r"),
            Some("team-r"),
            Some(r#"{"action":"vote","value":"13"}"#),
        ))
        .await;
    let Outcome::Response(r) = &out else {
        panic!("{out:?}")
    };
    assert_eq!(r["statusCode"], 200);
    assert_eq!(response_body(&out)["delivered"], 2);
    assert_eq!(
        w.api.delivered(),
        BTreeMap::from([("rc1".into(), 1), ("rc2".into(), 1)])
    );
    let bad = rt
        .invoke(route_event(
            "vote",
            "rc1",
            Some("user-r"),
            Some("team-r"),
            Some("{oops"),
        ))
        .await;
    assert_eq!(response_body(&bad)["error"], "invalid_json");
    start_times.push((handlers::VOTE, first_poll(&rt, &f)));
    drop(f);

    // disconnect
    let rt = RuntimeApi::start().await;
    let f = spawn(
        handlers::DISCONNECT,
        &rt,
        &w.values.for_handler(handlers::DISCONNECT),
    );
    let out = rt
        .invoke(route_event(
            "$disconnect",
            "rc1",
            Some("user-r"),
            Some("team-r"),
            None,
        ))
        .await;
    assert_eq!(response_body(&out)["type"], "disconnected");
    assert!(w.tables.profile_connections("user-r").await.is_empty());
    start_times.push((handlers::DISCONNECT, first_poll(&rt, &f)));
    drop(f);

    // $default: no settings at all.
    let rt = RuntimeApi::start().await;
    let vars = w.values.for_handler(handlers::DEFAULT);
    assert!(vars.is_empty());
    let f = spawn(handlers::DEFAULT, &rt, &vars);
    let out = rt
        .invoke(route_event(
            "$default",
            "rc2",
            Some("user-s"),
            Some("team-r"),
            Some(r#"{"action":"x"}"#),
        ))
        .await;
    let Outcome::Response(r) = &out else {
        panic!("{out:?}")
    };
    assert_eq!(r["statusCode"], 400);
    assert_eq!(response_body(&out)["validActions"], json!(["vote"]));
    // An event that is not a route event is a function error, and the process lives on.
    let broken = rt.invoke(json!({"requestContext": "nonsense"})).await;
    assert!(matches!(broken, Outcome::Error(_)), "{broken:?}");
    let again = rt
        .invoke(route_event("$default", "rc2", Some("user-s"), None, None))
        .await;
    assert!(matches!(again, Outcome::Response(_)));
    start_times.push((handlers::DEFAULT, first_poll(&rt, &f)));
    drop(f);

    for (handler, ms) in start_times {
        eprintln!("start → first Runtime API poll (debug build): {handler} {ms:.1} ms");
    }
}

fn first_poll(rt: &RuntimeApi, f: &Function) -> f64 {
    let first = rt.state.first_poll.lock().unwrap().expect("polled");
    first.duration_since(f.started).as_secs_f64() * 1000.0
}

fn wait_exit(f: &mut Function, within: Duration) -> Option<(i32, String)> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = f.child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            f.child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return Some((status.code().unwrap_or(-1), stderr));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_setting_stops_the_binary_at_start_up() {
    let w = world().await;
    for handler in [
        handlers::AUTHORIZER,
        handlers::CONNECT,
        handlers::DISCONNECT,
        handlers::VOTE,
    ] {
        let full = w.values.for_handler(handler);
        for (name, _) in &full {
            let rt = RuntimeApi::start().await;
            let vars: Vec<_> = full.iter().filter(|(n, _)| n != name).cloned().collect();
            let mut f = spawn(handler, &rt, &vars);
            let exited = wait_exit(
                &mut f,
                Duration::from_secs(if OPTIONAL.contains(name) { 1 } else { 10 }),
            );
            if OPTIONAL.contains(name) {
                assert!(
                    exited.is_none(),
                    "{handler} without optional {name} exited: {exited:?}"
                );
                continue;
            }
            let (code, stderr) =
                exited.unwrap_or_else(|| panic!("{handler} without {name} kept running"));
            assert_ne!(code, 0);
            assert!(stderr.contains(name), "{handler} without {name}: {stderr}");
            assert_eq!(
                rt.state.polls.load(Ordering::SeqCst),
                0,
                "{handler} polled without {name}"
            );
        }
    }
    // A malformed value is named too.
    let rt = RuntimeApi::start().await;
    let mut vars = w.values.for_handler(handlers::VOTE);
    for (name, value) in vars.iter_mut() {
        if *name == env::NOTIFY_CONCURRENCY {
            *value = "0".into();
        }
    }
    let mut f = spawn(handlers::VOTE, &rt, &vars);
    let (code, stderr) = wait_exit(&mut f, Duration::from_secs(10)).expect("exits");
    assert_ne!(code, 0);
    assert!(stderr.contains("NOTIFY_CONCURRENCY=\"0\""), "{stderr}");
}
