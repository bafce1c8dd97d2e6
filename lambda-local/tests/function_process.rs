//! A real function process under the local Runtime API: this test binary runs itself again as the function
//! (a small runtime client over HTTP, chosen by `ROLE` in its environment), started the way `sockstack dev`
//! and the handler tests start functions. It proves what a function sees (the `Lambda-Runtime-*` headers,
//! the deadline, Lambda's environment) and what the invoker gets back (response, error, timeout, init error),
//! and that a function process dies with its parent even when the parent is killed with SIGKILL.
//!
//! `harness = false`: `main` either plays the function or runs each check in turn.

use serde_json::{Value, json};
use sockstack_lambda_local::{
    FunctionIdentity, Outcome, RuntimeApi, Spawner, function_command, spawn_dying_with_parent,
};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The variable that makes this binary a function process, and which one.
const ROLE: &str = "LAMBDA_LOCAL_TEST_ROLE";

/// The variables the function reports back, so the test sees its environment.
const REPORTED: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_EC2_METADATA_DISABLED",
    "MY_SETTING",
];

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn this_binary() -> PathBuf {
    std::env::current_exe().unwrap()
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(play(&role));
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let check = |name: &str, check: std::pin::Pin<Box<dyn Future<Output = ()>>>| {
        println!("test {name} ...");
        rt.block_on(check);
        println!("test {name} ... ok");
    };
    check(
        "an_invocation_carries_the_lambda_headers_and_its_response_and_error_come_back",
        Box::pin(an_invocation_carries_the_lambda_headers_and_its_response_and_error_come_back()),
    );
    check(
        "an_init_error_is_reported",
        Box::pin(an_init_error_is_reported()),
    );
    check(
        "a_function_process_dies_with_its_parent_on_sigkill",
        Box::pin(a_function_process_dies_with_its_parent_on_sigkill()),
    );
}

// ---------------------------------------------------------------- the function side

async fn play(role: &str) {
    match role {
        "function" => function().await,
        "init-error" => {
            let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap();
            reqwest::Client::new()
                .post(format!("http://{api}/2018-06-01/runtime/init/error"))
                .header("lambda-runtime-function-error-type", "Runtime.InitError")
                .body(r#"{"errorType":"Runtime.InitError","errorMessage":"MY_SETTING is not set"}"#)
                .send()
                .await
                .unwrap();
            std::process::exit(3);
        }
        "parent" => {
            // Starts a long-lived child the way `sockstack dev` does, says its pid, and waits to be killed.
            let spawner = Spawner::new().unwrap();
            let mut command = tokio::process::Command::new("sleep");
            command.arg("600");
            let child = spawner.spawn(command).await.unwrap();
            println!("{}", child.id().unwrap());
            std::future::pending::<()>().await;
        }
        other => panic!("unknown role {other}"),
    }
}

/// A runtime client: takes events from `next` and answers each one by what it asks for.
async fn function() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap();
    let base = format!("http://{api}/2018-06-01/runtime/invocation");
    let client = reqwest::Client::new();
    loop {
        let r = client.get(format!("{base}/next")).send().await.unwrap();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let id = header("lambda-runtime-aws-request-id").expect("a request id");
        let seen = json!({
            "deadline": header("lambda-runtime-deadline-ms"),
            "arn": header("lambda-runtime-invoked-function-arn"),
            "trace": header("lambda-runtime-trace-id"),
            "requestId": id,
        });
        let event: Value = r.json().await.unwrap();
        if let Some(ms) = event["sleepMs"].as_u64() {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            continue;
        }
        let (path, body) = match event["fail"].as_str() {
            Some(message) => (
                "error",
                json!({"errorType": "Handled.Test", "errorMessage": message}),
            ),
            None => {
                let env: serde_json::Map<String, Value> = REPORTED
                    .iter()
                    .map(|k| (k.to_string(), json!(std::env::var(k).ok())))
                    .collect();
                (
                    "response",
                    json!({"event": event, "seen": seen, "env": env}),
                )
            }
        };
        client
            .post(format!("{base}/{id}/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------- the checks

async fn an_invocation_carries_the_lambda_headers_and_its_response_and_error_come_back() {
    let mut identity = FunctionIdentity::local("fn-echo", 256);
    identity
        .extra
        .push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
    let api = RuntimeApi::start(&identity).await.unwrap();
    let vars = [
        (ROLE.to_string(), "function".to_string()),
        ("MY_SETTING".to_string(), "on".to_string()),
    ];
    let spawner = Spawner::new().unwrap();
    let mut child = spawner
        .spawn(function_command(
            &this_binary(),
            &identity,
            &api.address(),
            &vars,
        ))
        .await
        .unwrap();
    api.wait_ready().await;
    assert!(api.first_poll().is_some());

    let before = epoch_ms();
    let outcome = api
        .invoke(br#"{"say":"hi"}"#.to_vec(), Duration::from_secs(5))
        .await;
    let after = epoch_ms();
    let Outcome::Response(bytes) = outcome else {
        panic!("no response: {outcome:?}")
    };
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["event"], json!({"say": "hi"}));
    let deadline: u64 = answer["seen"]["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (before + 5000..=after + 5000).contains(&deadline),
        "deadline {deadline} is not the invocation time + 5 s ({before}..{after})"
    );
    assert_eq!(answer["seen"]["arn"], json!(identity.arn));
    assert!(
        answer["seen"]["trace"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(
        answer["env"],
        json!({
            "AWS_LAMBDA_FUNCTION_NAME": "fn-echo",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn-echo",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_EC2_METADATA_DISABLED": "true",
            "MY_SETTING": "on",
        })
    );

    let failed = api
        .invoke(br#"{"fail":"it broke"}"#.to_vec(), Duration::from_secs(5))
        .await;
    assert_eq!(
        failed,
        Outcome::Error {
            error_type: "Handled.Test".into(),
            error_message: "it broke".into()
        }
    );
    let slow = api
        .invoke(br#"{"sleepMs":1000}"#.to_vec(), Duration::from_millis(100))
        .await;
    assert_eq!(slow, Outcome::Timeout);
    // Each answer had its own request id, and the process took every event from `next`.
    assert!(api.polls() >= 3, "{} polls", api.polls());
    assert!(api.init_error().is_none());
    assert!(child.try_wait().unwrap().is_none(), "the function exited");
    child.kill().await.unwrap();
}

async fn an_init_error_is_reported() {
    let identity = FunctionIdentity::local("fn-broken", 128);
    let api = RuntimeApi::start(&identity).await.unwrap();
    let vars = [(ROLE.to_string(), "init-error".to_string())];
    let mut command = function_command(&this_binary(), &identity, &api.address(), &vars);
    let mut child = spawn_dying_with_parent(&mut command).unwrap();
    tokio::time::timeout(Duration::from_secs(10), api.wait_ready())
        .await
        .expect("the init error within 10 s");
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(3));
    assert_eq!(
        api.init_error(),
        Some(json!({"errorType": "Runtime.InitError", "errorMessage": "MY_SETTING is not set"}))
    );
    assert_eq!(api.polls(), 0);
}

/// Whether process `pid` is gone (or a zombie nobody has reaped yet).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

async fn a_function_process_dies_with_its_parent_on_sigkill() {
    let identity = FunctionIdentity::local("fn-parent", 128);
    let vars = [(ROLE.to_string(), "parent".to_string())];
    let mut command = function_command(&this_binary(), &identity, "127.0.0.1:9", &vars);
    let mut parent = spawn_dying_with_parent(&mut command).unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let pid: u32 = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the parent names its child within 10 s")
        .unwrap()
        .expect("a pid line")
        .parse()
        .unwrap();
    assert!(!gone(pid), "the child {pid} is not running");
    parent.start_kill().unwrap(); // SIGKILL: the parent runs no clean-up of its own
    parent.wait().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(pid) {
        assert!(
            Instant::now() < deadline,
            "child {pid} still runs 5 s after its parent was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
