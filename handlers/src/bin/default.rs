//! `$default`: answers the sender, through the route response, with an error
//! listing the valid actions (see `sockstack_handlers::reply`).
//!
//! Environment: none.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest as Request;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sockstack_handlers::reply;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    sockstack_handlers::logging::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| async move {
        Ok::<_, Error>(reply::unknown_action(event.payload.body.as_deref()))
    }))
    .await
}
