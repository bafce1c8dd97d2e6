//! The readers' input limits (src/input.rs): for each limit of the template reader, the time
//! to read a template of 1/8, 1/4, 1/2 and all of the limit (criterion), and the
//! time to refuse one just over it; and, first, the peak memory of a whole
//! `sockstack check` process on the same files. The stack-file reader (src/config) gets the
//! same for its largest collection, the route list: reading and shape-checking a stack file
//! of that many routes, and the peak memory of `sockstack validate` on it. Time and memory
//! should grow about linearly up to the limit, and refusing should cost no more than reading.
//!
//! Run with `make bench` (or `cargo bench --bench input`; `make bench-quick` for a short run).

mod support;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use sockstack::input::Limits;
use sockstack::raw::RawTemplate;
use std::hint::black_box;
use std::io::{self, Write};
use std::process::{Command, ExitStatus};
use std::time::Duration;

const HEAD: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";

/// A template of about `bytes` bytes: SNS topics with 64-character names.
fn by_bytes(bytes: usize, out: &mut dyn Write) -> io::Result<()> {
    let mut written = 11;
    out.write_all(b"Resources:\n")?;
    let mut i = 0;
    while written < bytes.saturating_sub(120) {
        let entry = format!(
            "  T{i}:\n    Type: AWS::SNS::Topic\n    Properties: {{TopicName: {i:0>64}}}\n"
        );
        out.write_all(entry.as_bytes())?;
        written += entry.len();
        i += 1;
    }
    Ok(())
}

/// Lists nested `depth` deep (the document mapping counts as one level).
fn by_depth(depth: usize, out: &mut dyn Write) -> io::Result<()> {
    let inner = depth.max(5) - 4; // Resources, Topic, Properties and Tags are the first levels.
    write!(
        out,
        "{HEAD}    Properties:\n      Tags: {}{}\n",
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

/// A list of `n` ones, written as it goes.
fn ones(n: usize, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"[")?;
    for i in 0..n {
        out.write_all(if i == 0 { b"1" } else { b",1" })?;
    }
    out.write_all(b"]\n")
}

/// One list of `items` entries.
fn by_items(items: usize, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{HEAD}Metadata:\n  List: ")?;
    ones(items, out)
}

/// About `nodes` values in lists of at most 100,000.
fn by_nodes(nodes: usize, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{HEAD}Metadata:")?;
    let mut left = nodes - 10;
    let mut i = 0;
    while left > 2 {
        let n = (left - 2).min(Limits::DEFAULT.max_items);
        write!(out, "  L{i}: ")?;
        ones(n, out)?;
        left -= n + 2;
        i += 1;
    }
    Ok(())
}

/// 300 KB of nesting (the case), refused at the 65th level.
fn deep_300k(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{HEAD}Metadata: {}", "[".repeat(300_000))
}

/// A stack file with `routes` routes, all served by `connect`.
fn stack_routes(routes: usize, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(
        b"version: 2\nstack: good\nstage:\n  name: dev\nfunctions:\n  connect: {}\nroutes:\n  - {key: $connect, function: connect, public: true}\n",
    )?;
    for i in 1..routes {
        writeln!(out, "  - {{key: r{i}, function: connect}}")?;
    }
    Ok(())
}

type Make = fn(usize, &mut dyn Write) -> io::Result<()>;

/// The text `make` writes for `size`.
fn text(make: Make, size: usize) -> String {
    let mut buf = Vec::new();
    make(size, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

struct Case {
    name: &'static str,
    limit: usize,
    make: Make,
}

const CASES: [Case; 4] = [
    Case {
        name: "bytes",
        limit: Limits::DEFAULT.max_bytes as usize,
        make: by_bytes,
    },
    Case {
        name: "depth",
        limit: Limits::DEFAULT.max_depth,
        make: by_depth,
    },
    Case {
        name: "items",
        limit: Limits::DEFAULT.max_items,
        make: by_items,
    },
    Case {
        name: "nodes",
        limit: Limits::DEFAULT.max_nodes,
        make: by_nodes,
    },
];

/// 1/8, 1/4, 1/2 and all of the limit; with `SOCKSTACK_BENCH_QUICK=1` (CI's
/// `make bench-quick`) only 1/64 and 1/32, so a broken bench is caught in seconds.
fn sizes(limit: usize) -> Vec<usize> {
    if quick() {
        vec![limit / 64, limit / 32]
    } else {
        vec![limit / 8, limit / 4, limit / 2, limit]
    }
}

fn quick() -> bool {
    std::env::var_os("SOCKSTACK_BENCH_QUICK").is_some_and(|v| v == "1")
}

/// Writes a file just over the case's limit.
fn over(case: &Case, out: &mut dyn Write) -> io::Result<()> {
    match case.name {
        "depth" => deep_300k(out),
        "bytes" => (case.make)(case.limit + 4096, out),
        _ => (case.make)(case.limit + 100, out),
    }
}

fn over_text(case: &Case) -> String {
    let mut buf = Vec::new();
    over(case, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn timing(c: &mut Criterion) {
    let limits = Limits::DEFAULT;
    for case in &CASES {
        let mut group = c.benchmark_group(format!("input/{}", case.name));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        for size in sizes(case.limit) {
            let text = text(case.make, size);
            RawTemplate::parse_with(&text, &limits).expect("within the limits");
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new("read", size), &text, |b, text| {
                b.iter(|| RawTemplate::parse_with(black_box(text), &limits).unwrap())
            });
        }
        let text = over_text(case);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("over.yaml");
        std::fs::write(&file, &text).unwrap();
        RawTemplate::read_with(&file, &limits).expect_err("over the limit");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("refuse just over the limit", |b| {
            b.iter(|| RawTemplate::read_with(black_box(&file), &limits).unwrap_err())
        });
        group.finish();
    }

    let mut group = c.benchmark_group("input/stack-file routes");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.yaml");
    let read_and_parse = |file: &std::path::Path| {
        let text = sockstack::config::read(file)?;
        sockstack::config::parse(file, &text)
    };
    for size in sizes(limits.max_items) {
        std::fs::write(&file, text(stack_routes, size)).unwrap();
        read_and_parse(&file).expect("within the limits");
        group.throughput(Throughput::Bytes(std::fs::metadata(&file).unwrap().len()));
        group.bench_with_input(BenchmarkId::new("read", size), &file, |b, file| {
            b.iter(|| read_and_parse(black_box(file)).unwrap())
        });
    }
    std::fs::write(&file, text(stack_routes, limits.max_items + 100)).unwrap();
    read_and_parse(&file).expect_err("over the limit");
    group.bench_function("refuse just over the limit", |b| {
        b.iter(|| read_and_parse(black_box(&file)).unwrap_err())
    });
    group.finish();
}

/// Peak RSS (KiB) and exit status of one `sockstack ARGS` (run in the current folder).
fn check_rss(args: &[&std::ffi::OsStr]) -> (i64, ExitStatus) {
    rss_in(&std::env::current_dir().unwrap(), args)
}

/// Peak RSS (KiB) and exit status of one `sockstack ARGS` run in `dir`.
fn rss_in(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> (i64, ExitStatus) {
    let run = support::run(
        Command::new(env!("CARGO_BIN_EXE_sockstack"))
            .args(args)
            .current_dir(dir),
    );
    (run.max_rss_kib, run.status)
}

fn memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("template.yaml");
    println!("peak RSS of `sockstack check` (whole process), by limit and size");
    let (base, _) = check_rss(&["--version".as_ref()]);
    println!("  baseline: sockstack --version, peak RSS {base} KiB");
    // Files are written as they are generated, so this process stays small: on Linux a
    // child's peak RSS starts from this process's own.
    for case in &CASES {
        let runs: Vec<(String, Option<usize>)> = sizes(case.limit)
            .into_iter()
            .map(|s| (s.to_string(), Some(s)))
            .chain([("over the limit".to_string(), None)])
            .collect();
        for (label, size) in runs {
            let mut out = io::BufWriter::new(std::fs::File::create(&file).unwrap());
            match size {
                Some(s) => (case.make)(s, &mut out).unwrap(),
                None => over(case, &mut out).unwrap(),
            }
            out.flush().unwrap();
            drop(out);
            let (rss, status) = check_rss(&["check".as_ref(), file.as_os_str()]);
            let refused = status.code() == Some(2);
            println!(
                "  {:<6} {label:>15}  {:>9} bytes  peak RSS {rss:>8} KiB  {}",
                case.name,
                std::fs::metadata(&file).unwrap().len(),
                if refused { "refused" } else { "read" }
            );
        }
    }
    stack_memory();
}

/// Peak RSS of `sockstack validate` on stack files of growing route lists. Up to the limit the
/// file is read and shape-checked in full and then refused by the model (more routes than a
/// template holds: exit 2 either way); just over it, the reader refuses it.
fn stack_memory() {
    let dir = tempfile::tempdir().unwrap();
    let handlers = dir.path().join("handlers");
    std::fs::create_dir_all(handlers.join("src/bin")).unwrap();
    std::fs::write(handlers.join("Cargo.toml"), "[package]\nname = \"fake\"\n").unwrap();
    std::fs::write(handlers.join("src/bin/connect.rs"), "fn main() {}\n").unwrap();
    let file = dir.path().join("stack.yaml");
    println!("peak RSS of `sockstack validate` (whole process) on a stack file, by routes");
    let limit = Limits::DEFAULT.max_items;
    let runs: Vec<(String, usize)> = sizes(limit)
        .into_iter()
        .map(|s| (s.to_string(), s))
        .chain([("over the limit".to_string(), limit + 100)])
        .collect();
    for (label, routes) in runs {
        let mut out = io::BufWriter::new(std::fs::File::create(&file).unwrap());
        stack_routes(routes, &mut out).unwrap();
        out.flush().unwrap();
        drop(out);
        let (rss, status) = rss_in(dir.path(), &["validate".as_ref(), "stack.yaml".as_ref()]);
        assert_eq!(status.code(), Some(2), "validate refuses {routes} routes");
        println!(
            "  routes {label:>15}  {:>9} bytes  peak RSS {rss:>8} KiB",
            std::fs::metadata(&file).unwrap().len(),
        );
    }
}

fn main() {
    // Memory first: a child's peak RSS on Linux includes what it inherited at fork,
    // so measure while this process is still small.
    memory();
    let mut c = Criterion::default().configure_from_args();
    timing(&mut c);
    c.final_summary();
}
