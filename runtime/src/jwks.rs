//! The JSON Web Key Set of the token issuer, fetched over HTTP and cached.
//!
//! Only keys that can verify RS256 signatures are kept (`kty: RSA`, `use`
//! absent or `sig`, `alg` absent or `RS256`, a `kid`, a modulus of at least
//! 2048 bits): the algorithm a token is checked with comes from here, never
//! from the token.
//!
//! # When the set is fetched
//!
//! A token's `kid` is read before anything about the token can be trusted, and
//! its claims prove nothing until the signature is checked (a forger copies
//! `iss` and `aud`), so an unknown `kid` from a real user after a key rotation
//! and one from a forger look alike. The policy therefore rests on rates, per
//! process (one Lambda instance), with the defaults of [`JwksPolicy`]:
//!
//! - **A refetch budget** (a token bucket): an unknown `kid` fetches the set
//!   only if a token is left; there are at most [`DEFAULT_BURST`] (4) and one
//!   more comes every [`DEFAULT_REFILL_EVERY`] (3 s). The bucket starts full,
//!   so a cold instance's first fetch and a lone forged `kid` (even three)
//!   leave a token for a real new key: it is fetched and accepted on its first
//!   try. A flood of forged `kid`s, at any rate, causes at most
//!   `4 + t / 3 s` fetches ([`JwksPolicy::max_fetches`]: 7 in ten seconds,
//!   about 3 per ten seconds sustained). Every fetch loads the whole set,
//!   whoever caused it, so under such a flood a newly published key is cached
//!   within 3 s (plus one fetch) and real users get in on their next try.
//! - **A negative cache**: a `kid` that a fetch made for it did not contain
//!   is denied for [`DEFAULT_NEGATIVE_TTL`] (5 s) without spending
//!   a token (at most [`MAX_ABSENT_KIDS`] are remembered), so a flood of one
//!   forged `kid` costs one fetch per 5 s and leaves the budget for real keys.
//! - **Single flight**: one fetch at a time; a caller that misses while one is
//!   in flight waits for it and uses its result instead of fetching again.
//! - **Bounded fetches**: each takes at most [`DEFAULT_FETCH_TIMEOUT`] (2 s,
//!   1 s of it to connect) on a fresh connection (fetches are rare, and a
//!   Lambda freeze breaks pooled connections), and reads at most
//!   [`MAX_BODY_BYTES`].
//! - **Refresh and outages**: keys older than [`DEFAULT_MAX_AGE`] (1 h) are
//!   refetched, from the same budget; when a fetch fails, or the budget is
//!   spent, the cached keys stay in use, so a key known before the endpoint
//!   went down keeps verifying while unknown `kid`s are denied (at once, or
//!   when the fetch fails).
//!
//! Time comes from a [`Clock`], so the policy is tested without sleeping.

use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Unknown-`kid` refetches allowed at once (the bucket's size).
pub const DEFAULT_BURST: u32 = 4;
/// One more refetch is allowed this often, up to the burst.
pub const DEFAULT_REFILL_EVERY: Duration = Duration::from_secs(3);
/// A `kid` a fetch did not contain is denied without refetching for this long.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(5);
/// Refresh cached keys that are older than this by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// Timeout of one fetch, connecting included.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Connecting to the JWKS endpoint takes at most this long (or the fetch timeout if shorter).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// At most this many absent `kid`s are remembered (the oldest are forgotten first).
pub const MAX_ABSENT_KIDS: usize = 1024;
/// A JWKS document larger than this is refused.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_MODULUS_BYTES: usize = 256;

/// Where the cache reads the time from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (for tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<Instant>);

impl ManualClock {
    /// A clock standing at the current instant.
    pub fn new() -> Self {
        ManualClock(Mutex::new(Instant::now()))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().expect("clock lock")
    }
}

/// How often the set may be fetched, and how long a fetch may take (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksPolicy {
    /// Fetches allowed at once (at least 1 is used).
    pub burst: u32,
    /// One more fetch is allowed this often.
    pub refill_every: Duration,
    /// How long a `kid` a fetch did not contain is denied without fetching.
    pub negative_ttl: Duration,
    /// Cached keys older than this are refetched.
    pub max_age: Duration,
    /// Timeout of one fetch.
    pub fetch_timeout: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        JwksPolicy {
            burst: DEFAULT_BURST,
            refill_every: DEFAULT_REFILL_EVERY,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            max_age: DEFAULT_MAX_AGE,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }
}

impl JwksPolicy {
    /// The most fetches the policy allows within any window of length `over`,
    /// whatever asks for them: the burst plus one per refill interval.
    pub fn max_fetches(&self, over: Duration) -> u64 {
        let refills = over.as_nanos() / self.refill_every.as_nanos().max(1);
        u64::from(self.burst.max(1)).saturating_add(u64::try_from(refills).unwrap_or(u64::MAX))
    }
}

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

/// The refetch budget: a token bucket of `burst` tokens, one more every `refill_every`.
#[derive(Debug)]
struct Budget {
    burst: u32,
    refill_every: Duration,
    tokens: u32,
    /// When the next token started accruing.
    since: Instant,
}

impl Budget {
    fn new(burst: u32, refill_every: Duration, now: Instant) -> Self {
        let burst = burst.max(1);
        Budget {
            burst,
            refill_every,
            tokens: burst,
            since: now,
        }
    }

    /// Takes a token if one is left at `now`.
    fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    fn refill(&mut self, now: Instant) {
        if self.tokens >= self.burst {
            self.since = now;
            return;
        }
        let elapsed = now.saturating_duration_since(self.since);
        let earned = elapsed.as_nanos() / self.refill_every.as_nanos().max(1);
        if earned == 0 {
            return;
        }
        let earned = u32::try_from(earned).unwrap_or(u32::MAX);
        self.tokens = self.tokens.saturating_add(earned).min(self.burst);
        if self.tokens >= self.burst {
            self.since = now;
        } else {
            // `earned` < burst here, so this neither overflows nor passes `now`.
            self.since += self.refill_every * earned;
        }
    }
}

/// What the cache knows, behind one lock (never held across an `.await`).
struct State {
    by_kid: HashMap<String, Arc<DecodingKey>>,
    /// When the last successful fetch finished.
    fetched_at: Option<Instant>,
    /// Fetch attempts finished so far: a caller that saw fewer shares the newer result.
    attempts: u64,
    /// Why the last attempt failed; `None` when it succeeded (or none was made).
    last_error: Option<String>,
    /// The negative cache: `kid` → when a fetch showed it absent.
    absent: HashMap<String, Instant>,
    budget: Budget,
}

impl State {
    fn remember_absent(&mut self, kid: &str, at: Instant, ttl: Duration) {
        if self.absent.len() >= MAX_ABSENT_KIDS && !self.absent.contains_key(kid) {
            self.absent
                .retain(|_, seen| at.saturating_duration_since(*seen) < ttl);
            if self.absent.len() >= MAX_ABSENT_KIDS
                && let Some(oldest) = self
                    .absent
                    .iter()
                    .min_by_key(|(_, seen)| **seen)
                    .map(|(k, _)| k.clone())
            {
                self.absent.remove(&oldest);
            }
        }
        self.absent.insert(kid.to_string(), at);
    }
}

/// What a caller found in the cache.
enum Lookup {
    /// A cached key, younger than the maximum age.
    Fresh(Arc<DecodingKey>),
    /// Not in the set, and a recent fetch showed it absent.
    Absent,
    /// Missing or old: worth a fetch unless one finished after `attempts`.
    Refetch { attempts: u64 },
}

/// How the fetch a caller asked for went.
enum Outcome {
    /// A fetch finished after the caller looked, and it succeeded; `ours`
    /// when this caller made it (so it started after the caller looked).
    Fetched { ours: bool },
    /// A fetch finished after the caller looked, and it failed.
    Failed(String),
    /// No fetch: the budget is spent.
    RateLimited,
}

/// A cached JWKS.
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    policy: JwksPolicy,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Held while a fetch is in flight: one at a time.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicUsize,
}

impl JwksCache {
    /// A cache of the set at `url` with the default policy.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_policy(url, JwksPolicy::default())
    }

    /// A cache of the set at `url` with `policy`, on the system clock.
    pub fn with_policy(url: impl Into<String>, policy: JwksPolicy) -> Self {
        Self::with_clock(url, policy, Arc::new(SystemClock))
    }

    /// A cache of the set at `url` with `policy`, reading the time from `clock`.
    pub fn with_clock(url: impl Into<String>, policy: JwksPolicy, clock: Arc<dyn Clock>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(policy.fetch_timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(policy.fetch_timeout))
            .pool_max_idle_per_host(0)
            .build()
            .expect("an HTTP client with default TLS settings");
        let budget = Budget::new(policy.burst, policy.refill_every, clock.now());
        JwksCache {
            url: url.into(),
            http,
            policy,
            clock,
            state: Mutex::new(State {
                by_kid: HashMap::new(),
                fetched_at: None,
                attempts: 0,
                last_error: None,
                absent: HashMap::new(),
                budget,
            }),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicUsize::new(0),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &JwksPolicy {
        &self.policy
    }

    /// How many times the endpoint has been requested.
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The RS256 key with this `kid`, fetching the set if it is unknown or old
    /// and the policy allows.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        let seen = match self.lookup(kid) {
            Lookup::Fresh(key) => return Ok(key),
            Lookup::Absent => return Err(KeyError::UnknownKid),
            Lookup::Refetch { attempts } => attempts,
        };
        let outcome = self.refresh(seen).await;
        let now = self.clock.now();
        let mut state = self.lock();
        // An old key stays in use when the refresh failed or was not allowed.
        if let Some(key) = state.by_kid.get(kid) {
            return Ok(key.clone());
        }
        match outcome {
            Outcome::Fetched { ours } => {
                // Only a fetch made after this `kid` was asked for proves it absent:
                // one shared from before may predate the key's publication.
                if ours {
                    state.remember_absent(kid, now, self.policy.negative_ttl);
                }
                if state.by_kid.is_empty() {
                    Err(KeyError::Unavailable(
                        "no usable key in the set".to_string(),
                    ))
                } else {
                    Err(KeyError::UnknownKid)
                }
            }
            Outcome::Failed(_) | Outcome::RateLimited if !state.by_kid.is_empty() => {
                Err(KeyError::UnknownKid)
            }
            Outcome::Failed(why) => Err(KeyError::Unavailable(why)),
            Outcome::RateLimited => Err(KeyError::Unavailable(match &state.last_error {
                Some(why) => format!("{why} (refetch rate-limited)"),
                None => "no usable key in the set (refetch rate-limited)".to_string(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("jwks lock")
    }

    fn lookup(&self, kid: &str) -> Lookup {
        let now = self.clock.now();
        let state = self.lock();
        match state.by_kid.get(kid) {
            Some(key)
                if state
                    .fetched_at
                    .is_some_and(|at| now.saturating_duration_since(at) < self.policy.max_age) =>
            {
                Lookup::Fresh(key.clone())
            }
            None if state.absent.get(kid).is_some_and(|at| {
                now.saturating_duration_since(*at) < self.policy.negative_ttl
            }) =>
            {
                Lookup::Absent
            }
            _ => Lookup::Refetch {
                attempts: state.attempts,
            },
        }
    }

    /// Fetches the set for a caller that looked when `seen` attempts had
    /// finished: if one finished since, its result is shared instead; else a
    /// fetch is made if the budget allows.
    async fn refresh(&self, seen: u64) -> Outcome {
        let _in_flight = self.fetching.lock().await;
        {
            let mut state = self.lock();
            if state.attempts != seen {
                return match &state.last_error {
                    None => Outcome::Fetched { ours: false },
                    Some(why) => Outcome::Failed(why.clone()),
                };
            }
            let now = self.clock.now();
            if !state.budget.try_take(now) {
                return Outcome::RateLimited;
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetch().await;
        let now = self.clock.now();
        let mut state = self.lock();
        state.attempts += 1;
        match fetched {
            Ok(by_kid) => {
                state.by_kid = by_kid;
                state.fetched_at = Some(now);
                state.last_error = None;
                Outcome::Fetched { ours: true }
            }
            Err(why) => {
                tracing::warn!(url = %self.url, error = %why, "JWKS fetch failed; keeping cached keys");
                state.last_error = Some(why.clone());
                Outcome::Failed(why)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| describe(&e))?;
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
        let body = response.bytes().await.map_err(|e| describe(&e))?;
        if body.len() > MAX_BODY_BYTES {
            return Err("document too large".to_string());
        }
        parse_jwks(&body)
    }
}

/// A fetch error with its timeout made explicit (reqwest's message alone does not say).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("timed out: {error}")
    } else {
        error.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn budget(clock: &ManualClock) -> Budget {
        Budget::new(DEFAULT_BURST, DEFAULT_REFILL_EVERY, clock.now())
    }

    #[test]
    fn the_budget_starts_full_and_allows_the_burst_at_once() {
        let clock = ManualClock::new();
        let mut b = budget(&clock);
        for i in 0..DEFAULT_BURST {
            assert!(b.try_take(clock.now()), "token {i}");
        }
        assert!(!b.try_take(clock.now()), "the burst is spent");
    }

    #[test]
    fn the_budget_refills_one_token_per_interval_up_to_the_burst() {
        let clock = ManualClock::new();
        let mut b = budget(&clock);
        while b.try_take(clock.now()) {}
        clock.advance(DEFAULT_REFILL_EVERY - MS);
        assert!(!b.try_take(clock.now()), "not before the interval");
        clock.advance(MS);
        assert!(b.try_take(clock.now()));
        assert!(!b.try_take(clock.now()));
        // A long quiet spell refills the burst, no more.
        clock.advance(DEFAULT_REFILL_EVERY * 100);
        let taken = (0..100).filter(|_| b.try_take(clock.now())).count();
        assert_eq!(taken, DEFAULT_BURST as usize);
    }

    #[test]
    fn partial_intervals_are_not_lost_between_takes() {
        let clock = ManualClock::new();
        let mut b = budget(&clock);
        while b.try_take(clock.now()) {}
        // Asking every 1 ms: a token appears exactly every interval.
        let mut granted = Vec::new();
        for ms in 1..=10_000u64 {
            clock.advance(MS);
            if b.try_take(clock.now()) {
                granted.push(ms);
            }
        }
        assert_eq!(granted, [3000, 6000, 9000]);
    }

    #[test]
    fn a_flood_at_1000_per_second_for_10_s_gets_7_fetches_at_most_and_no_gap_over_3_s() {
        let policy = JwksPolicy::default();
        let clock = ManualClock::new();
        let mut b = Budget::new(policy.burst, policy.refill_every, clock.now());
        let mut granted = Vec::new();
        for ms in 0..10_000u64 {
            if b.try_take(clock.now()) {
                granted.push(ms);
            }
            clock.advance(MS);
        }
        let bound = policy.max_fetches(Duration::from_secs(10));
        assert_eq!(bound, 7);
        assert_eq!(granted.len() as u64, bound, "{granted:?}");
        // A fetch at least every refill interval: a key published at any time is loaded within 3 s.
        for pair in granted.windows(2) {
            assert!(pair[1] - pair[0] <= 3000, "{granted:?}");
        }
    }

    #[test]
    fn max_fetches_is_the_burst_plus_one_per_interval() {
        let policy = JwksPolicy::default();
        assert_eq!(policy.max_fetches(Duration::ZERO), 4);
        assert_eq!(policy.max_fetches(Duration::from_millis(2999)), 4);
        assert_eq!(policy.max_fetches(Duration::from_secs(3)), 5);
        assert_eq!(policy.max_fetches(Duration::from_secs(60)), 24);
    }

    #[test]
    fn the_negative_cache_is_capped_and_forgets_the_oldest_first() {
        let clock = ManualClock::new();
        let mut state = State {
            by_kid: HashMap::new(),
            fetched_at: None,
            attempts: 0,
            last_error: None,
            absent: HashMap::new(),
            budget: budget(&clock),
        };
        let ttl = Duration::from_secs(3600);
        for i in 0..MAX_ABSENT_KIDS + 10 {
            state.remember_absent(&format!("kid-{i}"), clock.now(), ttl);
            clock.advance(MS);
        }
        assert_eq!(state.absent.len(), MAX_ABSENT_KIDS);
        assert!(!state.absent.contains_key("kid-9"));
        assert!(state.absent.contains_key("kid-10"));
        assert!(
            state
                .absent
                .contains_key(&format!("kid-{}", MAX_ABSENT_KIDS + 9))
        );
    }
}
