//! Process start → first Runtime API request, per function binary (target:
//! ≤ 10 ms), and the size of each bundle zip if `sockstack bundle` has written
//! them (target: ≤ 2.5 MB). Binaries are the bench profile's (release) builds;
//! zips are read from `$BUNDLE_DIR` (default `out/assets` in the workspace).
//! `cargo bench -p sockstack-handlers --bench startup`
//! (`cargo test -p sockstack-handlers --benches` runs each binary once: the quick mode).

use sockstack_runtime::contract::{auth, grants, naming, registry};
use sockstack_runtime::testing::lambda_local::{
    FunctionIdentity, RuntimeApi, function_command, spawn_dying_with_parent,
};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const RUNS: usize = 21;

fn binary(handler: &str) -> &'static str {
    match handler {
        "authorizer" => env!("CARGO_BIN_EXE_authorizer"),
        "connect" => env!("CARGO_BIN_EXE_connect"),
        "disconnect" => env!("CARGO_BIN_EXE_disconnect"),
        "default" => env!("CARGO_BIN_EXE_default"),
        "vote" => env!("CARGO_BIN_EXE_vote"),
        other => panic!("{other}"),
    }
}

/// The environment each function's grants give it (values that pass the start-up checks).
fn environment(handler: &str) -> Vec<(String, &'static str)> {
    let table = || {
        vec![
            (registry::TABLE_ENV.to_string(), "connections"),
            (
                registry::INDEXES_ENV.to_string(),
                "teamId=ByTeam,userId=ByUser",
            ),
            (naming::table_env(sockstack_handlers::PROFILES), "profiles"),
        ]
    };
    match handler {
        "authorizer" => vec![
            (auth::JWKS_URL.to_string(), "https://example.test/jwks"),
            (auth::JWT_ISSUER.to_string(), "https://example.test/"),
            (auth::JWT_AUDIENCE.to_string(), "web"),
            (auth::CONTEXT.to_string(), "userId=sub"),
        ],
        "connect" | "disconnect" => table(),
        "vote" => {
            let mut v = table();
            v.push((grants::CALLBACK_URL.to_string(), "https://example.test/dev"));
            v.push((grants::NOTIFY_CONCURRENCY.to_string(), "32"));
            v
        }
        "default" => vec![(grants::ROUTE_KEYS.to_string(), "vote")],
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
    let _runtime = rt.enter();

    println!("process start -> first Runtime API request ({runs} runs, median / min):");
    for handler in ["authorizer", "connect", "disconnect", "default", "vote"] {
        let identity = FunctionIdentity::local(handler, 128);
        let environment: Vec<(String, String)> = environment(handler)
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        let mut times = Vec::new();
        for _ in 0..runs {
            // A Runtime API of its own per run: it records the first poll once.
            let api = rt.block_on(RuntimeApi::start(&identity)).unwrap();
            let mut command = function_command(
                Path::new(binary(handler)),
                &identity,
                &api.address(),
                &environment,
            );
            command.stdout(Stdio::null()).stderr(Stdio::null());
            let started = Instant::now();
            let mut child = spawn_dying_with_parent(&mut command).unwrap();
            let deadline = started + Duration::from_secs(10);
            let polled = loop {
                if let Some(at) = api.first_poll() {
                    break Some(at);
                }
                if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                    break None;
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            let _ = child.start_kill();
            let _ = rt.block_on(child.wait());
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
