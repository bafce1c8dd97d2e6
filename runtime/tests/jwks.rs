//! The JWKS cache's refetch policy (see `sockstack_runtime::jwks`) against a
//! real JWKS server on 127.0.0.1: key rotation right after a forged `kid`, a
//! cold instance, floods of forged `kid`s, concurrent misses, and the endpoint
//! answering 503, refusing connections or hanging. Time is a manual clock
//! except where the test is about real time (the floods, the fetch timeout);
//! those are bounded in count and duration and stay on loopback.

#[path = "../src/testing.rs"]
mod common;

use common::*;
use serde_json::json;
use sockstack_runtime::auth::{AuthSettings, Authorizer, Denial, TokenSource};
use sockstack_runtime::jwks::{
    DEFAULT_NEGATIVE_TTL, DEFAULT_REFILL_EVERY, JwksCache, JwksPolicy, ManualClock,
};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn settings(jwks_url: &str) -> AuthSettings {
    AuthSettings {
        jwks_url: jwks_url.to_string(),
        issuer: ISSUER.to_string(),
        audiences: vec![AUDIENCE.to_string()],
        token_source: TokenSource::QueryString("token".to_string()),
        context: vec![("userId".to_string(), "sub".to_string())],
        required_claims: vec!["sub".to_string()],
    }
}

/// An authorizer with `policy` on a clock that moves only when the test says.
fn on_manual_clock(url: &str, policy: JwksPolicy) -> (Authorizer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let cache = JwksCache::with_clock(url, policy, clock.clone());
    (Authorizer::with_cache(settings(url), cache), clock)
}

/// A token a forger makes: a `kid` of its choosing, the real `iss` and `aud`, no valid signature.
fn forged(kid: &str) -> String {
    unsigned(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &id_claims("forger"),
    )
}

/// Sends forged tokens with never-seen `kid`s at 1,000 per second (10 every
/// 10 ms, concurrently) for `ticks` ticks or until `stop`; every one must be
/// denied as an unknown `kid`. Returns how many were sent.
async fn flood(auth: Arc<Authorizer>, ticks: usize, stop: Arc<AtomicBool>) -> usize {
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    let mut tasks = Vec::new();
    for tick in 0..ticks {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        interval.tick().await;
        for i in 0..10 {
            let auth = auth.clone();
            let token = forged(&format!("forged-{tick}-{i}"));
            tasks.push(tokio::spawn(async move { auth.verify(&token).await }));
        }
    }
    let sent = tasks.len();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(Denial::UnknownKid));
    }
    sent
}

/// A TCP proxy in front of a JWKS server that can delay or stall: while
/// hanging it accepts connections and never answers. Counts connections (the
/// cache opens one per fetch).
struct Gate {
    url: String,
    hang: Arc<AtomicBool>,
    delay: Arc<Mutex<Duration>>,
    connections: Arc<AtomicUsize>,
}

impl Gate {
    async fn start(upstream: &JwksServer) -> Gate {
        let upstream_addr = upstream
            .url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap()
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let hang = Arc::new(AtomicBool::new(false));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let connections = Arc::new(AtomicUsize::new(0));
        let (h, d, c) = (hang.clone(), delay.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = listener.accept().await.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let hanging = h.load(Ordering::SeqCst);
                let delay = *d.lock().unwrap();
                let upstream_addr = upstream_addr.clone();
                tokio::spawn(async move {
                    if hanging {
                        // Hold the connection open and never answer.
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(delay).await;
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream_addr).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Gate {
            url,
            hang,
            delay,
            connections,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_lone_forged_kid_just_before_a_rotation_does_not_delay_the_real_new_key() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let (auth, _clock) = on_manual_clock(&jwks.url, JwksPolicy::default());
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    assert_eq!(jwks.hits(), 1);

    assert_eq!(
        auth.verify(&forged("forged-before-rotation")).await,
        Err(Denial::UnknownKid)
    );
    assert_eq!(jwks.hits(), 2, "the forged kid cost one fetch");

    // The identity provider rotates; the clock has not moved at all.
    let key_2 = RsaKey::generate("key-2");
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk()]);
    let identity = auth.verify(&key_2.token(&id_claims("real-user"))).await;
    assert_eq!(identity.unwrap().principal_id, "real-user", "first try");
    assert_eq!(jwks.hits(), 3);
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    assert_eq!(jwks.hits(), 3, "both keys cached");
}

#[tokio::test]
async fn a_cold_instance_accepts_a_new_key_immediately() {
    let key_1 = RsaKey::generate("key-1");
    let key_2 = RsaKey::generate("key-2");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let (auth, _clock) = on_manual_clock(&jwks.url, JwksPolicy::default());
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    // A key published the moment after the instance's first fetch.
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk()]);
    assert!(auth.verify(&key_2.token(&id_claims("u"))).await.is_ok());
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn a_flood_of_one_forged_kid_costs_one_fetch_per_negative_ttl_and_spares_the_budget() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let (auth, clock) = on_manual_clock(&jwks.url, JwksPolicy::default());
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    let token = forged("the-same-forged-kid");
    for _ in 0..10_000 {
        assert_eq!(auth.verify(&token).await, Err(Denial::UnknownKid));
    }
    assert_eq!(jwks.hits(), 2, "one fetch for 10,000 tokens of one kid");

    clock.advance(DEFAULT_NEGATIVE_TTL - Duration::from_millis(1));
    assert_eq!(auth.verify(&token).await, Err(Denial::UnknownKid));
    assert_eq!(jwks.hits(), 2, "still remembered as absent");
    clock.advance(Duration::from_millis(1));
    assert_eq!(auth.verify(&token).await, Err(Denial::UnknownKid));
    assert_eq!(
        jwks.hits(),
        3,
        "asked again once the negative entry expired"
    );

    // The budget was left for real keys: two new keys in a row, at once.
    let key_2 = RsaKey::generate("key-2");
    let key_3 = RsaKey::generate("key-3");
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk()]);
    assert!(auth.verify(&key_2.token(&id_claims("u"))).await.is_ok());
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk(), key_3.jwk()]);
    assert!(auth.verify(&key_3.token(&id_claims("u"))).await.is_ok());
    assert_eq!(jwks.hits(), 5);
}

#[tokio::test]
async fn forged_kids_beyond_the_burst_are_denied_without_a_fetch_until_a_token_refills() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let policy = JwksPolicy::default();
    let (auth, clock) = on_manual_clock(&jwks.url, policy.clone());
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    for i in 0..100 {
        assert_eq!(
            auth.verify(&forged(&format!("forged-{i}"))).await,
            Err(Denial::UnknownKid)
        );
    }
    assert_eq!(jwks.hits() as u32, policy.burst, "the burst, then nothing");
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());

    // A key published now is fetched by the next refetch the budget allows, whoever asks.
    let key_2 = RsaKey::generate("key-2");
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk()]);
    let real = key_2.token(&id_claims("real-user"));
    assert_eq!(auth.verify(&real).await, Err(Denial::UnknownKid));
    clock.advance(DEFAULT_REFILL_EVERY);
    assert_eq!(
        auth.verify(&forged("forged-after-refill")).await,
        Err(Denial::UnknownKid)
    );
    assert_eq!(jwks.hits() as u32, policy.burst + 1);
    assert!(
        auth.verify(&real).await.is_ok(),
        "loaded by the forger's fetch"
    );
    assert_eq!(jwks.hits() as u32, policy.burst + 1);
}

#[tokio::test]
async fn a_retired_key_stops_verifying_after_the_next_fetch() {
    let key_1 = RsaKey::generate("key-1");
    let key_2 = RsaKey::generate("key-2");
    let jwks = JwksServer::start(vec![key_1.jwk(), key_2.jwk()]).await;
    let (auth, _clock) = on_manual_clock(&jwks.url, JwksPolicy::default());
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    assert!(auth.verify(&key_2.token(&id_claims("u"))).await.is_ok());
    assert_eq!(jwks.hits(), 1);
    jwks.set_keys(vec![key_2.jwk()]);
    assert_eq!(auth.verify(&forged("key-3")).await, Err(Denial::UnknownKid));
    assert_eq!(jwks.hits(), 2);
    assert_eq!(
        auth.verify(&key_1.token(&id_claims("u"))).await,
        Err(Denial::UnknownKid)
    );
    assert!(auth.verify(&key_2.token(&id_claims("u"))).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_on_a_cold_instance_share_one_fetch() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let gate = Gate::start(&jwks).await;
    // The fetch takes 300 ms, so all 200 callers miss while it is in flight.
    *gate.delay.lock().unwrap() = Duration::from_millis(300);
    let (auth, _clock) = on_manual_clock(&gate.url, JwksPolicy::default());
    let auth = Arc::new(auth);
    let good = key_1.token(&id_claims("u"));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let auth = auth.clone();
        let token = if i % 2 == 0 {
            good.clone()
        } else {
            forged(&format!("forged-{i}"))
        };
        tasks.push(tokio::spawn(async move { (i, auth.verify(&token).await) }));
    }
    for task in tasks {
        let (i, result) = task.await.unwrap();
        if i % 2 == 0 {
            assert!(result.is_ok(), "{i}: {result:?}");
        } else {
            assert_eq!(result, Err(Denial::UnknownKid), "{i}");
        }
    }
    assert_eq!(gate.connections(), 1);
    assert_eq!(jwks.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_distinct_forged_kids_at_1000_per_s_for_10_s_fetches_at_most_7_times() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let policy = JwksPolicy::default();
    let started = Instant::now();
    let auth = Arc::new(Authorizer::new(settings(&jwks.url)));
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());

    let stop = Arc::new(AtomicBool::new(false));
    let flooding = tokio::spawn(flood(auth.clone(), 1000, stop));
    // Real users with the cached key are unaffected meanwhile.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    }
    let sent = flooding.await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(sent, 10_000);
    eprintln!(
        "{sent} forged tokens in {elapsed:?}: {} fetches",
        jwks.hits()
    );
    // 4 at once plus one per 3 s: 7 over 10 s (the bound grows only if this machine ran late).
    let bound = policy.max_fetches(elapsed);
    assert!(
        jwks.hits() as u64 <= bound,
        "{} fetches in {elapsed:?} (bound {bound})",
        jwks.hits()
    );
    assert_eq!(policy.max_fetches(Duration::from_secs(10)), 7);
    assert_eq!(jwks.hits(), auth.jwks().fetch_count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_flood_of_forged_kids_a_real_new_key_is_accepted_within_5_s() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let started = Instant::now();
    let auth = Arc::new(Authorizer::new(settings(&jwks.url)));
    assert!(auth.verify(&key_1.token(&id_claims("u"))).await.is_ok());
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = tokio::spawn(flood(auth.clone(), 1000, stop.clone()));

    // The burst is long spent when the identity provider rotates.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let key_2 = RsaKey::generate("key-2");
    jwks.set_keys(vec![key_1.jwk(), key_2.jwk()]);
    let published = Instant::now();
    let real = key_2.token(&id_claims("real-user"));
    let mut tries = 0;
    let accepted_after = loop {
        tries += 1;
        if auth.verify(&real).await.is_ok() {
            break published.elapsed();
        }
        assert!(
            published.elapsed() < Duration::from_secs(10),
            "still denied after {tries} tries"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.store(true, Ordering::SeqCst);
    let sent = flooding.await.unwrap();
    eprintln!(
        "real new key accepted {accepted_after:?} after publication, try {tries}; \
         {sent} forged tokens, {} fetches in {:?}",
        jwks.hits(),
        started.elapsed()
    );
    assert!(
        accepted_after < Duration::from_secs(5),
        "accepted {accepted_after:?} after publication ({tries} tries)"
    );
    assert!(tries > 1, "the flood had spent the burst");
    let bound = JwksPolicy::default().max_fetches(started.elapsed());
    assert!(jwks.hits() as u64 <= bound, "{} fetches", jwks.hits());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_jwks_endpoint_hanging_cached_keys_verify_and_unknown_kids_are_denied_within_the_timeout()
 {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let gate = Gate::start(&jwks).await;
    let timeout = Duration::from_millis(500);
    let policy = JwksPolicy {
        fetch_timeout: timeout,
        ..JwksPolicy::default()
    };
    let (auth, clock) = on_manual_clock(&gate.url, policy.clone());
    let auth = Arc::new(auth);
    let good = key_1.token(&id_claims("u"));
    assert!(auth.verify(&good).await.is_ok());
    gate.hang.store(true, Ordering::SeqCst);
    // "No hang": the fetch timeout plus a generous allowance for a busy machine.
    let no_hang = timeout + Duration::from_millis(1500);

    assert!(auth.verify(&good).await.is_ok(), "cached, no fetch");
    assert_eq!(gate.connections(), 1);

    let asked = Instant::now();
    assert_eq!(auth.verify(&forged("new-1")).await, Err(Denial::UnknownKid));
    assert!(asked.elapsed() >= timeout, "the endpoint was tried");
    assert!(asked.elapsed() < no_hang, "{:?}", asked.elapsed());
    assert_eq!(gate.connections(), 2);

    // Concurrent unknown kids wait for the one hanging fetch, no longer.
    let asked = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let auth = auth.clone();
        let token = forged(&format!("new-concurrent-{i}"));
        tasks.push(tokio::spawn(async move { auth.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(Denial::UnknownKid));
    }
    assert!(asked.elapsed() < no_hang, "{:?}", asked.elapsed());
    assert_eq!(gate.connections(), 3, "one fetch for 50 callers");

    // Spend the rest of the burst; then unknown kids are denied without trying.
    for i in gate.connections()..policy.burst as usize {
        assert_eq!(
            auth.verify(&forged(&format!("new-spend-{i}"))).await,
            Err(Denial::UnknownKid)
        );
    }
    assert_eq!(gate.connections(), policy.burst as usize);
    let asked = Instant::now();
    assert_eq!(
        auth.verify(&forged("new-rate-limited")).await,
        Err(Denial::UnknownKid)
    );
    assert!(asked.elapsed() < timeout, "{:?}", asked.elapsed());
    assert_eq!(gate.connections(), policy.burst as usize);

    // An hour on, the key is due for a refresh, which hangs: the cached key still verifies.
    clock.advance(policy.max_age + Duration::from_secs(1));
    let asked = Instant::now();
    assert!(auth.verify(&good).await.is_ok());
    assert!(asked.elapsed() < no_hang, "{:?}", asked.elapsed());
    assert_eq!(
        gate.connections(),
        policy.burst as usize + 1,
        "the refresh was tried"
    );
}

#[tokio::test]
async fn with_the_jwks_endpoint_answering_503_or_refusing_cached_keys_still_verify() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    let policy = JwksPolicy::default();
    let (auth, clock) = on_manual_clock(&jwks.url, policy.clone());
    let good = key_1.token(&id_claims("u"));
    assert!(auth.verify(&good).await.is_ok());

    jwks.set_down(true);
    // Keys past their refresh age, and a token to spend: the endpoint is tried.
    clock.advance(policy.max_age + policy.refill_every);
    let hits = jwks.hits();
    assert!(auth.verify(&good).await.is_ok(), "503: cached key");
    assert_eq!(jwks.hits(), hits + 1, "the endpoint was tried");
    assert_eq!(auth.verify(&forged("new")).await, Err(Denial::UnknownKid));

    jwks.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    clock.advance(policy.refill_every);
    assert!(auth.verify(&good).await.is_ok(), "refused: cached key");
    // Nothing unverifiable gets through while it is down.
    assert_eq!(
        auth.verify(&RsaKey::generate("key-1").token(&id_claims("u")))
            .await,
        Err(Denial::BadSignature)
    );
    let mut expired = id_claims("u");
    expired["exp"] = json!(now_secs() - 3600);
    assert_eq!(
        auth.verify(&key_1.token(&expired)).await,
        Err(Denial::Expired)
    );
}

#[tokio::test]
async fn a_cold_instance_with_the_endpoint_down_denies_and_says_why() {
    let key_1 = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key_1.jwk()]).await;
    jwks.set_down(true);
    let (auth, clock) = on_manual_clock(&jwks.url, JwksPolicy::default());
    let token = key_1.token(&id_claims("u"));
    match auth.verify(&token).await {
        Err(Denial::KeysUnavailable(why)) => assert!(why.contains("503"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Once the budget is spent the answer comes without a fetch, and still says why.
    for _ in 0..10 {
        assert!(matches!(
            auth.verify(&token).await,
            Err(Denial::KeysUnavailable(_))
        ));
    }
    assert_eq!(jwks.hits(), JwksPolicy::default().burst as usize);
    match auth.verify(&token).await {
        Err(Denial::KeysUnavailable(why)) => {
            assert!(why.contains("503") && why.contains("rate-limited"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    // The endpoint back, a token refilled: the key verifies.
    jwks.set_down(false);
    clock.advance(DEFAULT_REFILL_EVERY);
    assert!(auth.verify(&token).await.is_ok());
}
