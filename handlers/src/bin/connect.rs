//! `$connect`: see `sockstack_handlers::connection::connect`.
//!
//! Grants: `connections: write` (`CONNECTIONS_TABLE`, `CONNECTIONS_INDEXES`),
//! `profiles: write` (`TABLE_PROFILES`).

use sockstack_handlers::connection::{self, Tables};
use sockstack_handlers::profiles::Profiles;
use sockstack_runtime::{Env, Registry, aws, exit_on_error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    let db = aws::dynamodb_client(&aws::load_config().await);
    let tables = Tables {
        registry: exit_on_error(Registry::from_source(db.clone(), &Env)),
        profiles: exit_on_error(Profiles::from_source(db, &Env)),
    };
    let tables = &tables;
    sockstack_runtime::serve(|event| async move { connection::connect(tables, &event).await }).await
}
