//! Fan-out of 10,000 posts to a local `@connections` endpoint that answers
//! after 10 ms, against a sequential loop (200 posts) to the same endpoint in
//! the same run (targets: ≥ 5,000 posts/s, ≥ 20× the sequential loop).
//! `cargo bench -p sockstack-runtime --bench fanout`

#[path = "../src/testing.rs"]
mod common;

use common::*;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockstack_runtime::aws;
use sockstack_runtime::fanout::Notifier;
use sockstack_runtime::registry::Connection;
use std::time::{Duration, Instant};

const FAN_OUT: usize = 10_000;
const SEQUENTIAL: usize = 200;
const LATENCY_MS: usize = 10;

fn targets(n: usize) -> Vec<Connection> {
    (0..n)
        .map(|i| Connection::id(format!("conn-{i}")))
        .collect()
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(ConnectionsServer::start());
    api.set_delay(LATENCY_MS);
    let config = rt.block_on(sdk_config(None));
    let client = aws::connections_client(&config, &api.callback_url);
    let many = targets(FAN_OUT);
    let few = targets(SEQUENTIAL);
    let message = br#"{"type":"vote","teamId":"t","userId":"u","value":"5","at":0}"#;
    // 32, 128 and the default (256), each once: criterion refuses a benchmark id twice.
    let mut concurrencies = vec![
        32,
        128,
        sockstack_runtime::contract::grants::DEFAULT_NOTIFY_CONCURRENCY,
    ];
    concurrencies.sort_unstable();
    concurrencies.dedup();

    let mut group = c.benchmark_group("fan-out (endpoint answers after 10 ms)");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(FAN_OUT as u64));
    for &concurrency in &concurrencies {
        let notifier = Notifier::new(client.clone(), concurrency);
        group.bench_function(format!("{FAN_OUT} posts, concurrency {concurrency}"), |b| {
            b.iter(|| {
                let result = rt.block_on(notifier.fan_out(&many, message));
                assert_eq!(result.delivered.len(), FAN_OUT);
            })
        });
    }
    group.throughput(Throughput::Elements(SEQUENTIAL as u64));
    let sequential = Notifier::new(client.clone(), 1);
    group.bench_function(format!("{SEQUENTIAL} posts, one at a time"), |b| {
        b.iter(|| {
            rt.block_on(async {
                for c in &few {
                    sequential.post(&c.connection_id, message).await;
                }
            })
        })
    });
    group.finish();

    // The same comparison as plain figures, measured back to back.
    let started = Instant::now();
    rt.block_on(async {
        for c in &few {
            sequential.post(&c.connection_id, message).await;
        }
    });
    let sequential_rate = SEQUENTIAL as f64 / started.elapsed().as_secs_f64();
    println!("sequential: {sequential_rate:.0} posts/s ({SEQUENTIAL} posts)");
    for concurrency in concurrencies {
        let notifier = Notifier::new(client.clone(), concurrency);
        let started = Instant::now();
        let result = rt.block_on(notifier.fan_out(&many, message));
        let rate = FAN_OUT as f64 / started.elapsed().as_secs_f64();
        assert_eq!(result.delivered.len(), FAN_OUT);
        println!(
            "fan-out, concurrency {concurrency}: {rate:.0} posts/s ({FAN_OUT} posts), {:.1}x sequential",
            rate / sequential_rate
        );
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
