//! In-process cost of the synth pipeline for each stack file: parse, model, synth,
//! render, check (criterion). The baseline in the same run is parsing alone, so the
//! figures read as ratios. A generated stack of 10 tables and 30 functions is
//! measured against the dev stack in the same run and reported as a ratio
//! (goal: at most 3×), with where each one's time goes (load: read, parse and
//! build the model; synth; render the YAML; check).

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use sockstack::emit::Format;
use sockstack::pipeline;
use sockstack::sources::HandlerSources;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// CPU time this thread has used: unlike wall time, it does not grow when other
/// processes share the cores (a long run is preempted more often than a short one).
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for clock_gettime to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Wall time and thread CPU time of one call.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (wall, cpu) = (Instant::now(), thread_cpu_time());
    f();
    (wall.elapsed(), thread_cpu_time() - cpu)
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let handlers = HandlerSources::open(&root.join("handlers")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let large: PathBuf = dir.path().join("large.yaml");
    std::fs::write(&large, support::large_stack(10, 30)).unwrap();

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
    // Interleaved, so that both see the same load on a shared machine.
    let (mut dev_times, mut large_times) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        dev_times.push(timed(|| {
            black_box(synth(black_box(&dev)));
        }));
        large_times.push(timed(|| {
            black_box(synth(black_box(&large)));
        }));
    }
    let median = |times: &[(Duration, Duration)], pick: fn(&(Duration, Duration)) -> Duration| {
        let mut times: Vec<Duration> = times.iter().map(pick).collect();
        times.sort();
        times[times.len() / 2]
    };
    let t_dev = median(&dev_times, |t| t.0);
    let t_large = median(&large_times, |t| t.0);
    let (cpu_dev, cpu_large) = (median(&dev_times, |t| t.1), median(&large_times, |t| t.1));
    println!(
        "synth ratio: large (10 tables, 30 functions, {} resources) {:.2?} / dev ({} resources) {:.2?} = {:.2}x (goal <= 3x)",
        check.template.resources.len(),
        t_large,
        synth(&dev).template.resources.len(),
        t_dev,
        t_large.as_secs_f64() / t_dev.as_secs_f64()
    );
    println!(
        "synth ratio (thread CPU time): large {cpu_large:.2?} / dev {cpu_dev:.2?} = {:.2}x (load average {})",
        cpu_large.as_secs_f64() / cpu_dev.as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    );

    for (name, file) in [("dev", &dev), ("large", &large)] {
        let model = sockstack::model::load(file, &handlers).unwrap();
        let template = sockstack::synth::synth(&model);
        let text = sockstack::emit::render(&template, Format::Yaml, "x");
        let t_load = median_time(200, || {
            black_box(sockstack::model::load(black_box(file), &handlers).unwrap());
        });
        let t_synth = median_time(200, || {
            black_box(sockstack::synth::synth(black_box(&model)));
        });
        let t_render = median_time(200, || {
            black_box(sockstack::emit::render(
                black_box(&template),
                Format::Yaml,
                "x",
            ));
        });
        let t_check = median_time(200, || {
            black_box(sockstack::check::check_template(
                black_box(&template),
                text.len(),
            ));
        });
        println!(
            "synth stages: {name}: load {t_load:.2?}, synth {t_synth:.2?}, render {t_render:.2?} ({} bytes), check {t_check:.2?}",
            text.len()
        );
    }

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
