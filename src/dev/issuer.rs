//! The local token issuer: an RSA key kept under `out/.dev/` (created on first use, so tokens minted by
//! `sockstack dev token` work with any later `sockstack dev` of the project), its JWKS (served by the gateway
//! on 127.0.0.1), and RS256 tokens with the `iss` and `aud` the stack's authorizer expects.
//!
//! Which of the authorizer function's settings are the JWKS URL, the issuer and the audiences is the
//! contract's convention ([`AuthSettings::from_environment`]), the one place that knows it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sockstack_contract::env;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the gateway serves the local JWKS.
pub const JWKS_PATH: &str = "/.sockstack/jwks.json";
/// Where the gateway mints tokens for the browser page (`?claim=value&…`).
pub const TOKEN_PATH: &str = "/.sockstack/token";

/// The authorizer's token settings, read from its function's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// The variable holding the JWKS URL, when the authorizer has one.
    pub jwks_variable: Option<String>,
    /// The expected `iss`.
    pub issuer: Option<String>,
    /// The accepted audiences.
    pub audiences: Vec<String>,
}

impl AuthSettings {
    /// Reads the contract's JWKS URL, issuer and audience variables from an authorizer's environment.
    pub fn from_environment(environment: &BTreeMap<String, String>) -> AuthSettings {
        AuthSettings {
            jwks_variable: environment
                .contains_key(env::JWKS_URL)
                .then(|| env::JWKS_URL.to_string()),
            issuer: environment.get(env::JWT_ISSUER).cloned(),
            audiences: environment
                .get(env::JWT_AUDIENCE)
                .map(|a| {
                    a.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The local issuer's key.
pub struct Issuer {
    pair: KeyPair,
    kid: String,
}

impl Issuer {
    /// The key file under `root/out/.dev/`.
    pub fn key_path(root: &Path) -> PathBuf {
        root.join("out").join(".dev").join("issuer-key.pk8")
    }

    /// Loads the key at `path`, or creates it (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Issuer, String> {
        let pair = match std::fs::read(path) {
            Ok(bytes) => KeyPair::from_pkcs8(&bytes).map_err(|e| {
                format!(
                    "{}: not an RSA key ({e}); delete it to get a new one",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pair = KeyPair::generate(KeySize::Rsa2048)
                    .map_err(|e| format!("cannot generate an RSA key: {e}"))?;
                let der = pair
                    .as_der()
                    .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                write_private(path, der.as_ref())?;
                pair
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let public = pair.public_key();
        let digest = Sha256::digest(public.as_ref());
        let kid = format!(
            "sockstack-dev-{}",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(Issuer { pair, kid })
    }

    /// The key id tokens carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS document with the public key.
    pub fn jwks(&self) -> Value {
        let public = self.pair.public_key();
        json!({"keys": [{
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": B64.encode(public.modulus().big_endian_without_leading_zero()),
            "e": B64.encode(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// An RS256 token with `claims`, plus `iss`, `aud` (the first audience), `iat` and `exp` from the settings.
    pub fn token(
        &self,
        settings: &AuthSettings,
        claims: &[(String, String)],
        now_secs: i64,
        expires_in_secs: i64,
    ) -> Result<String, String> {
        let mut body = Map::new();
        if let Some(iss) = &settings.issuer {
            body.insert("iss".into(), json!(iss));
        }
        if let Some(aud) = settings.audiences.first() {
            body.insert("aud".into(), json!(aud));
        }
        body.insert("iat".into(), json!(now_secs));
        body.insert("exp".into(), json!(now_secs + expires_in_secs));
        for (k, v) in claims {
            body.insert(k.clone(), json!(v));
        }
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let message = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(Value::Object(body).to_string())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut sig,
            )
            .map_err(|e| format!("cannot sign the token: {e}"))?;
        Ok(format!("{message}.{}", B64.encode(sig)))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Parses `NAME=VALUE` (for `--claim`).
pub fn parse_claim(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("{text:?}: expected NAME=VALUE, e.g. sub=alice")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_and_tokens_carry_the_stack_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = Issuer::key_path(dir.path());
        let a = Issuer::load_or_create(&path).unwrap();
        let b = Issuer::load_or_create(&path).unwrap();
        assert_eq!(a.kid(), b.kid(), "the second load reads the same key");
        assert_eq!(a.jwks(), b.jwks());
        let settings = AuthSettings::from_environment(&BTreeMap::from([
            (env::JWT_ISSUER.to_string(), "https://iss/".to_string()),
            (env::JWT_AUDIENCE.to_string(), "web, cli".to_string()),
            (env::JWKS_URL.to_string(), "https://iss/jwks".to_string()),
        ]));
        assert_eq!(settings.audiences, ["web", "cli"]);
        let token = a
            .token(&settings, &[("sub".into(), "alice".into())], 1000, 60)
            .unwrap();
        let claims: Value =
            serde_json::from_slice(&B64.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(
            claims,
            json!({"iss": "https://iss/", "aud": "web", "iat": 1000, "exp": 1060, "sub": "alice"})
        );
        assert!(parse_claim("nope").is_err());
        assert_eq!(parse_claim("a=b=c").unwrap(), ("a".into(), "b=c".into()));
    }
}
