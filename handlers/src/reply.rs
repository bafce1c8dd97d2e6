//! What a route answers. On a two-way route API Gateway sends the body back
//! to the sender; `$connect` and `$disconnect` only look at the status code.

use crate::legacy::access::handlers;
use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::CONTENT_TYPE;
use serde_json::{Value, json};

/// The actions a client can send (the routes whose handlers ship with sockstack).
pub const VALID_ACTIONS: &[&str] = &[handlers::VOTE];

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

/// An error for the sender: `{"type":"error","error":code,"message":…,"validActions":[…]}`.
pub fn error(status: u16, code: &str, message: &str) -> ApiGatewayProxyResponse {
    json_response(
        status,
        &json!({
            "type": "error",
            "error": code,
            "message": message,
            "validActions": VALID_ACTIONS,
        }),
    )
}

/// What `$default` answers: the action is unknown (or the message is not an action at all).
pub fn unknown_action(body: Option<&str>) -> ApiGatewayProxyResponse {
    let action = body
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_string));
    let message = match action {
        Some(action) => format!(
            "unknown action {action:?}; valid actions: {}",
            VALID_ACTIONS.join(", ")
        ),
        None => format!(
            "messages must be JSON objects with an \"action\" field; valid actions: {}",
            VALID_ACTIONS.join(", ")
        ),
    };
    error(400, "unknown_action", &message)
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
    fn default_lists_valid_actions() {
        let r = unknown_action(Some(r#"{"action":"dance"}"#));
        assert_eq!(r.status_code, 400);
        let b = body(&r);
        assert_eq!(b["validActions"], json!(["vote"]));
        assert!(b["message"].as_str().unwrap().contains("\"dance\""));
        let r = unknown_action(Some("not json"));
        assert!(
            body(&r)["message"]
                .as_str()
                .unwrap()
                .contains("JSON objects")
        );
    }
}
