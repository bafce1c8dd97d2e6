//! `notify`: pushes a message to a user's or a team's connections from
//! OUTSIDE AWS (a script, a cron job, another service). It is not a Lambda
//! function: no stack file's `functions:` names it, so no template builds it.
//!
//! ```text
//! notify (--team TEAM | --user USER) [--message JSON] [--endpoint URL] [--concurrency N]
//! ```
//!
//! The message is the `--message` argument or, without it, standard input. It
//! is sent as is to every live connection (requests SigV4-signed by the AWS
//! SDK with the credentials and region of the environment: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, profiles, …);
//! connections that are gone are removed from the registry and their profile.
//!
//! Environment: `CONNECTIONS_TABLE`, `CONNECTIONS_INDEXES` (`teamId=…,userId=…`),
//! `TABLE_PROFILES`, `CALLBACK_URL` (the stack's callback URL output; `--endpoint` overrides it),
//! `NOTIFY_CONCURRENCY` (optional). `AWS_ENDPOINT_URL_DYNAMODB` points
//! DynamoDB elsewhere.
//!
//! Prints `{"delivered":…,"stale":…,"tooLarge":…,"failed":…}` on stdout. Exit
//! status: 0 every live connection got the message, 1 some did not, 2 bad usage
//! or settings, 3 the connections could not be read.

use serde_json::json;
use sockstack_handlers::profiles::Profiles;
use sockstack_handlers::vote::Sender;
use sockstack_handlers::{TEAM_ID, USER_ID};
use sockstack_runtime::contract::grants;
use sockstack_runtime::fanout::Notifier;
use sockstack_runtime::settings::{self, Env, SettingsError};
use sockstack_runtime::{Registry, aws};
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str =
    "usage: notify (--team TEAM | --user USER) [--message JSON] [--endpoint URL] [--concurrency N]";

enum Target {
    Team(String),
    User(String),
}

struct Args {
    target: Target,
    message: Option<String>,
    endpoint: Option<String>,
    concurrency: Option<usize>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut target = None;
    let mut message = None;
    let mut endpoint = None;
    let mut concurrency = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--team" | "--user" if target.is_some() => {
                return Err(format!("give one of --team or --user\n{USAGE}"));
            }
            "--team" => target = Some(Target::Team(value()?)),
            "--user" => target = Some(Target::User(value()?)),
            "--message" => message = Some(value()?),
            "--endpoint" => endpoint = Some(value()?),
            "--concurrency" => {
                let v = value()?;
                concurrency =
                    Some(v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--concurrency {v:?}: expected a positive integer")
                    })?);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let target = target.ok_or_else(|| format!("--team or --user is required\n{USAGE}"))?;
    Ok(Args {
        target,
        message,
        endpoint,
        concurrency,
    })
}

fn settings_error(e: SettingsError) -> ExitCode {
    eprintln!("notify: {e}");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("notify: {e}");
            return ExitCode::from(2);
        }
    };
    let message = match args.message {
        Some(m) => m,
        None => {
            let mut m = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut m) {
                eprintln!("notify: cannot read the message from standard input: {e}");
                return ExitCode::from(2);
            }
            m
        }
    };
    if message.trim().is_empty() {
        eprintln!("notify: the message is empty\n{USAGE}");
        return ExitCode::from(2);
    }
    let callback_url = match args.endpoint {
        Some(url) => url,
        None => match settings::required(&Env, grants::CALLBACK_URL) {
            Ok(url) => url,
            Err(e) => return settings_error(e),
        },
    };
    if let Err(expected) = aws::check_callback_url(&callback_url) {
        eprintln!("notify: endpoint {callback_url:?}: expected {expected}");
        return ExitCode::from(2);
    }
    let concurrency = match args.concurrency {
        Some(n) => n,
        None => match settings::positive(
            &Env,
            grants::NOTIFY_CONCURRENCY,
            grants::DEFAULT_NOTIFY_CONCURRENCY,
        ) {
            Ok(n) => n,
            Err(e) => return settings_error(e),
        },
    };
    let config = aws::load_config().await;
    let db = aws::dynamodb_client(&config);
    let tables = Registry::from_source(db.clone(), &Env)
        .and_then(|registry| Ok((registry, Profiles::from_source(db, &Env)?)));
    let (registry, profiles) = match tables {
        Ok(tables) => tables,
        Err(e) => return settings_error(e),
    };
    let sender = Sender {
        registry,
        profiles,
        notifier: Notifier::new(aws::connections_client(&config, &callback_url), concurrency),
    };
    let sent = match &args.target {
        Target::Team(team) => sender.send(TEAM_ID, team, message.as_bytes()).await,
        Target::User(user) => sender.send(USER_ID, user, message.as_bytes()).await,
    };
    let result = match sent {
        Ok(result) => result,
        Err(e) => {
            eprintln!("notify: {e}");
            return ExitCode::from(3);
        }
    };
    for (id, why) in &result.failed {
        eprintln!("notify: {id}: {why}");
    }
    for id in &result.too_large {
        eprintln!(
            "notify: {id}: message of {} bytes is larger than API Gateway accepts (413)",
            message.len()
        );
    }
    println!(
        "{}",
        json!({
            "delivered": result.delivered.len(),
            "stale": result.gone.len(),
            "tooLarge": result.too_large.len(),
            "failed": result.failed.len(),
        })
    );
    if result.failed.is_empty() && result.too_large.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
