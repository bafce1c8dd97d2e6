//! Token verification with a cached JWKS (target: ≤ 50 µs per token).
//! `cargo bench -p sockstack-runtime --bench verify`

#[path = "../src/testing.rs"]
mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockstack_runtime::auth::{AuthSettings, Authorizer, TokenSource};

fn verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = RsaKey::generate("bench-key");
    let jwks = rt.block_on(JwksServer::start(vec![key.jwk()]));
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
    let unknown = key.sign(
        &serde_json::json!({"alg": "RS256", "kid": "nope"}),
        &id_claims("u"),
    );

    let mut group = c.benchmark_group("authorizer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify RS256, cached JWKS", |b| {
        b.iter(|| {
            rt.block_on(auth.verify(std::hint::black_box(&token)))
                .unwrap()
        })
    });
    group.bench_function("reject unknown kid (rate-limited refetch)", |b| {
        b.iter(|| {
            rt.block_on(auth.verify(std::hint::black_box(&unknown)))
                .unwrap_err()
        })
    });
    group.finish();
    // The first fetch, and at most one refetch for the flood of unknown kids
    // (refetches are rate-limited, and the first fetch was moments ago).
    assert_eq!(jwks.hits(), auth.jwks().fetch_count());
    assert!(
        jwks.hits() <= 2,
        "{} fetches for one flood of unknown kids",
        jwks.hits()
    );
}

criterion_group!(benches, verify);
criterion_main!(benches);
