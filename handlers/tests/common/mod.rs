//! Local stand-ins for the AWS parts the handlers talk to, all on 127.0.0.1:
//! RSA keys and JWTs made in the test, a JWKS server, a `@connections`
//! server, DynamoDB on moto_server, and a proxy that records the DynamoDB
//! calls made through it.
#![allow(dead_code)]

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
use sockstack_handlers::legacy::tables::{Table, connections};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

pub const REGION: &str = "us-east-1";

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

/// Fresh Connections and Profiles tables (unique names) on moto.
pub struct Tables {
    pub db: aws_sdk_dynamodb::Client,
    pub connections: String,
    pub profiles: String,
}

impl Tables {
    pub async fn create(prefix: &str) -> Tables {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
            Projection, ProjectionType, ScalarAttributeType,
        };
        let config = sdk_config(Some(&moto_endpoint())).await;
        let db = aws_sdk_dynamodb::Client::new(&config);
        let seq = TABLE_SEQ.fetch_add(1, Ordering::SeqCst);
        let unique = format!("{prefix}-{}-{seq}-{}", std::process::id(), now_ms());
        let mut names = HashMap::new();
        for table in Table::ALL {
            let name = format!("{}-{unique}", table.name());
            let mut attributes: BTreeSet<&str> = BTreeSet::from([table.partition_key()]);
            let mut create = db
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(table.partition_key())
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                );
            for (index, key) in table.indexes() {
                attributes.insert(key);
                create = create.global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(*index)
                        .key_schema(
                            KeySchemaElement::builder()
                                .attribute_name(*key)
                                .key_type(KeyType::Hash)
                                .build()
                                .unwrap(),
                        )
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                );
            }
            for attribute in attributes {
                create = create.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(attribute)
                        .attribute_type(ScalarAttributeType::S)
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
            names.insert(table, name);
        }
        Tables {
            db,
            connections: names[&Table::Connections].clone(),
            profiles: names[&Table::Profiles].clone(),
        }
    }

    /// A store over these tables using `db` (e.g. a client through the recording proxy).
    pub fn store_with(&self, db: aws_sdk_dynamodb::Client) -> sockstack_handlers::store::Store {
        sockstack_handlers::store::Store::new(db, &self.connections, &self.profiles)
    }

    pub fn store(&self) -> sockstack_handlers::store::Store {
        self.store_with(self.db.clone())
    }

    pub async fn connection_row(
        &self,
        id: &str,
    ) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.db
            .get_item()
            .table_name(&self.connections)
            .key(
                connections::CONNECTION_ID,
                AttributeValue::S(id.to_string()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    pub async fn profile_row(
        &self,
        user: &str,
    ) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.db
            .get_item()
            .table_name(&self.profiles)
            .key(
                sockstack_handlers::legacy::tables::profiles::USER_ID,
                AttributeValue::S(user.to_string()),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
    }

    /// The connection ids in the user's profile (empty when no row or no set).
    pub async fn profile_connections(&self, user: &str) -> BTreeSet<String> {
        self.profile_row(user)
            .await
            .and_then(|row| {
                row.get(sockstack_handlers::legacy::tables::profiles::CONNECTIONS)
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
            })
            .unwrap_or_default()
            .into_iter()
            .collect()
    }
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

/// A WebSocket route event as API Gateway sends it to a Lambda proxy integration.
pub fn route_event(
    route: &str,
    connection_id: &str,
    user: Option<&str>,
    team: Option<&str>,
    body: Option<&str>,
) -> Value {
    let mut authorizer = serde_json::Map::new();
    if let Some(user) = user {
        authorizer.insert("principalId".into(), json!(user));
        authorizer.insert("userId".into(), json!(user));
        authorizer.insert("email".into(), json!(format!("{user}@example.test")));
        authorizer.insert("teamId".into(), json!(team.unwrap_or("")));
        authorizer.insert("integrationLatency".into(), json!(12));
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
