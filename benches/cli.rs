//! Whole-process cost of `sockstack synth`: wall time (median of repeated runs)
//! and peak memory, for each stack and both together, against a baseline run in
//! the same command: `sockstack --version`, which pays process start-up only.
//!
//! Run with `make bench` (or `cargo bench --bench cli`). `SOCKSTACK_BENCH_RUNS`
//! sets the number of runs (default 60).

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Sample {
    wall: Duration,
    max_rss_kib: i64,
}

/// Runs `cmd` to completion (it must succeed), measuring wall time and the child's own peak RSS.
fn run_once(cmd: &mut Command) -> Sample {
    let run = support::run(cmd);
    assert!(run.status.success(), "command failed: {cmd:?}");
    Sample {
        wall: run.wall,
        max_rss_kib: run.max_rss_kib,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes harness flags such as `--bench`; nothing to parse.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = env!("CARGO_BIN_EXE_sockstack");
    let runs: usize = std::env::var("SOCKSTACK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let out = tempfile::tempdir().unwrap();

    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("baseline: sockstack --version", vec!["--version"]),
        ("synth stacks/dev.yaml", vec!["synth", "stacks/dev.yaml"]),
        ("synth stacks/prod.yaml", vec!["synth", "stacks/prod.yaml"]),
        ("synth (both stacks)", vec!["synth"]),
    ];
    println!("whole-process timing, {runs} runs each, median wall time and peak RSS");
    let mut baseline = None;
    for (name, args) in cases {
        let mut walls = Vec::with_capacity(runs);
        let mut rss = 0;
        for _ in 0..runs {
            let mut cmd = Command::new(exe);
            cmd.current_dir(root).args(&args);
            if args.first() == Some(&"synth") {
                cmd.arg("--out").arg(out.path());
            }
            let s = run_once(&mut cmd);
            walls.push(s.wall);
            rss = rss.max(s.max_rss_kib);
        }
        let m = median(walls);
        let base = *baseline.get_or_insert(m);
        println!(
            "  {name:<32} {:>8.2} ms  {:>6.1}x baseline  peak RSS {:>6} KiB",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / base.as_secs_f64(),
            rss
        );
    }
}
