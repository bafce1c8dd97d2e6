//! In-process cost of the synth pipeline for each stack file: parse, model, synth,
//! render, check (criterion). The baseline in the same run is parsing alone, so the
//! figures read as ratios. A generated stack of 10 tables and 30 functions is
//! measured against the dev stack in the same run and reported as a ratio
//! (goal: at most 3×).

use criterion::{Criterion, criterion_group, criterion_main};
use sockstack::emit::Format;
use sockstack::pipeline;
use sockstack::sources::HandlerSources;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A format-2 stack with `tables` tables (sort key, one index, TTL) and `functions`
/// functions, each behind a route and granted two tables and the registry.
fn large_stack(tables: usize, functions: usize) -> String {
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

fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let handlers = HandlerSources::open(&root.join("handlers")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let large: PathBuf = dir.path().join("large.yaml");
    std::fs::write(&large, large_stack(10, 30)).unwrap();

    // The ratio first, both measured here, one after the other.
    let dev = root.join("stacks/dev.yaml");
    let synth = |file: &Path| pipeline::synthesize(file, &handlers, Format::Yaml).unwrap();
    let check = synth(&large);
    assert_eq!(check.model.tables.len(), 10);
    assert_eq!(check.model.functions.len(), 30);
    for _ in 0..20 {
        black_box(synth(&dev));
        black_box(synth(&large));
    }
    let t_dev = median_time(200, || {
        black_box(synth(black_box(&dev)));
    });
    let t_large = median_time(200, || {
        black_box(synth(black_box(&large)));
    });
    println!(
        "synth ratio: large (10 tables, 30 functions, {} resources) {:.2?} / dev ({} resources) {:.2?} = {:.2}x (goal <= 3x)",
        check.template.resources.len(),
        t_large,
        synth(&dev).template.resources.len(),
        t_dev,
        t_large.as_secs_f64() / t_dev.as_secs_f64()
    );

    for (name, file) in [
        ("dev", dev.clone()),
        ("prod", root.join("stacks/prod.yaml")),
        ("large", large.clone()),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        c.bench_function(&format!("parse/{name} (baseline)"), |b| {
            b.iter(|| sockstack::config::parse(&file, black_box(&text)).unwrap())
        });
        c.bench_function(&format!("pipeline/{name}"), |b| {
            b.iter(|| pipeline::synthesize(black_box(&file), &handlers, Format::Yaml).unwrap())
        });
        let model = sockstack::model::load(&file, &handlers).unwrap();
        c.bench_function(&format!("synth+render/{name}"), |b| {
            b.iter(|| pipeline::from_model(&file, black_box(model.clone()), Format::Yaml))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
