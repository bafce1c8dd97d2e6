//! AWS SDK configuration and clients.
//!
//! In Lambda the region and credentials come from the environment the runtime
//! sets. `AWS_ENDPOINT_URL` (honoured by the SDK) points DynamoDB elsewhere,
//! e.g. at a local moto server in tests.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Timeout of one `PostToConnection` attempt.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared SDK configuration from the environment.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A DynamoDB client.
pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// A client of the `@connections` API at `callback_url`
/// (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). The SDK's
/// retries are off: [`crate::notify`] retries with its own policy.
pub fn connections_client(
    config: &SdkConfig,
    callback_url: &str,
) -> aws_sdk_apigatewaymanagement::Client {
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(config)
        .endpoint_url(callback_url.trim_end_matches('/'))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(POST_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .build(),
        )
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}

/// Checks that a callback URL is an http(s) URL.
pub fn check_callback_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(
            "an http(s) URL like https://{api}.execute-api.{region}.amazonaws.com/{stage}"
                .to_string(),
        )
    }
}
