//! The local WebSocket gateway: API Gateway's documented behaviour on one port.
//!
//! - `GET /{stage}` with a WebSocket upgrade: identity source missing → 401 without calling the authorizer; the
//!   authorizer's policy must allow `execute-api:Invoke` on the method ARN (else 403; an authorizer error →
//!   500); then the `$connect` integration runs *before* the 101, and a non-2xx from it rejects the handshake
//!   with that status.
//! - Messages: the route selection expression picks the route; non-JSON or unmatched messages go to `$default`;
//!   with no `$default` the client gets `{"message": "Forbidden", …}`; a function that fails or times out gets
//!   `{"message": "Internal server error", …}`; the socket stays open in both cases. Two-way routes send the
//!   function's `body` back. 32 KB frames, 128 KB messages (larger: close 1009). Idle timeout (restarted by
//!   every data frame from the client) and maximum connection time close with 1001.
//! - `$disconnect` runs on every close, from either side, with `disconnectStatusCode`/`disconnectReason`, and
//!   exactly once for every connection whose `$connect` succeeded, even when the client vanished before the
//!   upgrade completed (close code 1006).
//! - `POST`/`GET`/`DELETE /{stage}/@connections/{id}` answer as the management API does (200 / the
//!   connection's JSON / 204; 410 `GoneException` for an unknown, closed or not yet connected id; 413 over
//!   128 KB), with `x-amzn-ErrorType` on errors.
//! - `GET /` is the browser page, `GET /.sockstack/jwks.json` the local issuer's keys.

use super::events::{ConnectionContext, iso8601, now_ms, request_id};
use super::instances::{Invoke, Log};
use super::plan::{IdentitySource, Plan, RoutePlan};
use super::policy::{Verdict, evaluate};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

/// API Gateway's WebSocket frame limit.
pub const MAX_FRAME: usize = 32 * 1024;
/// API Gateway's WebSocket message limit (and `@connections` payload limit).
pub const MAX_MESSAGE: usize = 128 * 1024;

/// Connection time limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Close after this long without a data frame from the client.
    pub idle: Duration,
    /// Close this long after connecting.
    pub max_connection: Duration,
}

impl Default for Limits {
    /// AWS's: 10 minutes idle, 2 hours in all.
    fn default() -> Limits {
        Limits {
            idle: Duration::from_secs(600),
            max_connection: Duration::from_secs(7200),
        }
    }
}

enum Out {
    Message(Message),
    Close(u16, String),
    End,
}

struct Live {
    ctx: ConnectionContext,
    out: mpsc::UnboundedSender<Out>,
    last_active: AtomicI64,
    server_close: Mutex<Option<(u16, String)>>,
    kick: Notify,
}

impl Live {
    fn send(&self, message: Message) {
        let _ = self.out.send(Out::Message(message));
    }

    fn close(&self, code: u16, reason: &str) {
        let mut slot = self.server_close.lock().expect("lock");
        if slot.is_none() {
            *slot = Some((code, reason.to_string()));
            let _ = self.out.send(Out::Close(code, reason.to_string()));
            self.kick.notify_one();
        }
    }
}

/// The local issuer and the stack's token settings (`--auth local`).
pub struct LocalIssuer {
    /// The key.
    pub issuer: super::issuer::Issuer,
    /// The `iss` and `aud` tokens carry.
    pub settings: super::issuer::AuthSettings,
}

/// The gateway's state.
pub struct Gateway {
    plan: Plan,
    pools: BTreeMap<String, Arc<dyn Invoke>>,
    limits: Limits,
    issuer: Option<LocalIssuer>,
    log: Arc<dyn Log>,
    connections: Mutex<HashMap<String, Arc<Live>>>,
    seq: AtomicU64,
    shutdown: watch::Sender<bool>,
    in_flight: AtomicUsize,
    settled: Notify,
}

fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({"message": message}))).into_response();
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_str(error_type).unwrap_or(HeaderValue::from_static("Exception")),
    );
    response
}

fn handshake_refusal(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message}))).into_response()
}

fn new_connection_id() -> String {
    let mut bytes = [0u8; 11];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn is_capacity_error(e: &axum::Error) -> bool {
    use std::error::Error as _;
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<tungstenite::Error>() {
            return matches!(t, tungstenite::Error::Capacity(_));
        }
        source = s.source();
    }
    e.to_string().contains("Space limit exceeded")
}

/// The text a function's proxy answer sends back on a two-way route: its `body` (decoded when
/// `isBase64Encoded`).
fn reply_of(answer: &[u8]) -> Option<Message> {
    let value: Value = serde_json::from_slice(answer).ok()?;
    let body = value.get("body")?;
    let text = match body {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    if value.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .ok()?;
        return Some(Message::Binary(bytes.into()));
    }
    Some(Message::Text(text.into()))
}

impl Gateway {
    /// A gateway for `plan`, invoking `pools` (by function logical id).
    pub fn new(
        plan: Plan,
        pools: BTreeMap<String, Arc<dyn Invoke>>,
        limits: Limits,
        issuer: Option<LocalIssuer>,
        log: Arc<dyn Log>,
    ) -> Arc<Gateway> {
        Arc::new(Gateway {
            plan,
            pools,
            limits,
            issuer,
            log,
            connections: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            shutdown: watch::channel(false).0,
            in_flight: AtomicUsize::new(0),
            settled: Notify::new(),
        })
    }

    /// The HTTP routes.
    pub fn router(self: &Arc<Gateway>) -> Router {
        Router::new()
            .route("/", get(page))
            .route(super::issuer::JWKS_PATH, get(jwks))
            .route(super::issuer::TOKEN_PATH, get(mint))
            .route("/{stage}", get(upgrade))
            .route(
                "/{stage}/@connections/{id}",
                get(get_connection)
                    .post(post_connection)
                    .delete(delete_connection),
            )
            .with_state(self.clone())
    }

    /// How many sockets are open.
    pub fn open_connections(&self) -> usize {
        self.connections.lock().expect("lock").len()
    }

    /// Closes every socket (1001, "Going away") and waits until their `$disconnect` invocations have run
    /// (at most `wait`).
    pub async fn shutdown(&self, wait: Duration) {
        let _ = self.shutdown.send(true);
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.settled.notified();
            if self.open_connections() == 0 && self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline.into(), notified)
                .await
                .is_err()
            {
                return;
            }
        }
    }

    fn next_request_id(&self) -> String {
        request_id(self.seq.fetch_add(1, Ordering::SeqCst))
    }

    fn log_event(&self, id: &str, route: &str, function: &str, status: &str, started: Instant) {
        self.log.line(&format!(
            "{} {id} {route} -> {function} {status} {} ms",
            &iso8601(now_ms())[11..23],
            started.elapsed().as_millis()
        ));
    }

    async fn invoke(&self, function: &str, event: &Value) -> Result<Vec<u8>, String> {
        let pool = self
            .pools
            .get(function)
            .ok_or_else(|| format!("no function {function}"))?;
        Invoke::invoke(pool.as_ref(), event.to_string().into_bytes())
            .await
            .map_err(|e| e.to_string())
    }

    fn track(self: &Arc<Self>, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let g = self.clone();
        g.in_flight.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            task.await;
            g.in_flight.fetch_sub(1, Ordering::SeqCst);
            g.settled.notify_waiters();
        });
    }

    /// Authorizer and `$connect`; `Err` is the handshake's refusal.
    async fn open(&self, ctx: &mut ConnectionContext, started: Instant) -> Result<(), Response> {
        let connect = self.plan.routes.get("$connect");
        if let Some(route) = connect
            && route.authorized
            && let Some(authorizer) = &self.plan.authorizer
        {
            let present = authorizer.identity_sources.iter().all(|s| match s {
                IdentitySource::Query(name) => ctx
                    .query
                    .get(name)
                    .is_some_and(|v| v.iter().any(|x| !x.is_empty())),
                IdentitySource::Header(name) => ctx
                    .headers
                    .get(name)
                    .is_some_and(|v| v.iter().any(|x| !x.is_empty())),
            });
            let function = &authorizer.function;
            if !present {
                self.log_event(
                    &ctx.connection_id,
                    "$connect",
                    "(authorizer not called)",
                    "401 identity source missing",
                    started,
                );
                return Err(handshake_refusal(StatusCode::UNAUTHORIZED, "Unauthorized"));
            }
            let t = Instant::now();
            let answer = self
                .invoke(function, &ctx.authorizer_event(&self.next_request_id()))
                .await;
            let verdict = match answer {
                Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(v) => evaluate(&v, &ctx.method_arn()),
                    Err(e) => Verdict::Invalid(format!("not JSON: {e}")),
                },
                Err(e) => Verdict::Invalid(e),
            };
            match verdict {
                Verdict::Allow(mut context) => {
                    context.insert(
                        "integrationLatency".into(),
                        json!(t.elapsed().as_millis() as u64),
                    );
                    ctx.authorizer = Some(context);
                }
                Verdict::Deny => {
                    self.log_event(
                        &ctx.connection_id,
                        "$connect",
                        function,
                        "403 denied by the authorizer",
                        started,
                    );
                    return Err(handshake_refusal(StatusCode::FORBIDDEN, "Forbidden"));
                }
                Verdict::Invalid(why) => {
                    self.log_event(
                        &ctx.connection_id,
                        "$connect",
                        function,
                        &format!("500 authorizer error: {why}"),
                        started,
                    );
                    return Err(handshake_refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error",
                    ));
                }
            }
        }
        if let Some(route) = connect {
            let event = ctx.connect_event(&self.next_request_id());
            match self.invoke(&route.function, &event).await {
                Ok(bytes) => {
                    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let status = answer
                        .get("statusCode")
                        .and_then(Value::as_u64)
                        .unwrap_or(200) as u16;
                    if !(200..300).contains(&status) {
                        self.log_event(
                            &ctx.connection_id,
                            "$connect",
                            &route.function,
                            &format!("{status} rejected by $connect"),
                            started,
                        );
                        let status = StatusCode::from_u16(status)
                            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                        let body = answer
                            .get("body")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        return Err((status, body).into_response());
                    }
                    self.log_event(
                        &ctx.connection_id,
                        "$connect",
                        &route.function,
                        &status.to_string(),
                        started,
                    );
                }
                Err(e) => {
                    self.log_event(
                        &ctx.connection_id,
                        "$connect",
                        &route.function,
                        &format!("500 {e}"),
                        started,
                    );
                    return Err(handshake_refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error",
                    ));
                }
            }
        }
        Ok(())
    }

    fn live(&self, id: &str) -> Option<Arc<Live>> {
        self.connections.lock().expect("lock").get(id).cloned()
    }

    async fn run(self: Arc<Self>, socket: WebSocket, mut admitted: Admitted) {
        let ctx = admitted.take_context();
        let id = ctx.connection_id.clone();
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        let live = Arc::new(Live {
            ctx,
            out: tx,
            last_active: AtomicI64::new(now_ms()),
            server_close: Mutex::new(None),
            kick: Notify::new(),
        });
        self.connections
            .lock()
            .expect("lock")
            .insert(id.clone(), live.clone());
        // The socket is open now, so shutdown waits for it by itself.
        drop(admitted);
        let writer = tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                match out {
                    Out::Message(m) => {
                        if sink.send(m).await.is_err() {
                            break;
                        }
                    }
                    Out::Close(code, reason) => {
                        let frame = CloseFrame {
                            code,
                            reason: reason.into(),
                        };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                    Out::End => break,
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
        });
        let mut shutdown = self.shutdown.subscribe();
        let max_deadline = tokio::time::Instant::now() + self.limits.max_connection;
        let mut idle_deadline = tokio::time::Instant::now() + self.limits.idle;
        let (code, reason) = loop {
            if *shutdown.borrow() {
                live.close(1001, "Going away");
            }
            tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        idle_deadline = tokio::time::Instant::now() + self.limits.idle;
                        live.last_active.store(now_ms(), Ordering::SeqCst);
                        let g = self.clone();
                        let l = live.clone();
                        let body = text.to_string();
                        self.track(async move { g.on_message(&l, body, false).await });
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        idle_deadline = tokio::time::Instant::now() + self.limits.idle;
                        live.last_active.store(now_ms(), Ordering::SeqCst);
                        let g = self.clone();
                        let l = live.clone();
                        let body = base64::engine::general_purpose::STANDARD.encode(&bytes);
                        self.track(async move { g.on_message(&l, body, true).await });
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        break match frame {
                            Some(f) => (f.code, f.reason.to_string()),
                            None => (1005, String::new()),
                        };
                    }
                    Some(Err(e)) if is_capacity_error(&e) => {
                        live.close(1009, "Message too big");
                        break (1009, "Message too big".to_string());
                    }
                    Some(Err(e)) => break (1006, e.to_string()),
                    None => break (1006, "Connection closed abnormally".to_string()),
                },
                _ = live.kick.notified() => {
                    break live.server_close.lock().expect("lock").clone().unwrap_or((1000, String::new()));
                }
                _ = tokio::time::sleep_until(idle_deadline) => live.close(1001, "Going away"),
                _ = tokio::time::sleep_until(max_deadline) => live.close(1001, "Going away"),
                _ = shutdown.changed() => live.close(1001, "Going away"),
            }
        };
        self.connections.lock().expect("lock").remove(&id);
        let _ = live.out.send(Out::End);
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
        self.disconnect(live.ctx.clone(), code, reason);
    }

    /// Runs `$disconnect` for a connection whose `$connect` succeeded (once per connection: see [`Admitted`]).
    fn disconnect(self: &Arc<Self>, ctx: ConnectionContext, code: u16, reason: String) {
        if let Some(route) = self.plan.routes.get("$disconnect").cloned() {
            let g = self.clone();
            self.track(async move {
                let started = Instant::now();
                let event = ctx.disconnect_event(&g.next_request_id(), code, &reason);
                let status = match g.invoke(&route.function, &event).await {
                    Ok(_) => format!("200 (close {code})"),
                    Err(e) => format!("error: {e}"),
                };
                g.log_event(
                    &ctx.connection_id,
                    "$disconnect",
                    &route.function,
                    &status,
                    started,
                );
            });
        } else {
            self.settled.notify_waiters();
        }
    }

    fn route_for(&self, body: &str, binary: bool) -> Option<&RoutePlan> {
        let selected = (!binary)
            .then(|| self.plan.selection.select(body))
            .flatten()
            .filter(|k| k != "$connect" && k != "$disconnect");
        selected
            .and_then(|k| self.plan.routes.get(&k))
            .or_else(|| self.plan.routes.get("$default"))
    }

    async fn on_message(&self, live: &Live, body: String, binary: bool) {
        let started = Instant::now();
        let request_id = self.next_request_id();
        let id = &live.ctx.connection_id;
        let Some(route) = self.route_for(&body, binary) else {
            live.send(Message::Text(
                json!({"message": "Forbidden", "connectionId": id, "requestId": request_id})
                    .to_string()
                    .into(),
            ));
            self.log_event(id, "(no route)", "-", "Forbidden", started);
            return;
        };
        let message_id = self.next_request_id();
        let event = live
            .ctx
            .message_event(&route.key, &request_id, &message_id, &body, binary);
        match self.invoke(&route.function, &event).await {
            Ok(answer) => {
                if route.two_way
                    && let Some(reply) = reply_of(&answer)
                {
                    live.send(reply);
                }
                let status = serde_json::from_slice::<Value>(&answer)
                    .ok()
                    .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
                    .unwrap_or(200);
                self.log_event(
                    id,
                    &route.key,
                    &route.function,
                    &status.to_string(),
                    started,
                );
            }
            Err(e) => {
                live.send(Message::Text(
                    json!({"message": "Internal server error", "connectionId": id, "requestId": request_id})
                        .to_string()
                        .into(),
                ));
                self.log_event(
                    id,
                    &route.key,
                    &route.function,
                    &format!("error: {e}"),
                    started,
                );
            }
        }
    }
}

async fn page(State(g): State<Arc<Gateway>>) -> Html<String> {
    Html(include_str!("page.html").replace("__STAGE__", g.plan.stage()))
}

async fn jwks(State(g): State<Arc<Gateway>>) -> Response {
    match &g.issuer {
        Some(local) => axum::Json(local.issuer.jwks()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /.sockstack/token?sub=alice&room=blue`: a token of the local issuer with these claims (what
/// `sockstack dev token --claim …` prints), for the browser page.
async fn mint(
    State(g): State<Arc<Gateway>>,
    Query(claims): Query<Vec<(String, String)>>,
) -> Response {
    let Some(local) = &g.issuer else {
        return (
            StatusCode::NOT_FOUND,
            "no local issuer: dev runs with --auth stack",
        )
            .into_response();
    };
    match local
        .issuer
        .token(&local.settings, &claims, now_ms() / 1000, 3600)
    {
        Ok(token) => token.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

async fn upgrade(
    State(g): State<Arc<Gateway>>,
    Path(stage): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if stage != g.plan.stage() {
        return handshake_refusal(StatusCode::FORBIDDEN, "Forbidden");
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let started = Instant::now();
    let mut header_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &headers {
        header_map
            .entry(name.as_str().to_string())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let mut query_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in query {
        query_map.entry(k).or_default().push(v);
    }
    let mut ctx = ConnectionContext {
        connection_id: new_connection_id(),
        connected_at: now_ms(),
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        api_id: g.plan.locals.api_id.clone(),
        stage: g.plan.stage().to_string(),
        domain_name: g.plan.locals.gateway.clone(),
        headers: header_map,
        query: query_map,
        authorizer: None,
    };
    // The authorizer and `$connect` run in a task of their own, so a client that goes away meanwhile (which
    // drops this handler) cannot cancel them halfway: once `$connect` has succeeded, the connection is
    // `Admitted` and gets its `$disconnect` whatever happens to the upgrade.
    let admit = {
        let g = g.clone();
        tokio::spawn(async move {
            g.open(&mut ctx, started).await?;
            Ok::<_, Response>(Admitted::new(g.clone(), ctx))
        })
    };
    let admitted = match admit.await {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(refusal)) => return refusal,
        Err(_) => {
            return handshake_refusal(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let g2 = g.clone();
    // A failed upgrade (the client gone between the 101 and the upgrade's completion) drops this callback
    // unrun, and with it `admitted`, which runs `$disconnect`.
    ws.max_frame_size(MAX_FRAME)
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| g2.run(socket, admitted))
}

/// A connection whose `$connect` succeeded. It gets exactly one `$disconnect`: from [`Gateway::run`] when the
/// socket closes, or, when the upgrade never completes (the client vanished after `$connect`), from this
/// guard's drop, with close code 1006.
struct Admitted {
    gateway: Arc<Gateway>,
    ctx: Option<ConnectionContext>,
}

impl Admitted {
    /// Admits a connection: until it is dropped, [`Gateway::shutdown`] waits for it, so a shutdown between
    /// `$connect` and the socket's registration still closes it and runs its `$disconnect`.
    fn new(gateway: Arc<Gateway>, ctx: ConnectionContext) -> Admitted {
        gateway.in_flight.fetch_add(1, Ordering::SeqCst);
        Admitted {
            gateway,
            ctx: Some(ctx),
        }
    }

    /// The connection's context, taken by [`Gateway::run`], which runs `$disconnect` from then on.
    fn take_context(&mut self) -> ConnectionContext {
        self.ctx
            .take()
            .expect("an admitted connection has its context")
    }
}

impl Drop for Admitted {
    /// Runs `$disconnect` unless [`Gateway::run`] took the connection over. (Outside a runtime, while
    /// dev itself is torn down, no function is left to invoke.)
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            self.gateway.log_event(
                &ctx.connection_id,
                "$connect",
                "-",
                "client gone before the upgrade completed",
                Instant::now(),
            );
            self.gateway
                .disconnect(ctx, 1006, "Connection closed abnormally".to_string());
        }
        // `disconnect` has taken its own count by now, so the total never passes through zero early.
        self.gateway.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.gateway.settled.notify_waiters();
    }
}

fn gone() -> Response {
    error_response(StatusCode::GONE, "GoneException", "Gone")
}

/// The management API's refusal of a path on another stage.
fn wrong_stage(g: &Gateway, stage: &str) -> Option<Response> {
    (stage != g.plan.stage())
        .then(|| error_response(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden"))
}

async fn post_connection(
    State(g): State<Arc<Gateway>>,
    Path((stage, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(r) = wrong_stage(&g, &stage) {
        return r;
    }
    if body.len() > MAX_MESSAGE {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            "Request entity too large",
        );
    }
    let Some(live) = g.live(&id) else {
        return gone();
    };
    let message = match String::from_utf8(body.to_vec()) {
        Ok(text) => Message::Text(text.into()),
        Err(_) => Message::Binary(body),
    };
    live.send(message);
    StatusCode::OK.into_response()
}

async fn get_connection(
    State(g): State<Arc<Gateway>>,
    Path((stage, id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = wrong_stage(&g, &stage) {
        return r;
    }
    let Some(live) = g.live(&id) else {
        return gone();
    };
    let mut identity = serde_json::Map::new();
    identity.insert("sourceIp".into(), json!(live.ctx.source_ip));
    if let Some(agent) = &live.ctx.user_agent {
        identity.insert("userAgent".into(), json!(agent));
    }
    axum::Json(json!({
        "connectedAt": iso8601(live.ctx.connected_at),
        "identity": identity,
        "lastActiveAt": iso8601(live.last_active.load(Ordering::SeqCst)),
    }))
    .into_response()
}

async fn delete_connection(
    State(g): State<Arc<Gateway>>,
    Path((stage, id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = wrong_stage(&g, &stage) {
        return r;
    }
    let Some(live) = g.live(&id) else {
        return gone();
    };
    live.close(1000, "Closed by @connections DELETE");
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_way_replies_are_the_proxy_body() {
        assert_eq!(
            reply_of(br#"{"statusCode":200,"body":"{\"ok\":true}"}"#),
            Some(Message::Text("{\"ok\":true}".into()))
        );
        assert_eq!(reply_of(br#"{"statusCode":200}"#), None);
        assert_eq!(
            reply_of(br#"{"body":"aGk=","isBase64Encoded":true}"#),
            Some(Message::Binary(Bytes::from_static(b"hi")))
        );
    }

    #[test]
    fn connection_ids_look_like_aws_ones() {
        let id = new_connection_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
        assert_ne!(id, new_connection_id());
    }
}
