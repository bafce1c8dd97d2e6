//! The `vote` route: checks `{"action":"vote","value":…}` and posts it to every
//! live connection of the sender's team (see `sockstack_handlers::vote`).
//!
//! Environment: `CONNECTIONS_TABLE`, `PROFILES_TABLE`, `CALLBACK_URL`,
//! `NOTIFY_CONCURRENCY` (optional).

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest as Request;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sockstack_handlers::notify::{Notifier, NotifySettings};
use sockstack_handlers::settings::{Env, exit_on_error};
use sockstack_handlers::store::Store;
use sockstack_handlers::{aws, vote};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    sockstack_handlers::logging::init();
    let config = aws::load_config().await;
    let store = exit_on_error(Store::from_source(aws::dynamodb_client(&config), &Env));
    let notify = exit_on_error(NotifySettings::from_source(&Env));
    let notifier = Notifier::new(
        aws::connections_client(&config, &notify.callback_url),
        notify.concurrency,
    );
    let (store, notifier) = (&store, &notifier);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| async move {
        Ok::<_, Error>(vote::handle(store, notifier, &event.payload).await)
    }))
    .await
}
