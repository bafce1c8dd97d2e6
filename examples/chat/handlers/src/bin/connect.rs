//! `$connect`: records the connection in the registry (`connections: write`).

use serde_json::json;
use sockstack_runtime::registry::{Connection, Opened};
use sockstack_runtime::{Caller, Env, Registry, aws, exit_on_error, reply};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let db = aws::dynamodb_client(&aws::load_config().await);
    let registry = exit_on_error(Registry::from_source(db, &Env));
    let registry = &registry;
    sockstack_runtime::serve(|event| async move {
        let caller = match Caller::from_event(&event) {
            Ok(caller) => caller,
            Err(e) => return reply::error(400, "bad_request", &e.to_string()),
        };
        match registry.open(&Connection::of_caller(&caller)).await {
            Ok(Opened::Recorded) => reply::ok(&json!({"type": "connected"})),
            Ok(Opened::AlreadyClosed) => reply::ok(&json!({"type": "closed"})),
            Err(e) => {
                tracing::error!(error = %e, "connect not recorded");
                reply::error(500, "internal", "the connection could not be recorded")
            }
        }
    })
    .await
}
