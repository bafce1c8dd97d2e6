//! `$disconnect`: forgets the connection in both tables (see
//! `sockstack_handlers::connection`).
//!
//! Environment: `CONNECTIONS_TABLE`, `PROFILES_TABLE`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest as Request;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sockstack_handlers::settings::{Env, exit_on_error};
use sockstack_handlers::store::Store;
use sockstack_handlers::{aws, connection};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    sockstack_handlers::logging::init();
    let config = aws::load_config().await;
    let store = exit_on_error(Store::from_source(aws::dynamodb_client(&config), &Env));
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| async move {
        Ok::<_, Error>(connection::disconnect(store, &event.payload).await)
    }))
    .await
}
