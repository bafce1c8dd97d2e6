//! `$connect`: see `minimal_handlers::connect`. No grants, no settings.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::logging::init();
    sockstack_runtime::serve(|event| async move { minimal_handlers::connect(&event) }).await
}
