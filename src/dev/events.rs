//! The events API Gateway sends to Lambda for a WebSocket API, in AWS's shapes: the REQUEST authorizer's
//! event and the `CONNECT`, `MESSAGE` and `DISCONNECT` proxy events. Every field the Rust event types require
//! is there (`connectedAt`, `requestTimeEpoch`, `connectionId`, `routeKey`, `eventType`, `messageId`,
//! `domainName`, `stage`, `identity.sourceIp`, `apiId`, …).

use serde_json::{Map, Value, json};
use sockstack_lambda_local::{ACCOUNT, REGION};
use std::collections::BTreeMap;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) of epoch milliseconds, UTC.
fn civil(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `2026-12-01T09:30:00.123Z`.
pub fn iso8601(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
        ms.rem_euclid(1000)
    )
}

/// API Gateway's `requestTime`: `01/Dec/2026:09:30:00 +0000`.
pub fn request_time(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s) = civil(ms);
    format!(
        "{d:02}/{}/{y:04}:{h:02}:{mi:02}:{s:02} +0000",
        MONTHS[(mo - 1) as usize]
    )
}

/// What every event of one connection shares.
#[derive(Debug, Clone)]
pub struct ConnectionContext {
    /// The connection id.
    pub connection_id: String,
    /// When the connection was opened (epoch ms).
    pub connected_at: i64,
    /// The client's address.
    pub source_ip: String,
    /// The client's `User-Agent`, if any.
    pub user_agent: Option<String>,
    /// The API id.
    pub api_id: String,
    /// The stage.
    pub stage: String,
    /// The domain clients connected to (`127.0.0.1:N`).
    pub domain_name: String,
    /// The upgrade request's headers (lower-case names).
    pub headers: BTreeMap<String, Vec<String>>,
    /// The upgrade request's query string.
    pub query: BTreeMap<String, Vec<String>>,
    /// What the authorizer returned: `principalId` and `context`, flattened (API Gateway's shape).
    pub authorizer: Option<Map<String, Value>>,
}

fn single(multi: &BTreeMap<String, Vec<String>>) -> Value {
    Value::Object(
        multi
            .iter()
            .filter_map(|(k, v)| {
                v.last()
                    .map(|last| (k.clone(), Value::String(last.clone())))
            })
            .collect(),
    )
}

fn multiple(multi: &BTreeMap<String, Vec<String>>) -> Value {
    serde_json::to_value(multi).unwrap_or(Value::Null)
}

/// A request-unique id in API Gateway's style (`Xk3pRgAAoAMF…=`).
pub fn request_id(seq: u64) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 12];
    bytes[..8].copy_from_slice(&(now_ms() as u64).to_be_bytes());
    bytes[8..].copy_from_slice(&(seq as u32).to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(&bytes[2..])
}

impl ConnectionContext {
    fn request_context(
        &self,
        route_key: &str,
        event_type: &str,
        request_id: &str,
        now: i64,
    ) -> Map<String, Value> {
        let mut identity = Map::new();
        identity.insert("sourceIp".into(), json!(self.source_ip));
        if let Some(agent) = &self.user_agent {
            identity.insert("userAgent".into(), json!(agent));
        }
        let mut c = Map::new();
        c.insert("routeKey".into(), json!(route_key));
        c.insert("eventType".into(), json!(event_type));
        c.insert("extendedRequestId".into(), json!(request_id));
        c.insert("requestTime".into(), json!(request_time(now)));
        c.insert("messageDirection".into(), json!("IN"));
        c.insert("stage".into(), json!(self.stage));
        c.insert("connectedAt".into(), json!(self.connected_at));
        c.insert("requestTimeEpoch".into(), json!(now));
        c.insert("identity".into(), Value::Object(identity));
        c.insert("requestId".into(), json!(request_id));
        c.insert("domainName".into(), json!(self.domain_name));
        c.insert("connectionId".into(), json!(self.connection_id));
        c.insert("apiId".into(), json!(self.api_id));
        c
    }

    fn with_authorizer(&self, mut c: Map<String, Value>) -> Map<String, Value> {
        if let Some(a) = &self.authorizer {
            c.insert("authorizer".into(), Value::Object(a.clone()));
        }
        c
    }

    /// The method ARN the authorizer must allow: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/$connect`.
    pub fn method_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT}:{}/{}/$connect",
            self.api_id, self.stage
        )
    }

    /// The REQUEST authorizer's event.
    pub fn authorizer_event(&self, request_id: &str) -> Value {
        let now = now_ms();
        json!({
            "type": "REQUEST",
            "methodArn": self.method_arn(),
            "headers": single(&self.headers),
            "multiValueHeaders": multiple(&self.headers),
            "queryStringParameters": single(&self.query),
            "multiValueQueryStringParameters": multiple(&self.query),
            "stageVariables": {},
            "requestContext": self.request_context("$connect", "CONNECT", request_id, now),
        })
    }

    /// The `$connect` event.
    pub fn connect_event(&self, request_id: &str) -> Value {
        let now = now_ms();
        json!({
            "headers": single(&self.headers),
            "multiValueHeaders": multiple(&self.headers),
            "queryStringParameters": single(&self.query),
            "multiValueQueryStringParameters": multiple(&self.query),
            "requestContext": self.with_authorizer(self.request_context("$connect", "CONNECT", request_id, now)),
            "isBase64Encoded": false,
        })
    }

    /// A `MESSAGE` event for `route_key`; binary bodies are base64 with `isBase64Encoded: true`.
    pub fn message_event(
        &self,
        route_key: &str,
        request_id: &str,
        message_id: &str,
        body: &str,
        base64: bool,
    ) -> Value {
        let now = now_ms();
        let mut c = self.request_context(route_key, "MESSAGE", request_id, now);
        c.insert("messageId".into(), json!(message_id));
        json!({
            "requestContext": self.with_authorizer(c),
            "body": body,
            "isBase64Encoded": base64,
        })
    }

    /// The `$disconnect` event with the close code and reason.
    pub fn disconnect_event(&self, request_id: &str, status: u16, reason: &str) -> Value {
        let now = now_ms();
        let mut c = self.request_context("$disconnect", "DISCONNECT", request_id, now);
        c.insert("disconnectStatusCode".into(), json!(status));
        c.insert("disconnectReason".into(), json!(reason));
        json!({
            "headers": single(&self.headers),
            "multiValueHeaders": multiple(&self.headers),
            "requestContext": self.with_authorizer(c),
            "isBase64Encoded": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_formatted_as_aws_does() {
        // 2026-12-01T09:30:05.042Z
        let ms = 1_796_117_405_042;
        assert_eq!(iso8601(ms), "2026-12-01T09:30:05.042Z");
        assert_eq!(request_time(ms), "01/Dec/2026:09:30:05 +0000");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn events_carry_the_fields_rust_handlers_require() {
        let c = ConnectionContext {
            connection_id: "abc=".into(),
            connected_at: 5,
            source_ip: "127.0.0.1".into(),
            user_agent: None,
            api_id: "api".into(),
            stage: "dev".into(),
            domain_name: "127.0.0.1:1".into(),
            headers: BTreeMap::new(),
            query: BTreeMap::from([("token".into(), vec!["t".into()])]),
            authorizer: Some(Map::from_iter([("principalId".into(), json!("u"))])),
        };
        let m = c.message_event("send", "r", "m", "{}", false);
        for field in [
            "connectedAt",
            "requestTimeEpoch",
            "connectionId",
            "routeKey",
            "eventType",
            "messageId",
            "domainName",
            "stage",
            "apiId",
        ] {
            assert!(
                !m["requestContext"][field].is_null(),
                "{field} missing: {m}"
            );
        }
        assert_eq!(m["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(m["requestContext"]["authorizer"]["principalId"], "u");
        let a = c.authorizer_event("r");
        assert_eq!(a["queryStringParameters"]["token"], "t");
        assert_eq!(
            a["methodArn"],
            "arn:aws:execute-api:us-east-1:000000000000:api/dev/$connect"
        );
        let d = c.disconnect_event("r", 1001, "Going away");
        assert_eq!(d["requestContext"]["disconnectStatusCode"], 1001);
    }
}
