//! `sockstack dev`: the stack's backend on this machine; `sockstack dev token`: a JWT its local issuer signs.

use super::color::Paint;
use super::{BAD_INPUT, OK};
use crate::dev::{self, AuthMode, DevError, DevOptions};
use std::time::Duration;

pub const LONG_ABOUT: &str = "\
Run a stack's whole WebSocket backend on this machine, with the real handlers.

The stack is synthesized in memory and its template read the way API Gateway reads it: the
route selection expression, each route's function, the $connect authorizer, two-way routes,
each function's environment (every Ref/GetAtt/Sub resolved to its local value), the SSM
parameters and secrets its role may read, and the tables. The handler binaries are built for
this machine (debug, or --release) and run as long-lived processes against a local Lambda
Runtime API. Tables live on a local DynamoDB: a moto_server that dev starts and stops (from
.venv, or installed under out/.dev/ on first use), or --dynamodb-endpoint; tables the stack file
names as `existing` are created there too, from the key schema the stack file declares. By
default a local issuer signs tokens (`sockstack dev token`) and the authorizer reads its JWKS
from 127.0.0.1; --auth stack keeps the stack's JWKS settings.

SSM parameters and Secrets Manager secrets are served by the same moto_server (beside
--dynamodb-endpoint, by a moto_server dev starts for them), seeded from dev-values/STACK.yaml in
the project (git-ignored: it holds secrets); every parameter and secret a function is granted
needs a value there, or dev stops before it starts, naming them:
  parameters:
    /chat/dev/api-key: local-key
  secrets:
    chat/dev/webhook: https://hooks.example.test/1
    chat/dev/db: {username: app, password: local}     (a mapping is stored as JSON)
The functions reach them through AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_SECRETS_MANAGER.

When ready it prints, on stdout, and flushes:
  ready: ws://127.0.0.1:N/{stage}
  callback: http://127.0.0.1:N/{stage}/@connections
  dynamodb: http://127.0.0.1:M
  ssm: http://127.0.0.1:K                  (when moto serves them; the same K for both)
  secretsmanager: http://127.0.0.1:K
The browser page is at http://127.0.0.1:N/. One line per event, and each function's own log
lines prefixed with its name, go to stderr. SIGINT or SIGTERM stops everything it started and
exits 0; its children die with it even if it is killed. IAM is not enforced locally.

Exit codes: 0 stopped cleanly, 2 bad stack file, bad or incomplete values file, or a failed step
(build, DynamoDB, a function that cannot start).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack dev                                   the dev stack on 127.0.0.1:8080
  sockstack dev dev --port 0                      a free port
  sockstack dev token --claim sub=alice --claim room=blue
  open http://127.0.0.1:8080/ in a browser: mint a token, connect, send {\"action\":\"send\",\"text\":\"hi\"}";

/// Where the authorizer's keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Auth {
    /// A local issuer (tokens from `sockstack dev token`).
    Local,
    /// The stack's own JWKS, issuer and audience.
    Stack,
}

/// Arguments of `dev`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevArgs {
    #[command(subcommand)]
    pub command: Option<DevCommand>,

    /// The stack: a name under stacks/ or a path to its file.
    #[arg(value_name = "STACK", default_value = "dev")]
    pub stack: String,

    /// Port on 127.0.0.1 for the WebSocket, @connections and the page (0: a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Build the handlers with --release.
    #[arg(long)]
    pub release: bool,

    /// Rebuild a handler when its sources change and swap its processes; open sockets stay open.
    #[arg(long)]
    pub watch: bool,

    /// Where the authorizer's keys come from.
    #[arg(long, value_enum, default_value_t = Auth::Local)]
    pub auth: Auth,

    /// Use this DynamoDB instead of starting moto_server (tables dev creates there are deleted on exit).
    #[arg(long, value_name = "URL")]
    pub dynamodb_endpoint: Option<String>,

    /// Close a socket after this many seconds without a data frame from the client.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle_timeout: u64,

    /// Close a socket this many seconds after it connected.
    #[arg(long, value_name = "SECS", default_value_t = 7200)]
    pub max_connection: u64,

    /// The most instances of one function at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_instances: usize,
}

/// Subcommands of `dev`.
#[derive(Debug, clap::Subcommand)]
pub enum DevCommand {
    /// Print a JWT that the local issuer of `sockstack dev` accepts.
    Token(TokenArgs),
}

/// Arguments of `dev token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The stack: a name under stacks/ or a path to its file.
    #[arg(value_name = "STACK", default_value = "dev")]
    pub stack: String,

    /// A claim, NAME=VALUE (repeatable), e.g. --claim sub=alice --claim room=blue.
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = dev::issuer::parse_claim)]
    pub claims: Vec<(String, String)>,

    /// Seconds until the token expires.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub expires_in: i64,
}

fn report(e: &DevError, paint: &Paint) -> u8 {
    match e {
        DevError::Stack(crate::dev::project::StackError::Invalid(errors)) => {
            eprintln!("{}", paint.errors(&errors.to_string()));
        }
        other => eprintln!("{} {other}", paint.error("error:")),
    }
    BAD_INPUT
}

pub fn run(args: &DevArgs, paint: &Paint) -> u8 {
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "{} cannot read the current folder: {e}",
                paint.error("error:")
            );
            return BAD_INPUT;
        }
    };
    if let Some(DevCommand::Token(t)) = &args.command {
        return match dev::token(&cwd, &t.stack, &t.claims, t.expires_in) {
            Ok(token) => {
                println!("{token}");
                OK
            }
            Err(e) => report(&e, paint),
        };
    }
    let options = DevOptions {
        stack: args.stack.clone(),
        port: args.port,
        release: args.release,
        watch: args.watch,
        auth: match args.auth {
            Auth::Local => AuthMode::Local,
            Auth::Stack => AuthMode::Stack,
        },
        dynamodb_endpoint: args.dynamodb_endpoint.clone(),
        limits: dev::gateway::Limits {
            idle: Duration::from_secs(args.idle_timeout),
            max_connection: Duration::from_secs(args.max_connection),
        },
        max_instances: args.max_instances.max(1),
    };
    match dev::run(&options, &cwd) {
        Ok(()) => OK,
        Err(e) => report(&e, paint),
    }
}
