//! Rules for API Gateway WebSocket APIs that generic linters miss.

use super::{Finding, Severity, Subject};
use crate::config::show;
use crate::raw::Intrinsic;
use serde_json::Value;
use std::collections::BTreeMap;

/// Routes per API before API Gateway's (raisable) quota.
pub const ROUTE_QUOTA: usize = 300;

/// Whether `source` is an identity source a WebSocket authorizer accepts:
/// `route.request.header.X`, `route.request.querystring.X`, `stageVariables.X` or `context.X`.
pub fn check_identity_source(source: &str) -> Result<(), String> {
    const FORMS: [&str; 4] = [
        "route.request.header.",
        "route.request.querystring.",
        "stageVariables.",
        "context.",
    ];
    let named = FORMS.iter().find_map(|prefix| source.strip_prefix(prefix));
    match named {
        Some(name) if !name.is_empty() && !name.chars().any(char::is_whitespace) => Ok(()),
        Some(_) => Err(format!("identity source `{source}` names no parameter")),
        None if source.starts_with("$request.") || source.starts_with("$context.") => Err(format!(
            "`{source}` is the HTTP API form; WebSocket APIs write `route.request.header.X` or `route.request.querystring.X`"
        )),
        None => Err(format!("`{source}` is not a WebSocket identity source")),
    }
}

/// Whether `key` is a valid WebSocket route key: one of the three reserved keys,
/// or a custom key (1–128 visible characters, not starting with `$`).
pub fn check_route_key(key: &str) -> Result<(), String> {
    match key {
        "$connect" | "$disconnect" | "$default" => Ok(()),
        _ if key.starts_with('$') => Err(format!(
            "`{key}` is not a route key: only `$connect`, `$disconnect` and `$default` may start with `$`"
        )),
        _ if key.is_empty() => Err("the route key is empty".to_string()),
        _ if key.chars().count() > 128 => Err(format!(
            "route key `{}` is longer than 128 characters",
            show::quote(key)
        )),
        _ if key.chars().any(show::is_hidden) => Err(format!(
            "route key `{}` contains a control or bidirectional-text character",
            show::quote(key)
        )),
        _ if key.chars().any(char::is_whitespace) => Err(format!(
            "route key `{}` contains white space",
            show::quote(key)
        )),
        _ => Ok(()),
    }
}

/// The logical id a property refers to with `{"Ref": id}`, if it does.
fn ref_target(value: Option<&Value>) -> Option<&str> {
    match Intrinsic::parse(value?)? {
        Intrinsic::Ref(id) => Some(id),
        _ => None,
    }
}

/// Whether `api_id` is a `Ref` to a WebSocket API of the template.
pub(crate) fn is_websocket_api(t: &Subject, api_id: Option<&Value>) -> bool {
    ref_target(api_id)
        .and_then(|id| t.resources.get(id))
        .is_some_and(|api| {
            api.type_name == "AWS::ApiGatewayV2::Api"
                && api.properties.get("ProtocolType").and_then(Value::as_str) == Some("WEBSOCKET")
        })
}

/// Checks routes and authorizers that belong to WebSocket APIs of the template.
pub fn check(t: &Subject) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut keys_per_api: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    let mut routes_per_api: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, route) in t.resources_of_type("AWS::ApiGatewayV2::Route") {
        let api = route.properties.get("ApiId");
        if !is_websocket_api(t, api) {
            continue;
        }
        let api = ref_target(api).unwrap_or_default();
        *routes_per_api.entry(api).or_default() += 1;
        let Some(key) = route.properties.get("RouteKey").and_then(Value::as_str) else {
            continue;
        };
        if let Err(why) = check_route_key(key) {
            out.push(Finding::new(
                Severity::Error,
                "bad-route-key",
                Some(id),
                why,
            ));
        } else if let Some(first) = keys_per_api.entry(api).or_default().insert(key, id) {
            out.push(Finding::new(
                Severity::Error,
                "duplicate-route-key",
                Some(id),
                format!("route key `{key}` is already used by {first} on the same API"),
            ));
        }
        let auth_type = route
            .properties
            .get("AuthorizationType")
            .and_then(Value::as_str);
        let has_authorizer = route.properties.contains_key("AuthorizerId")
            || matches!(auth_type, Some("CUSTOM" | "AWS_IAM" | "JWT"));
        if has_authorizer && key != "$connect" {
            out.push(Finding::new(
                Severity::Error,
                "authorizer-not-on-connect",
                Some(id),
                format!(
                    "route `{key}` has an authorizer; WebSocket APIs authorize only on `$connect` (set AuthorizationType NONE here)"
                ),
            ));
        }
    }
    for (api, count) in routes_per_api {
        if count > ROUTE_QUOTA {
            out.push(Finding::new(
                Severity::Warning,
                "route-quota",
                Some(api),
                format!("{count} routes, over API Gateway's default quota of {ROUTE_QUOTA} per API (it can be raised through Service Quotas)"),
            ));
        }
    }
    for (id, authorizer) in t.resources_of_type("AWS::ApiGatewayV2::Authorizer") {
        if !is_websocket_api(t, authorizer.properties.get("ApiId")) {
            continue;
        }
        let sources = match authorizer.properties.get("IdentitySource") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => s.split(',').map(str::trim).collect(),
            _ => Vec::new(),
        };
        for source in sources {
            if let Err(why) = check_identity_source(source) {
                out.push(Finding::new(
                    Severity::Error,
                    "bad-identity-source",
                    Some(id),
                    why,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::RawTemplate;
    use serde_json::json;

    #[test]
    fn identity_sources() {
        assert!(check_identity_source("route.request.querystring.token").is_ok());
        assert!(check_identity_source("route.request.header.Authorization").is_ok());
        assert!(check_identity_source("stageVariables.x").is_ok());
        assert!(check_identity_source("context.y").is_ok());
        assert!(
            check_identity_source("$request.header.Authorization")
                .unwrap_err()
                .contains("HTTP API")
        );
        assert!(check_identity_source("route.request.header.").is_err());
        assert!(check_identity_source("token").is_err());
    }

    #[test]
    fn route_keys() {
        for ok in ["$connect", "$disconnect", "$default", "send", "room.chat"] {
            assert!(check_route_key(ok).is_ok(), "{ok}");
        }
        for bad in ["$send", "", "two words", "a\u{202e}b", "a\u{7}b"] {
            assert!(check_route_key(bad).is_err(), "{bad:?}");
        }
        // Characters, not bytes: 128 two-byte letters are a valid key, 129 are not.
        assert!(check_route_key(&"é".repeat(128)).is_ok());
        let long = check_route_key(&"é".repeat(129)).unwrap_err();
        assert!(long.contains("longer than 128 characters"), "{long}");
        let hidden = check_route_key("a\u{202e}b").unwrap_err();
        assert!(hidden.contains("a\\u{202e}b"), "shown escaped: {hidden}");
    }

    fn rules(doc: serde_json::Value) -> Vec<&'static str> {
        check(&Subject::of(&RawTemplate::from_value(doc).unwrap()))
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn authorizer_only_on_connect() {
        let api = json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET", "Name": "a"}});
        let route = |key: &str, auth: &str| {
            json!({"Type": "AWS::ApiGatewayV2::Route",
            "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": key, "AuthorizationType": auth}})
        };
        assert!(rules(json!({"Resources": {"Api": api, "C": route("$connect", "CUSTOM"), "V": route("send", "NONE")}})).is_empty());
        assert_eq!(
            rules(json!({"Resources": {"Api": api, "V": route("send", "CUSTOM")}})),
            ["authorizer-not-on-connect"]
        );
        assert_eq!(
            rules(
                json!({"Resources": {"Api": api, "A": route("send", "NONE"), "B": route("send", "NONE")}})
            ),
            ["duplicate-route-key"]
        );
        // Not a WebSocket API: HTTP API routes are not this rule's business.
        let http = json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP", "Name": "h"}});
        assert!(rules(json!({"Resources": {"Api": http, "V": route("GET /x", "JWT")}})).is_empty());
    }

    #[test]
    fn identity_source_on_websocket_authorizer() {
        let api = json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET", "Name": "a"}});
        let authorizer = json!({"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {
            "ApiId": {"Ref": "Api"}, "AuthorizerType": "REQUEST", "IdentitySource": ["$request.header.Authorization"]}});
        assert_eq!(
            rules(json!({"Resources": {"Api": api, "Auth": authorizer}})),
            ["bad-identity-source"]
        );
    }
}
