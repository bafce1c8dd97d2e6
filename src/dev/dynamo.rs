//! DynamoDB on this machine: a pinned `moto_server` that dev starts and stops itself (found in the project's
//! `.venv` or on `PATH`, or installed on first use under `out/.dev/moto`), or a DynamoDB the user runs
//! (`--dynamodb-endpoint`). Tables are created from the template over DynamoDB's JSON API (key schema,
//! attribute definitions, indexes, TTL) and, on an endpoint dev did not start, deleted again on the way out.

use super::plan::TablePlan;
use serde_json::{Map, Value, json};
use sockstack_lambda_local::{REGION, Spawner};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

/// The moto release dev installs when the project has none (the same as the project's Makefile pins).
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.1";

/// A local DynamoDB endpoint, and the tables dev created on it.
pub struct LocalDynamo {
    /// `http://127.0.0.1:N`.
    pub endpoint: String,
    child: Option<Child>,
    created: Vec<String>,
    client: reqwest::Client,
}

/// The `moto_server` to run: the project's `.venv`, one on `PATH`, or one installed under `out/.dev/moto`
/// (installed there on first use).
pub async fn find_or_install_moto(root: &Path, log: &dyn Fn(&str)) -> Result<PathBuf, String> {
    let project = root.join(".venv/bin/moto_server");
    if project.is_file() {
        return Ok(project);
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join("moto_server"))
            .find(|c| c.is_file())
    {
        return Ok(found);
    }
    let venv = root.join("out/.dev/moto");
    let installed = venv.join("bin/moto_server");
    if installed.is_file() {
        return Ok(installed);
    }
    log(&format!(
        "installing {MOTO_REQUIREMENT} into {} (first use only)",
        venv.display()
    ));
    let run = |program: PathBuf, args: Vec<String>| async move {
        let out = tokio::process::Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {} failed ({}): {}",
                program.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    run(
        PathBuf::from("python3"),
        vec!["-m".into(), "venv".into(), venv.display().to_string()],
    )
    .await?;
    run(
        venv.join("bin/pip"),
        vec![
            "install".into(),
            "--quiet".into(),
            "--disable-pip-version-check".into(),
            MOTO_REQUIREMENT.into(),
        ],
    )
    .await?;
    if installed.is_file() {
        Ok(installed)
    } else {
        Err(format!("pip did not install {}", installed.display()))
    }
}

/// A free TCP port on 127.0.0.1 (released before use; a race another process would rarely win).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl LocalDynamo {
    /// Starts `moto_server` on a free port and waits until it answers.
    pub async fn start_moto(moto: &Path, spawner: &Spawner) -> Result<LocalDynamo, String> {
        let port = free_port().map_err(|e| format!("no free port for moto_server: {e}"))?;
        let mut command = tokio::process::Command::new(moto);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = spawner
            .spawn(command)
            .await
            .map_err(|e| format!("cannot run {}: {e}", moto.display()))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut dynamo = LocalDynamo::at(&endpoint);
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{} exited at start ({status})", moto.display()));
            }
            if dynamo.call("ListTables", json!({})).await.is_ok() {
                dynamo.child = Some(child);
                return Ok(dynamo);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill().await;
        Err(format!(
            "{} did not answer on {endpoint} within 10 s",
            moto.display()
        ))
    }

    /// A DynamoDB someone else runs.
    pub fn at(endpoint: &str) -> LocalDynamo {
        LocalDynamo {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            child: None,
            created: Vec::new(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// One DynamoDB JSON API call. The request carries a SigV4-shaped `Authorization` with local credentials:
    /// local DynamoDBs read the region and access key from it and check no signature.
    pub async fn call(&self, action: &str, body: Value) -> Result<Value, String> {
        json_call(
            &self.client,
            &self.endpoint,
            &JsonService::DYNAMODB,
            action,
            body,
        )
        .await
    }

    /// Creates `table` (and its TTL setting). A table that already exists is left as it is.
    pub async fn create_table(&mut self, table: &TablePlan) -> Result<(), String> {
        let request = create_table_request(table);
        match self.call("CreateTable", request).await {
            Ok(_) => self.created.push(table.name.clone()),
            Err(e) if e.contains("ResourceInUseException") => {}
            Err(e) => return Err(format!("table {}: {e}", table.logical_id)),
        }
        if let Some(ttl) = table.properties.get("TimeToLiveSpecification")
            && ttl.get("Enabled") == Some(&Value::Bool(true))
        {
            let set = self
                .call(
                    "UpdateTimeToLive",
                    json!({"TableName": table.name, "TimeToLiveSpecification": ttl}),
                )
                .await;
            match set {
                // A local DynamoDB without TTL (dynalite): nothing expires locally either way.
                Err(e) if e.contains("UnknownOperationException") => {}
                other => {
                    other.map_err(|e| format!("table {}: {e}", table.logical_id))?;
                }
            }
        }
        Ok(())
    }

    /// Deletes the tables dev created and stops the moto_server it started.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return;
        }
        for name in std::mem::take(&mut self.created) {
            let _ = self.call("DeleteTable", json!({"TableName": name})).await;
        }
    }

    /// Whether dev started this DynamoDB itself.
    pub fn is_ours(&self) -> bool {
        self.child.is_some()
    }
}

/// An AWS service with a JSON protocol, as a local endpoint (moto) routes and parses its calls.
pub struct JsonService {
    /// The signing name in the credential scope (moto picks the service by it).
    pub signing_name: &'static str,
    /// The `x-amz-target` prefix (`DynamoDB_20120810`).
    pub target: &'static str,
    /// The JSON protocol version (`1.0`, `1.1`).
    pub json_version: &'static str,
}

impl JsonService {
    /// DynamoDB.
    pub const DYNAMODB: JsonService = JsonService {
        signing_name: "dynamodb",
        target: "DynamoDB_20120810",
        json_version: "1.0",
    };
    /// SSM (Parameter Store).
    pub const SSM: JsonService = JsonService {
        signing_name: "ssm",
        target: "AmazonSSM",
        json_version: "1.1",
    };
    /// Secrets Manager.
    pub const SECRETS_MANAGER: JsonService = JsonService {
        signing_name: "secretsmanager",
        target: "secretsmanager",
        json_version: "1.1",
    };
}

/// One JSON API call to `service` at a local `endpoint`, with a SigV4-shaped `Authorization` carrying local
/// credentials (local endpoints read the region, access key and service from it and check no signature).
pub async fn json_call(
    client: &reqwest::Client,
    endpoint: &str,
    service: &JsonService,
    action: &str,
    body: Value,
) -> Result<Value, String> {
    let date = super::events::iso8601(super::events::now_ms());
    let day: String = date[..10].chars().filter(|c| c.is_ascii_digit()).collect();
    let name = service.signing_name;
    // `20261201T093000Z`: some local DynamoDBs (dynalite) refuse a SigV4 header without it.
    let stamp: String = date[..19]
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect::<String>()
        + "Z";
    let response = client
        .post(format!("{endpoint}/"))
        .header(
            "content-type",
            format!("application/x-amz-json-{}", service.json_version),
        )
        .header("x-amz-target", format!("{}.{action}", service.target))
        .header("x-amz-date", stamp)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=local/{day}/{REGION}/{name}/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-target, Signature=0"
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{name} {action} on {endpoint}: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        Ok(parsed)
    } else {
        Err(format!(
            "{name} {action} on {endpoint}: {status} {}",
            text.trim()
        ))
    }
}

/// The `CreateTable` request for a template's table: its key schema, attributes, indexes and billing mode,
/// under its local name.
pub fn create_table_request(table: &TablePlan) -> Value {
    let p = &table.properties;
    let mut request = Map::new();
    request.insert("TableName".into(), json!(table.name));
    for key in [
        "KeySchema",
        "AttributeDefinitions",
        "LocalSecondaryIndexes",
        "StreamSpecification",
    ] {
        if let Some(v) = p.get(key) {
            request.insert(key.into(), v.clone());
        }
    }
    let provisioned = p.get("BillingMode").and_then(Value::as_str) == Some("PROVISIONED");
    if provisioned {
        request.insert("BillingMode".into(), json!("PROVISIONED"));
        request.insert(
            "ProvisionedThroughput".into(),
            p.get("ProvisionedThroughput")
                .cloned()
                .unwrap_or(json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})),
        );
    } else {
        request.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
    }
    if let Some(Value::Array(indexes)) = p.get("GlobalSecondaryIndexes") {
        let indexes: Vec<Value> = indexes
            .iter()
            .map(|i| {
                let mut i = i.as_object().cloned().unwrap_or_default();
                if !provisioned {
                    i.remove("ProvisionedThroughput");
                }
                Value::Object(i)
            })
            .collect();
        request.insert("GlobalSecondaryIndexes".into(), Value::Array(indexes));
    }
    Value::Object(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_table_keeps_keys_and_indexes_and_drops_what_local_tables_ignore() {
        let properties = json!({
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{"IndexName": "ByX", "KeySchema": [], "Projection": {"ProjectionType": "ALL"}}],
            "SSESpecification": {"SSEEnabled": true},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}
        });
        let table = TablePlan {
            logical_id: "Items".into(),
            name: "s-Items".into(),
            properties: properties.as_object().unwrap().clone(),
        };
        let r = create_table_request(&table);
        assert_eq!(r["TableName"], "s-Items");
        assert_eq!(r["GlobalSecondaryIndexes"][0]["IndexName"], "ByX");
        assert_eq!(r["BillingMode"], "PAY_PER_REQUEST");
        assert!(r.get("SSESpecification").is_none());
    }
}
