//! The `$connect` REQUEST authorizer: verifies an RS256 JWT against the
//! issuer's JWKS and answers API Gateway with an IAM policy.
//!
//! What is checked, in order: a token is present (and not absurdly long); its
//! header is JSON with `alg: RS256` (the only algorithm the keys are used
//! with; `none`, `HS256` and everything else are refused before any key is
//! looked at) and a `kid`; the `kid` names a key in the JWKS; the signature;
//! `exp` (required) and `nbf` with [`LEEWAY_SECONDS`]; `iss`; the audience
//! (`aud`, or for Cognito access tokens `client_id` with `token_use: access`);
//! a non-empty `sub` (the `principalId`) and every required claim
//! (`AUTH_REQUIRED_CLAIMS`). Anything else is denied, and the reason is logged
//! — never the token. An allowed caller gets the context `AUTH_CONTEXT` maps
//! (context key ← claim, scalar claims as strings; see [`sockstack_contract::auth`]).
//!
//! [`run_authorizer`] is the whole Lambda function: a handler crate's
//! `src/bin/authorizer.rs` is `fn main() { sockstack_runtime::auth::run_authorizer() }`.

use crate::jwks::{JwksCache, KeyError};
use crate::settings::{self, SettingsError, Source};
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use sockstack_contract::auth as env;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;
/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default token source: the `token` query-string parameter (browsers cannot
/// set headers on a WebSocket).
pub const DEFAULT_TOKEN_SOURCE: &str = "route.request.querystring.token";
/// The action an Allow grants.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

/// Where the token is read from: an API Gateway identity-source expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `route.request.querystring.NAME`
    QueryString(String),
    /// `route.request.header.NAME` (case-insensitive; `Bearer ` is stripped)
    Header(String),
    /// `stageVariables.NAME`
    StageVariable(String),
    /// `context.NAME` (a field of the request context)
    Context(String),
}

impl FromStr for TokenSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (make, name): (fn(String) -> TokenSource, _) =
            if let Some(n) = s.strip_prefix("route.request.querystring.") {
                (TokenSource::QueryString, n)
            } else if let Some(n) = s.strip_prefix("route.request.header.") {
                (TokenSource::Header, n)
            } else if let Some(n) = s.strip_prefix("stageVariables.") {
                (TokenSource::StageVariable, n)
            } else if let Some(n) = s.strip_prefix("context.") {
                (TokenSource::Context, n)
            } else {
                return Err(format!("unknown identity source {s:?}"));
            };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("identity source {s:?} has no name"));
        }
        Ok(make(name.to_string()))
    }
}

impl TokenSource {
    /// The token in `request`, if present (a `Bearer ` prefix is removed).
    pub fn find<'a>(
        &self,
        request: &'a ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> Option<&'a str> {
        let raw = match self {
            TokenSource::QueryString(name) => request.query_string_parameters.first(name),
            TokenSource::Header(name) => request
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok()),
            TokenSource::StageVariable(name) => {
                request.stage_variables.get(name).map(String::as_str)
            }
            TokenSource::Context(name) => request
                .request_context
                .other
                .get(name)
                .and_then(Value::as_str),
        }?;
        let raw = raw.trim();
        let token = match raw.get(..6) {
            Some(scheme)
                if scheme.eq_ignore_ascii_case("bearer")
                    && raw[6..].chars().next().is_none_or(char::is_whitespace) =>
            {
                raw[6..].trim_start()
            }
            _ => raw,
        };
        (!token.is_empty()).then_some(token)
    }
}

/// The authorizer's settings (see [`sockstack_contract::auth`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `JWKS_URL`
    pub jwks_url: String,
    /// `JWT_ISSUER`
    pub issuer: String,
    /// `JWT_AUDIENCE`, split on commas.
    pub audiences: Vec<String>,
    /// `TOKEN_SOURCE`
    pub token_source: TokenSource,
    /// `AUTH_CONTEXT`: (context key, claim), sorted by key; empty when unset.
    pub context: Vec<(String, String)>,
    /// `AUTH_REQUIRED_CLAIMS`: claims a token must carry (`sub` always is).
    pub required_claims: Vec<String>,
}

impl AuthSettings {
    /// Reads the settings from `source` (the environment in a binary).
    pub fn from_source(source: &dyn Source) -> Result<Self, SettingsError> {
        let jwks_url = settings::required(source, env::JWKS_URL)?;
        if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://")) {
            return Err(SettingsError::Invalid {
                name: env::JWKS_URL.to_string(),
                value: jwks_url,
                expected: "an http(s) URL".to_string(),
            });
        }
        let issuer = settings::required(source, env::JWT_ISSUER)?;
        let audience = settings::required(source, env::JWT_AUDIENCE)?;
        let audiences: Vec<String> = audience
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        if audiences.is_empty() {
            return Err(SettingsError::Missing(env::JWT_AUDIENCE.to_string()));
        }
        let token_source = settings::optional(source, env::TOKEN_SOURCE)
            .unwrap_or_else(|| DEFAULT_TOKEN_SOURCE.to_string());
        let token_source = token_source
            .parse()
            .map_err(|expected| SettingsError::Invalid {
                name: env::TOKEN_SOURCE.to_string(),
                value: token_source.clone(),
                expected: format!(
                    "route.request.querystring.X, route.request.header.X, stageVariables.X or context.X ({expected})"
                ),
            })?;
        let raw = settings::optional(source, env::CONTEXT).unwrap_or_default();
        let mut context = env::parse_context(&raw).ok_or_else(|| SettingsError::Invalid {
            name: env::CONTEXT.to_string(),
            value: raw.clone(),
            expected: "key=claim pairs separated by commas".to_string(),
        })?;
        context.sort();
        let mut required_claims = settings::list(source, env::REQUIRED_CLAIMS);
        if !required_claims.iter().any(|c| c == env::PRINCIPAL_CLAIM) {
            required_claims.insert(0, env::PRINCIPAL_CLAIM.to_string());
        }
        Ok(AuthSettings {
            jwks_url,
            issuer,
            audiences,
            token_source,
            context,
            required_claims,
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_source(&settings::Env)
    }
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim: the `principalId`.
    pub principal_id: String,
    /// Context key → the claim's value as a string (keys of absent optional claims left out).
    pub context: BTreeMap<String, String>,
}

/// A scalar claim as the string API Gateway's context carries; `None` for
/// objects, arrays and null (the context holds no structures).
fn claim_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Why a request was denied. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No token where the token source says.
    NoToken,
    /// Longer than [`MAX_TOKEN_BYTES`].
    TooLong,
    /// Not three base64url parts with a JSON header, or claims that are not JSON.
    Malformed(String),
    /// The header's `alg` is not RS256.
    Algorithm(String),
    /// The header has no `kid`.
    NoKid,
    /// The `kid` is not in the key set.
    UnknownKid,
    /// No key set could be fetched.
    KeysUnavailable(String),
    /// The signature does not verify.
    BadSignature,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// A required claim is missing, empty, or not a scalar.
    MissingClaim(String),
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// Neither `aud` nor (for access tokens) `client_id` is an accepted audience.
    WrongAudience,
    /// `token_use` is neither `id` nor `access`.
    WrongTokenUse,
    /// The request has no `methodArn`.
    NoMethodArn,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::NoToken => f.write_str("no token"),
            Denial::TooLong => f.write_str("token too long"),
            Denial::Malformed(why) => write!(f, "malformed token: {why}"),
            Denial::Algorithm(alg) => write!(f, "algorithm {alg:?} not accepted (RS256 only)"),
            Denial::NoKid => f.write_str("token header has no kid"),
            Denial::UnknownKid => f.write_str("kid not in the key set"),
            Denial::KeysUnavailable(why) => write!(f, "no keys to verify with: {why}"),
            Denial::BadSignature => f.write_str("bad signature"),
            Denial::Expired => f.write_str("token expired"),
            Denial::NotYetValid => f.write_str("token not yet valid (nbf)"),
            Denial::MissingClaim(c) => {
                write!(f, "required claim {c:?} missing, empty or not a scalar")
            }
            Denial::WrongIssuer => f.write_str("wrong issuer"),
            Denial::WrongAudience => f.write_str("wrong audience"),
            Denial::WrongTokenUse => f.write_str("token_use is neither id nor access"),
            Denial::NoMethodArn => f.write_str("request has no methodArn"),
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<Value>,
    kid: Option<Value>,
    crit: Option<Value>,
}

/// Verifies tokens and answers authorizer requests.
pub struct Authorizer {
    settings: AuthSettings,
    jwks: JwksCache,
    validation: Validation,
}

impl Authorizer {
    /// An authorizer with a JWKS cache of default intervals.
    pub fn new(settings: AuthSettings) -> Self {
        let jwks = JwksCache::new(settings.jwks_url.clone());
        Self::with_cache(settings, jwks)
    }

    /// An authorizer that uses the given cache (tests give it their own policy or clock).
    pub fn with_cache(settings: AuthSettings, jwks: JwksCache) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[settings.issuer.as_str()]);
        // The audience is checked below: Cognito access tokens carry `client_id`, not `aud`.
        validation.validate_aud = false;
        Authorizer {
            settings,
            jwks,
            validation,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The JWKS cache.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// Verifies `token` and returns who it names.
    pub async fn verify(&self, token: &str) -> Result<Identity, Denial> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Denial::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Denial::Malformed("not three dot-separated parts".into()));
        };
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| Denial::Malformed("header is not base64url".into()))?;
        let header: Header = serde_json::from_slice(&header)
            .map_err(|_| Denial::Malformed("header is not a JSON object".into()))?;
        match header.alg {
            Some(Value::String(alg)) if alg == "RS256" => {}
            Some(Value::String(alg)) => return Err(Denial::Algorithm(alg)),
            _ => return Err(Denial::Algorithm("(missing)".into())),
        }
        if header.crit.is_some() {
            return Err(Denial::Malformed(
                "unsupported critical header parameters".into(),
            ));
        }
        let kid = match header.kid {
            Some(Value::String(kid)) if !kid.is_empty() => kid,
            _ => return Err(Denial::NoKid),
        };
        let key = self.jwks.key(&kid).await.map_err(|e| match e {
            KeyError::UnknownKid => Denial::UnknownKid,
            KeyError::Unavailable(why) => Denial::KeysUnavailable(why),
        })?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation)
            .map_err(|e| match e.into_kind() {
                ErrorKind::InvalidSignature => Denial::BadSignature,
                ErrorKind::ExpiredSignature => Denial::Expired,
                ErrorKind::ImmatureSignature => Denial::NotYetValid,
                ErrorKind::InvalidIssuer => Denial::WrongIssuer,
                ErrorKind::MissingRequiredClaim(c) => Denial::MissingClaim(c),
                ErrorKind::InvalidAlgorithm => Denial::Algorithm("RS256 with a non-RSA key".into()),
                other => Denial::Malformed(format!("{other:?}")),
            })?;
        let claims = data.claims;
        self.check_audience(&claims)?;
        let scalar = |name: &str| {
            claims
                .get(name)
                .and_then(claim_string)
                .filter(|v| !v.is_empty())
        };
        for required in &self.settings.required_claims {
            if scalar(required).is_none() {
                return Err(Denial::MissingClaim(required.clone()));
            }
        }
        let principal_id = match claims.get(env::PRINCIPAL_CLAIM) {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(Denial::MissingClaim(env::PRINCIPAL_CLAIM.to_string())),
        };
        let context = self
            .settings
            .context
            .iter()
            .filter_map(|(key, claim)| scalar(claim).map(|v| (key.clone(), v)))
            .collect();
        Ok(Identity {
            principal_id,
            context,
        })
    }

    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), Denial> {
        let accepted = |v: &str| self.settings.audiences.iter().any(|a| a == v);
        let token_use = claims.get("token_use").map(|v| v.as_str().unwrap_or("?"));
        if token_use.is_some_and(|u| u != "id" && u != "access") {
            return Err(Denial::WrongTokenUse);
        }
        match claims.get("aud") {
            Some(Value::String(aud)) if accepted(aud) => Ok(()),
            Some(Value::Array(auds)) if auds.iter().filter_map(Value::as_str).any(accepted) => {
                Ok(())
            }
            Some(_) => Err(Denial::WrongAudience),
            // Cognito access tokens: no `aud`, the app client in `client_id`.
            None if token_use == Some("access") => match claims.get("client_id") {
                Some(Value::String(client)) if accepted(client) => Ok(()),
                _ => Err(Denial::WrongAudience),
            },
            None => Err(Denial::WrongAudience),
        }
    }

    /// Answers an authorizer request: Allow on its `methodArn` for a valid
    /// token, Deny otherwise (the reason is logged).
    pub async fn authorize(
        &self,
        request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> ApiGatewayCustomAuthorizerResponse {
        match self.decide(request).await {
            Ok((arn, identity)) => {
                tracing::info!(principal_id = %identity.principal_id, "allow");
                allow(arn, &identity)
            }
            Err(denial) => {
                let connection = request
                    .request_context
                    .other
                    .get("connectionId")
                    .and_then(Value::as_str)
                    .unwrap_or("-");
                tracing::warn!(reason = %denial, connection_id = connection, "deny");
                deny(request.method_arn.as_deref())
            }
        }
    }

    async fn decide<'r>(
        &self,
        request: &'r ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> Result<(&'r str, Identity), Denial> {
        let arn = request
            .method_arn
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or(Denial::NoMethodArn)?;
        let token = self
            .settings
            .token_source
            .find(request)
            .ok_or(Denial::NoToken)?;
        Ok((arn, self.verify(token).await?))
    }
}

fn policy(effect: IamPolicyEffect, resource: &str) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec![INVOKE_ACTION.to_string()];
    statement.effect = effect;
    statement.resource = vec![resource.to_string()];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_string());
    policy.statement = vec![statement];
    policy
}

/// Allow `execute-api:Invoke` on `method_arn` for `identity`, with the
/// context every route of the connection sees.
pub fn allow(method_arn: &str, identity: &Identity) -> ApiGatewayCustomAuthorizerResponse {
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(identity.principal_id.clone());
    response.policy_document = policy(IamPolicyEffect::Allow, method_arn);
    response.context = Value::Object(
        identity
            .context
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    response
}

/// The authorizer Lambda function: logging, settings from the environment
/// (exits naming a missing or malformed variable), then the event loop.
pub fn run_authorizer() -> Result<(), lambda_runtime::Error> {
    crate::logging::init();
    let authorizer = Authorizer::new(settings::exit_on_error(AuthSettings::from_env()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
            let authorizer = &authorizer;
            async move { Ok::<_, lambda_runtime::Error>(authorizer.authorize(&event.payload).await) }
        },
    )))
}

/// Deny `execute-api:Invoke` on `method_arn` (or everything when there is none).
pub fn deny(method_arn: Option<&str>) -> ApiGatewayCustomAuthorizerResponse {
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some("unauthorized".to_string());
    response.policy_document = policy(
        IamPolicyEffect::Deny,
        method_arn.filter(|a| !a.is_empty()).unwrap_or("*"),
    );
    response.context = Value::Object(Map::new());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_sources_parse() {
        assert_eq!(
            "route.request.querystring.token".parse(),
            Ok(TokenSource::QueryString("token".into()))
        );
        assert_eq!(
            "route.request.header.Authorization".parse(),
            Ok(TokenSource::Header("Authorization".into()))
        );
        assert_eq!(
            "stageVariables.t".parse(),
            Ok(TokenSource::StageVariable("t".into()))
        );
        assert_eq!("context.t".parse(), Ok(TokenSource::Context("t".into())));
        assert!("route.request.body.token".parse::<TokenSource>().is_err());
        assert!("route.request.header.".parse::<TokenSource>().is_err());
    }

    #[test]
    fn header_source_strips_bearer_and_ignores_case() {
        let mut req = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
        req.headers
            .insert("authorization", "bearer  abc.def.ghi".parse().unwrap());
        let source: TokenSource = "route.request.header.Authorization".parse().unwrap();
        assert_eq!(source.find(&req), Some("abc.def.ghi"));
        req.headers
            .insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(source.find(&req), None);
    }

    #[test]
    fn settings_need_jwks_issuer_audience() {
        let vars = |name: &str| match name {
            "JWKS_URL" => Some("https://example.test/jwks".to_string()),
            "JWT_ISSUER" => Some("iss".to_string()),
            "JWT_AUDIENCE" => Some(" a, b ,".to_string()),
            _ => None,
        };
        let s = AuthSettings::from_source(&vars).unwrap();
        assert_eq!(s.audiences, ["a", "b"]);
        assert_eq!(s.token_source, TokenSource::QueryString("token".into()));
        assert!(s.context.is_empty());
        assert_eq!(s.required_claims, ["sub"]);
        let no_issuer = |name: &str| {
            if name == "JWT_ISSUER" {
                None
            } else {
                vars(name)
            }
        };
        assert_eq!(
            AuthSettings::from_source(&no_issuer),
            Err(SettingsError::Missing("JWT_ISSUER".into()))
        );
    }

    #[test]
    fn context_and_required_claims_come_from_the_contract_variables() {
        let vars = |name: &str| match name {
            env::JWKS_URL => Some("https://example.test/jwks".to_string()),
            env::JWT_ISSUER => Some("iss".to_string()),
            env::JWT_AUDIENCE => Some("a".to_string()),
            env::CONTEXT => Some("teamId=custom:team,email=email".to_string()),
            env::REQUIRED_CLAIMS => Some("custom:team".to_string()),
            _ => None,
        };
        let s = AuthSettings::from_source(&vars).unwrap();
        assert_eq!(
            s.context,
            [
                ("email".to_string(), "email".to_string()),
                ("teamId".to_string(), "custom:team".to_string())
            ]
        );
        assert_eq!(s.required_claims, ["sub", "custom:team"]);
        let bad = |name: &str| match name {
            env::CONTEXT => Some("teamId".to_string()),
            other => vars(other),
        };
        let err = AuthSettings::from_source(&bad).unwrap_err();
        assert!(err.to_string().contains("AUTH_CONTEXT"), "{err}");
    }
}
