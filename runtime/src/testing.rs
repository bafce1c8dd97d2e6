//! Local stand-ins for the AWS parts handlers talk to, all on 127.0.0.1, for
//! handler crates' tests (feature `testing`): RSA keys and JWTs made in the
//! test, a JWKS server, a `@connections` server, DynamoDB on moto_server
//! (`MOTO_ENDPOINT`, or `moto_server` on `PATH`), a proxy that records the
//! DynamoDB calls made through it, and [`Function`]: a handler binary run as
//! Lambda runs it, under the local Lambda Runtime API `sockstack dev` uses
//! (crate `sockstack-lambda-local`). No mocks: each is a real HTTP server.
#![allow(dead_code, missing_docs)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Serves `router` on a free 127.0.0.1 port for the rest of the test's runtime.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

// ---------------------------------------------------------------- keys and tokens

/// An RSA signing key with a key id.
pub struct RsaKey {
    pub kid: String,
    pair: KeyPair,
}

impl RsaKey {
    pub fn generate(kid: &str) -> RsaKey {
        RsaKey {
            kid: kid.to_string(),
            pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
        }
    }

    /// The public key as a JWK (with `alg` and `use` unless overridden).
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key's DER bytes (what an attacker would use as an HMAC secret).
    pub fn public_der(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// A compact JWS with this header and claims, signed RS256.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{message}.{}", B64.encode(sig))
    }

    /// An RS256 token with `kid` = this key's id.
    pub fn token(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }
}

/// A token signed with HMAC-SHA256 using `secret`.
pub fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", B64.encode(tag.as_ref()))
}

/// An unsigned token (`alg` as given, empty signature).
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

pub const ISSUER: &str = "https://issuer.test/pool";
pub const AUDIENCE: &str = "app-client";

/// Claims of a valid Cognito-like id token.
pub fn id_claims(sub: &str) -> Value {
    let now = now_secs();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "email": format!("{sub}@example.test"),
        "custom:team": "team-1",
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
    })
}

// ---------------------------------------------------------------- JWKS server

#[derive(Default)]
pub struct JwksState {
    pub keys: Mutex<Vec<Value>>,
    pub down: AtomicBool,
    pub hits: AtomicUsize,
}

/// A JWKS server: `GET /jwks` returns the current keys, or 503 while down.
pub struct JwksServer {
    pub url: String,
    pub state: Arc<JwksState>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: Vec<Value>) -> JwksServer {
        let state = Arc::new(JwksState::default());
        *state.keys.lock().unwrap() = keys;
        let router = Router::new()
            .route(
                "/jwks",
                axum::routing::get(|State(s): State<Arc<JwksState>>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    if s.down.load(Ordering::SeqCst) {
                        return (StatusCode::SERVICE_UNAVAILABLE, "down".to_string())
                            .into_response();
                    }
                    let keys = s.keys.lock().unwrap().clone();
                    axum::Json(json!({ "keys": keys })).into_response()
                }),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        JwksServer {
            url: format!("http://{addr}/jwks"),
            state,
            task,
        }
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Stops the server: its port refuses connections from now on.
    pub fn stop(&self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------- @connections server

/// How the `@connections` server answers a connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Ok,
    Gone,
    TooLarge,
    /// 429 this many times, then 200.
    Throttle(usize),
    /// 500 this many times, then 200.
    Fail(usize),
    /// Always 429.
    AlwaysThrottle,
    /// 403 (not retryable).
    Forbidden,
}

#[derive(Default)]
pub struct ConnectionsState {
    pub behaviours: Mutex<HashMap<String, Behaviour>>,
    /// Every request: (connection id, status answered, body).
    pub requests: Mutex<Vec<(String, u16, Vec<u8>)>>,
    /// Requests without a SigV4 Authorization header, or on a wrong path.
    pub bad: Mutex<Vec<String>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub delay_ms: AtomicUsize,
}

/// A `@connections` management API at `http://127.0.0.1:PORT/{stage}`.
pub struct ConnectionsServer {
    pub callback_url: String,
    pub state: Arc<ConnectionsState>,
}

pub const STAGE: &str = "test";

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn post_to_connection(
    State(s): State<Arc<ConnectionsState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri.path().to_string();
    let prefix = format!("/{STAGE}/@connections/");
    let Some(raw_id) = path.strip_prefix(&prefix) else {
        s.bad.lock().unwrap().push(format!("path {path}"));
        return StatusCode::NOT_FOUND;
    };
    let id = percent_decode(raw_id);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(auth.starts_with("AWS4-HMAC-SHA256 Credential=")
        && auth.contains("/execute-api/aws4_request"))
    {
        s.bad
            .lock()
            .unwrap()
            .push(format!("unsigned request for {id}: {auth:?}"));
        return StatusCode::FORBIDDEN;
    }
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let status = {
        let mut behaviours = s.behaviours.lock().unwrap();
        let b = behaviours.entry(id.clone()).or_insert(Behaviour::Ok);
        match *b {
            Behaviour::Ok => 200,
            Behaviour::Gone => 410,
            Behaviour::TooLarge => 413,
            Behaviour::Forbidden => 403,
            Behaviour::AlwaysThrottle => 429,
            Behaviour::Throttle(0) | Behaviour::Fail(0) => {
                *b = Behaviour::Ok;
                200
            }
            Behaviour::Throttle(n) => {
                *b = Behaviour::Throttle(n - 1);
                429
            }
            Behaviour::Fail(n) => {
                *b = Behaviour::Fail(n - 1);
                500
            }
        }
    };
    s.requests.lock().unwrap().push((id, status, body.to_vec()));
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    StatusCode::from_u16(status).unwrap()
}

impl ConnectionsServer {
    pub async fn start() -> ConnectionsServer {
        let state = Arc::new(ConnectionsState::default());
        let router = Router::new()
            .fallback(axum::routing::post(post_to_connection))
            .with_state(state.clone());
        let addr = serve(router).await;
        ConnectionsServer {
            callback_url: format!("http://{addr}/{STAGE}"),
            state,
        }
    }

    pub fn set(&self, id: &str, behaviour: Behaviour) {
        self.state
            .behaviours
            .lock()
            .unwrap()
            .insert(id.to_string(), behaviour);
    }

    pub fn set_delay(&self, ms: usize) {
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<(String, u16, Vec<u8>)> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Connection id → number of 200 answers.
    pub fn delivered(&self) -> BTreeMap<String, usize> {
        let mut map = BTreeMap::new();
        for (id, status, _) in self.requests() {
            if status == 200 {
                *map.entry(id).or_insert(0) += 1;
            }
        }
        map
    }

    pub fn attempts(&self, id: &str) -> usize {
        self.requests().iter().filter(|(i, _, _)| i == id).count()
    }

    pub fn bad(&self) -> Vec<String> {
        self.state.bad.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------- moto

struct Moto {
    endpoint: String,
    /// The shell that runs moto_server and stops it when this process exits.
    _watchdog: Option<std::process::Child>,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn find_moto() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("moto_server");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let venv = workspace_root().join(".venv/bin/moto_server");
    venv.is_file().then_some(venv)
}

// The watchdog shell is never waited for: it ends with this process.
#[allow(clippy::zombie_processes)]
fn start_moto() -> Moto {
    if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT")
        && !endpoint.is_empty()
    {
        return Moto {
            endpoint,
            _watchdog: None,
        };
    }
    let moto = find_moto().unwrap_or_else(|| {
        panic!(
            "moto_server not found on PATH nor in {}/.venv/bin: run `make tools` \
             (or run the tests through `scripts/with-moto`)",
            workspace_root().display()
        )
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A watchdog shell stops moto when this test process exits (the harness
    // never drops statics), or when moto dies on its own.
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.3; done; \
         kill $m 2>/dev/null; wait $m 2>/dev/null",
        parent = std::process::id()
    );
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&moto)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Moto {
                endpoint,
                _watchdog: Some(watchdog),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "moto_server ({}) did not listen on port {port} within 15 s",
        moto.display()
    );
}

/// The endpoint of the moto_server this test process uses.
pub fn moto_endpoint() -> String {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto).endpoint.clone()
}

/// The region of every local client and function.
pub use sockstack_lambda_local::REGION;

/// SDK configuration for local endpoints: fixed region and test credentials.
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testkey",
            "testsecret",
            None,
            None,
            "test",
        ));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

static TABLE_SEQ: AtomicUsize = AtomicUsize::new(0);

/// A table name no other test uses: `{prefix}-{pid}-{seq}-{ms}`.
pub fn unique_name(prefix: &str) -> String {
    let seq = TABLE_SEQ.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}-{}-{seq}-{}", std::process::id(), now_ms())
}

/// A DynamoDB client of moto.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(Some(&moto_endpoint())).await)
}

/// A key schema: `(attribute, type)` pairs, partition key first, types `S`, `N` or `B`.
pub type Key<'a> = &'a [(&'a str, &'a str)];

fn key_elements(
    key: Key<'_>,
    attributes: &mut BTreeMap<String, String>,
) -> Vec<aws_sdk_dynamodb::types::KeySchemaElement> {
    use aws_sdk_dynamodb::types::{KeySchemaElement, KeyType};
    key.iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            attributes.insert(name.to_string(), ty.to_string());
            KeySchemaElement::builder()
                .attribute_name(*name)
                .key_type(if i == 0 {
                    KeyType::Hash
                } else {
                    KeyType::Range
                })
                .build()
                .unwrap()
        })
        .collect()
}

/// Creates an on-demand table on moto with this key and global secondary
/// indexes (`(index name, key)`, projection ALL); returns its unique name.
pub async fn create_table(
    db: &aws_sdk_dynamodb::Client,
    prefix: &str,
    key: Key<'_>,
    indexes: &[(&str, Key<'_>)],
) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, Projection, ProjectionType,
        ScalarAttributeType,
    };
    let name = unique_name(prefix);
    let mut attributes = BTreeMap::new();
    let mut create = db
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_elements(key, &mut attributes)));
    for (index, index_key) in indexes {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(*index)
                .set_key_schema(Some(key_elements(index_key, &mut attributes)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    for (attribute, ty) in attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(ty.as_str()))
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap_or_else(|e| {
        panic!(
            "creating table {name} on moto: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(e)
        )
    });
    name
}

/// A fresh registry table on moto (schema of `contract::registry`) with an
/// index per `(context key, index name)`; returns its name.
pub async fn create_registry(db: &aws_sdk_dynamodb::Client, indexes: &[(&str, &str)]) -> String {
    use sockstack_contract::registry::CONNECTION_ID;
    let keys: Vec<[(&str, &str); 1]> = indexes.iter().map(|(k, _)| [(*k, "S")]).collect();
    let gsis: Vec<(&str, Key<'_>)> = indexes
        .iter()
        .zip(&keys)
        .map(|((_, index), key)| (*index, &key[..]))
        .collect();
    create_table(db, "connections", &[(CONNECTION_ID, "S")], &gsis).await
}

/// A [`Registry`](sockstack_runtime::Registry) over `table` with these indexes, through `db`.
pub fn registry(
    db: aws_sdk_dynamodb::Client,
    table: &str,
    indexes: &[(&str, &str)],
) -> sockstack_runtime::Registry {
    sockstack_runtime::Registry::new(
        db,
        table,
        indexes.iter().map(|(k, i)| (k.to_string(), i.to_string())),
    )
}

/// A DynamoDB row: attribute name → value.
pub type Row = HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// The row with this key (consistent read), if any.
pub async fn get_row(
    db: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
) -> Option<Row> {
    let mut get = db.get_item().table_name(table).consistent_read(true);
    for (name, value) in key {
        get = get.key(*name, value.clone());
    }
    get.send().await.unwrap().item
}

/// The registry row of `connection_id`, if any.
pub async fn registry_row(
    db: &aws_sdk_dynamodb::Client,
    table: &str,
    connection_id: &str,
) -> Option<Row> {
    get_row(
        db,
        table,
        &[(
            sockstack_contract::registry::CONNECTION_ID,
            aws_sdk_dynamodb::types::AttributeValue::S(connection_id.to_string()),
        )],
    )
    .await
}

/// An attribute as a string (`S` and `N` as they are, others debug-printed).
pub fn attr(row: &Row, name: &str) -> Option<String> {
    row.get(name).map(|v| match v {
        aws_sdk_dynamodb::types::AttributeValue::S(s) => s.clone(),
        aws_sdk_dynamodb::types::AttributeValue::N(n) => n.clone(),
        other => format!("{other:?}"),
    })
}

// ---------------------------------------------------------------- recording proxy

/// One DynamoDB call seen by the proxy: (`dynamodb:Action`, table, index).
pub type Call = (String, String, Option<String>);

#[derive(Default)]
pub struct ProxyState {
    pub upstream: String,
    pub calls: Mutex<Vec<Call>>,
}

/// An HTTP proxy in front of moto that records every DynamoDB call
/// (`X-Amz-Target`, `TableName`, `IndexName`) it forwards.
pub struct RecordingProxy {
    pub endpoint: String,
    pub state: Arc<ProxyState>,
}

async fn forward(
    State(s): State<Arc<ProxyState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if let Some(action) = target.strip_prefix("DynamoDB_20120810.") {
        let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let table = parsed["TableName"].as_str().unwrap_or("").to_string();
        let index = parsed["IndexName"].as_str().map(str::to_string);
        s.calls
            .lock()
            .unwrap()
            .push((format!("dynamodb:{action}"), table, index));
    }
    let client = reqwest::Client::new();
    let mut request = client.post(format!("{}{}", s.upstream, uri.path()));
    for (name, value) in headers.iter() {
        if name != "host" && name != "content-length" {
            request = request.header(name.as_str(), value.as_bytes());
        }
    }
    let response = request.body(body).send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let mut out = HeaderMap::new();
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            out.insert(
                axum::http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                axum::http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
    }
    (status, out, response.bytes().await.unwrap())
}

impl RecordingProxy {
    pub async fn start(upstream: &str) -> RecordingProxy {
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_string(),
            calls: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(forward).with_state(state.clone());
        let addr = serve(router).await;
        RecordingProxy {
            endpoint: format!("http://{addr}"),
            state,
        }
    }

    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&sdk_config(Some(&self.endpoint)).await)
    }

    /// The calls recorded since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.state.calls.lock().unwrap())
    }
}

// ---------------------------------------------------------------- events

/// A WebSocket route event as API Gateway sends it to a Lambda proxy
/// integration. `principal` and `context` are what the authorizer answered
/// (`None`: a public connection).
pub fn route_event(
    route: &str,
    connection_id: &str,
    principal: Option<&str>,
    context: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let mut authorizer = serde_json::Map::new();
    if let Some(principal) = principal {
        authorizer.insert("principalId".into(), json!(principal));
        authorizer.insert("integrationLatency".into(), json!(12));
    }
    for (k, v) in context {
        authorizer.insert(k.to_string(), json!(v));
    }
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let mut event = json!({
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": "abc=",
            "requestTime": "28/Nov/2026:02:00:00 +0000",
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": now_ms() - 1000,
            "requestTimeEpoch": now_ms(),
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "req-1",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "connectionId": connection_id,
            "apiId": "abc123",
            "authorizer": authorizer,
        },
        "isBase64Encoded": false,
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// [`route_event`] as the typed event handlers take.
pub fn typed_route_event(
    route: &str,
    connection_id: &str,
    principal: Option<&str>,
    context: &[(&str, &str)],
    body: Option<&str>,
) -> sockstack_runtime::RouteEvent {
    serde_json::from_value(route_event(route, connection_id, principal, context, body)).unwrap()
}

/// The JSON body of a handler's answer.
pub fn body(r: &sockstack_runtime::Response) -> Value {
    match &r.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("no JSON body: {other:?}"),
    }
}

/// A `$connect` REQUEST authorizer event with `token` in the query string.
pub fn authorizer_event(token: &str) -> Value {
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/test/$connect",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {},
        "queryStringParameters": {"token": token},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "stage": STAGE,
            "connectedAt": now_ms(), "requestTimeEpoch": now_ms(), "requestId": "r",
            "connectionId": "c-auth", "apiId": "abc123", "identity": {"sourceIp": "127.0.0.1"}
        }
    })
}

// ---------------------------------------------------------------- function processes

/// The local Lambda Runtime API, Lambda's environment and function processes, as `sockstack dev` runs them:
/// for a test that needs more than [`Function`] (raw bytes, its own timeouts, several processes).
pub use sockstack_lambda_local as lambda_local;

/// How an invocation of a [`Function`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's response, as JSON (a JSON string if it was not JSON).
    Response(Value),
    /// The function reported an error (`…/error`).
    Error {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        error_message: String,
    },
}

impl Outcome {
    /// The JSON body of a route handler's response (panics on a function error).
    pub fn body(&self) -> Value {
        match self {
            Outcome::Response(r) => {
                serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap()
            }
            Outcome::Error { .. } => panic!("function error: {self:?}"),
        }
    }
}

/// How long [`Function::invoke`] waits for an answer (Lambda's timeout of a test function).
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A handler binary running the way Lambda runs it: a long-lived process polling its own local Runtime API
/// (the one `sockstack dev` uses), started with exactly the variables Lambda sets
/// ([`lambda_local::lambda_environment`]: `AWS_LAMBDA_FUNCTION_*`, fake credentials,
/// `AWS_EC2_METADATA_DISABLED=true`, …), `AWS_ENDPOINT_URL` = moto, and the test's own variables; nothing
/// else. The process is killed when this is dropped, and by the kernel when the test's thread ends.
pub struct Function {
    name: String,
    api: lambda_local::RuntimeApi,
    child: tokio::process::Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
}

enum Ended {
    Answered(lambda_local::Outcome),
    Exited(std::io::Result<std::process::ExitStatus>),
    NoAnswer,
}

impl Function {
    /// Starts the binary at `path` as function `test-{handler}` (128 MB) with `vars` on top of Lambda's
    /// variables. It does not wait for the process to poll: [`Function::invoke`] does.
    pub async fn start(path: &str, handler: &str, vars: &[(String, String)]) -> Function {
        let identity = lambda_local::FunctionIdentity::local(&format!("test-{handler}"), 128);
        let api = lambda_local::RuntimeApi::start(&identity)
            .await
            .expect("starting a local Runtime API");
        // Test only: DynamoDB (and every other AWS service) is moto.
        let mut environment = vec![("AWS_ENDPOINT_URL".to_string(), moto_endpoint())];
        environment.extend(vars.iter().cloned());
        let mut command = lambda_local::function_command(
            std::path::Path::new(path),
            &identity,
            &api.address(),
            &environment,
        );
        command.stdout(Stdio::null());
        let mut child = lambda_local::spawn_dying_with_parent(&mut command)
            .unwrap_or_else(|e| panic!("cannot run {path}: {e}"));
        let stderr: Arc<Mutex<Vec<u8>>> = Arc::default();
        let stderr_reader = child.stderr.take().map(|mut pipe| {
            let stderr = stderr.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut chunk = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    stderr.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            })
        });
        Function {
            name: identity.name,
            api,
            child,
            stderr,
            stderr_reader,
        }
    }

    /// Invokes the function with `event` and waits up to [`INVOKE_TIMEOUT`] for its answer. Panics, showing
    /// the function's standard error, when the process exits first or does not answer in time.
    pub async fn invoke(&mut self, event: Value) -> Outcome {
        let event = event.to_string().into_bytes();
        let ended = tokio::time::timeout(INVOKE_TIMEOUT, async {
            tokio::select! {
                outcome = self.api.invoke(event, INVOKE_TIMEOUT) => Ended::Answered(outcome),
                status = self.child.wait() => Ended::Exited(status),
            }
        })
        .await
        .unwrap_or(Ended::NoAnswer);
        match ended {
            Ended::Answered(lambda_local::Outcome::Response(bytes)) => Outcome::Response(
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
            ),
            Ended::Answered(lambda_local::Outcome::Error {
                error_type,
                error_message,
            }) => Outcome::Error {
                error_type,
                error_message,
            },
            Ended::Answered(lambda_local::Outcome::Timeout) | Ended::NoAnswer => panic!(
                "{} did not answer within {} s; its stderr so far:\n{}",
                self.name,
                INVOKE_TIMEOUT.as_secs(),
                self.stderr()
            ),
            Ended::Exited(status) => {
                let stderr = self.finish_stderr().await;
                panic!(
                    "{} exited ({status:?}) before answering; its stderr:\n{stderr}",
                    self.name
                )
            }
        }
    }

    /// Waits up to `within` for the process to exit on its own: its exit code (-1 if a signal ended it) and
    /// everything it wrote to stderr; `None` if it still runs.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<(i32, String)> {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .ok()?
            .expect("waiting for the function process");
        Some((status.code().unwrap_or(-1), self.finish_stderr().await))
    }

    /// What the process has written to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    async fn finish_stderr(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.await;
        }
        self.stderr()
    }

    /// How many times the process has asked its Runtime API for the `next` event.
    pub fn polls(&self) -> usize {
        self.api.polls()
    }

    /// The function's Runtime API (init error, first poll, raw invocations).
    pub fn runtime_api(&self) -> &lambda_local::RuntimeApi {
        &self.api
    }
}
