//! The `vote` route: checks `{"action":"vote","value":…}` and posts it to every
//! live connection of the sender's team (see `sockstack_handlers::vote`).
//!
//! Grants: `connections: [read, send]` (`CONNECTIONS_TABLE`, `CONNECTIONS_INDEXES`,
//! `CALLBACK_URL`, `NOTIFY_CONCURRENCY`), `profiles: write` (`TABLE_PROFILES`).

use sockstack_handlers::profiles::Profiles;
use sockstack_handlers::vote::{self, Sender};
use sockstack_runtime::fanout::{Notifier, NotifySettings};
use sockstack_runtime::{Env, Registry, aws, exit_on_error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let config = aws::load_config().await;
    let db = aws::dynamodb_client(&config);
    let sender = Sender {
        registry: exit_on_error(Registry::from_source(db.clone(), &Env)),
        profiles: exit_on_error(Profiles::from_source(db, &Env)),
        notifier: Notifier::from_settings(
            &config,
            &exit_on_error(NotifySettings::from_source(&Env)),
        ),
    };
    let sender = &sender;
    sockstack_runtime::serve(|event| async move { vote::handle(sender, &event).await }).await
}
