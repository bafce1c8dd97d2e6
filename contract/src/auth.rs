//! How the `$connect` authorizer is configured and what it passes on.
//!
//! The authorizer verifies an RS256 JWT against a JWKS, then answers with
//! `principalId` = the token's `sub` and a `context` mapping each configured key
//! to its claim's value as a string (a missing optional claim leaves its key out;
//! a missing required claim denies). API Gateway passes that context to every
//! later event of the connection as `requestContext.authorizer.<key>`.

/// URL of the identity provider's JSON Web Key Set.
pub const JWKS_URL: &str = "JWKS_URL";
/// Expected `iss` claim.
pub const JWT_ISSUER: &str = "JWT_ISSUER";
/// Accepted audiences (`aud`, or `client_id` for Cognito access tokens), comma-separated.
pub const JWT_AUDIENCE: &str = "JWT_AUDIENCE";
/// Where the token is read, as an identity-source expression (`route.request.querystring.token`).
pub const TOKEN_SOURCE: &str = "TOKEN_SOURCE";
/// The context to pass on: `key=claim,…`, sorted by key.
pub const CONTEXT: &str = "AUTH_CONTEXT";
/// Claims a token must carry: `claim,…`.
pub const REQUIRED_CLAIMS: &str = "AUTH_REQUIRED_CLAIMS";
/// The claim that becomes `principalId`.
pub const PRINCIPAL_CLAIM: &str = "sub";

/// `[(context key, claim)]` as the value of [`CONTEXT`], sorted by key.
pub fn format_context<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, c)| format!("{k}={c}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The value of [`CONTEXT`] as `(context key, claim)` pairs; `None` if malformed.
/// A claim may itself contain `=`-free punctuation such as `custom:room`.
pub fn parse_context(value: &str) -> Option<Vec<(String, String)>> {
    crate::registry::parse_indexes(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips() {
        let v = format_context([("roomId", "custom:room"), ("email", "email")]);
        assert_eq!(v, "email=email,roomId=custom:room");
        let parsed = parse_context(&v).unwrap();
        assert_eq!(parsed[1], ("roomId".to_string(), "custom:room".to_string()));
    }
}
