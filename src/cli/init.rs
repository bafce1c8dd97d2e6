//! `sockstack init`: a new project from one of the examples.

use super::color::Paint;
use super::{BAD_INPUT, OK};
use crate::init::{self, Example};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "\
Create a sockstack project of your own in DIR (new, or empty): a Cargo workspace with
sockstack.toml, stacks/dev.yaml (and its JSON Schema for editors), a `handlers` crate on
sockstack-runtime with one binary per function and its own tests, a README with the next
commands, .gitignore and a Cargo.lock with the versions sockstack was tested with.

Examples to start from:
  team-health  team votes sent to the whole team: JWT authorizer, registry indexed by team
               and user, a profiles table (the default)
  chat         chat rooms: join (answers with the history) and send (to everyone in the
               room); rooms and messages tables; send has more memory than the rest
  minimal      a public echo: no authorizer, no tables, no grants

Init never overwrites a file and refuses a folder that is not empty.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack init chat-app --example chat           a chat backend in ./chat-app
  sockstack init echo --example minimal            the smallest backend
  sockstack init app --runtime-path ../sockstack/runtime
                                                   use another sockstack-runtime checkout";

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The project folder (created if missing; must be empty if it exists).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// The example to start from: team-health, chat or minimal.
    #[arg(long, value_name = "NAME", default_value = "team-health", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Example>()))]
    pub example: Example,

    /// The sockstack-runtime crate the handlers depend on (by path)
    /// [default: the one this sockstack was built from].
    #[arg(long, value_name = "PATH")]
    pub runtime_path: Option<PathBuf>,
}

pub fn run(args: &InitArgs, paint: &Paint) -> u8 {
    let runtime = args
        .runtime_path
        .clone()
        .unwrap_or_else(init::default_runtime_path);
    match init::init(&args.dir, args.example, &runtime, &init::Cargo) {
        Ok(created) => {
            println!(
                "{} {} ({} example, {} files)",
                paint.good("created"),
                created.dir.display(),
                args.example.name(),
                created.files.len()
            );
            println!(
                "next:\n  cd {}\n  cargo test --locked\n  sockstack synth",
                created.dir.display()
            );
            OK
        }
        Err(e) => {
            eprintln!("{} {e}", paint.error("error:"));
            BAD_INPUT
        }
    }
}
