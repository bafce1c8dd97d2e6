//! Process start → first Runtime API request, per function binary (target:
//! ≤ 10 ms), and the size of each bundle zip if `sockstack bundle` has written
//! them (target: ≤ 2.5 MB). Binaries are the bench profile's (release) builds;
//! zips are read from `$BUNDLE_DIR` (default `out/assets` in the workspace).
//! `cargo bench -p sockstack-handlers --bench startup`

use axum::Router;
use axum::routing::get;
use sockstack_handlers::legacy::AccessProfile;
use sockstack_handlers::legacy::access::handlers;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: usize = 21;

fn binary(handler: &str) -> &'static str {
    match handler {
        handlers::AUTHORIZER => env!("CARGO_BIN_EXE_authorizer"),
        handlers::CONNECT => env!("CARGO_BIN_EXE_connect"),
        handlers::DISCONNECT => env!("CARGO_BIN_EXE_disconnect"),
        handlers::DEFAULT => env!("CARGO_BIN_EXE_default"),
        handlers::VOTE => env!("CARGO_BIN_EXE_vote"),
        other => panic!("{other}"),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run once quickly then.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let first_poll: Arc<Mutex<Option<Instant>>> = Arc::default();
    let seen = first_poll.clone();
    let router = Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        get(move || {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().get_or_insert_with(Instant::now);
                std::future::pending::<()>().await;
            }
        }),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, router).await.unwrap() });

    println!("process start -> first Runtime API request ({runs} runs, median / min):");
    for handler in [
        handlers::AUTHORIZER,
        handlers::CONNECT,
        handlers::DISCONNECT,
        handlers::DEFAULT,
        handlers::VOTE,
    ] {
        let mut times = Vec::new();
        for _ in 0..runs {
            *first_poll.lock().unwrap() = None;
            let mut command = Command::new(binary(handler));
            command
                .env_clear()
                .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
                .env("AWS_LAMBDA_FUNCTION_NAME", handler)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "k")
                .env("AWS_SECRET_ACCESS_KEY", "s")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let profile = AccessProfile::for_handler(handler).unwrap();
            for name in profile.access().env {
                use sockstack_handlers::legacy::env;
                let value = match *name {
                    env::JWKS_URL | env::CALLBACK_URL => "https://example.test/x",
                    env::NOTIFY_CONCURRENCY => "32",
                    env::TOKEN_SOURCE => "route.request.querystring.token",
                    _ => "value",
                };
                command.env(name, value);
            }
            let started = Instant::now();
            let mut child = command.spawn().unwrap();
            let deadline = started + Duration::from_secs(10);
            let polled = loop {
                if let Some(at) = *first_poll.lock().unwrap() {
                    break Some(at);
                }
                if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                    break None;
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            let _ = child.kill();
            let _ = child.wait();
            let at = polled.unwrap_or_else(|| panic!("{handler} never polled"));
            times.push(at.duration_since(started).as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {handler:<10} {:>6.2} ms / {:>6.2} ms",
            times[times.len() / 2],
            times[0]
        );
    }

    let dir = std::env::var_os("BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../out/assets"));
    let mut zips: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "zip"))
                .collect()
        })
        .unwrap_or_default();
    zips.sort();
    if zips.is_empty() {
        println!(
            "no bundles in {} (run `sockstack bundle` first)",
            dir.display()
        );
    } else {
        println!("bundle sizes ({}):", dir.display());
        for zip in zips {
            let size = std::fs::metadata(&zip).unwrap().len();
            println!(
                "  {:<36} {:>5.2} MB",
                zip.file_name().unwrap().to_string_lossy(),
                size as f64 / 1_000_000.0
            );
        }
    }
}
