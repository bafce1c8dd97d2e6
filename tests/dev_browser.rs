//! The dev page in headless Chromium: it mints a token, connects, and shows a vote another client sends.
//! Needs Debian's chromium and puppeteer-core in .tools/browser (`make dev-tools`); a missing one fails.

mod devkit;

use devkit::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_connects_with_a_minted_token_and_shows_a_vote_from_another_client() {
    let script = root().join("tests/browser/page.cjs");
    assert!(
        root()
            .join(".tools/browser/node_modules/puppeteer-core")
            .is_dir(),
        "puppeteer-core is not installed: run `make dev-tools`"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").is_file(),
        "/usr/bin/chromium is missing: run `make dev-tools`"
    );
    let dev = Dev::start(&["dev"]);
    let team = unique("browser");
    let mut node = Command::new("node")
        .arg(&script)
        .arg(format!("{}/", dev.http_base()))
        .arg(format!("sub=paula&email=paula@example.test&team_id={team}"))
        .arg("\"type\":\"vote\"")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node");
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok);
    if first.as_deref() != Some("open") {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut node.stderr.take().unwrap(), &mut err).unwrap();
        panic!(
            "the page did not connect ({first:?}):\n{err}\ndev:\n{}",
            dev.stderr()
        );
    }
    let mut voter = connect(&dev, Some(&member("quinn", &team))).await.unwrap();
    send(&mut voter, r#"{"action":"vote","value":"from-quinn"}"#).await;
    let _ = next(&mut voter, Duration::from_secs(5)).await;
    let shown = lines.next().and_then(Result::ok).unwrap_or_default();
    let status = node.wait().unwrap();
    assert!(status.success(), "the browser run failed: {shown}");
    assert!(
        shown.starts_with("message: ") && shown.contains("from-quinn") && shown.contains("quinn"),
        "the page shows the vote: {shown}"
    );
}
