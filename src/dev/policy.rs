//! What API Gateway does with a REQUEST authorizer's answer: the connection is allowed when a statement
//! allows `execute-api:Invoke` on a `Resource` matching the method ARN and no statement denies it; then
//! `principalId` and `context` become `requestContext.authorizer` of every later event.

use serde_json::{Map, Value};

/// The authorizer's verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Allowed; the `requestContext.authorizer` map later events carry.
    Allow(Map<String, Value>),
    /// Not allowed (→ 403).
    Deny,
    /// The answer is not an authorizer response (→ 500).
    Invalid(String),
}

/// IAM-style wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Evaluates an authorizer response against `method_arn`.
pub fn evaluate(response: &Value, method_arn: &str) -> Verdict {
    let Some(statements) = response
        .get("policyDocument")
        .and_then(|p| p.get("Statement"))
    else {
        return Verdict::Invalid("the response has no policyDocument.Statement".into());
    };
    let statements: Vec<&Value> = match statements {
        Value::Array(items) => items.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => return Verdict::Invalid("policyDocument.Statement is not a list".into()),
    };
    let applies = |s: &Value| {
        let action = strings(s.get("Action"))
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let resource = strings(s.get("Resource"))
            .iter()
            .any(|r| wildcard(r, method_arn));
        action && resource
    };
    fn effect(s: &Value) -> &str {
        s.get("Effect").and_then(Value::as_str).unwrap_or("")
    }
    if statements.iter().any(|s| effect(s) == "Deny" && applies(s)) {
        return Verdict::Deny;
    }
    if !statements
        .iter()
        .any(|s| effect(s) == "Allow" && applies(s))
    {
        return Verdict::Deny;
    }
    let mut authorizer = Map::new();
    if let Some(p) = response.get("principalId") {
        authorizer.insert("principalId".into(), p.clone());
    }
    if let Some(Value::Object(context)) = response.get("context") {
        for (k, v) in context {
            authorizer.insert(k.clone(), v.clone());
        }
    }
    Verdict::Allow(authorizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:000000000000:abc/dev/$connect";

    fn policy(effect: &str, resource: &str) -> Value {
        json!({
            "principalId": "u1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}
            ]},
            "context": {"roomId": "t"}
        })
    }

    #[test]
    fn allow_on_the_method_arn_passes_principal_and_context() {
        let Verdict::Allow(a) = evaluate(&policy("Allow", ARN), ARN) else {
            panic!()
        };
        assert_eq!(a["principalId"], "u1");
        assert_eq!(a["roomId"], "t");
        assert!(matches!(
            evaluate(&policy("Allow", "arn:aws:execute-api:*:*:abc/*"), ARN),
            Verdict::Allow(_)
        ));
    }

    #[test]
    fn deny_another_resource_or_garbage_is_refused() {
        assert_eq!(evaluate(&policy("Deny", ARN), ARN), Verdict::Deny);
        assert_eq!(
            evaluate(
                &policy(
                    "Allow",
                    "arn:aws:execute-api:us-east-1:1:other/dev/$connect"
                ),
                ARN
            ),
            Verdict::Deny
        );
        assert!(matches!(
            evaluate(&json!({"x": 1}), ARN),
            Verdict::Invalid(_)
        ));
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard("a*c", "abbbc"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("a?c", "abbc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("abc", "abcd"));
    }
}
