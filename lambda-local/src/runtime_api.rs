//! A local Lambda Runtime API for one execution environment (one function process).
//!
//! It serves what `lambda_runtime` (and any custom runtime) calls, on `127.0.0.1`:
//! `GET /2018-06-01/runtime/invocation/next`, `POST …/invocation/{id}/response`,
//! `POST …/invocation/{id}/error` and `POST /2018-06-01/runtime/init/error`, with the headers Lambda sends
//! (`Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`,
//! `Lambda-Runtime-Trace-Id`). [`lambda_environment`] gives the variables Lambda sets on the process.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use sockstack_lambda_local::{FunctionIdentity, Outcome, RuntimeApi};
//! use sockstack_lambda_local::{function_command, spawn_dying_with_parent};
//! use std::path::Path;
//! use std::time::Duration;
//! let function = FunctionIdentity::local("test-echo", 128);
//! let api = RuntimeApi::start(&function).await?;
//! let binary = Path::new("target/debug/echo");
//! let mut command = function_command(binary, &function, &api.address(), &[]);
//! let mut child = spawn_dying_with_parent(&mut command)?;
//! match api.invoke(br#"{"body":"hi"}"#.to_vec(), Duration::from_secs(10)).await {
//!     Outcome::Response(bytes) => println!("{}", String::from_utf8_lossy(&bytes)),
//!     other => println!("{other:?}"),
//! }
//! child.kill().await?;
//! # Ok(()) }
//! ```

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};

/// The region every local function runs in.
pub const REGION: &str = "us-east-1";
/// The account id of local ARNs.
pub const ACCOUNT: &str = "000000000000";

/// What identifies a function to its runtime: name, ARN, memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionIdentity {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// The ARN sent as `Lambda-Runtime-Invoked-Function-Arn`.
    pub arn: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    pub memory_mb: u32,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group: String,
    /// Extra variables Lambda would set from the function's configuration (e.g. `AWS_LAMBDA_LOG_FORMAT`).
    pub extra: Vec<(String, String)>,
}

impl FunctionIdentity {
    /// A function named `name` in the local region and account.
    pub fn local(name: &str, memory_mb: u32) -> FunctionIdentity {
        FunctionIdentity {
            name: name.to_string(),
            arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
            memory_mb,
            log_group: format!("/aws/lambda/{name}"),
            extra: Vec::new(),
        }
    }
}

/// The variables Lambda sets on a function process, for a Runtime API at `runtime_address` (`host:port`):
/// the `AWS_LAMBDA_*` set `lambda_runtime` reads, the region, fake credentials (nothing local checks them),
/// `AWS_EC2_METADATA_DISABLED=true`, `_HANDLER`, `LAMBDA_TASK_ROOT` and a `PATH`. The function's own
/// `Environment` goes on top.
pub fn lambda_environment(
    function: &FunctionIdentity,
    runtime_address: &str,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_address.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", function.log_group.clone()),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("local/[$LATEST]{}", std::process::id()),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_DEFAULT_REGION", REGION.to_string()),
        ("AWS_ACCESS_KEY_ID", "local".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_string()),
        ("AWS_SESSION_TOKEN", "local".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("_HANDLER", "bootstrap".to_string()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_string()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("TZ", ":UTC".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    vars.extend(function.extra.iter().cloned());
    vars
}

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's response body, as posted.
    Response(Vec<u8>),
    /// The function reported an error (`…/error`).
    Error {
        /// `errorType` (or the `Lambda-Runtime-Function-Error-Type` header).
        error_type: String,
        /// `errorMessage`.
        error_message: String,
    },
    /// No answer within the timeout, counted from when the function took the event.
    Timeout,
}

struct Pending {
    event: Vec<u8>,
    id: String,
    timeout: Duration,
    taken: oneshot::Sender<()>,
}

#[derive(Default)]
struct Counters {
    polls: AtomicUsize,
}

struct Shared {
    arn: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    answers: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    counters: Counters,
}

/// A Runtime API server on a free `127.0.0.1` port. It stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
    seq: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn epoch_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

async fn next(State(s): State<Arc<Shared>>) -> Response {
    s.counters.polls.fetch_add(1, Ordering::SeqCst);
    s.first_poll
        .lock()
        .expect("lock")
        .get_or_insert_with(Instant::now);
    s.polled.notify_waiters();
    let pending = s.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    let deadline = epoch_ms() + pending.timeout.as_millis();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", header(&pending.id));
    headers.insert("lambda-runtime-deadline-ms", header(&deadline.to_string()));
    headers.insert("lambda-runtime-invoked-function-arn", header(&s.arn));
    headers.insert(
        "lambda-runtime-trace-id",
        header(&format!(
            "Root=1-{:08x}-{:024x};Sampled=0",
            deadline / 1000,
            deadline
        )),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let _ = pending.taken.send(());
    (StatusCode::OK, headers, pending.event).into_response()
}

fn answer(s: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match s.answers.lock().expect("lock").remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    answer(&s, &id, Outcome::Response(body.to_vec()))
}

async fn error(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error_type = parsed["errorType"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unhandled".to_string());
    let error_message = parsed["errorMessage"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    answer(
        &s,
        &id,
        Outcome::Error {
            error_type,
            error_message,
        },
    )
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    let parsed: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    *s.init_error.lock().expect("lock") = Some(parsed);
    s.polled.notify_waiters();
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Starts a Runtime API for `function` on a free port of 127.0.0.1.
    pub async fn start(function: &FunctionIdentity) -> std::io::Result<RuntimeApi> {
        let (events, queue) = mpsc::channel(64);
        let shared = Arc::new(Shared {
            arn: function.arn.clone(),
            queue: tokio::sync::Mutex::new(queue),
            answers: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            first_poll: Mutex::new(None),
            polled: Notify::new(),
            counters: Counters::default(),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(RuntimeApi {
            addr,
            events,
            shared,
            seq: AtomicU64::new(0),
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Sends `event` to the function and waits for its answer. The timeout counts from when the function takes
    /// the event from `next` (as Lambda's does), so waiting for a process to start is not part of it; callers
    /// race this with the process exiting.
    pub async fn invoke(&self, event: Vec<u8>, timeout: Duration) -> Outcome {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:08x}-{:04x}-0000-0000-{:012x}", std::process::id(), 0, n);
        let (answer_tx, answer_rx) = oneshot::channel();
        let (taken_tx, taken_rx) = oneshot::channel();
        self.shared
            .answers
            .lock()
            .expect("lock")
            .insert(id.clone(), answer_tx);
        let pending = Pending {
            event,
            id: id.clone(),
            timeout,
            taken: taken_tx,
        };
        if self.events.send(pending).await.is_err() || taken_rx.await.is_err() {
            self.shared.answers.lock().expect("lock").remove(&id);
            return Outcome::Timeout;
        }
        match tokio::time::timeout(timeout, answer_rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => {
                self.shared.answers.lock().expect("lock").remove(&id);
                Outcome::Timeout
            }
        }
    }

    /// Waits until the function has polled `next` at least once, or reported an init error.
    pub async fn wait_ready(&self) {
        loop {
            let notified = self.shared.polled.notified();
            if self.polls() > 0 || self.init_error().is_some() {
                return;
            }
            notified.await;
        }
    }

    /// What the function posted to `init/error`, if anything.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().expect("lock").clone()
    }

    /// How many times the function has called `next`.
    pub fn polls(&self) -> usize {
        self.shared.counters.polls.load(Ordering::SeqCst)
    }

    /// When the function first called `next`.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().expect("lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal runtime client over raw HTTP: poll, answer with `answer(event)`.
    async fn fake_runtime(addr: String, answer: fn(&str, &str) -> (String, String)) {
        let client = reqwest::Client::new();
        loop {
            let Ok(r) = client
                .get(format!("http://{addr}/2018-06-01/runtime/invocation/next"))
                .send()
                .await
            else {
                return;
            };
            let id = r.headers()["lambda-runtime-aws-request-id"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(r.headers().contains_key("lambda-runtime-deadline-ms"));
            let body = r.text().await.unwrap();
            let (kind, out) = answer(&id, &body);
            if kind == "sleep" {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            client
                .post(format!(
                    "http://{addr}/2018-06-01/runtime/invocation/{id}/{kind}"
                ))
                .body(out)
                .send()
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn responses_errors_and_timeouts_reach_the_invoker() {
        let f = FunctionIdentity::local("t", 128);
        let api = RuntimeApi::start(&f).await.unwrap();
        tokio::spawn(fake_runtime(api.address(), |_, body| match body {
            "\"fail\"" => (
                "error".into(),
                r#"{"errorType":"Boom","errorMessage":"it broke"}"#.into(),
            ),
            "\"slow\"" => ("sleep".into(), String::new()),
            other => ("response".into(), format!("{{\"echo\":{other}}}")),
        }));
        api.wait_ready().await;
        let ok = api.invoke(b"\"hi\"".to_vec(), Duration::from_secs(5)).await;
        assert_eq!(ok, Outcome::Response(br#"{"echo":"hi"}"#.to_vec()));
        let err = api
            .invoke(b"\"fail\"".to_vec(), Duration::from_secs(5))
            .await;
        assert_eq!(
            err,
            Outcome::Error {
                error_type: "Boom".into(),
                error_message: "it broke".into()
            }
        );
        let slow = api
            .invoke(b"\"slow\"".to_vec(), Duration::from_millis(100))
            .await;
        assert_eq!(slow, Outcome::Timeout);
        assert!(api.polls() >= 3);
    }

    #[test]
    fn the_environment_has_what_lambda_runtime_requires() {
        let f = FunctionIdentity::local("fn", 256);
        let vars: HashMap<_, _> = lambda_environment(&f, "127.0.0.1:9").into_iter().collect();
        for name in [
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
        ] {
            assert!(vars.contains_key(name), "{name}");
        }
        assert_eq!(vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(vars["AWS_EC2_METADATA_DISABLED"], "true");
    }
}
