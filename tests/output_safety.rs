//! `sockstack synth` writes only into folders it owns, and a run that is stopped
//! at any point leaves every output folder complete (old or new).

mod common;

use common::{handlers, root, snapshot_dir, sockstack};
use std::fs;
use std::path::{Path, PathBuf};

/// A project folder with the repository's stack files under `stacks/`.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let stacks = dir.path().join("stacks");
    fs::create_dir_all(&stacks).unwrap();
    for name in ["dev.yaml", "prod.yaml"] {
        fs::copy(root().join("stacks").join(name), stacks.join(name)).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn synth(dir: &Path) -> assert_cmd::Command {
    let mut cmd = sockstack(dir);
    cmd.arg("synth").arg("--handlers").arg(handlers());
    cmd
}

#[test]
fn a_stack_named_like_the_stacks_folder_does_not_delete_it() {
    let (_tmp, dir) = project();
    fs::copy(dir.join("stacks/dev.yaml"), dir.join("stacks/stacks.yaml")).unwrap();
    let before = snapshot_dir(&dir.join("stacks"));
    let assert = synth(&dir)
        .args(["stacks/stacks.yaml", "--out", "."])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("stacks") && stderr.contains("not created by sockstack"),
        "{stderr}"
    );
    assert_eq!(before, snapshot_dir(&dir.join("stacks")), "stacks/ must be untouched");
}
