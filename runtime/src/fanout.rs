//! `PostToConnection` fan-out.
//!
//! Posts one message to many connections with bounded concurrency
//! (`NOTIFY_CONCURRENCY`). Each post is retried with exponential backoff and
//! full jitter on 429 (throttled) and 5xx; 410 Gone marks the connection stale
//! (and [`send`] deletes its registry row); 413 is reported as a payload that
//! is too large; any other answer is a failure for that connection only.
//!
//! The SDK's own retries are switched off for this client (see
//! [`crate::aws::connections_client`]): this module is the one retry policy.
//! Needs the `connections: send` grant (and `connections: read` for [`send_to_group`]).

use crate::registry::{Connection, Registry, StoreError};
use crate::settings::{self, SettingsError, Source};
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::StreamExt;
use futures_util::stream;
use sockstack_contract::grants::{CALLBACK_URL, DEFAULT_NOTIFY_CONCURRENCY, NOTIFY_CONCURRENCY};
use std::time::Duration;

/// How each post is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Upper bound of the first backoff; doubles per attempt.
    pub base_delay: Duration,
    /// Upper bound of any backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The (jittered) wait before attempt `attempt + 1`, `attempt` counting from 1.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        // Full jitter: anywhere in [0, cap].
        cap.mul_f64(fastrand::f64())
    }
}

/// Where and how a function posts: `CALLBACK_URL` and `NOTIFY_CONCURRENCY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`.
    pub callback_url: String,
    /// Posts in flight at most.
    pub concurrency: usize,
}

impl NotifySettings {
    /// Reads `CALLBACK_URL` (required) and `NOTIFY_CONCURRENCY` (default
    /// [`DEFAULT_NOTIFY_CONCURRENCY`]).
    pub fn from_source(source: &dyn Source) -> Result<Self, SettingsError> {
        let callback_url = settings::required(source, CALLBACK_URL)?;
        crate::aws::check_callback_url(&callback_url).map_err(|expected| {
            SettingsError::Invalid {
                name: CALLBACK_URL.to_string(),
                value: callback_url.clone(),
                expected,
            }
        })?;
        let concurrency =
            settings::positive(source, NOTIFY_CONCURRENCY, DEFAULT_NOTIFY_CONCURRENCY)?;
        Ok(NotifySettings {
            callback_url,
            concurrency,
        })
    }
}

/// What became of one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// Accepted by API Gateway.
    Delivered,
    /// 410 Gone: the connection no longer exists.
    Gone,
    /// 413: the message is larger than API Gateway accepts.
    TooLarge,
    /// Anything else, after the retries allowed.
    Failed(String),
}

/// The result of a fan-out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanOut {
    /// Connection ids that received the message.
    pub delivered: Vec<String>,
    /// Connections that were gone (410).
    pub gone: Vec<Connection>,
    /// Connection ids that refused the message as too large (413).
    pub too_large: Vec<String>,
    /// Connection ids that failed otherwise, with the reason.
    pub failed: Vec<(String, String)>,
    /// Retries made (attempts beyond the first).
    pub retries: u32,
}

/// Posts messages to connections.
#[derive(Debug, Clone)]
pub struct Notifier {
    client: Client,
    concurrency: usize,
    retry: RetryPolicy,
}

enum Attempt {
    Done(PostOutcome),
    Retry(String),
}

impl Notifier {
    /// A notifier posting to `settings.callback_url` with the credentials of `config`.
    pub fn from_settings(config: &aws_config::SdkConfig, settings: &NotifySettings) -> Self {
        Notifier::new(
            crate::aws::connections_client(config, &settings.callback_url),
            settings.concurrency,
        )
    }

    /// A notifier keeping at most `concurrency` posts in flight.
    pub fn new(client: Client, concurrency: usize) -> Self {
        Notifier {
            client,
            concurrency: concurrency.max(1),
            retry: RetryPolicy::default(),
        }
    }

    /// The same notifier with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How many posts it keeps in flight.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Posts `data` to one connection, retrying as the policy allows.
    /// Returns the outcome and the number of retries made.
    pub async fn post(&self, connection_id: &str, data: &[u8]) -> (PostOutcome, u32) {
        let mut attempt = 1;
        loop {
            match self.attempt(connection_id, data).await {
                Attempt::Done(outcome) => return (outcome, attempt - 1),
                Attempt::Retry(why) if attempt >= self.retry.max_attempts => {
                    return (
                        PostOutcome::Failed(format!("{why} (after {attempt} attempts)")),
                        attempt - 1,
                    );
                }
                Attempt::Retry(_) => {
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, connection_id: &str, data: &[u8]) -> Attempt {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await;
        match sent {
            Ok(_) => Attempt::Done(PostOutcome::Delivered),
            Err(SdkError::ServiceError(e)) => match e.raw().status().as_u16() {
                410 => Attempt::Done(PostOutcome::Gone),
                413 => Attempt::Done(PostOutcome::TooLarge),
                status @ (429 | 500..=599) => Attempt::Retry(format!("HTTP {status}")),
                status => Attempt::Done(PostOutcome::Failed(format!("HTTP {status}: {}", e.err()))),
            },
            Err(SdkError::ConstructionFailure(e)) => Attempt::Done(PostOutcome::Failed(format!(
                "cannot build the request: {e:?}"
            ))),
            // Timeouts, connection failures, unreadable answers: transient.
            Err(other) => Attempt::Retry(format!(
                "{}",
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(other)
            )),
        }
    }

    /// Posts `data` to every connection, at most [`Notifier::concurrency`] at a time.
    pub async fn fan_out(&self, targets: &[Connection], data: &[u8]) -> FanOut {
        let mut result = FanOut::default();
        let mut posts = stream::iter(targets)
            .map(|c| async move { (c, self.post(&c.connection_id, data).await) })
            .buffer_unordered(self.concurrency);
        while let Some((connection, (outcome, retries))) = posts.next().await {
            result.retries += retries;
            let id = connection.connection_id.clone();
            match outcome {
                PostOutcome::Delivered => result.delivered.push(id),
                PostOutcome::Gone => result.gone.push(connection.clone()),
                PostOutcome::TooLarge => result.too_large.push(id),
                PostOutcome::Failed(why) => result.failed.push((id, why)),
            }
        }
        result
    }
}

/// Fans `data` out to `targets`, then deletes the registry rows of the
/// connections that were gone. Clean-up failures are logged, not returned: the
/// message went out, and the rows expire anyway.
pub async fn send(
    registry: &Registry,
    notifier: &Notifier,
    targets: &[Connection],
    data: &[u8],
) -> FanOut {
    let result = notifier.fan_out(targets, data).await;
    let cleanups = stream::iter(&result.gone)
        .map(|c| async move { (c, registry.remove(&c.connection_id).await) })
        .buffer_unordered(notifier.concurrency());
    let cleanups: Vec<(&Connection, Result<(), StoreError>)> = cleanups.collect().await;
    for (c, outcome) in cleanups {
        if let Err(e) = outcome {
            tracing::warn!(connection_id = %c.connection_id, error = %e, "stale connection not removed");
        }
    }
    for id in &result.too_large {
        tracing::warn!(connection_id = %id, bytes = data.len(), "message too large for API Gateway (413)");
    }
    for (id, why) in &result.failed {
        tracing::warn!(connection_id = %id, error = %why, "post failed");
    }
    result
}

/// Sends `data` to every live connection whose context `key` is `value`
/// (an indexed key: `connections.indexBy`).
pub async fn send_to_group(
    registry: &Registry,
    notifier: &Notifier,
    key: &str,
    value: &str,
    data: &[u8],
) -> Result<FanOut, StoreError> {
    let targets = registry.members(key, value, crate::now_ms()).await?;
    Ok(send(registry, notifier, &targets, data).await)
}

/// Sends `data` to the connections with these ids (gone ones are removed from the registry).
pub async fn send_to_ids(
    registry: &Registry,
    notifier: &Notifier,
    ids: &[String],
    data: &[u8],
) -> FanOut {
    let targets: Vec<Connection> = ids.iter().map(Connection::id).collect();
    send(registry, notifier, &targets, data).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered() {
        let policy = RetryPolicy::default();
        for attempt in 1..40 {
            let d = policy.backoff(attempt);
            assert!(d <= policy.max_delay, "{attempt}: {d:?}");
        }
        let first: Vec<_> = (0..50).map(|_| policy.backoff(1)).collect();
        assert!(first.iter().all(|d| *d <= policy.base_delay));
        assert!(
            first.iter().any(|d| *d != first[0]),
            "jitter varies the delay"
        );
    }
}
