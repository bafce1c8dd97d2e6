//! Template readers (`check`, `diff`) accept regular files only, within the
//! documented limits, and refuse duplicate keys; each refusal says where, exit 2.

mod common;

use common::{GOOD_STACK, git, root, sockstack};
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

// Stack files: `synth`, `validate` and `diff` read them through the same bounded reader.

/// A project folder with fake handlers and `stacks/good.yaml`, committed as a git repository
/// (so `diff --base HEAD` has a revision to compare with).
fn stack_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::fake_handlers(dir.path(), &["connect"]);
    fs::create_dir_all(dir.path().join("stacks")).unwrap();
    fs::write(dir.path().join("stacks/good.yaml"), GOOD_STACK).unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit_all(dir.path());
    dir
}

fn commit_all(dir: &Path) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "change"]);
}

/// Runs `synth`, `validate` and `diff --base HEAD` on the project (the stack file `name` in
/// `stacks/`), each exiting 2; returns their standard errors.
fn every_reader(dir: &Path, name: &str, env: &[(&str, &str)]) -> Vec<(String, String)> {
    let file = format!("stacks/{name}");
    let runs: [(&str, Vec<&str>); 3] = [
        (
            "synth",
            vec!["synth", file.as_str(), "--handlers", "handlers"],
        ),
        (
            "validate",
            vec!["validate", file.as_str(), "--handlers", "handlers"],
        ),
        ("diff", vec!["diff", "--base", "HEAD"]),
    ];
    runs.into_iter()
        .map(|(cmd, args)| {
            let mut c = sockstack(dir);
            c.args(&args).timeout(Duration::from_secs(30));
            for (k, v) in env {
                c.env(k, v);
            }
            let assert = c.assert();
            let stderr = stderr_of(&assert);
            assert_eq!(
                assert.get_output().status.code(),
                Some(2),
                "{cmd}: exit 2 wanted:\n{stderr}"
            );
            (cmd.to_string(), stderr)
        })
        .collect()
}

#[test]
fn a_stack_file_that_is_a_fifo_or_a_link_to_dev_zero_is_refused_without_reading() {
    for (name, make) in [
        ("pipe.yaml", (|p: &Path| fifo(p)) as fn(&Path)),
        ("zero.yaml", |p: &Path| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ] {
        let dir = stack_project();
        make(&dir.path().join("stacks").join(name));
        for (cmd, stderr) in every_reader(dir.path(), name, &[]) {
            assert!(
                stderr.contains(&format!("stacks/{name}: it is a")),
                "{cmd} {name}: {stderr}"
            );
            assert!(stderr.contains("is not a regular file"), "{cmd}: {stderr}");
        }
    }
}

#[test]
fn a_stack_file_over_the_size_limit_is_refused_and_names_the_override() {
    let dir = stack_project();
    let big = format!("{GOOD_STACK}# {}\n", "x".repeat(2000));
    fs::write(dir.path().join("stacks/big.yaml"), &big).unwrap();
    let size = big.len().to_string();
    for (cmd, stderr) in every_reader(
        dir.path(),
        "big.yaml",
        &[("SOCKSTACK_MAX_INPUT_BYTES", "1000")],
    ) {
        assert!(
            stderr.contains(&format!("stacks/big.yaml: the file is {size} bytes, more than the limit of 1000 (raise it with SOCKSTACK_MAX_INPUT_BYTES=BYTES)")),
            "{cmd}: {stderr}"
        );
    }
    // Raised, the same file is read (and valid).
    sockstack(dir.path())
        .args(["validate", "stacks/big.yaml", "--handlers", "handlers"])
        .env("SOCKSTACK_MAX_INPUT_BYTES", "5000")
        .assert()
        .success();
}

#[test]
fn a_stack_file_nested_too_deep_is_refused_where_it_goes_too_deep() {
    let dir = stack_project();
    // 70 nested lists in `description`, on line 11: deeper than the default 64.
    let deep = format!(
        "{GOOD_STACK}description: {}{}\n",
        "[".repeat(70),
        "]".repeat(70)
    );
    fs::write(dir.path().join("stacks/deep.yaml"), deep).unwrap();
    for (cmd, stderr) in every_reader(dir.path(), "deep.yaml", &[]) {
        // The 64th list is the 63rd `[` (the document's mapping is level 1), at column 76.
        assert!(
            stderr.contains("stacks/deep.yaml:11:77: nesting deeper than 64 levels (raise the limit with SOCKSTACK_MAX_INPUT_DEPTH=N, at most 128)"),
            "{cmd}: {stderr}"
        );
    }
}

#[test]
fn a_stack_file_with_too_many_entries_is_refused_before_building_them() {
    let dir = stack_project();
    let many = format!(
        "{GOOD_STACK}tags:\n{}",
        (0..101).map(|i| format!("  t{i}: v\n")).collect::<String>()
    );
    fs::write(dir.path().join("stacks/many.yaml"), many).unwrap();
    for (cmd, stderr) in every_reader(
        dir.path(),
        "many.yaml",
        &[("SOCKSTACK_MAX_INPUT_ITEMS", "100")],
    ) {
        // The 101st tag is on line 112.
        assert!(
            stderr.contains("stacks/many.yaml:112:3: a mapping or list with more than 100 entries (raise the limit with SOCKSTACK_MAX_INPUT_ITEMS=N)"),
            "{cmd}: {stderr}"
        );
    }
}

#[test]
fn a_stack_file_alias_bomb_is_refused_before_it_expands() {
    let dir = stack_project();
    let mut text = format!("{GOOD_STACK}x-bomb:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        text.push_str(&format!(
            "  l{i}: &l{i} [{}]\n",
            vec![format!("*l{}", i - 1); 10].join(", ")
        ));
    }
    fs::write(dir.path().join("stacks/bomb.yaml"), text).unwrap();
    for (cmd, stderr) in every_reader(dir.path(), "bomb.yaml", &[]) {
        assert!(
            stderr.contains("stacks/bomb.yaml:17:47: ") && stderr.contains("more than 1000000 values in the document, every use of an alias counted (raise the limit with SOCKSTACK_MAX_INPUT_NODES=N)"),
            "{cmd}: {stderr}"
        );
    }
}

#[test]
fn a_bad_limit_override_is_bad_input_for_stack_files() {
    let dir = stack_project();
    for (cmd, stderr) in every_reader(
        dir.path(),
        "good.yaml",
        &[("SOCKSTACK_MAX_INPUT_DEPTH", "deep")],
    ) {
        assert!(
            stderr.contains("SOCKSTACK_MAX_INPUT_DEPTH=\"deep\" is not a positive whole number"),
            "{cmd}: {stderr}"
        );
    }
}

#[test]
fn diff_base_refuses_an_oversized_stack_file_at_the_revision_before_exporting_it() {
    let dir = stack_project();
    let big = format!("{GOOD_STACK}# {}\n", "x".repeat(2000));
    fs::write(dir.path().join("stacks/big.yaml"), &big).unwrap();
    commit_all(dir.path());
    // The branch removes it; the base still has it.
    fs::remove_file(dir.path().join("stacks/big.yaml")).unwrap();
    let assert = sockstack(dir.path())
        .args(["diff", "--base", "HEAD"])
        .env("SOCKSTACK_MAX_INPUT_BYTES", "1000")
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains(&format!(
            "--base HEAD: HEAD:stacks/big.yaml is {} bytes, more than the limit of 1000 (raise it with SOCKSTACK_MAX_INPUT_BYTES=BYTES)",
            big.len()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sockstack-diff-"),
        "no temporary path: {stderr}"
    );
    // Raised, the same revision is compared.
    sockstack(dir.path())
        .args(["diff", "--base", "HEAD"])
        .env("SOCKSTACK_MAX_INPUT_BYTES", "5000")
        .assert()
        .success();
}

#[test]
fn diff_base_refuses_an_export_over_the_archive_limit_naming_its_largest_file() {
    let dir = stack_project();
    fs::write(dir.path().join("handlers/data.bin"), "y".repeat(3000)).unwrap();
    commit_all(dir.path());
    let assert = sockstack(dir.path())
        .args(["diff", "--base", "HEAD"])
        .env("SOCKSTACK_MAX_INPUT_ARCHIVE_BYTES", "2000")
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("more than the limit of 2000 (raise it with SOCKSTACK_MAX_INPUT_ARCHIVE_BYTES=BYTES); the largest is HEAD:handlers/data.bin (3000 bytes)"),
        "{stderr}"
    );
    sockstack(dir.path())
        .args(["diff", "--base", "HEAD"])
        .env("SOCKSTACK_MAX_INPUT_ARCHIVE_BYTES", "100000")
        .assert()
        .success();
}
