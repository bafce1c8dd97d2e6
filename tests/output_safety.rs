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

/// Changes the CloudFormation stack name in a stack file (so its template changes).
fn rename_stack(file: &Path) {
    let text = fs::read_to_string(file).unwrap();
    let changed: Vec<String> = text
        .lines()
        .map(|l| match l.strip_prefix("stack: ") {
            Some(name) => format!("stack: {name}-renamed"),
            None => l.to_string(),
        })
        .collect();
    assert_ne!(changed.join("\n"), text.trim_end());
    fs::write(file, changed.join("\n") + "\n").unwrap();
}

fn synth(dir: &Path) -> assert_cmd::Command {
    let mut cmd = sockstack(dir);
    cmd.arg("synth").arg("--handlers").arg(handlers());
    cmd
}

/// `stacks/<name>.yaml`: the dev stack file under a CloudFormation stack name of its own
/// (two stack files with one stack name are an error).
fn copy_as_new_stack(dir: &Path, name: &str) {
    let text = fs::read_to_string(dir.join("stacks/dev.yaml")).unwrap();
    let renamed = text.replace(
        "stack: team-health-dev",
        &format!("stack: team-health-{name}"),
    );
    assert_ne!(renamed, text, "the dev stack file names its stack");
    fs::write(dir.join("stacks").join(format!("{name}.yaml")), renamed).unwrap();
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
    assert_eq!(
        before,
        snapshot_dir(&dir.join("stacks")),
        "stacks/ must be untouched"
    );
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

/// The files of one folder, relative to it.
fn folder(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot_dir(dir)
        .into_iter()
        .map(|(p, bytes)| (p.strip_prefix(dir).unwrap().to_path_buf(), bytes))
        .collect()
}

#[test]
fn reserved_and_odd_stack_names_are_refused_before_anything_is_written() {
    let (_tmp, dir) = project();
    let assets = dir.join("out/assets");
    fs::create_dir_all(&assets).unwrap();
    fs::write(assets.join("vote-0123.zip"), "bundle").unwrap();
    for name in ["assets", "token", "..", ".dev", "Dev", "my_stack"] {
        let file = dir.join("stacks").join(format!("{name}.yaml"));
        fs::copy(dir.join("stacks/dev.yaml"), &file).unwrap();
        let before = snapshot_dir(&dir.join("out"));
        let assert = synth(&dir).arg(&file).assert().code(2);
        let stderr = stderr_of(&assert);
        assert!(
            stderr.contains("cannot be a stack name"),
            "{name}: {stderr}"
        );
        assert_eq!(
            before,
            snapshot_dir(&dir.join("out")),
            "{name}: out/ untouched"
        );
        fs::remove_file(&file).unwrap();
    }
    assert_eq!(fs::read(assets.join("vote-0123.zip")).unwrap(), b"bundle");
}

#[test]
fn a_folder_an_earlier_sockstack_wrote_is_adopted_and_marked() {
    let (_tmp, dir) = project();
    let old = dir.join("out/dev");
    fs::create_dir_all(&old).unwrap();
    fs::write(old.join("template.yaml"), "# old\n").unwrap();
    fs::write(old.join("summary.txt"), "old\n").unwrap();
    synth(&dir).arg("stacks/dev.yaml").assert().success();
    let marker = fs::read_to_string(old.join(".sockstack-output")).unwrap();
    assert!(marker.starts_with("sockstack output"), "{marker}");
    assert_ne!(
        fs::read_to_string(old.join("template.yaml")).unwrap(),
        "# old\n"
    );
}

#[test]
fn a_folder_holding_anything_else_is_refused_and_untouched() {
    let (_tmp, dir) = project();
    let mine = dir.join("out/dev");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("template.yaml"), "mine\n").unwrap();
    fs::write(mine.join("notes.md"), "my notes\n").unwrap();
    let before = snapshot_dir(&dir.join("out"));
    let assert = synth(&dir).assert().code(2);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("out/dev was not created by sockstack"),
        "{stderr}"
    );
    assert!(stderr.contains("notes.md"), "{stderr}");
    assert!(stderr.contains("no output folder was changed"), "{stderr}");
    assert_eq!(
        before,
        snapshot_dir(&dir.join("out")),
        "nothing written, prod included"
    );
}

#[test]
fn a_symbolic_link_in_place_of_a_stack_folder_is_never_followed() {
    let (_tmp, dir) = project();
    synth(&dir).assert().success();
    let elsewhere = dir.join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(elsewhere.join("template.yaml"), "precious\n").unwrap();
    fs::write(elsewhere.join("summary.txt"), "precious\n").unwrap();
    fs::remove_dir_all(dir.join("out/dev")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("out/dev")).unwrap();
    let assert = synth(&dir).assert().code(2);
    assert!(
        stderr_of(&assert).contains("symbolic link"),
        "{}",
        stderr_of(&assert)
    );
    assert_eq!(
        fs::read_to_string(elsewhere.join("template.yaml")).unwrap(),
        "precious\n"
    );
    assert!(
        fs::symlink_metadata(dir.join("out/dev"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_second_run_on_a_locked_output_folder_fails_clearly() {
    let (_tmp, dir) = project();
    synth(&dir).assert().success();
    let before = snapshot_dir(&dir.join("out"));
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(dir.join("out/.sockstack/lock"))
        .unwrap();
    lock.try_lock().unwrap();
    copy_as_new_stack(&dir, "extra");
    let assert = synth(&dir).assert().code(2);
    assert!(
        stderr_of(&assert).contains("another sockstack run is writing out"),
        "{}",
        stderr_of(&assert)
    );
    assert_eq!(before, snapshot_dir(&dir.join("out")));
    drop(lock);
    synth(&dir).assert().success();
    assert!(dir.join("out/extra/template.yaml").is_file());
}

#[test]
fn unchanged_is_said_only_of_folders_that_did_not_change() {
    let (_tmp, dir) = project();
    let first = synth(&dir).assert().success();
    assert_eq!(
        stdout_of(&first).matches("synthesized").count(),
        2,
        "{}",
        stdout_of(&first)
    );
    let again = synth(&dir).assert().success();
    assert_eq!(
        stdout_of(&again).matches("unchanged").count(),
        2,
        "{}",
        stdout_of(&again)
    );
    rename_stack(&dir.join("stacks/dev.yaml"));
    let changed = stdout_of(&synth(&dir).assert().success());
    assert!(changed.contains("synthesized stacks/dev.yaml"), "{changed}");
    assert!(changed.contains("unchanged stacks/prod.yaml"), "{changed}");
}

/// Three stacks, two of them already written as JSON: the run under test writes
/// all three as YAML. Returns the project and each folder's old and new contents.
struct Swap {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    old: Vec<Vec<(PathBuf, Vec<u8>)>>,
    new: Vec<Vec<(PathBuf, Vec<u8>)>>,
}

const SWAP_STACKS: [&str; 3] = ["dev", "extra", "prod"];

impl Swap {
    fn new() -> Swap {
        let (tmp, dir) = project();
        synth(&dir).args(["--format", "json"]).assert().success();
        copy_as_new_stack(&dir, "extra");
        synth(&dir).args(["--out", "ref"]).assert().success();
        let refs = |out: &str| -> Vec<_> {
            SWAP_STACKS
                .iter()
                .map(|s| folder(&dir.join(out).join(s)))
                .collect()
        };
        let (old, new) = (refs("out"), refs("ref"));
        assert!(old[1].is_empty() && !new[1].is_empty());
        Swap {
            _tmp: tmp,
            dir,
            old,
            new,
        }
    }

    /// Every folder is complete-old or complete-new (`extra` had no old folder).
    /// With `fallback`, a folder may be missing while the journal can restore it.
    fn assert_whole(&self, context: &str, fallback: bool) {
        let journal = self.dir.join("out/.sockstack/journal").exists();
        for (i, name) in SWAP_STACKS.iter().enumerate() {
            let now = folder(&self.dir.join("out").join(name));
            let missing_ok = self.old[i].is_empty() || (fallback && journal);
            assert!(
                now == self.old[i] || now == self.new[i] || (now.is_empty() && missing_ok),
                "{context}: out/{name} is neither the old nor the new folder: {:?}",
                now.iter().map(|(p, _)| p).collect::<Vec<_>>()
            );
        }
    }

    /// The next plain run succeeds and leaves every folder new and nothing else.
    fn assert_next_run_finishes(&self, context: &str) -> String {
        let journal = self.dir.join("out/.sockstack/journal").exists();
        let assert = synth(&self.dir).assert().success();
        let stderr = stderr_of(&assert);
        if journal {
            assert!(
                stderr.contains("finished an interrupted earlier run: replaced"),
                "{context}: {stderr}"
            );
        }
        for (i, name) in SWAP_STACKS.iter().enumerate() {
            assert_eq!(
                folder(&self.dir.join("out").join(name)),
                self.new[i],
                "{context}: {name}"
            );
        }
        let control: Vec<_> = folder(&self.dir.join("out/.sockstack"))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            control,
            [PathBuf::from(".sockstack-output"), PathBuf::from("lock")],
            "{context}"
        );
        stderr
    }
}

fn stop_at_every_step(fallback: bool) {
    use std::os::unix::process::ExitStatusExt;
    let mut step = 1;
    loop {
        let swap = Swap::new();
        let mut cmd = synth(&swap.dir);
        cmd.env("SOCKSTACK_TEST_ABORT_AT_STEP", step.to_string());
        if fallback {
            cmd.env("SOCKSTACK_TEST_NO_EXCHANGE", "1");
        }
        let output = cmd.output().unwrap();
        if output.status.success() {
            break;
        }
        assert_eq!(
            output.status.signal(),
            Some(libc::SIGABRT),
            "step {step}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let context = format!("stopped after step {step}");
        swap.assert_whole(&context, fallback);
        swap.assert_next_run_finishes(&context);
        step += 1;
        assert!(step < 100, "the run never completed");
    }
    assert!(step > 15, "a three-stack swap has more steps than {step}");
}

#[test]
fn synth_stopped_after_any_filesystem_step_leaves_whole_folders_and_the_next_run_finishes() {
    stop_at_every_step(false);
}

#[test]
fn without_exchange_a_stopped_synth_is_finished_by_the_next_run() {
    stop_at_every_step(true);
}

#[test]
fn synth_killed_at_random_instants_never_leaves_a_broken_folder() {
    let swap = Swap::new();
    // Deterministic pseudo-random delays (xorshift), 0-40 ms: a debug synth of three stacks takes about that.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut interrupted = 0;
    for run in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = std::time::Duration::from_micros(seed % 40_000);
        let format = if run % 2 == 0 { "yaml" } else { "json" };
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sockstack"))
            .current_dir(&swap.dir)
            .args(["synth", "--format", format, "--handlers"])
            .arg(handlers())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if !status.success() {
            interrupted += 1;
        }
        // Old is JSON and new is YAML in `swap`; either format is whole here.
        let journal = swap.dir.join("out/.sockstack/journal").exists();
        for name in SWAP_STACKS {
            let now = folder(&swap.dir.join("out").join(name));
            let names: Vec<_> = now
                .iter()
                .map(|(p, _)| p.to_string_lossy().into_owned())
                .collect();
            let whole = |ext: &str| {
                names
                    == [
                        ".sockstack-output".to_string(),
                        "summary.txt".into(),
                        format!("template.{ext}"),
                    ]
            };
            assert!(
                whole("yaml") || whole("json") || (now.is_empty() && (name == "extra" || journal)),
                "run {run} killed after {delay:?}: out/{name} holds {names:?}"
            );
        }
    }
    assert!(interrupted > 0, "no run was interrupted");
    swap.assert_next_run_finishes("after the random kills");
}
