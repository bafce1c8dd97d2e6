//! `$default`: answers the sender, through the route response, with an error
//! listing the valid actions: the stack's custom route keys (`ROUTE_KEYS`).

use sockstack_runtime::{Env, reply};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let valid = reply::route_keys(&Env);
    let valid = &valid;
    sockstack_runtime::serve(
        |event| async move { reply::unknown_action(event.body.as_deref(), valid) },
    )
    .await
}
