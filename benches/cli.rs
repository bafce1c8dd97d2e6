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
    let large = out.path().join("large.yaml");
    std::fs::write(&large, support::large_stack(10, 30)).unwrap();
    let large = large.to_str().expect("a UTF-8 temporary path");

    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("baseline: sockstack --version", vec!["--version"]),
        ("synth stacks/dev.yaml", vec!["synth", "stacks/dev.yaml"]),
        ("synth stacks/prod.yaml", vec!["synth", "stacks/prod.yaml"]),
        ("synth (both stacks)", vec!["synth"]),
        ("synth 10 tables, 30 functions", vec!["synth", large]),
    ];
    let synth_out = out.path().join("out");
    // Interleaved: each round runs every case once, so a change of load on a shared machine
    // reaches every case alike.
    let mut walls: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cases.len()];
    let mut rss = vec![0; cases.len()];
    for _ in 0..runs {
        for (i, (_, args)) in cases.iter().enumerate() {
            let mut cmd = Command::new(exe);
            cmd.current_dir(root).args(args);
            if args.first() == Some(&"synth") {
                cmd.arg("--out").arg(&synth_out);
            }
            let s = run_once(&mut cmd);
            walls[i].push(s.wall);
            rss[i] = rss[i].max(s.max_rss_kib);
        }
    }
    let medians: Vec<Duration> = walls.into_iter().map(median).collect();
    println!("whole-process timing, {runs} interleaved runs each, median wall time and peak RSS");
    let base = medians[0];
    for (i, (name, _)) in cases.iter().enumerate() {
        println!(
            "  {name:<32} {:>8.2} ms  {:>6.1}x baseline  peak RSS {:>6} KiB",
            medians[i].as_secs_f64() * 1e3,
            medians[i].as_secs_f64() / base.as_secs_f64(),
            rss[i]
        );
    }
    let (dev, large) = (medians[1], medians[4]);
    let over = |t: Duration| t.saturating_sub(base).as_secs_f64();
    println!(
        "synth ratio (whole process): 10 tables, 30 functions {:.2} ms / dev {:.2} ms = {:.2}x; \
         over start-up (each minus --version): {:.2}x (goal <= 3x)",
        large.as_secs_f64() * 1e3,
        dev.as_secs_f64() * 1e3,
        large.as_secs_f64() / dev.as_secs_f64(),
        over(large) / over(dev),
    );
}
