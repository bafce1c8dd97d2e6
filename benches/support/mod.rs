//! What the whole-process benches share (each bench uses what it needs of it).
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One run of a command: how long it took, its own peak RSS and how it ended.
pub struct Run {
    pub wall: Duration,
    pub max_rss_kib: i64,
    pub status: ExitStatus,
}

/// Runs `cmd` to completion with its output discarded, measuring wall time and the child's
/// own peak RSS.
// The child is reaped by `wait4`, which std's `Child::wait` cannot replace: it also returns rusage.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sockstack starts");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for this pid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; the pointers are valid for the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    Run {
        wall,
        max_rss_kib: usage.ru_maxrss,
        status: ExitStatus::from_raw(status),
    }
}
