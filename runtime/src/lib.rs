//! What sockstack Lambda handlers are written with.
//!
//! - [`auth`] and [`jwks`]: the `$connect` JWT authorizer, configured from its
//!   environment ([`auth::run_authorizer`] is the whole function);
//! - [`registry`]: the connection registry (open, close, members of a group);
//! - [`fanout`]: `PostToConnection` to a group or to ids (bounded concurrency,
//!   429/5xx retries, 410 clean-up, 413 reported);
//! - [`caller`]: who sent an event (`requestContext.authorizer`);
//! - [`grants`]: the names of granted tables, parameters and secrets;
//! - [`reply`]: answers of two-way routes, `$default`'s valid actions;
//! - [`settings`], [`aws`], [`logging`]: environment, SDK clients, log lines;
//! - [`serve`]: the Lambda event loop of a route handler.
//!
//! Every name shared with the synthesized template comes from [`contract`].
//! With the `testing` feature, [`testing`] has local stand-ins for the AWS
//! parts (for a handler crate's `[dev-dependencies]`).

extern crate self as sockstack_runtime;

pub use aws_lambda_events;
pub use aws_sdk_dynamodb;
pub use lambda_runtime;
pub use sockstack_contract as contract;

pub mod auth;
pub mod aws;
pub mod caller;
pub mod fanout;
pub mod grants;
pub mod jwks;
pub mod logging;
pub mod registry;
pub mod reply;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;

pub use aws_lambda_events::apigw::{
    ApiGatewayProxyResponse as Response, ApiGatewayWebsocketProxyRequest as RouteEvent,
};
pub use caller::Caller;
pub use registry::{Connection, Registry};
pub use settings::{Env, exit_on_error};

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs a route handler under the Lambda Runtime API until the process ends:
/// each event is passed to `handler`, its answer returned to API Gateway.
/// An event that is not a route event is reported as a function error.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(RouteEvent) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<RouteEvent>| {
            // Boxed: a handler's future (SDK calls inside) is deep, and the
            // runtime's own futures nest it further.
            let answer = Box::pin(handler(event.payload));
            async move { Ok::<_, lambda_runtime::Error>(answer.await) }
        },
    ))
    .await
}
