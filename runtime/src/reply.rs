//! What a route answers. On a two-way route (`twoWay: true`) API Gateway sends
//! the body back to the sender; `$connect` and `$disconnect` only look at the
//! status code (a non-2xx `$connect` refuses the connection).

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::CONTENT_TYPE;
use serde_json::{Value, json};
use sockstack_contract::grants::ROUTE_KEYS;

use crate::settings::{self, Source};

/// The custom route keys of the stack (`ROUTE_KEYS`, set on the `$default`
/// function): the actions a client can send. Empty when unset.
pub fn route_keys(source: &dyn Source) -> Vec<String> {
    settings::list(source, ROUTE_KEYS)
}

/// A response with a JSON body.
pub fn json_response(status: u16, body: &Value) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(body.to_string()));
    response
}

/// `200` with `{"type":"ok"}`-style body.
pub fn ok(body: &Value) -> ApiGatewayProxyResponse {
    json_response(200, body)
}

/// An error for the sender: `{"type":"error","error":code,"message":…}`.
pub fn error(status: u16, code: &str, message: &str) -> ApiGatewayProxyResponse {
    json_response(
        status,
        &json!({"type": "error", "error": code, "message": message}),
    )
}

/// What `$default` answers: the action is unknown (or the message is not an
/// action at all), with the `valid` actions (see [`route_keys`]):
/// `{"type":"error","error":"unknown_action","message":…,"validActions":[…]}`.
pub fn unknown_action(body: Option<&str>, valid: &[String]) -> ApiGatewayProxyResponse {
    let action = body
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string));
    let message = match action {
        Some(action) => format!(
            "unknown action {action:?}; valid actions: {}",
            valid.join(", ")
        ),
        None => format!(
            "messages must be JSON objects with an \"action\" field; valid actions: {}",
            valid.join(", ")
        ),
    };
    json_response(
        400,
        &json!({
            "type": "error",
            "error": "unknown_action",
            "message": message,
            "validActions": valid,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &ApiGatewayProxyResponse) -> Value {
        match &r.body {
            Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_lists_the_stacks_route_keys() {
        let env = |name: &str| (name == ROUTE_KEYS).then(|| "join,send".to_string());
        let valid = route_keys(&env);
        let r = unknown_action(Some(r#"{"action":"dance"}"#), &valid);
        assert_eq!(r.status_code, 400);
        let b = body(&r);
        assert_eq!(b["validActions"], json!(["join", "send"]));
        assert!(b["message"].as_str().unwrap().contains("\"dance\""));
        assert!(b["message"].as_str().unwrap().ends_with("join, send"));
        let r = unknown_action(Some("not json"), &valid);
        assert!(
            body(&r)["message"]
                .as_str()
                .unwrap()
                .contains("JSON objects")
        );
        assert!(route_keys(&|_: &str| None).is_empty());
    }
}
