//! Writing stack folders under an output folder so that nothing is lost.
//!
//! The protocol, under an exclusive lock on `<out>/.sockstack/lock`:
//!
//! 1. Finish an interrupted earlier run if `<out>/.sockstack/journal` exists,
//!    and delete staging folders no journal names (left by runs stopped earlier).
//! 2. Check every stack name and every target folder: absent, marked as
//!    sockstack's, or adoptable (exactly what an earlier sockstack wrote);
//!    anything else (a folder of the user's, a file, a link) stops the run
//!    before anything is written. Folders already holding the new output are left alone.
//! 3. Stage every changed stack's new folder under `<out>/.sockstack/run-<id>/`.
//! 4. Write the journal (by rename, so it appears whole).
//! 5. Swap each new folder in: one `renameat2(RENAME_EXCHANGE)` on Linux,
//!    else two renames (see [`super::exchange`]).
//! 6. Remove the journal, then the staging folder (now holding the old folders).
//!
//! A failure in step 5 swaps the replaced folders back; if that fails too, the
//! journal stays and the next run finishes the replacement.

use super::StackOutput;
use super::exchange::exchange;
use super::folder::{self, Found, MARKER};
use super::journal::Journal;
use super::name::{self, NameError};
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Name of sockstack's control folder inside an output folder.
pub const CONTROL: &str = ".sockstack";

/// Test-only: abort the process (as a crash would) right after this many
/// filesystem changes. Used by the kill tests; never set it otherwise.
pub const TEST_ABORT_AT_STEP: &str = "SOCKSTACK_TEST_ABORT_AT_STEP";

/// What happened to one stack's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist and was written.
    Created,
    /// It existed and was replaced whole.
    Replaced,
    /// It already held exactly the new output; it was not touched.
    Unchanged,
}

/// An interrupted earlier run that this run finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Every stack of that run; each folder now holds that run's output.
    pub stacks: Vec<String>,
}

impl fmt::Display for Recovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "finished an interrupted earlier run: replaced {}",
            self.stacks.join(", ")
        )
    }
}

/// The result of [`write_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Each stack's name and what happened to its folder, in the order given.
    pub stacks: Vec<(String, Outcome)>,
    /// The interrupted earlier run finished first, if there was one.
    pub recovered: Option<Recovered>,
}

/// What a failed [`write_all`] had changed when it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// No stack folder was changed.
    Nothing,
    /// Some folders hold the new output and some the old; the journal is kept
    /// and the next run on this output folder finishes the replacement.
    Partly {
        /// Stacks whose folder holds the new output.
        replaced: Vec<String>,
        /// Stacks whose folder still holds the old output.
        pending: Vec<String>,
    },
}

/// Why the output could not be written.
#[derive(Debug)]
pub enum Problem {
    /// A stack name cannot be a folder name.
    Name(NameError),
    /// Two stacks would write the same folder.
    SameName(String),
    /// Something at a path sockstack would replace is not sockstack's.
    NotOurs {
        /// The path.
        path: PathBuf,
        /// What is there.
        reason: String,
    },
    /// Another sockstack run holds the output folder's lock.
    Busy(PathBuf),
    /// A journal left by an interrupted run cannot be finished.
    Journal {
        /// The journal.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A filesystem operation failed.
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
}

/// A failed [`write_all`]: the problem, and exactly what had changed.
#[derive(Debug)]
pub struct WriteError {
    /// The problem.
    pub problem: Box<Problem>,
    /// What had changed when it stopped.
    pub changed: Changed,
    /// The interrupted earlier run finished before the problem, if there was one.
    pub recovered: Option<Recovered>,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.problem {
            Problem::Name(e) => write!(f, "{e}")?,
            Problem::SameName(n) => write!(f, "two stacks would both write the folder `{n}`")?,
            Problem::NotOurs { path, reason } => write!(
                f,
                "{} was not created by sockstack: {reason}; sockstack replaces only folders it created\n  expected: another --out folder, or a stack file with another name",
                path.display()
            )?,
            Problem::Busy(out) => write!(
                f,
                "another sockstack run is writing {}; try again when it has finished",
                out.display()
            )?,
            Problem::Journal { path, reason } => write!(
                f,
                "cannot finish the interrupted run recorded in {}: {reason}\n  expected: inspect the folders it names, then delete the journal",
                path.display()
            )?,
            Problem::Io {
                action,
                path,
                error,
            } => write!(f, "cannot {action} {}: {error}", path.display())?,
        }
        if let Some(r) = &self.recovered {
            write!(f, "\n  note: before that, sockstack {r}")?;
        }
        match &self.changed {
            Changed::Nothing => write!(f, "\n  no output folder was changed by this run"),
            Changed::Partly { replaced, pending } => write!(
                f,
                "\n  replaced so far: {}; still old: {}; the next `sockstack synth` with this output folder finishes the replacement",
                list(replaced),
                list(pending)
            ),
        }
    }
}

impl std::error::Error for WriteError {}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

impl From<Problem> for WriteError {
    fn from(problem: Problem) -> Self {
        WriteError {
            problem: Box::new(problem),
            changed: Changed::Nothing,
            recovered: None,
        }
    }
}

fn io_problem<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Problem + 'a {
    move |error| Problem::Io {
        action,
        path: path.to_path_buf(),
        error,
    }
}

/// Runs every filesystem change, counting them for the test hook
/// [`TEST_ABORT_AT_STEP`]; unit tests can also make chosen changes fail.
struct Steps {
    /// Whether to try an atomic exchange (see [`super::exchange::TEST_NO_EXCHANGE`]).
    exchange: bool,
    done: u64,
    abort_at: Option<u64>,
    fail: Option<Box<dyn Fn(u64) -> bool>>,
}

impl Steps {
    fn from_env() -> Steps {
        let abort_at = std::env::var(TEST_ABORT_AT_STEP)
            .ok()
            .and_then(|v| v.parse().ok());
        let no_exchange = std::env::var_os(super::exchange::TEST_NO_EXCHANGE);
        Steps {
            exchange: no_exchange.is_none_or(|v| v != "1"),
            done: 0,
            abort_at,
            fail: None,
        }
    }

    /// Runs one filesystem change `f` (`action` on `path`, for errors).
    fn op<T>(
        &mut self,
        action: &'static str,
        path: &Path,
        f: impl FnOnce() -> io::Result<T>,
    ) -> Result<T, Problem> {
        self.done += 1;
        let result = if self.fail.as_ref().is_some_and(|fail| fail(self.done)) {
            Err(io::Error::other("injected failure"))
        } else {
            f()
        };
        let value = result.map_err(io_problem(action, path))?;
        if self.abort_at == Some(self.done) {
            eprintln!(
                "{TEST_ABORT_AT_STEP}: aborting after step {} ({action} {})",
                self.done,
                path.display()
            );
            std::process::abort();
        }
        Ok(value)
    }
}

/// How one stack's new folder went in, so it can be undone.
#[derive(Debug, Clone, Copy)]
enum Swap {
    /// There was no folder; the new one was renamed in.
    Created,
    /// The two folders were exchanged in one step; the old one is at the staged path.
    Exchanged,
    /// The old folder was renamed aside, then the new one in.
    Aside,
}

/// Writes every stack's folder under `out`, replacing each folder whole (see the module docs).
pub fn write_all(out: &Path, stacks: &[StackOutput]) -> Result<Written, WriteError> {
    write_with(out, stacks, &mut Steps::from_env())
}

fn write_with(
    out: &Path,
    stacks: &[StackOutput],
    steps: &mut Steps,
) -> Result<Written, WriteError> {
    for (i, s) in stacks.iter().enumerate() {
        name::check(&s.name).map_err(Problem::Name)?;
        if stacks[..i].iter().any(|o| o.name == s.name) {
            return Err(Problem::SameName(s.name.clone()).into());
        }
    }
    // Refuse before writing anything (the control folder included); checked again under the lock.
    let control = out.join(CONTROL);
    for s in stacks {
        let target = out.join(&s.name);
        if let Ok(Found::Foreign(reason)) = folder::inspect(&target) {
            return Err(Problem::NotOurs {
                path: target,
                reason,
            }
            .into());
        }
    }
    if fs::symlink_metadata(out).is_err() {
        steps.op("create", out, || fs::create_dir_all(out))?;
    }
    let _lock = lock(&control, steps)?;
    let recovered = recover(out, &control, steps)?;
    let fail = |problem: Problem| WriteError {
        problem: Box::new(problem),
        changed: Changed::Nothing,
        recovered: recovered.clone(),
    };
    remove_stale_runs(&control, steps).map_err(fail)?;

    // Decide what each folder gets before writing anything.
    let mut outcomes = Vec::new();
    for s in stacks {
        let target = out.join(&s.name);
        let found = folder::inspect(&target)
            .map_err(io_problem("inspect", &target))
            .map_err(fail)?;
        let hash = folder::content_hash(&s.files);
        let outcome = match found {
            Found::Absent => Outcome::Created,
            Found::Owned(Some(h))
                if h == hash
                    && folder::holds_exactly(&target, &s.files)
                        .map_err(io_problem("read", &target))
                        .map_err(fail)? =>
            {
                Outcome::Unchanged
            }
            Found::Owned(_) | Found::Adoptable => Outcome::Replaced,
            Found::Foreign(reason) => {
                return Err(fail(Problem::NotOurs {
                    path: target,
                    reason,
                }));
            }
        };
        outcomes.push((s, hash, outcome));
    }
    let written = Written {
        stacks: outcomes
            .iter()
            .map(|(s, _, o)| (s.name.clone(), *o))
            .collect(),
        recovered: recovered.clone(),
    };
    let changed: Vec<_> = outcomes
        .iter()
        .filter(|(_, _, o)| *o != Outcome::Unchanged)
        .map(|(s, h, _)| (*s, h.clone()))
        .collect();
    if changed.is_empty() {
        return Ok(written);
    }

    // Stage.
    let journal = Journal {
        run: std::process::id().to_string(),
        stacks: changed
            .iter()
            .map(|(s, h)| (s.name.clone(), h.clone()))
            .collect(),
    };
    let run_dir = control.join(format!("run-{}", journal.run));
    if let Err(problem) = stage(&run_dir, &changed, steps) {
        let _ = fs::remove_dir_all(&run_dir);
        return Err(fail(problem));
    }

    // Journal, then swap.
    let journal_path = control.join("journal");
    if let Err(problem) = write_journal(&journal_path, &journal, steps) {
        let _ = fs::remove_file(&journal_path);
        let _ = fs::remove_dir_all(&run_dir);
        return Err(fail(problem));
    }
    let changed_stacks = changed.clone();
    let mut swapped: Vec<(&str, Swap)> = Vec::new();
    for (s, _) in &changed {
        let target = out.join(&s.name);
        match put_in(&run_dir.join(&s.name), &target, steps) {
            Ok(swap) => swapped.push((&s.name, swap)),
            Err(PutInError {
                problem,
                target_missing,
            }) => {
                let mut changed = roll_back(out, &run_dir, &swapped, &changed, steps);
                if target_missing && changed == Changed::Nothing {
                    // Keep the journal: the next run puts the new folder in.
                    changed = Changed::Partly {
                        replaced: Vec::new(),
                        pending: all_names(&changed_stacks),
                    };
                }
                if changed == Changed::Nothing {
                    let _ = fs::remove_file(&journal_path);
                    let _ = fs::remove_dir_all(&run_dir);
                }
                return Err(WriteError {
                    problem: Box::new(problem),
                    changed,
                    recovered,
                });
            }
        }
    }
    let all: Vec<String> = changed.iter().map(|(s, _)| s.name.clone()).collect();
    steps
        .op("remove", &journal_path, || fs::remove_file(&journal_path))
        .map_err(|problem| WriteError {
            problem: Box::new(problem),
            changed: Changed::Partly {
                replaced: all.clone(),
                pending: Vec::new(),
            },
            recovered: recovered.clone(),
        })?;
    // Only old folders are left in the staging folder; if removing them fails,
    // the next run deletes them.
    let _ = steps.op("remove", &run_dir, || fs::remove_dir_all(&run_dir));
    Ok(written)
}

/// Creates the control folder if needed and takes its lock, without waiting.
fn lock(control: &Path, steps: &mut Steps) -> Result<File, WriteError> {
    match folder::inspect(control).map_err(io_problem("inspect", control))? {
        Found::Absent => {
            steps.op("create", control, || fs::create_dir(control))?;
            let marker = control.join(MARKER);
            steps.op("write", &marker, || {
                fs::write(&marker, folder::marker_text(None))
            })?;
        }
        Found::Owned(_) => {}
        Found::Adoptable | Found::Foreign(_) => {
            return Err(Problem::NotOurs {
                path: control.to_path_buf(),
                reason: format!(
                    "sockstack keeps its lock and journal in {CONTROL}/ and it has no {MARKER} marker"
                ),
            }
            .into());
        }
    }
    let path = control.join("lock");
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let file = options.open(&path).map_err(io_problem("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => {
            let out = control.parent().unwrap_or(control).to_path_buf();
            Err(Problem::Busy(out).into())
        }
        Err(TryLockError::Error(e)) => Err(io_problem("lock", &path)(e).into()),
    }
}

/// Finishes the run recorded in the journal, if there is one.
fn recover(out: &Path, control: &Path, steps: &mut Steps) -> Result<Option<Recovered>, WriteError> {
    let path = control.join("journal");
    let journal = match Journal::load(&path).map_err(io_problem("read", &path))? {
        None => return Ok(None),
        Some(Ok(j)) => j,
        Some(Err(reason)) => return Err(Problem::Journal { path, reason }.into()),
    };
    let run_dir = control.join(format!("run-{}", journal.run));
    let mut done = Vec::new();
    for (i, (name, hash)) in journal.stacks.iter().enumerate() {
        let target = out.join(name);
        let staged = run_dir.join(name);
        let marked = |p: &Path| {
            folder::read_marker(&p.join(MARKER))
                .map_err(io_problem("read", p))
                .map(|m| is_real_dir(p) && m.flatten().as_deref() == Some(hash.as_str()))
        };
        let partly = |problem| WriteError {
            problem: Box::new(problem),
            changed: Changed::Partly {
                replaced: done.clone(),
                pending: journal.stacks[i..].iter().map(|(n, _)| n.clone()).collect(),
            },
            recovered: None,
        };
        if marked(&target).map_err(partly)? {
            done.push(name.clone());
            continue;
        }
        if let Ok(Found::Foreign(reason)) = folder::inspect(&target) {
            return Err(partly(Problem::NotOurs {
                path: target,
                reason,
            }));
        }
        if !marked(&staged).map_err(partly)? {
            return Err(partly(Problem::Journal {
                path: path.clone(),
                reason: format!(
                    "neither {} nor {} holds the new output of `{name}`",
                    target.display(),
                    staged.display()
                ),
            }));
        }
        put_in(&staged, &target, steps).map_err(|e| partly(e.problem))?;
        done.push(name.clone());
    }
    let finished = |problem| WriteError {
        problem: Box::new(problem),
        changed: Changed::Nothing,
        recovered: Some(Recovered {
            stacks: done.clone(),
        }),
    };
    steps
        .op("remove", &path, || fs::remove_file(&path))
        .map_err(finished)?;
    if is_real_dir(&run_dir) {
        steps
            .op("remove", &run_dir, || fs::remove_dir_all(&run_dir))
            .map_err(finished)?;
    }
    Ok(Some(Recovered { stacks: done }))
}

/// Deletes what runs stopped before their journal was in place left behind:
/// staging folders and a half-written journal. There is no journal now, the
/// lock says no run is using them, and everything in the control folder is sockstack's.
fn remove_stale_runs(control: &Path, steps: &mut Steps) -> Result<(), Problem> {
    let entries = fs::read_dir(control).map_err(io_problem("list", control))?;
    for entry in entries {
        let entry = entry.map_err(io_problem("list", control))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("run-") && is_real_dir(&path) {
            steps.op("remove", &path, || fs::remove_dir_all(&path))?;
        } else if name.starts_with("run-") || name == "journal.tmp" {
            steps.op("remove", &path, || fs::remove_file(&path))?;
        }
    }
    Ok(())
}

fn all_names(stacks: &[(&StackOutput, String)]) -> Vec<String> {
    stacks.iter().map(|(s, _)| s.name.clone()).collect()
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Writes every changed stack's new folder, marked with its content hash, under `run_dir`.
fn stage(
    run_dir: &Path,
    changed: &[(&StackOutput, String)],
    steps: &mut Steps,
) -> Result<(), Problem> {
    steps.op("create", run_dir, || fs::create_dir(run_dir))?;
    let marker = run_dir.join(MARKER);
    steps.op("write", &marker, || {
        fs::write(&marker, folder::marker_text(None))
    })?;
    for (s, hash) in changed {
        let dir = run_dir.join(&s.name);
        steps.op("create", &dir, || fs::create_dir(&dir))?;
        for (file, contents) in &s.files {
            let path = dir.join(file);
            steps.op("write", &path, || fs::write(&path, contents))?;
        }
        let marker = dir.join(MARKER);
        steps.op("write", &marker, || {
            fs::write(&marker, folder::marker_text(Some(hash)))
        })?;
    }
    Ok(())
}

fn write_journal(path: &Path, journal: &Journal, steps: &mut Steps) -> Result<(), Problem> {
    let tmp = path.with_extension("tmp");
    steps.op("write", &tmp, || fs::write(&tmp, journal.render()))?;
    steps.op("rename", &tmp, || fs::rename(&tmp, path))
}

/// A failed [`put_in`]: the problem, and whether the target is left missing
/// (its old folder moved aside and not back: only the journal can restore it).
struct PutInError {
    problem: Problem,
    target_missing: bool,
}

/// Puts the folder at `staged` in place of `target` (which may be missing).
fn put_in(staged: &Path, target: &Path, steps: &mut Steps) -> Result<Swap, PutInError> {
    let plain = |problem| PutInError {
        problem,
        target_missing: false,
    };
    if fs::symlink_metadata(target).is_err() {
        steps
            .op("rename into place", staged, || fs::rename(staged, target))
            .map_err(plain)?;
        return Ok(Swap::Created);
    }
    let exchanged = if steps.exchange {
        steps
            .op("exchange", target, || exchange(staged, target))
            .map_err(plain)?
    } else {
        false
    };
    if exchanged {
        return Ok(Swap::Exchanged);
    }
    let aside = staged.with_extension("old");
    steps
        .op("move aside", target, || fs::rename(target, &aside))
        .map_err(plain)?;
    if let Err(problem) = steps.op("rename into place", staged, || fs::rename(staged, target)) {
        let restored = steps
            .op("undo", target, || fs::rename(&aside, target))
            .is_ok();
        return Err(PutInError {
            problem,
            target_missing: !restored,
        });
    }
    Ok(Swap::Aside)
}

/// Undoes the swaps done so far, newest first; says what is left changed.
fn roll_back(
    out: &Path,
    run_dir: &Path,
    swapped: &[(&str, Swap)],
    changed: &[(&StackOutput, String)],
    steps: &mut Steps,
) -> Changed {
    let mut still: Vec<String> = swapped.iter().map(|(n, _)| n.to_string()).collect();
    for (name, swap) in swapped.iter().rev() {
        let target = out.join(name);
        let staged = run_dir.join(name);
        let undone = match swap {
            Swap::Created => steps
                .op("undo", &target, || fs::rename(&target, &staged))
                .is_ok(),
            Swap::Exchanged => steps
                .op("undo", &target, || exchange(&staged, &target))
                .unwrap_or(false),
            Swap::Aside => {
                steps
                    .op("undo", &target, || fs::rename(&target, &staged))
                    .is_ok()
                    && steps
                        .op("undo", &target, || {
                            fs::rename(staged.with_extension("old"), &target)
                        })
                        .is_ok()
            }
        };
        if !undone {
            break;
        }
        still.pop();
    }
    if still.is_empty() {
        Changed::Nothing
    } else {
        Changed::Partly {
            pending: changed
                .iter()
                .map(|(s, _)| s.name.clone())
                .filter(|n| !still.contains(n))
                .collect(),
            replaced: still,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(name: &str, text: &str) -> StackOutput {
        StackOutput {
            name: name.into(),
            files: vec![
                ("template.yaml".into(), text.into()),
                ("summary.txt".into(), format!("summary of {text}")),
            ],
        }
    }

    fn read(out: &Path, name: &str) -> Option<(String, String)> {
        let dir = out.join(name);
        Some((
            fs::read_to_string(dir.join("template.yaml")).ok()?,
            fs::read_to_string(dir.join("summary.txt")).ok()?,
        ))
    }

    fn pair(text: &str) -> Option<(String, String)> {
        Some((text.to_string(), format!("summary of {text}")))
    }

    fn steps(exchange: bool, fail: impl Fn(u64) -> bool + 'static) -> Steps {
        Steps {
            exchange,
            done: 0,
            abort_at: None,
            fail: Some(Box::new(fail)),
        }
    }

    #[test]
    fn replaces_folders_whole_and_keeps_others() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        write_all(&out, &[output("dev", "one"), output("prod", "p")]).unwrap();
        fs::write(out.join("dev/stale.txt"), "x").unwrap();
        let written = write_all(&out, &[output("dev", "two")]).unwrap();
        assert_eq!(written.stacks, vec![("dev".to_string(), Outcome::Replaced)]);
        assert_eq!(read(&out, "dev"), pair("two"));
        assert!(!out.join("dev/stale.txt").exists());
        assert_eq!(read(&out, "prod"), pair("p"));
        let mut left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".sockstack", "dev", "prod"]);
        let mut control: Vec<_> = fs::read_dir(out.join(CONTROL))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        control.sort();
        assert_eq!(control, [MARKER, "lock"], "no journal or staging left");
    }

    #[test]
    fn a_folder_already_holding_the_output_is_reported_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = write_all(&out, &[output("dev", "one")]).unwrap();
        assert_eq!(first.stacks, vec![("dev".to_string(), Outcome::Created)]);
        let again = write_all(&out, &[output("dev", "one"), output("prod", "p")]).unwrap();
        assert_eq!(
            again.stacks,
            vec![
                ("dev".to_string(), Outcome::Unchanged),
                ("prod".to_string(), Outcome::Created)
            ]
        );
        // A hand edit is not "unchanged": the folder is replaced.
        fs::write(out.join("dev/template.yaml"), "edited").unwrap();
        let edited = write_all(&out, &[output("dev", "one")]).unwrap();
        assert_eq!(edited.stacks, vec![("dev".to_string(), Outcome::Replaced)]);
        assert_eq!(read(&out, "dev"), pair("one"));
    }

    /// Makes filesystem change number `n` fail (and, with `and_after`, every later
    /// one, so the roll-back fails too), then checks that each folder is whole,
    /// that the error says exactly which folders changed, and that the next run
    /// finishes the job.
    fn fail_each_step(exchange: bool, and_after: bool) {
        let names = ["api", "dev", "prod"];
        let mut n = 1;
        loop {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let old: Vec<_> = names.iter().map(|s| output(s, "old")).collect();
            write_all(&out, &old).unwrap();
            let new: Vec<_> = names.iter().map(|s| output(s, "new")).collect();
            let result = write_with(
                &out,
                &new,
                &mut steps(exchange, move |i| i == n || (and_after && i > n)),
            );
            let err = match result {
                Ok(_) => break,
                Err(e) => e,
            };
            let state: Vec<_> = names.iter().map(|s| read(&out, s)).collect();
            for (name, s) in names.iter().zip(&state) {
                let replaced = match &err.changed {
                    Changed::Nothing => false,
                    Changed::Partly { replaced, pending } => {
                        assert_eq!(replaced.len() + pending.len(), names.len());
                        replaced.iter().any(|r| r == name)
                    }
                };
                // A folder moved aside by the fallback may be missing; the journal restores it.
                if !(s.is_none() && !exchange && and_after) {
                    let want = if replaced { "new" } else { "old" };
                    assert_eq!(s, &pair(want), "step {n}: {name} ({err})");
                }
            }
            let next = write_all(&out, &new).unwrap();
            for s in names {
                assert_eq!(read(&out, s), pair("new"), "step {n}: after the next run");
            }
            if let Changed::Partly { .. } = err.changed {
                assert!(
                    next.recovered.is_some(),
                    "step {n}: the next run says it finished the run"
                );
            }
            n += 1;
            assert!(n < 100, "the write never succeeded");
        }
        assert!(n > 10, "every step was tried ({n})");
    }

    #[test]
    fn finishing_an_interrupted_run_never_replaces_what_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let names = ["api", "dev"];
        write_all(&out, &names.map(|s| output(s, "old"))).unwrap();
        // Fail every change from the second swap on: `api` is replaced, `dev` is not, the journal stays.
        let partly = (1..100)
            .find_map(|n| {
                match write_with(&out, &names.map(|s| output(s, "new")), &mut steps(true, move |i| i > n)) {
                    Err(e) if matches!(&e.changed, Changed::Partly { replaced, .. } if replaced.len() == 1) => Some(e),
                    _ => {
                        write_all(&out, &names.map(|s| output(s, "old"))).unwrap();
                        None
                    }
                }
            })
            .expect("some step leaves the run half done");
        assert!(
            partly
                .to_string()
                .contains("replaced so far: api; still old: dev"),
            "{partly}"
        );
        // Someone puts a link where `dev` was before the next run.
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::remove_dir_all(out.join("dev")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("dev")).unwrap();
        let err = write_all(&out, &[output("api", "new")]).unwrap_err();
        assert!(matches!(*err.problem, Problem::NotOurs { .. }), "{err}");
        assert!(
            fs::symlink_metadata(out.join("dev"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            out.join(CONTROL).join("journal").exists(),
            "the journal is kept"
        );
    }

    #[test]
    fn a_failure_at_any_step_leaves_every_folder_whole_and_is_reported_exactly() {
        fail_each_step(true, false);
        fail_each_step(true, true);
    }

    #[test]
    fn without_exchange_a_failure_at_any_step_is_rolled_back_or_finished() {
        fail_each_step(false, false);
        fail_each_step(false, true);
    }
}
