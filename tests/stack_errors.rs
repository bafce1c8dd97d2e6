//! Malformed stack files: each exits 2 with the file, the exact line and column
//! of the offending key or value, and what was expected — and leaves `out/`
//! exactly as it was, even when a good stack is synthesized in the same run.

mod common;

use common::stack_cases::CASES;
use common::{GOOD_STACK, fake_handlers, snapshot_dir, sockstack};
use std::fs;

#[test]
fn every_malformed_stack_file_is_located_and_changes_nothing() {
    assert!(CASES.len() >= 60);
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(
        dir.path(),
        &[
            "authorizer",
            "connect",
            "disconnect",
            "default",
            "vote",
            "chat",
        ],
    );
    let stacks = dir.path().join("stacks");
    fs::create_dir_all(&stacks).unwrap();
    fs::write(stacks.join("good.yaml"), GOOD_STACK).unwrap();

    // A previous, successful run left an output folder.
    let out = dir.path().join("out");
    sockstack(dir.path())
        .args(["synth", "stacks/good.yaml", "--handlers"])
        .arg(&handlers)
        .assert()
        .success();
    fs::write(out.join("keep-me.txt"), "user file").unwrap();
    let before = snapshot_dir(&out);

    let mut failures = Vec::new();
    for (name, text, position, needle) in CASES {
        let file = stacks.join(format!("{name}.yaml"));
        fs::write(&file, text).unwrap();
        let output = sockstack(dir.path())
            .args(["synth", "stacks/good.yaml"])
            .arg(format!("stacks/{name}.yaml"))
            .arg("--handlers")
            .arg(&handlers)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let located = format!("stacks/{name}.yaml:{position}: ");
        let ok = output.status.code() == Some(2)
            && stderr.contains(&located)
            && stderr.contains(needle)
            && stderr.contains("expected: ");
        if !ok {
            failures.push(format!(
                "{name}: exit {:?}, wanted `{located}` + `{needle}` + `expected:`, got:\n{stderr}",
                output.status.code()
            ));
        }
        assert_eq!(snapshot_dir(&out), before, "{name}: out/ changed");
        fs::remove_file(&file).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_problems_of_a_file_are_reported_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(dir.path(), &["connect", "vote"]);
    let file = dir.path().join("many.yaml");
    fs::write(
        &file,
        "version: 2\nstack: t\nstage: {name: dev}\nfunctions:\n  defaults:\n    memory: 1\n    timeout: 0\n  vote: {}\nroutes:\n  - {key: vote, function: vote, authorizer: true}\n",
    )
    .unwrap();
    let output = sockstack(dir.path())
        .args(["validate", "many.yaml", "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let positions: Vec<usize> = ["many.yaml:6:", "many.yaml:7:", "many.yaml:10:"]
        .iter()
        .map(|p| {
            stderr
                .find(p)
                .unwrap_or_else(|| panic!("{p} missing in:\n{stderr}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stderr}");
}

#[test]
fn missing_handlers_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("s.yaml"), GOOD_STACK).unwrap();
    sockstack(dir.path())
        .args(["synth", "s.yaml", "--handlers", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nowhere"));
    assert!(!dir.path().join("out").exists());
}

/// Runs `validate` on `name` (written with `text`) in a folder with fake handlers.
fn validate(name: &str, text: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let handlers = fake_handlers(dir.path(), &["connect", "vote"]);
    fs::write(dir.path().join(name), text).unwrap();
    let output = sockstack(dir.path())
        .args(["validate", name, "--handlers"])
        .arg(&handlers)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn duplicate_keys_are_errors_at_every_level_naming_both_places() {
    let text = "\
version: 2
stack: t
stage: {name: dev, name: prod}
functions:
  connect:
    environment: {A: x, A: y}
  connect: {}
routes:
  - {key: $connect, function: connect, public: true, public: false}
tags:
  team: a
  team: b
stack: u
";
    let (code, stderr) = validate("dup.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    for (at, what) in [
        (
            "dup.yaml:3:20: stage.name: ",
            "duplicate key `name` (first at line 3, column 9)",
        ),
        (
            "dup.yaml:6:25: functions.connect.environment.A: ",
            "duplicate key `A` (first at line 6, column 19)",
        ),
        (
            "dup.yaml:7:3: functions.connect: ",
            "duplicate key `connect` (first at line 5, column 3)",
        ),
        (
            "dup.yaml:9:54: routes[0].public: ",
            "duplicate key `public` (first at line 9, column 40)",
        ),
        (
            "dup.yaml:12:3: tags.team: ",
            "duplicate key `team` (first at line 11, column 3)",
        ),
        (
            "dup.yaml:13:1: stack: ",
            "duplicate key `stack` (first at line 2, column 1)",
        ),
    ] {
        assert!(
            stderr.contains(&format!("{at}{what}")),
            "{at}{what} in:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("error: ").count(), 6, "{stderr}");
}

#[test]
fn yaml_tags_in_a_stack_file_are_errors_not_dropped() {
    let text = GOOD_STACK
        .replace("stack: good", "stack: !Ref good")
        .replace("name: dev", "name: !!str dev")
        .replace("  connect: {}", "  connect: !custom {}");
    let (code, stderr) = validate("tags.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    for (at, tag) in [
        ("tags.yaml:2:8: stack: ", "!Ref"),
        ("tags.yaml:4:9: stage.name: ", "!!str"),
        ("tags.yaml:6:12: functions.connect: ", "!custom"),
    ] {
        assert!(
            stderr.contains(&format!(
                "{at}YAML tag `{tag}` is not allowed in a stack file"
            )),
            "{at} {tag} in:\n{stderr}"
        );
    }
}

#[test]
fn every_line_ending_style_reads_the_same_and_locates_errors_alike() {
    let bad = format!("{GOOD_STACK}lambda: {{memory: 512}}\n");
    for (style, eol) in [("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")] {
        let (code, stderr) = validate("good.yaml", GOOD_STACK.replace('\n', eol).as_bytes());
        assert_eq!(code, Some(0), "{style}: {stderr}");
        let (code, stderr) = validate("bad.yaml", bad.replace('\n', eol).as_bytes());
        assert_eq!(code, Some(2), "{style}: {stderr}");
        assert!(
            stderr.contains("bad.yaml:11:1: lambda: unknown field `lambda`"),
            "{style}: {stderr}"
        );
        assert!(
            stderr.contains("  11 | lambda: {memory: 512}\n"),
            "{style}: the line is shown without its line break: {stderr:?}"
        );
        // A semantic error (after parsing) is located alike.
        let (code, stderr) = validate(
            "name.yaml",
            GOOD_STACK
                .replace("stack: good", "stack: 1good")
                .replace('\n', eol)
                .as_bytes(),
        );
        assert_eq!(code, Some(2), "{style}: {stderr}");
        assert!(
            stderr.contains("name.yaml:2:8: stack: "),
            "{style}: {stderr}"
        );
    }
}

#[test]
fn route_keys_with_control_or_bidirectional_characters_are_refused_and_shown_escaped() {
    for (written, shown, what) in [
        ("\\a", "\\u{7}", "a control character"),
        ("\\e", "\\u{1b}", "a control character"),
        (
            "\\u202A",
            "\\u{202a}",
            "a bidirectional-text control character",
        ),
        (
            "\\u202E",
            "\\u{202e}",
            "a bidirectional-text control character",
        ),
        (
            "\\u2066",
            "\\u{2066}",
            "a bidirectional-text control character",
        ),
        (
            "\\u2069",
            "\\u{2069}",
            "a bidirectional-text control character",
        ),
        (
            "\\u200E",
            "\\u{200e}",
            "a bidirectional-text control character",
        ),
        (
            "\\u200F",
            "\\u{200f}",
            "a bidirectional-text control character",
        ),
    ] {
        let text = format!("{GOOD_STACK}  - {{key: \"se{written}nd\", function: connect}}\n");
        let (code, stderr) = validate("keys.yaml", text.as_bytes());
        assert_eq!(code, Some(2), "{written}: {stderr}");
        let wanted = format!(
            "keys.yaml:11:11: routes[1].key: route key `se{shown}nd` contains {what}, {shown}, at character 3"
        );
        assert!(stderr.contains(&wanted), "{wanted} in:\n{stderr}");
    }
    // Written raw in the file, the character is escaped in the message and in the quoted line.
    let text = format!("{GOOD_STACK}  - {{key: se\u{202e}dn, function: connect}}\n");
    let (code, stderr) = validate("raw.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("  11 |   - {key: se\\u{202e}dn, function: connect}"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{202e}'), "never raw: {stderr:?}");
}

#[test]
fn thousands_of_problems_print_the_first_50_and_count_the_rest() {
    let mut text = GOOD_STACK.to_string();
    for i in 0..2000 {
        text.push_str(&format!("  - {{key: r{i}}}\n"));
    }
    let (code, stderr) = validate("many.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.matches("error: ").count(), 50, "{stderr}");
    assert!(
        stderr.contains("many.yaml:11:5: routes[1]: missing field `function`"),
        "the first in file order come first: {stderr}"
    );
    assert!(
        stderr.contains("\n… and 1950 more problems in many.yaml"),
        "{stderr}"
    );
    assert!(stderr.len() < 50 * 400, "bounded: {} bytes", stderr.len());
}

#[test]
fn a_long_offending_value_is_cut_in_the_message_and_in_the_quoted_line() {
    let name = format!("{}!", "a".repeat(5000));
    let text = GOOD_STACK.replace("stack: good", &format!("stack: \"{name}\""));
    let (code, stderr) = validate("long.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    let cut = format!(
        "`{}…` is not a valid CloudFormation stack name",
        "a".repeat(80)
    );
    assert!(stderr.contains(&cut), "{stderr}");
    assert!(stderr.len() < 1000, "bounded: {stderr}");
}

#[test]
fn four_shape_errors_in_one_file_are_all_reported_in_one_run() {
    let text = "\
version: 2
stack: t
stage:
  name: dev
  acessLogs: true
functions:
  defaults:
    memory: lots
    architecture: arm65
  connect: {}
routes:
  - function: connect
    public: true
";
    let (code, stderr) = validate("four.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    let wanted = [
        "four.yaml:5:3: stage.acessLogs: unknown field `acessLogs` (did you mean `accessLogs`?)",
        "four.yaml:8:13: functions.defaults.memory: invalid type: string \"lots\"",
        "four.yaml:9:19: functions.defaults.architecture: unknown variant `arm65`",
        "four.yaml:12:5: routes[0]: missing field `key`",
    ];
    let mut last = 0;
    for w in wanted {
        let at = stderr
            .find(w)
            .unwrap_or_else(|| panic!("{w} in:\n{stderr}"));
        assert!(at >= last, "in file order: {stderr}");
        last = at;
    }
    assert_eq!(stderr.matches("error: ").count(), 4, "{stderr}");
    for expected in [
        "expected: one of `accessLogs`, `name`, `throttling`",
        "expected: a whole number",
        "expected: one of `arm64`, `x86_64`",
        "expected: a `key` entry in this mapping",
    ] {
        assert!(stderr.contains(expected), "{expected} in:\n{stderr}");
    }
}

#[test]
fn more_routes_than_a_template_can_hold_are_one_error_before_synthesis() {
    let mut text = GOOD_STACK.to_string();
    for i in 0..200 {
        text.push_str(&format!("  - {{key: r{i}, function: connect}}\n"));
    }
    let (code, stderr) = validate("routes.yaml", text.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("routes.yaml:8:3: routes: 201 routes: each makes at least 3 resources, so more than 166 cannot fit CloudFormation's 500 resources per template"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
}
