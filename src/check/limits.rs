//! CloudFormation's own limits.

use super::{Finding, Severity, Subject};

/// Largest template body `--template-body` accepts.
pub const INLINE_BODY_BYTES: usize = 51_200;
/// Largest template body read from S3.
pub const S3_BODY_BYTES: usize = 1_000_000;
/// Resources per template.
pub const MAX_RESOURCES: usize = 500;
/// Outputs per template.
pub const MAX_OUTPUTS: usize = 200;
/// Parameters per template.
pub const MAX_PARAMETERS: usize = 200;
/// Longest logical id.
pub const MAX_LOGICAL_ID: usize = 255;

/// Checks size, counts and logical ids.
pub fn check(t: &Subject) -> Vec<Finding> {
    let mut out = Vec::new();
    if t.body_bytes > S3_BODY_BYTES {
        out.push(Finding::new(
            Severity::Error,
            "template-too-large",
            None,
            format!(
                "the template is {} bytes; CloudFormation accepts at most {S3_BODY_BYTES} bytes even from S3: split the stack",
                t.body_bytes
            ),
        ));
    } else if t.body_bytes > INLINE_BODY_BYTES {
        out.push(Finding::new(
            Severity::Warning,
            "template-needs-s3",
            None,
            format!(
                "the template is {} bytes, over the {INLINE_BODY_BYTES}-byte inline limit: deploy it through S3 (`aws cloudformation deploy --s3-bucket …`)",
                t.body_bytes
            ),
        ));
    }
    for (what, count, max) in [
        ("resources", t.resources.len(), MAX_RESOURCES),
        ("outputs", t.outputs.len(), MAX_OUTPUTS),
        ("parameters", t.parameters.len(), MAX_PARAMETERS),
    ] {
        if count > max {
            out.push(Finding::new(
                Severity::Error,
                "too-many",
                None,
                format!("the template has {count} {what}; CloudFormation allows at most {max}"),
            ));
        }
    }
    if t.resources.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            "no-resources",
            None,
            "the template has no resources; CloudFormation needs at least one",
        ));
    }
    let ids = t
        .resources
        .keys()
        .map(String::as_str)
        .chain(t.outputs.iter().copied())
        .chain(t.parameters.iter().copied());
    for id in ids {
        if !is_logical_id(id) {
            out.push(Finding::new(
                Severity::Error,
                "bad-logical-id",
                Some(id),
                format!("`{id}` is not a valid logical id: use 1–{MAX_LOGICAL_ID} letters and digits (A-Z, a-z, 0-9)"),
            ));
        }
    }
    out
}

/// Letters and digits, 1–255 of them.
pub fn is_logical_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_LOGICAL_ID && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::RawTemplate;
    use serde_json::json;

    fn template(resources: usize, body_bytes: usize) -> RawTemplate {
        let mut map = serde_json::Map::new();
        for i in 0..resources {
            map.insert(format!("Log{i}"), json!({"Type": "AWS::Logs::LogGroup"}));
        }
        let mut t = RawTemplate::from_value(json!({"Resources": map})).unwrap();
        t.body_bytes = body_bytes;
        t
    }

    fn rules(t: &RawTemplate) -> Vec<&'static str> {
        check(&Subject::of(t)).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn sizes() {
        assert!(rules(&template(1, 51_200)).is_empty());
        assert_eq!(rules(&template(1, 51_201)), ["template-needs-s3"]);
        assert_eq!(rules(&template(1, 1_000_001)), ["template-too-large"]);
    }

    #[test]
    fn counts_and_ids() {
        assert!(rules(&template(500, 10)).is_empty());
        assert_eq!(rules(&template(501, 10)), ["too-many"]);
        assert_eq!(rules(&template(0, 10)), ["no-resources"]);
        let t = RawTemplate::from_value(
            json!({"Resources": {"My-Log": {"Type": "AWS::Logs::LogGroup"}}}),
        )
        .unwrap();
        assert_eq!(rules(&t), ["bad-logical-id"]);
    }
}
