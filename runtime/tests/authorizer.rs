//! The `$connect` authorizer against a real JWKS server on 127.0.0.1, with RSA
//! keys generated here: every deny case. Key rotation, floods of unknown kids
//! and the JWKS endpoint going down are in `tests/jwks.rs`.

#[path = "../src/testing.rs"]
mod common;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use common::*;
use serde_json::{Value, json};
use sockstack_runtime::auth::{AuthSettings, Authorizer, Denial, Identity, TokenSource};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/test/$connect";

fn settings(jwks_url: &str) -> AuthSettings {
    AuthSettings {
        jwks_url: jwks_url.to_string(),
        issuer: ISSUER.to_string(),
        audiences: vec!["other-client".to_string(), AUDIENCE.to_string()],
        token_source: TokenSource::QueryString("token".to_string()),
        context: vec![
            ("email".to_string(), "email".to_string()),
            ("teamId".to_string(), "custom:team".to_string()),
            ("userId".to_string(), "sub".to_string()),
        ],
        required_claims: vec!["sub".to_string()],
    }
}

fn authorizer(jwks: &JwksServer) -> Authorizer {
    Authorizer::new(settings(&jwks.url))
}

/// An authorizer request as API Gateway sends it for a WebSocket `$connect`.
fn request(token: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let mut query = serde_json::Map::new();
    if let Some(t) = token {
        query.insert("token".into(), json!(t));
    }
    serde_json::from_value(json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": query,
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "x=",
            "requestTime": "28/Nov/2026:02:00:00 +0000",
            "messageDirection": "IN",
            "stage": "test",
            "connectedAt": now_ms(),
            "requestTimeEpoch": now_ms(),
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "r",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "connectionId": "conn-1=",
            "apiId": "abc123"
        }
    }))
    .unwrap()
}

fn effect(response: &ApiGatewayCustomAuthorizerResponse) -> (String, Vec<String>, Vec<String>) {
    let doc = serde_json::to_value(&response.policy_document).unwrap();
    let statement = &doc["Statement"][0];
    (
        statement["Effect"].as_str().unwrap().to_string(),
        serde_json::from_value(statement["Action"].clone()).unwrap(),
        serde_json::from_value(statement["Resource"].clone()).unwrap(),
    )
}

fn assert_denied(response: &ApiGatewayCustomAuthorizerResponse) {
    let (effect, _, resource) = effect(response);
    assert_eq!(effect, "Deny", "{response:?}");
    assert_eq!(resource, [METHOD_ARN]);
    assert_eq!(response.context, json!({}), "a deny passes no context");
}

struct Setup {
    jwks: JwksServer,
    key: RsaKey,
}

async fn setup() -> Setup {
    let key = RsaKey::generate("key-1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    Setup { jwks, key }
}

#[tokio::test]
async fn valid_id_token_is_allowed_with_policy_and_context() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    let token = s.key.token(&id_claims("user-1"));
    let response = auth.authorize(&request(Some(&token))).await;
    let (effect, action, resource) = effect(&response);
    assert_eq!(effect, "Allow");
    assert_eq!(action, ["execute-api:Invoke"]);
    assert_eq!(resource, [METHOD_ARN]);
    assert_eq!(response.principal_id.as_deref(), Some("user-1"));
    assert_eq!(
        response.context,
        json!({"userId": "user-1", "email": "user-1@example.test", "teamId": "team-1"})
    );
    // The response serializes to what API Gateway expects.
    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(wire["policyDocument"]["Version"], "2012-10-17");
    assert_eq!(wire["principalId"], "user-1");
}

#[tokio::test]
async fn cognito_access_token_uses_client_id() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    let now = now_secs();
    let access = json!({
        "iss": ISSUER, "sub": "user-2", "client_id": AUDIENCE, "token_use": "access",
        "scope": "aws.cognito.signin.user.admin", "exp": now + 600, "iat": now,
    });
    let who = auth.verify(&s.key.token(&access)).await.unwrap();
    assert_eq!(
        who,
        Identity {
            principal_id: "user-2".into(),
            context: BTreeMap::from([("userId".to_string(), "user-2".to_string())]),
        },
        "absent optional claims leave their keys out"
    );
    let mut other_client = access.clone();
    other_client["client_id"] = json!("someone-else");
    assert_eq!(
        auth.verify(&s.key.token(&other_client)).await,
        Err(Denial::WrongAudience)
    );
    // An id token must carry `aud`; `client_id` only counts for access tokens.
    let mut id_without_aud = access.clone();
    id_without_aud["token_use"] = json!("id");
    assert_eq!(
        auth.verify(&s.key.token(&id_without_aud)).await,
        Err(Denial::WrongAudience)
    );
    let mut refresh = access.clone();
    refresh["token_use"] = json!("refresh");
    assert_eq!(
        auth.verify(&s.key.token(&refresh)).await,
        Err(Denial::WrongTokenUse)
    );
}

#[tokio::test]
async fn audience_may_be_a_list() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    let mut claims = id_claims("u");
    claims["aud"] = json!(["x", AUDIENCE]);
    assert!(auth.verify(&s.key.token(&claims)).await.is_ok());
    claims["aud"] = json!(["x", "y"]);
    assert_eq!(
        auth.verify(&s.key.token(&claims)).await,
        Err(Denial::WrongAudience)
    );
}

#[tokio::test]
async fn every_bad_token_is_denied() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    let other = RsaKey::generate("key-1"); // same kid, different key
    let now = now_secs();
    let good = id_claims("user-1");
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let good_token = s.key.token(&good);
    let parts: Vec<&str> = good_token.split('.').collect();
    let tampered = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = b64.encode(with("sub", json!("admin")).to_string());
        format!("{}.{}.{}", parts[0], payload, parts[2])
    };
    let kid_header = |alg: &str| json!({"alg": alg, "typ": "JWT", "kid": "key-1"});

    let cases: Vec<(&str, String, Denial)> = vec![
        (
            "garbage",
            "not-a-token".into(),
            Denial::Malformed(String::new()),
        ),
        (
            "two parts",
            format!("{}.{}", parts[0], parts[1]),
            Denial::Malformed(String::new()),
        ),
        (
            "four parts",
            format!("{good_token}.x"),
            Denial::Malformed(String::new()),
        ),
        (
            "header not base64",
            format!("%%%.{}.{}", parts[1], parts[2]),
            Denial::Malformed(String::new()),
        ),
        (
            "header not JSON",
            format!("bm90IGpzb24.{}.{}", parts[1], parts[2]),
            Denial::Malformed(String::new()),
        ),
        (
            "bad signature (other key, same kid)",
            other.token(&good),
            Denial::BadSignature,
        ),
        ("tampered payload", tampered, Denial::BadSignature),
        (
            "signature stripped",
            format!("{}.{}.", parts[0], parts[1]),
            Denial::BadSignature,
        ),
        (
            "alg none",
            unsigned(&kid_header("none"), &good),
            Denial::Algorithm("none".into()),
        ),
        (
            "alg None",
            unsigned(&kid_header("None"), &good),
            Denial::Algorithm("None".into()),
        ),
        (
            "no alg",
            s.key.sign(&json!({"kid": "key-1"}), &good),
            Denial::Algorithm("(missing)".into()),
        ),
        (
            "HS256 signed with the public key as secret",
            hs256(&kid_header("HS256"), &good, &s.key.public_der()),
            Denial::Algorithm("HS256".into()),
        ),
        (
            "HS256 signed with the JWK modulus as secret",
            hs256(
                &kid_header("HS256"),
                &good,
                s.key.jwk()["n"].as_str().unwrap().as_bytes(),
            ),
            Denial::Algorithm("HS256".into()),
        ),
        (
            "RS384 header",
            s.key.sign(&kid_header("RS384"), &good),
            Denial::Algorithm("RS384".into()),
        ),
        (
            "PS256 header",
            s.key.sign(&kid_header("PS256"), &good),
            Denial::Algorithm("PS256".into()),
        ),
        (
            "expired",
            s.key.token(&with("exp", json!(now - 3600))),
            Denial::Expired,
        ),
        (
            "expired beyond the leeway",
            s.key.token(&with("exp", json!(now - 45))),
            Denial::Expired,
        ),
        (
            "no exp",
            s.key.token(&without("exp")),
            Denial::MissingClaim("exp".into()),
        ),
        (
            "exp not a number",
            s.key.token(&with("exp", json!("tomorrow"))),
            Denial::MissingClaim("exp".into()),
        ),
        (
            "not yet valid",
            s.key.token(&with("nbf", json!(now + 3600))),
            Denial::NotYetValid,
        ),
        (
            "wrong issuer",
            s.key.token(&with("iss", json!("https://evil.test"))),
            Denial::WrongIssuer,
        ),
        (
            "no issuer",
            s.key.token(&without("iss")),
            Denial::MissingClaim("iss".into()),
        ),
        (
            "wrong audience",
            s.key.token(&with("aud", json!("someone-else"))),
            Denial::WrongAudience,
        ),
        (
            "no audience",
            s.key.token(&without("aud")),
            Denial::WrongAudience,
        ),
        (
            "no user id",
            s.key.token(&without("sub")),
            Denial::MissingClaim("sub".into()),
        ),
        (
            "empty user id",
            s.key.token(&with("sub", json!(""))),
            Denial::MissingClaim("sub".into()),
        ),
        (
            "user id not a string",
            s.key.token(&with("sub", json!(42))),
            Denial::MissingClaim("sub".into()),
        ),
        (
            "unknown kid",
            s.key.sign(&json!({"alg": "RS256", "kid": "key-9"}), &good),
            Denial::UnknownKid,
        ),
        (
            "no kid",
            s.key.sign(&json!({"alg": "RS256"}), &good),
            Denial::NoKid,
        ),
        (
            "critical header",
            s.key.sign(
                &json!({"alg": "RS256", "kid": "key-1", "crit": ["exp"]}),
                &good,
            ),
            Denial::Malformed(String::new()),
        ),
        (
            "too long",
            format!("{}.{}.{}", parts[0], "A".repeat(9000), parts[2]),
            Denial::TooLong,
        ),
    ];
    for (name, token, expected) in &cases {
        let got = auth.verify(token).await;
        let same = match (&got, expected) {
            (Err(Denial::Malformed(_)), Denial::Malformed(_)) => true,
            (Err(d), e) => d == e,
            (Ok(_), _) => false,
        };
        assert!(same, "{name}: expected {expected:?}, got {got:?}");
        assert_denied(&auth.authorize(&request(Some(token))).await);
    }
    // Within the leeway, exp and nbf still pass.
    assert!(
        auth.verify(&s.key.token(&with("exp", json!(now - 5))))
            .await
            .is_ok()
    );
    assert!(
        auth.verify(&s.key.token(&with("nbf", json!(now + 5))))
            .await
            .is_ok()
    );
    // And the good token still verifies after all that.
    assert!(auth.verify(&good_token).await.is_ok());
}

#[tokio::test]
async fn missing_token_and_missing_method_arn_are_denied() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    assert_denied(&auth.authorize(&request(None)).await);
    assert_denied(&auth.authorize(&request(Some(""))).await);
    let mut no_arn = request(Some(&s.key.token(&id_claims("u"))));
    no_arn.method_arn = None;
    let response = auth.authorize(&no_arn).await;
    let (effect, _, resource) = effect(&response);
    assert_eq!((effect.as_str(), resource), ("Deny", vec!["*".to_string()]));
}

#[tokio::test]
async fn header_token_source_strips_bearer() {
    let s = setup().await;
    let mut settings = settings(&s.jwks.url);
    settings.token_source = "route.request.header.Authorization".parse().unwrap();
    let auth = Authorizer::new(settings);
    let mut req = request(Some("ignored-query-token"));
    let token = s.key.token(&id_claims("user-h"));
    req.headers
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let response = auth.authorize(&req).await;
    assert_eq!(effect(&response).0, "Allow");
    assert_eq!(response.principal_id.as_deref(), Some("user-h"));
}

#[tokio::test]
async fn context_maps_configured_claims_and_required_claims_deny() {
    let s = setup().await;
    let mut settings = settings(&s.jwks.url);
    settings.context = vec![
        ("level".to_string(), "lvl".to_string()),
        ("orgId".to_string(), "org".to_string()),
        ("verified".to_string(), "email_verified".to_string()),
        ("groups".to_string(), "cognito:groups".to_string()),
    ];
    settings.required_claims = vec!["sub".to_string(), "org".to_string()];
    let auth = Authorizer::new(settings);
    let mut claims = id_claims("u-7");
    claims["org"] = json!("org-3");
    claims["lvl"] = json!(4);
    claims["email_verified"] = json!(true);
    claims["cognito:groups"] = json!(["a", "b"]);
    let who = auth.verify(&s.key.token(&claims)).await.unwrap();
    assert_eq!(who.principal_id, "u-7", "principalId is always sub");
    assert_eq!(
        who.context,
        BTreeMap::from([
            ("level".to_string(), "4".to_string()),
            ("orgId".to_string(), "org-3".to_string()),
            ("verified".to_string(), "true".to_string()),
        ]),
        "scalars as strings; an array claim is left out"
    );
    let response = auth.authorize(&request(Some(&s.key.token(&claims)))).await;
    assert_eq!(
        response.context,
        json!({"level": "4", "orgId": "org-3", "verified": "true"})
    );
    for org in [None, Some(json!("")), Some(json!({"id": 1}))] {
        let mut c = claims.clone();
        match org {
            None => {
                c.as_object_mut().unwrap().remove("org");
            }
            Some(v) => c["org"] = v,
        }
        assert_eq!(
            auth.verify(&s.key.token(&c)).await,
            Err(Denial::MissingClaim("org".into())),
            "{c}"
        );
    }
}

#[tokio::test]
async fn unusable_keys_in_the_set_are_ignored() {
    let s = setup().await;
    let enc = RsaKey::generate("enc-key");
    let rs384 = RsaKey::generate("rs384-key");
    let mut enc_jwk = enc.jwk();
    enc_jwk["use"] = json!("enc");
    let mut rs384_jwk = rs384.jwk();
    rs384_jwk["alg"] = json!("RS384");
    let mut no_alg = RsaKey::generate("no-alg");
    let mut no_alg_jwk = no_alg.jwk();
    no_alg_jwk.as_object_mut().unwrap().remove("alg");
    no_alg_jwk.as_object_mut().unwrap().remove("use");
    let junk = json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"});
    s.jwks.set_keys(vec![
        s.key.jwk(),
        enc_jwk,
        rs384_jwk,
        no_alg_jwk,
        junk,
        json!("nonsense"),
    ]);
    let auth = authorizer(&s.jwks);
    let claims = id_claims("u");
    assert!(auth.verify(&s.key.token(&claims)).await.is_ok());
    assert_eq!(
        auth.verify(&enc.token(&claims)).await,
        Err(Denial::UnknownKid)
    );
    assert_eq!(
        auth.verify(&rs384.token(&claims)).await,
        Err(Denial::UnknownKid)
    );
    // A key without `alg`/`use` is an RS256 signing key.
    assert!(auth.verify(&no_alg.token(&claims)).await.is_ok());
    no_alg.kid = "renamed".into();
    assert_eq!(
        auth.verify(&no_alg.token(&claims)).await,
        Err(Denial::UnknownKid)
    );
}

#[tokio::test]
async fn no_keys_at_all_denies() {
    let s = setup().await;
    s.jwks.set_down(true);
    let auth = authorizer(&s.jwks);
    let token = s.key.token(&id_claims("u"));
    assert!(matches!(
        auth.verify(&token).await,
        Err(Denial::KeysUnavailable(_))
    ));
    assert_denied(&auth.authorize(&request(Some(&token))).await);
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn denials_log_the_reason_never_the_token() {
    let s = setup().await;
    let auth = authorizer(&s.jwks);
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut expired = id_claims("u");
    expired["exp"] = json!(now_secs() - 3600);
    let expired = s.key.token(&expired);
    let forged = hs256(
        &json!({"alg": "HS256", "kid": "key-1"}),
        &id_claims("u"),
        &s.key.public_der(),
    );
    let good = s.key.token(&id_claims("u"));
    for token in [&expired, &forged, &good] {
        auth.authorize(&request(Some(token))).await;
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("token expired"), "{text}");
    assert!(text.contains("HS256"), "{text}");
    assert!(text.contains("allow"), "{text}");
    for token in [&expired, &forged, &good] {
        for part in token.split('.').filter(|p| p.len() > 8) {
            assert!(!text.contains(part), "a token part was logged:\n{text}");
        }
    }
}
