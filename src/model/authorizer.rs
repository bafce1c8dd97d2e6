//! The `$connect` JWT authorizer.

use crate::check::websocket::check_identity_source;
use crate::config::Problem;
use crate::config::locate::{child, item};
use crate::config::stack::AuthorizerConfig;
use sockstack_contract::{auth, registry};
use std::collections::BTreeMap;

/// Where the authorizer's keys come from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// A JWKS URL and issuer.
    Jwt,
    /// A Cognito user pool (issuer and JWKS URL follow from it).
    Cognito {
        /// The pool id.
        user_pool_id: String,
    },
}

/// The JWT authorizer of `$connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorizer {
    /// The function that runs it (a `functions:` name).
    pub function: String,
    /// Where its keys come from.
    pub source: KeySource,
    /// JWKS URL.
    pub jwks_url: String,
    /// Expected issuer.
    pub issuer: String,
    /// Accepted audiences / client ids.
    pub audience: Vec<String>,
    /// Identity sources (the first is where the token is read).
    pub identity_source: Vec<String>,
    /// Context key → claim, passed on to every route.
    pub context: BTreeMap<String, String>,
    /// Claims a token must carry.
    pub required_claims: Vec<String>,
}

impl Authorizer {
    /// The value of `AUTH_CONTEXT`.
    pub fn context_env(&self) -> String {
        auth::format_context(self.context.iter().map(|(k, c)| (k.as_str(), c.as_str())))
    }

    /// The value of `AUTH_REQUIRED_CLAIMS`.
    pub fn required_claims_env(&self) -> String {
        self.required_claims.join(",")
    }
}

/// The region of a Cognito user pool id (`eu-west-1_AbC` → `eu-west-1`), if it is one.
pub fn cognito_region(pool_id: &str) -> Option<&str> {
    let (region, id) = pool_id.split_once('_')?;
    let parts: Vec<&str> = region.split('-').collect();
    let region_ok = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && parts.last()?.chars().all(|c| c.is_ascii_digit());
    let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric());
    (region_ok && id_ok).then_some(region)
}

fn is_https_or_local(url: &str) -> bool {
    if let Some(r) = url.strip_prefix("https://") {
        return !r.is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1")
}

fn audiences(path: &str, values: &[String], p: &mut Vec<Problem>) {
    if values.is_empty() {
        p.push(Problem::value(
            path,
            "no audience",
            "at least one accepted audience (the app client id for Cognito)",
        ));
    }
    for (i, aud) in values.iter().enumerate() {
        if aud.trim().is_empty() || aud.contains(',') {
            p.push(Problem::value(
                item(path, i),
                format!("`{aud}` is not a usable audience"),
                "a non-empty value without commas",
            ));
        }
    }
}

fn is_claim(s: &str) -> bool {
    !s.trim().is_empty() && !s.contains([',', '='])
}

/// The authorizer of the stack file, checked.
pub(super) fn build(a: &AuthorizerConfig, p: &mut Vec<Problem>) -> Authorizer {
    let (source, jwks_url, issuer, audience) = match (&a.jwt, &a.cognito) {
        (Some(_), Some(_)) => {
            p.push(Problem::key(
                "authorizer.cognito",
                "both `jwt` and `cognito` are set",
                "either `jwt: {jwksUrl, issuer, audience}` or `cognito: {userPoolId, clientId}`",
            ));
            (KeySource::Jwt, String::new(), String::new(), Vec::new())
        }
        (None, None) => {
            p.push(Problem::key(
                "authorizer",
                "the authorizer has no key source",
                "`jwt: {jwksUrl, issuer, audience}` or `cognito: {userPoolId, clientId}`",
            ));
            (KeySource::Jwt, String::new(), String::new(), Vec::new())
        }
        (Some(jwt), None) => {
            if !is_https_or_local(&jwt.jwks_url) {
                p.push(Problem::value(
                    "authorizer.jwt.jwksUrl",
                    format!("`{}` is not an https URL", jwt.jwks_url),
                    "an https:// URL (http:// only for localhost)",
                ));
            }
            if jwt.issuer.trim().is_empty() {
                p.push(Problem::value(
                    "authorizer.jwt.issuer",
                    "the issuer is empty",
                    "the exact `iss` claim the tokens carry",
                ));
            }
            audiences("authorizer.jwt.audience", &jwt.audience, p);
            (
                KeySource::Jwt,
                jwt.jwks_url.clone(),
                jwt.issuer.clone(),
                jwt.audience.clone(),
            )
        }
        (None, Some(c)) => {
            let region = cognito_region(&c.user_pool_id).unwrap_or_else(|| {
                p.push(Problem::value(
                    "authorizer.cognito.userPoolId",
                    format!("`{}` is not a Cognito user pool id", c.user_pool_id),
                    "`<region>_<id>`, e.g. `eu-west-1_AbCdEf123`",
                ));
                "us-east-1"
            });
            audiences("authorizer.cognito.clientId", &c.client_id, p);
            let issuer = format!(
                "https://cognito-idp.{region}.amazonaws.com/{}",
                c.user_pool_id
            );
            (
                KeySource::Cognito {
                    user_pool_id: c.user_pool_id.clone(),
                },
                format!("{issuer}/.well-known/jwks.json"),
                issuer,
                c.client_id.clone(),
            )
        }
    };
    if a.identity_source.is_empty() {
        p.push(Problem::value(
            "authorizer.identitySource",
            "no identity source",
            "e.g. `route.request.querystring.token`",
        ));
    }
    for (i, source) in a.identity_source.iter().enumerate() {
        if let Err(why) = check_identity_source(source) {
            p.push(Problem::value(
                item("authorizer.identitySource", i),
                why,
                "`route.request.header.X`, `route.request.querystring.X`, `stageVariables.X` or `context.X`",
            ));
        }
    }
    for (key, claim) in &a.context {
        let path = child("authorizer.context", key);
        let key_ok = key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            p.push(Problem::key(
                path.clone(),
                format!("`{key}` is not a usable context key"),
                "letters, digits and `_`, starting with a letter (it becomes an attribute name)",
            ));
        } else if registry::RESERVED_ATTRIBUTES.contains(&key.as_str()) {
            p.push(Problem::key(
                path.clone(),
                format!("`{key}` is an attribute of the connection registry itself"),
                format!(
                    "a context key other than {}",
                    registry::RESERVED_ATTRIBUTES.join(", ")
                ),
            ));
        }
        if !is_claim(claim) {
            p.push(Problem::value(
                path,
                format!("`{claim}` is not a claim name"),
                "a claim name such as `sub` or `custom:room` (no `,` or `=`)",
            ));
        }
    }
    for (i, claim) in a.required_claims.iter().enumerate() {
        if !is_claim(claim) {
            p.push(Problem::value(
                item("authorizer.requiredClaims", i),
                format!("`{claim}` is not a claim name"),
                "a claim name such as `sub` (no `,` or `=`)",
            ));
        }
    }
    Authorizer {
        function: a.function.clone(),
        source,
        jwks_url,
        issuer,
        audience,
        identity_source: a.identity_source.clone(),
        context: a.context.clone(),
        required_claims: a.required_claims.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::cognito_region;

    #[test]
    fn cognito_pool_regions() {
        assert_eq!(cognito_region("eu-west-1_AbCdEf123"), Some("eu-west-1"));
        assert_eq!(cognito_region("us-gov-west-1_X1"), Some("us-gov-west-1"));
        assert_eq!(cognito_region("eu-west-1"), None);
        assert_eq!(cognito_region("nope_abc"), None);
        assert_eq!(cognito_region("eu-west-1_"), None);
    }
}
