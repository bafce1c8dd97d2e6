//! `--watch`: rebuild the handlers when their sources change, then swap the processes of every function whose
//! binary changed. Open sockets stay open: busy instances finish their invocation on the old binary, the next
//! invocation starts the new one.

use super::build::Build;
use super::instances::{Log, Pool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the sources are looked at.
pub const POLL: Duration = Duration::from_millis(500);

/// A fingerprint of every file under `dirs`: paths, sizes and modification times.
pub fn fingerprint(dirs: &[PathBuf]) -> Vec<(PathBuf, u64, SystemTime)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64, SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&path, out);
            } else {
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                out.push((path, meta.len(), modified));
            }
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        walk(dir, &mut out);
    }
    out.sort();
    out
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Watches `sources` until the task is dropped; on a change rebuilds with `builder` and swaps the pools
/// (function logical id → the handler binary it runs and its pool) whose binary changed since `initial`.
pub async fn watch(
    sources: Vec<PathBuf>,
    builder: Arc<dyn Build>,
    release: bool,
    pools: BTreeMap<String, (String, Arc<Pool>)>,
    initial: BTreeMap<String, PathBuf>,
    log: Arc<dyn Log>,
) {
    let mut last = fingerprint(&sources);
    let mut stamps: BTreeMap<String, Option<SystemTime>> = pools
        .iter()
        .map(|(id, (handler, _))| (id.clone(), initial.get(handler).and_then(|b| modified(b))))
        .collect();
    loop {
        tokio::time::sleep(POLL).await;
        let now = fingerprint(&sources);
        if now == last {
            continue;
        }
        last = now;
        log.line("watch: sources changed, rebuilding the handlers");
        let b = builder.clone();
        let built = tokio::task::spawn_blocking(move || b.build(release)).await;
        let binaries = match built {
            Ok(Ok(binaries)) => binaries,
            Ok(Err(e)) => {
                log.line(&format!("watch: {e}; the running functions are unchanged"));
                continue;
            }
            Err(e) => {
                log.line(&format!("watch: the build task failed: {e}"));
                continue;
            }
        };
        let mut swapped = Vec::new();
        for (id, (handler, pool)) in &pools {
            let Some(binary) = binaries.get(handler) else {
                log.line(&format!(
                    "watch: the handler crate no longer builds {handler}; {id} keeps running the old binary"
                ));
                continue;
            };
            let stamp = modified(binary);
            let before = stamps.insert(id.clone(), stamp);
            if before.is_some_and(|b| b == stamp) {
                continue;
            }
            pool.swap(binary.clone()).await;
            swapped.push(id.clone());
        }
        log.line(&format!(
            "watch: rebuilt; swapped {} function(s){}{}",
            swapped.len(),
            if swapped.is_empty() { "" } else { ": " },
            swapped.join(", ")
        ));
        // Sources touched by the build itself (none, normally) are not a change.
        last = fingerprint(&sources);
    }
}
