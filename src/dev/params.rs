//! SSM parameters and Secrets Manager secrets on the local moto_server: seeded from the values file
//! ([`super::values`]) before the functions start, which reach them through the SDK's service-specific
//! endpoint variables ([`ENDPOINT_VARIABLES`]).

use super::dynamo::{JsonService, json_call};
use super::values::Values;
use serde_json::json;
use std::time::Duration;

/// The variables that point the AWS SDKs' SSM and Secrets Manager clients at a local endpoint
/// (`AWS_ENDPOINT_URL_<service id>`, the service id upper-cased with `_` for spaces).
pub const ENDPOINT_VARIABLES: [&str; 2] =
    ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETS_MANAGER"];

/// Stores every value at `endpoint`: parameters as `String` parameters (overwriting), secrets as
/// `SecretString`s (a new version when the secret exists).
pub async fn seed(endpoint: &str, values: &Values) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("an HTTP client: {e}"))?;
    for (name, value) in &values.parameters {
        json_call(
            &client,
            endpoint,
            &JsonService::SSM,
            "PutParameter",
            json!({"Name": name, "Value": value, "Type": "String", "Overwrite": true}),
        )
        .await
        .map_err(|e| format!("SSM parameter {name}: {e}"))?;
    }
    for (name, value) in &values.secrets {
        let created = json_call(
            &client,
            endpoint,
            &JsonService::SECRETS_MANAGER,
            "CreateSecret",
            json!({"Name": name, "SecretString": value}),
        )
        .await;
        match created {
            Ok(_) => {}
            Err(e) if e.contains("ResourceExistsException") => {
                json_call(
                    &client,
                    endpoint,
                    &JsonService::SECRETS_MANAGER,
                    "PutSecretValue",
                    json!({"SecretId": name, "SecretString": value}),
                )
                .await
                .map_err(|e| format!("secret {name}: {e}"))?;
            }
            Err(e) => return Err(format!("secret {name}: {e}")),
        }
    }
    Ok(())
}
