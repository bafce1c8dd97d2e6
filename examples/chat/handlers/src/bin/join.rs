//! `join`: see `chat_handlers::routes::join`. Grants: `rooms: write`, `messages: read`.

use chat_handlers::messages::Messages;
use chat_handlers::rooms::Rooms;
use chat_handlers::routes::{self, Join};
use chat_handlers::{MESSAGES, ROOMS};
use sockstack_runtime::{Env, aws, exit_on_error, grants};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let db = aws::dynamodb_client(&aws::load_config().await);
    let join = Join {
        rooms: Rooms::new(db.clone(), exit_on_error(grants::table(&Env, ROOMS))),
        messages: Messages::new(db, exit_on_error(grants::table(&Env, MESSAGES))),
    };
    let join = &join;
    sockstack_runtime::serve(|event| async move { routes::join(join, &event).await }).await
}
