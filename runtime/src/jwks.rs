//! The JSON Web Key Set of the token issuer, fetched over HTTP and cached.
//!
//! Only keys that can verify RS256 signatures are kept (`kty: RSA`, `use`
//! absent or `sig`, `alg` absent or `RS256`, a `kid`, a modulus of at least
//! 2048 bits): the algorithm a token is checked with comes from here, never
//! from the token.
//!
//! Fetches are rate-limited: whatever asks (an unknown `kid`, keys older than
//! their refresh age), the endpoint is fetched at most once per
//! `min_refetch`, and concurrent callers share that one fetch. When a fetch
//! fails the keys already cached stay in use.

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Refetch at most this often by default (unknown `kid`s, failures, refreshes).
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(60);
/// Refresh cached keys that are older than this by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// A JWKS document larger than this is refused.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Timeout of one fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_MODULUS_BYTES: usize = 256;

/// Why a key could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The set (as last fetched) has no usable key with this `kid`.
    UnknownKid,
    /// No keys are cached and the endpoint could not be fetched.
    Unavailable(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::UnknownKid => f.write_str("kid not in the key set"),
            KeyError::Unavailable(why) => write!(f, "key set unavailable: {why}"),
        }
    }
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
}

/// A cached JWKS.
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    min_refetch: Duration,
    max_age: Duration,
    keys: RwLock<Keys>,
    /// Serializes fetches and remembers when the last one was attempted.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicUsize,
}

impl JwksCache {
    /// A cache of the set at `url` with the default intervals.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_intervals(url, DEFAULT_MIN_REFETCH, DEFAULT_MAX_AGE)
    }

    /// A cache that fetches at most once per `min_refetch` and refreshes keys older than `max_age`.
    pub fn with_intervals(
        url: impl Into<String>,
        min_refetch: Duration,
        max_age: Duration,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .expect("an HTTP client with default TLS settings");
        JwksCache {
            url: url.into(),
            http,
            min_refetch,
            max_age,
            keys: RwLock::new(Keys::default()),
            last_attempt: tokio::sync::Mutex::new(None),
            fetches: AtomicUsize::new(0),
        }
    }

    /// How many times the endpoint has been requested.
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The RS256 key with this `kid`, fetching the set if it is unknown or old
    /// (at most once per interval).
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        if let (Some(key), true) = self.cached(kid) {
            return Ok(key);
        }
        // A failed refresh leaves the cached keys in place, so a key known
        // before the JWKS endpoint went down keeps verifying.
        let fetched = self.refresh().await;
        if let (Some(key), _) = self.cached(kid) {
            return Ok(key);
        }
        if self.has_keys() {
            Err(KeyError::UnknownKid)
        } else {
            Err(KeyError::Unavailable(
                fetched
                    .err()
                    .unwrap_or_else(|| "no usable key fetched yet".to_string()),
            ))
        }
    }

    fn cached(&self, kid: &str) -> (Option<Arc<DecodingKey>>, bool) {
        let keys = self.keys.read().expect("jwks lock");
        let fresh = keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.max_age);
        (keys.by_kid.get(kid).cloned(), fresh)
    }

    fn has_keys(&self) -> bool {
        !self.keys.read().expect("jwks lock").by_kid.is_empty()
    }

    /// Fetches the set unless a fetch was attempted less than `min_refetch` ago.
    /// Concurrent callers wait for the one fetch in flight.
    async fn refresh(&self) -> Result<(), String> {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_refetch) {
            return Ok(());
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.fetch().await {
            Ok(by_kid) => {
                let mut keys = self.keys.write().expect("jwks lock");
                keys.by_kid = by_kid;
                keys.fetched_at = Some(Instant::now());
                Ok(())
            }
            Err(why) => {
                tracing::warn!(url = %self.url, error = %why, "JWKS fetch failed; keeping cached keys");
                Err(why)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err("document too large".to_string());
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_BODY_BYTES {
            return Err("document too large".to_string());
        }
        parse_jwks(&body)
    }
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RsaJwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// The usable RS256 keys of a JWKS document, by `kid`. Entries that are not
/// usable RS256 signing keys are skipped; a document that is not a JWKS is an error.
pub fn parse_jwks(body: &[u8]) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
    let doc: JwksDoc = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for entry in doc.keys {
        let Ok(jwk) = serde_json::from_value::<RsaJwk>(entry) else {
            continue;
        };
        let usable = jwk.kty == "RSA"
            && jwk.use_.as_deref().is_none_or(|u| u == "sig")
            && jwk.alg.as_deref().is_none_or(|a| a == "RS256");
        let (Some(kid), Some(n), Some(e)) = (jwk.kid, jwk.n, jwk.e) else {
            continue;
        };
        // base64url without padding: 4 characters carry 3 bytes.
        if !usable || kid.is_empty() || n.len() * 3 / 4 < MIN_MODULUS_BYTES {
            continue;
        }
        if let Ok(key) = DecodingKey::from_rsa_components(&n, &e) {
            keys.insert(kid, Arc::new(key));
        }
    }
    Ok(keys)
}
