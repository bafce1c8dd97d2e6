//! `send`: see `chat_handlers::routes::send`. Grants: `rooms: readwrite`,
//! `messages: write`, `connections: send`.

use chat_handlers::messages::Messages;
use chat_handlers::rooms::Rooms;
use chat_handlers::routes::{self, Send};
use chat_handlers::{MESSAGES, ROOMS};
use sockstack_runtime::fanout::{Notifier, NotifySettings};
use sockstack_runtime::{Env, Registry, aws, exit_on_error, grants};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let config = aws::load_config().await;
    let db = aws::dynamodb_client(&config);
    let send = Send {
        rooms: Rooms::new(db.clone(), exit_on_error(grants::table(&Env, ROOMS))),
        messages: Messages::new(db.clone(), exit_on_error(grants::table(&Env, MESSAGES))),
        registry: exit_on_error(Registry::from_source(db, &Env)),
        notifier: Notifier::from_settings(
            &config,
            &exit_on_error(NotifySettings::from_source(&Env)),
        ),
    };
    let send = &send;
    sockstack_runtime::serve(|event| async move { routes::send(send, &event).await }).await
}
