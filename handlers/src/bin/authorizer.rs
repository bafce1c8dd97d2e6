//! The `$connect` REQUEST authorizer: verifies the caller's RS256 JWT and
//! answers with an IAM policy (see `sockstack_handlers::auth`).
//!
//! Environment: `JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE` (required);
//! `TOKEN_SOURCE`, `USER_ID_CLAIM`, `EMAIL_CLAIM`, `TEAM_ID_CLAIM` (optional).

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest as Request;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sockstack_handlers::auth::{AuthSettings, Authorizer};
use sockstack_handlers::settings::exit_on_error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    sockstack_handlers::logging::init();
    let authorizer = Authorizer::new(exit_on_error(AuthSettings::from_env()));
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| async move {
        Ok::<_, Error>(authorizer.authorize(&event.payload).await)
    }))
    .await
}
