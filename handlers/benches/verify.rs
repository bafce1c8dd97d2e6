//! Token verification with a cached JWKS (target: ≤ 50 µs per token).
//! `cargo bench -p sockstack-handlers --bench verify`

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockstack_handlers::auth::{AuthSettings, Authorizer, TokenSource};

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
        user_id_claim: "sub".into(),
        email_claim: "email".into(),
        team_id_claim: "custom:team".into(),
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
    assert_eq!(jwks.hits(), 2, "one fetch, one refetch for the unknown kid");
}

criterion_group!(benches, verify);
criterion_main!(benches);
