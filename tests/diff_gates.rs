//! `sockstack diff` fails closed: an input that matches nothing is exit 2, never
//! "no changes"; `--base` errors name files at the revision and list every invalid stack.

mod common;

use common::{committed_project_copy, git, root, sockstack};
use std::fs;

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn a_mistyped_stacks_dir_with_base_is_exit_2_not_no_changes() {
    let repo = committed_project_copy();
    let assert = sockstack(repo.path())
        .args([
            "diff",
            "--base",
            "main",
            "--stacks-dir",
            "typo",
            "--fail-on",
            "any",
        ])
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("main:typo does not exist"), "{stderr}");
    assert!(!String::from_utf8_lossy(&assert.get_output().stdout).contains("no changes"));
}

#[test]
fn a_revision_that_is_not_one_is_exit_2() {
    let repo = committed_project_copy();
    let assert = sockstack(repo.path())
        .args(["diff", "--base", "no-such-ref"])
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("no-such-ref: not a git revision"),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn no_stack_files_in_the_working_tree_is_exit_2() {
    let repo = committed_project_copy();
    for entry in fs::read_dir(repo.path().join("stacks")).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let assert = sockstack(repo.path())
        .args(["diff", "--base", "main"])
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("no stack files"),
        "{}",
        stderr_of(&assert)
    );
    // Without stacks/ (and no sockstack.toml) the folder is no project at all.
    fs::remove_dir(repo.path().join("stacks")).unwrap();
    let assert = sockstack(repo.path())
        .args(["diff", "--base", "main"])
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("no sockstack project"),
        "{}",
        stderr_of(&assert)
    );
    // A project whose stacks folder is missing in the working tree.
    fs::write(repo.path().join("sockstack.toml"), "stacks = \"stacks\"\n").unwrap();
    let assert = sockstack(repo.path())
        .args(["diff", "--base", "main"])
        .assert()
        .code(2);
    assert!(
        stderr_of(&assert).contains("no such folder"),
        "{}",
        stderr_of(&assert)
    );
}

#[test]
fn a_folder_without_templates_on_either_side_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    sockstack(&root())
        .args(["synth", "stacks/dev.yaml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for (old, new) in [(&empty, &out), (&out, &empty)] {
        let assert = sockstack(dir.path())
            .arg("diff")
            .args([old, new])
            .args(["--fail-on", "any"])
            .assert()
            .code(2);
        let stderr = stderr_of(&assert);
        assert!(
            stderr.contains("empty: no templates in this folder"),
            "{stderr}"
        );
    }
    let assert = sockstack(dir.path())
        .arg("diff")
        .arg(&out)
        .arg("missing")
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("missing: no such file or folder"));
}

#[test]
fn base_errors_name_every_invalid_stack_at_the_revision() {
    let repo = committed_project_copy();
    let stacks = repo.path().join("stacks");
    let good = fs::read_to_string(stacks.join("dev.yaml")).unwrap();
    fs::write(stacks.join("alpha.yaml"), "stack: [broken\n").unwrap();
    fs::write(stacks.join("beta.yaml"), "routes: 3\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "two broken stacks"]);
    // The branch fixes them; the base still has them broken.
    fs::write(stacks.join("alpha.yaml"), &good).unwrap();
    fs::write(stacks.join("beta.yaml"), &good).unwrap();
    let assert = sockstack(repo.path())
        .args(["diff", "--base", "HEAD"])
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("2 invalid stack file(s)"), "{stderr}");
    assert!(stderr.contains("HEAD:stacks/alpha.yaml:1:"), "{stderr}");
    assert!(stderr.contains("HEAD:stacks/beta.yaml:"), "{stderr}");
    assert!(
        !stderr.contains("sockstack-diff-"),
        "no temporary path: {stderr}"
    );
}
