//! moto_server for tests that drive the real AWS CLI: `MOTO_ENDPOINT` when set
//! (`scripts/with-moto`), else one started for the test binary on a free port.
//! (The same helper as tests/deploy.rs's own, shared for tests/init.rs.)

use super::tool;
use serde_json::Value;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The region every moto call uses.
pub const REGION: &str = "eu-west-1";
/// The account id moto answers with.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// The moto endpoint: `MOTO_ENDPOINT` when set, else one moto_server started
/// for this test binary on a free port, shared by its tests and killed when the
/// binary exits.
pub struct Moto {
    pub endpoint: String,
}

/// The moto_server this binary started, if it did.
static MOTO_CHILD: Mutex<Option<Child>> = Mutex::new(None);

extern "C" fn stop_moto() {
    let child = MOTO_CHILD.lock().ok().and_then(|mut c| c.take());
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Moto {
    pub fn start() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => Moto { endpoint },
            _ => Moto {
                endpoint: Moto::spawn(),
            },
        })
    }

    pub fn spawn() -> String {
        let server = tool("moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("sockstack-moto-{port}.log"));
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; run `make tools`", server.display()));
        *MOTO_CHILD.lock().unwrap() = Some(child);
        // SAFETY: registers a plain `extern "C"` function, once.
        unsafe {
            libc::atexit(stop_moto);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = MOTO_CHILD
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "moto_server exited ({status}):\n{}",
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = fs::remove_file(&log);
        format!("http://127.0.0.1:{port}")
    }

    /// The environment that points the AWS CLI (every client it creates) at moto.
    pub fn env(&self) -> Vec<(String, String)> {
        let aws_dir = tool("aws").parent().unwrap().to_path_buf();
        let mut paths = vec![aws_dir];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(paths).unwrap();
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_REGION", REGION),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("PATH", path.to_str().unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Sets API Gateway's account CloudWatch role in `region` (what `apiGatewayAccountRole: true`
    /// would create), so a stack whose stage writes access logs passes deploy's preflight on its own.
    /// Idempotent.
    pub fn account_role(&self, region: &str) {
        let name = format!("apigateway-cloudwatch-{region}");
        let trust = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let _ = self.try_aws(&[
            "iam",
            "create-role",
            "--role-name",
            &name,
            "--assume-role-policy-document",
            trust,
        ]);
        self.aws(&[
            "apigateway",
            "update-account",
            "--region",
            region,
            "--patch-operations",
            &format!(
                "op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::{MOTO_ACCOUNT}:role/{name}"
            ),
        ]);
    }

    /// Creates the S3 bucket `name` in `region`.
    pub fn create_bucket(&self, name: &str, region: &str) {
        self.aws(&[
            "s3api",
            "create-bucket",
            "--bucket",
            name,
            "--region",
            region,
            "--create-bucket-configuration",
            &format!("LocationConstraint={region}"),
        ]);
    }

    /// The stack's resources, logical id → physical id (moto lists the ApiGatewayV2 resources it
    /// skips with no ids at all; they are left out).
    pub fn physical_ids(&self, stack_name: &str) -> std::collections::BTreeMap<String, String> {
        let v = self.aws(&[
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            stack_name,
        ]);
        v["StackResourceSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| {
                Some((
                    r["LogicalResourceId"].as_str()?.to_string(),
                    r["PhysicalResourceId"].as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// Runs `aws ARGS --output json` against moto and parses what it prints.
    pub fn aws(&self, args: &[&str]) -> Value {
        match self.try_aws(args) {
            Ok(v) => v,
            Err(e) => panic!("aws {} failed: {e}", args.join(" ")),
        }
    }

    pub fn try_aws(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(tool("aws"))
            .args(args)
            .args(["--output", "json"])
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        })
    }

    /// `sockstack` run in `dir`, its AWS CLI pointed at moto.
    pub fn sockstack(&self, dir: &Path) -> assert_cmd::Command {
        let mut cmd = super::sockstack(dir);
        cmd.envs(self.env()).env_remove("AWS_PROFILE");
        cmd
    }
}
