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

/// A format-2 stack with `tables` tables (sort key, one index, TTL) and `functions`
/// functions, each behind a route and granted two tables and the registry.
pub fn large_stack(tables: usize, functions: usize) -> String {
    let mut s = String::from(
        "version: 2\nstack: large\nstage: {name: dev}\n\
         authorizer:\n  jwt: {jwksUrl: https://id.example.com/jwks.json, issuer: https://id.example.com/, audience: [web]}\n  context: {userId: sub, roomId: room}\n\
         connections: {indexBy: [userId, roomId]}\ntables:\n",
    );
    for t in 0..tables {
        s.push_str(&format!(
            "  table{t}:\n    key: {{pk: S, sk: N}}\n    ttl: expiresAt\n    indexes:\n      byOwner: {{key: {{owner: S, sk: N}}, projection: keys}}\n"
        ));
    }
    s.push_str("functions:\n  defaults: {memory: 256, timeout: 10, logRetentionDays: 30}\n  authorizer: {}\n  connect: {grants: {connections: write}}\n");
    let binaries = ["connect", "disconnect", "default", "vote"];
    for f in 0..functions - 2 {
        s.push_str(&format!(
            "  fn{f}:\n    binary: {}\n    memory: {}\n    grants: {{connections: [read, send], tables: {{table{}: readwrite, table{}/byOwner: read}}}}\n    environment: {{MODE: fast, ARCHIVE: {{table: table{}}}}}\n",
            binaries[f % binaries.len()],
            256 + 64 * (f % 4),
            f % tables,
            (f + 1) % tables,
            (f + 2) % tables,
        ));
    }
    s.push_str("routes:\n  - {key: $connect, function: connect, authorizer: true}\n");
    for f in 0..functions - 2 {
        s.push_str(&format!(
            "  - {{key: action{f}, function: fn{f}, twoWay: true}}\n"
        ));
    }
    s
}
