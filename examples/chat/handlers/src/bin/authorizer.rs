//! The `$connect` authorizer: the runtime's, configured by the stack file's
//! `authorizer:` block through its environment.

fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::auth::run_authorizer()
}
