//! The `$connect` authorizer: the runtime's, configured by the stack file's
//! `authorizer:` block through its environment (`JWKS_URL`, `JWT_ISSUER`,
//! `JWT_AUDIENCE`, `TOKEN_SOURCE`, `AUTH_CONTEXT`, `AUTH_REQUIRED_CLAIMS`).

fn main() -> Result<(), sockstack_runtime::lambda_runtime::Error> {
    sockstack_runtime::auth::run_authorizer()
}
