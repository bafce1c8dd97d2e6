//! Template readers (`check`, `diff`) accept regular files only, within the
//! documented limits, and refuse duplicate keys; each refusal says where, exit 2.

mod common;

use common::{root, sockstack};
use std::fs;
use std::path::Path;
use std::time::Duration;

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn fifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn check_and_diff_refuse_a_fifo_and_a_link_to_dev_zero_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("template.yaml");
    fifo(&pipe);
    let zero = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let good = root().join("tests/fixtures/diff/yaml/base.yaml");
    for (cmd, args) in [
        ("check", vec![pipe.clone()]),
        ("check", vec![zero.clone()]),
        ("diff", vec![pipe.clone(), good.clone()]),
        ("diff", vec![good.clone(), zero.clone()]),
    ] {
        let assert = sockstack(dir.path())
            .arg(cmd)
            .args(&args)
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains("is not a regular file"), "{cmd}: {stderr}");
    }
}

#[test]
fn duplicate_keys_in_json_and_yaml_templates_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    fs::write(
        &json,
        "{\n  \"Resources\": {\n    \"Topic\": {\"Type\": \"AWS::SNS::Topic\"},\n    \"Topic\": {\"Type\": \"AWS::SQS::Queue\"}\n  }\n}\n",
    )
    .unwrap();
    let yaml = dir.path().join("t.yaml");
    fs::write(
        &yaml,
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n  Topic:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    for (file, at) in [(&json, "t.json:4:"), (&yaml, "t.yaml:4:3:")] {
        let assert = sockstack(dir.path())
            .arg("check")
            .arg(file)
            .assert()
            .code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains(at), "{stderr}");
        assert!(stderr.contains("duplicate key `Topic`"), "{stderr}");
    }
}

#[test]
fn a_template_over_a_limit_is_refused_and_the_override_admits_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.yaml");
    // 70 nested lists inside a resource's properties: deeper than the default 64.
    let deep = format!(
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Tags: {}{}\n",
        "[".repeat(70),
        "]".repeat(70)
    );
    fs::write(&file, &deep).unwrap();
    let assert = sockstack(dir.path())
        .arg("check")
        .arg(&file)
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("deep.yaml:5:"), "{stderr}");
    assert!(stderr.contains("SOCKSTACK_MAX_INPUT_DEPTH"), "{stderr}");
    let assert = sockstack(dir.path())
        .arg("check")
        .arg(&file)
        .env("SOCKSTACK_MAX_INPUT_DEPTH", "100")
        .assert();
    assert!(
        !stderr_of(&assert).contains("deeper than"),
        "{}",
        stderr_of(&assert)
    );

    let big = dir.path().join("big.yaml");
    fs::write(
        &big,
        format!("Description: {}\nResources: {{}}\n", "x".repeat(2000)),
    )
    .unwrap();
    let assert = sockstack(dir.path())
        .arg("check")
        .arg(&big)
        .env("SOCKSTACK_MAX_INPUT_BYTES", "1000")
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("more than the limit of 1000"),
        "{}",
        stderr_of(&assert)
    );

    let assert = sockstack(dir.path())
        .arg("check")
        .arg(&big)
        .env("SOCKSTACK_MAX_INPUT_BYTES", "lots")
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("SOCKSTACK_MAX_INPUT_BYTES=\"lots\""),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn a_yaml_alias_bomb_is_refused_before_it_expands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.yaml");
    let mut text =
        String::from("Resources: {}\nMetadata:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = i - 1;
        text.push_str(&format!(
            "  l{i}: &l{i} [{}]\n",
            vec![format!("*l{prev}"); 10].join(", ")
        ));
    }
    fs::write(&file, text).unwrap();
    let assert = sockstack(dir.path())
        .arg("check")
        .arg(&file)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("every use of an alias counted"),
        "{}",
        stderr_of(&assert)
    );
}
