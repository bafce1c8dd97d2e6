//! Each length limit of a stack file uses the unit AWS documents for it: characters for
//! names and tags, bytes for the template's description and a function's environment.
//! Multi-byte text exactly at a limit passes; one more is refused and the message says the unit.

mod common;

use common::{GOOD_STACK, fake_handlers, sockstack};
use std::fs;

/// `validate` on GOOD_STACK plus `extra`: the exit code and standard error.
fn validate(extra: &str) -> (Option<i32>, String) {
    validate_text(&format!("{GOOD_STACK}{extra}"))
}

/// `validate` on the stack file `text`.
fn validate_text(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(dir.path(), &["connect"]);
    fs::write(dir.path().join("s.yaml"), text).unwrap();
    let out = sockstack(dir.path())
        .args(["validate", "s.yaml", "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn accepted(extra: &str) {
    let (code, stderr) = validate(extra);
    assert_eq!(code, Some(0), "{stderr}");
}

fn refused(extra: &str, needles: &[&str]) {
    let (code, stderr) = validate(extra);
    assert_eq!(code, Some(2), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "`{n}` in:\n{stderr}");
    }
}

#[test]
fn a_tag_key_has_at_most_128_characters_whatever_their_bytes() {
    let at_limit = "é".repeat(128); // 256 bytes
    accepted(&format!("tags: {{\"{at_limit}\": v}}\n"));
    refused(
        &format!("tags: {{\"{at_limit}é\": v}}\n"),
        &[
            "(129 characters)",
            "1–128 characters (AWS counts characters, not bytes)",
        ],
    );
}

#[test]
fn a_tag_value_has_1_to_256_characters_whatever_their_bytes() {
    let at_limit = "日".repeat(255) + "🎉"; // 256 characters, 769 bytes
    accepted(&format!("tags: {{team: \"{at_limit}\"}}\n"));
    refused(
        &format!("tags: {{team: \"{at_limit}日\"}}\n"),
        &[
            "s.yaml:11:14: tags.team: the tag value has 257 characters",
            "1–256 characters (AWS counts characters, not bytes)",
        ],
    );
    refused("tags: {team: \"\"}\n", &["the tag value has 0 characters"]);
}

#[test]
fn a_key_attribute_name_has_at_most_255_characters_whatever_their_bytes() {
    let at_limit = "é".repeat(255); // 510 bytes
    accepted(&format!("tables:\n  t:\n    key: {{\"{at_limit}\": S}}\n"));
    refused(
        &format!("tables:\n  t:\n    key: {{\"{at_limit}é\": S}}\n"),
        &[
            "a key attribute's name has 1 to 255 characters, this one 256",
            "DynamoDB counts characters, not bytes",
        ],
    );
}

#[test]
fn the_description_has_at_most_1024_bytes() {
    let at_limit = "😀".repeat(256); // 256 characters, 1024 bytes
    accepted(&format!("description: \"{at_limit}\"\n"));
    refused(
        &format!("description: \"{at_limit}a\"\n"),
        &[
            "s.yaml:11:14: description: the description is 1025 bytes (UTF-8), more than CloudFormation's 1024",
            "AWS measures a template's description in bytes",
        ],
    );
}

#[test]
fn a_function_environment_has_at_most_4096_bytes() {
    // `A` (1 byte) + 2047 × `é` (4094 bytes) + `a` = 4096 bytes, 2049 characters.
    let value = "é".repeat(2047) + "a";
    let with = |v: &str| {
        GOOD_STACK.replace(
            "  connect: {}",
            &format!("  connect:\n    environment: {{A: \"{v}\"}}"),
        )
    };
    let (code, stderr) = validate_text(&with(&value));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = validate_text(&with(&format!("{value}a")));
    assert_eq!(code, Some(2), "{stderr}");
    for n in [
        "s.yaml:7:5: functions.connect.environment: the environment of function `connect` is 4097 bytes (names and literal values, UTF-8), more than Lambda's 4 KB (4096 bytes)",
        "Lambda counts bytes",
    ] {
        assert!(stderr.contains(n), "`{n}` in:\n{stderr}");
    }
}
