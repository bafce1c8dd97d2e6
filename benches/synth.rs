//! In-process cost of the synth pipeline for each stack file: parse + validate +
//! model, synth, render, check (criterion). The baseline in the same run is
//! parsing alone, so the figures read as ratios.

use criterion::{Criterion, criterion_group, criterion_main};
use sockstack::emit::Format;
use sockstack::pipeline;
use sockstack::sources::HandlerSources;
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let handlers = HandlerSources::open(&root.join("handlers")).unwrap();
    for stack in ["dev", "prod"] {
        let file = root.join(format!("stacks/{stack}.yaml"));
        let text = std::fs::read_to_string(&file).unwrap();
        c.bench_function(&format!("parse/{stack} (baseline)"), |b| {
            b.iter(|| sockstack::config::parse(&file, black_box(&text)).unwrap())
        });
        c.bench_function(&format!("pipeline/{stack}"), |b| {
            b.iter(|| pipeline::synthesize(black_box(&file), &handlers, Format::Yaml).unwrap())
        });
        let model = sockstack::config::load(&file, &handlers).unwrap();
        c.bench_function(&format!("synth+render/{stack}"), |b| {
            b.iter(|| pipeline::from_model(&file, black_box(model.clone()), Format::Yaml))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
