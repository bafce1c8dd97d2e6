//! Token verification with a cached JWKS (target: ≤ 50 µs per token), and the
//! cost of rejecting forged `kid`s: one repeated (the negative cache answers)
//! and all different (the refetch budget answers). Afterwards the JWKS
//! server's hit count is checked against the policy's bound for the time the
//! bench ran.
//! `cargo bench -p sockstack-runtime --bench verify`

#[path = "../src/testing.rs"]
mod common;

use common::*;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sockstack_runtime::auth::{AuthSettings, Authorizer, Denial, TokenSource};
use std::time::Instant;

fn forged(kid: &str) -> String {
    unsigned(
        &serde_json::json!({"alg": "RS256", "kid": kid}),
        &id_claims("u"),
    )
}

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = RsaKey::generate("bench-key");
    let jwks = rt.block_on(JwksServer::start(vec![key.jwk()]));
    let started = Instant::now();
    let auth = Authorizer::new(AuthSettings {
        jwks_url: jwks.url.clone(),
        issuer: ISSUER.into(),
        audiences: vec![AUDIENCE.into()],
        token_source: TokenSource::QueryString("token".into()),
        context: vec![("userId".into(), "sub".into())],
        required_claims: vec!["sub".into()],
    });
    let token = key.token(&id_claims("bench-user"));
    rt.block_on(auth.verify(&token)).expect("valid token");
    let repeated = forged("nope");

    let mut group = c.benchmark_group("authorizer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify RS256, cached JWKS", |b| {
        b.iter(|| {
            rt.block_on(auth.verify(std::hint::black_box(&token)))
                .unwrap()
        })
    });
    group.bench_function("reject a repeated forged kid (negative cache)", |b| {
        b.iter(|| {
            rt.block_on(auth.verify(std::hint::black_box(&repeated)))
                .unwrap_err()
        })
    });
    let mut n = 0u64;
    group.bench_function("reject distinct forged kids (refetch budget)", |b| {
        b.iter_batched(
            || {
                n += 1;
                forged(&format!("forged-{n}"))
            },
            |t| {
                assert_eq!(rt.block_on(auth.verify(&t)), Err(Denial::UnknownKid));
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
    // Every fetch the floods caused stayed within the policy's bound for the time they took.
    let elapsed = started.elapsed();
    let bound = auth.jwks().policy().max_fetches(elapsed);
    assert_eq!(jwks.hits(), auth.jwks().fetch_count());
    assert!(
        jwks.hits() as u64 <= bound,
        "{} fetches in {elapsed:?}, bound {bound}",
        jwks.hits()
    );
    println!(
        "JWKS fetched {} times in {elapsed:.1?} of forged kids (bound {bound})",
        jwks.hits()
    );
}

criterion_group!(benches, verify);
criterion_main!(benches);
