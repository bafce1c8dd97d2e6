//! Drives `sockstack dev` as a user would: the real binary, its stdout lines, a real WebSocket client, the
//! AWS SDK against its `@connections` and its DynamoDB.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with this project's `.venv/bin` first.
pub fn path_with_venv() -> std::ffi::OsString {
    let mut dirs = vec![root().join(".venv/bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap()
}

/// A running `sockstack dev`.
pub struct Dev {
    pub pid: u32,
    child: Arc<Mutex<Option<Child>>>,
    /// `ws://127.0.0.1:N/{stage}`.
    pub ws: String,
    /// `http://127.0.0.1:N/{stage}/@connections`.
    pub callback: String,
    /// `http://127.0.0.1:M`.
    pub dynamodb: String,
    /// Everything dev wrote on stderr so far.
    pub stderr: Arc<Mutex<String>>,
    /// Every line dev wrote on stdout so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
}

/// Spawns `command` from a thread that lives as long as the test process, with PR_SET_PDEATHSIG: a dev left
/// running by a failed test dies with the test process.
fn spawn_for_process_lifetime(mut command: Command) -> Child {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        tx.send(command.spawn()).unwrap();
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap().expect("running sockstack")
}

impl Dev {
    /// `sockstack dev ARGS --port 0` from `dir`, waiting for its ready lines.
    pub fn start_in(dir: &Path, args: &[&str]) -> Dev {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sockstack"));
        command
            .arg("dev")
            .args(args)
            .args(["--port", "0"])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            // Projects without a .venv of their own (the fixtures) use this project's moto_server.
            .env("PATH", path_with_venv())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn_for_process_lifetime(command);
        let pid = child.id();
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let (mut ws, mut callback, mut dynamodb) = (None, None, None);
        // The first start may build the handlers.
        let deadline = Instant::now() + Duration::from_secs(900);
        while ws.is_none() || callback.is_none() || dynamodb.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = line.strip_prefix("ready: ") {
                        ws = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("callback: ") {
                        callback = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("dynamodb: ") {
                        dynamodb = Some(v.to_string());
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "sockstack dev did not get ready; stderr:\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
        Dev {
            pid,
            child: Arc::new(Mutex::new(Some(child))),
            ws: ws.unwrap(),
            callback: callback.unwrap(),
            dynamodb: dynamodb.unwrap(),
            stderr,
            stdout,
        }
    }

    /// The value of dev's stdout line `NAME: value` (waiting up to 5 s for it).
    pub fn stdout_value(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}: ");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned));
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `sockstack dev STACK ARGS` in the project.
    pub fn start(args: &[&str]) -> Dev {
        Dev::start_in(&root(), args)
    }

    /// The `http://127.0.0.1:N` base.
    pub fn http_base(&self) -> String {
        let rest = self.ws.strip_prefix("ws://").unwrap();
        format!("http://{}", rest.split('/').next().unwrap())
    }

    /// Sends `signal` to dev alone (not its process group).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill with a pid we started.
        unsafe {
            libc::kill(self.pid as i32, signal);
        }
    }

    /// Waits for dev to exit; its exit code.
    pub fn wait(&self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            let mut guard = self.child.lock().unwrap();
            let child = guard.as_mut().unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            drop(guard);
            assert!(
                Instant::now() < deadline,
                "dev did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every process below dev (children, grandchildren, …).
    pub fn descendants(&self) -> Vec<u32> {
        descendants(self.pid)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap().take()
            && child.try_wait().ok().flatten().is_none()
        {
            self.signal(libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// (pid, parent pid, state) of every process.
fn processes() -> Vec<(u32, u32, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = after.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.push((pid, ppid, state));
    }
    out
}

pub fn descendants(root: u32) -> Vec<u32> {
    let all = processes();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            all.iter()
                .filter(|(_, pp, _)| *pp == parent)
                .map(|(p, _, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether `pid` is still a running (not zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].chars().next())
            .is_some_and(|s| s != 'Z' && s != 'X'),
        Err(_) => false,
    }
}

/// `sockstack dev token STACK --claim …`.
pub fn token(stack: &str, claims: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockstack"));
    command.args(["dev", "token", stack]).current_dir(root());
    for (k, v) in claims {
        command.arg("--claim").arg(format!("{k}={v}"));
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "dev token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    text.trim().to_string()
}

/// A token for a team-health member.
pub fn member(user: &str, team: &str) -> String {
    token(
        "dev",
        &[
            ("sub", user),
            ("email", &format!("{user}@example.test")),
            ("team_id", team),
        ],
    )
}

/// Connects with `?token=`; the socket, or the HTTP status the handshake was refused with.
pub async fn connect(dev: &Dev, token: Option<&str>) -> Result<Socket, u16> {
    let url = match token {
        Some(t) => format!("{}?token={t}", dev.ws),
        None => dev.ws.clone(),
    };
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("connect: {e}"),
    }
}

/// What a client saw next.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Text(String),
    Closed(Option<u16>),
    Nothing,
}

/// The next text message or close within `within` (pings and pongs skipped).
pub async fn next(socket: &mut Socket, within: Duration) -> Seen {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Seen::Nothing,
            Ok(None) => return Seen::Closed(None),
            Ok(Some(Ok(Message::Text(t)))) => return Seen::Text(t.to_string()),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Seen::Closed(frame.map(|f: CloseFrame| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) => return Seen::Closed(None),
        }
    }
}

/// The next text message as JSON, failing the test otherwise.
pub async fn next_json(socket: &mut Socket) -> serde_json::Value {
    match next(socket, Duration::from_secs(10)).await {
        Seen::Text(t) => serde_json::from_str(&t).unwrap_or_else(|_| panic!("not JSON: {t}")),
        other => panic!("expected a message, saw {other:?}"),
    }
}

pub async fn send(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

/// A unique suffix for names, so tests sharing one dev do not see each other.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The management API client of the AWS SDK, pointed at dev's `@connections` (`endpoint` without it).
pub fn management(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
        .region(aws_sdk_apigatewaymanagement::config::Region::new(
            "us-east-1",
        ))
        .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

/// dev's DynamoDB, through the same JSON API client dev uses.
pub fn dynamodb(dev: &Dev) -> sockstack::dev::dynamo::LocalDynamo {
    sockstack::dev::dynamo::LocalDynamo::at(&dev.dynamodb)
}

/// The connection ids of a team, from the registry's `ByTeam` index.
pub async fn team_connection_ids(dev: &Dev, team: &str) -> Vec<String> {
    let out = dynamodb(dev)
        .call(
            "Query",
            serde_json::json!({
                "TableName": sockstack::dev::plan::local_name("dev", "ConnectionsTable"),
                "IndexName": "ByTeam",
                "KeyConditionExpression": "teamId = :t",
                "ExpressionAttributeValues": {":t": {"S": team}},
            }),
        )
        .await
        .unwrap();
    let mut ids: Vec<String> = out["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["connectionId"]["S"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// An id as it goes into a URL path (AWS ids hold `=`, `+` and `/`).
pub fn urlencode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Connects to `{ws}{suffix}` with extra request headers; the socket, or the refused handshake's status.
pub async fn connect_with(
    dev: &Dev,
    suffix: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}{suffix}", dev.ws).into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("connect: {e}"),
    }
}
