//! `sockstack destroy`: parses the arguments and calls [`crate::deploy::destroy`].

use super::OK;
use super::color::Paint;
use super::deploy::Target;
use crate::deploy::destroy::{self, Destroyed};
use crate::deploy::progress::Lines;
use crate::deploy::prompt::Terminal;
use crate::raw::RawTemplate;

pub const LONG_ABOUT: &str = "\
Delete a deployed stack and everything in it, except what the template retains.

Resources with `DeletionPolicy: Retain` (the tables of a stack file with
dataProtection.retainTables, the log groups with retainLogs) stay in the account; they are
listed, with their names, when the deletion is done. Delete them by hand once they are no
longer needed.

STACK names a stack file as in `sockstack deploy` (`dev` is <stacks>/dev.yaml of the project
found from the working folder, or a path); the CloudFormation stack deleted is the one that
file's `stack:` names.

On a terminal, destroy asks you to type the stack name. Without a terminal on stdin it
refuses unless --yes is given. It waits until CloudFormation has finished; if a resource
cannot be deleted, the stack events say which and why, and they are printed.

Exit codes: 0 deleted (or nothing to delete), 1 not confirmed, 2 bad input (no --yes without
a terminal, an invalid stack file), no AWS CLI or a failed AWS step.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack destroy dev                      asks, then deletes the stack stacks/dev.yaml names
  sockstack destroy dev --yes --region eu-west-1";

/// Arguments of `destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub target: Target,

    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

pub fn run(args: &DestroyArgs, paint: &Paint) -> u8 {
    let synthesized = match args.target.synthesize(paint) {
        Ok(r) => r.synthesized,
        Err(code) => return code,
    };
    let name = synthesized.model.stack_name.clone();
    let fallback = match RawTemplate::parse(&synthesized.text) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{} the synthesized template: {e}", paint.error("error:"));
            return super::BAD_INPUT;
        }
    };
    let aws = args.target.aws();
    match destroy::destroy(&aws, &name, &fallback, args.yes, &Terminal, &Lines) {
        Ok(Destroyed::Nothing) => {
            eprintln!(
                "stack {name} does not exist in {}: nothing to delete",
                args.target.region_text()
            );
            OK
        }
        Ok(Destroyed::Deleted(retained)) => {
            println!("{} {name}", paint.good("deleted"));
            if retained.is_empty() {
                println!("nothing retained");
            } else {
                println!("retained (delete by hand when no longer needed):");
                for r in &retained {
                    println!("  {r}");
                }
            }
            OK
        }
        Err(e) => {
            eprintln!("{} stack {name}: {e}", paint.error("error:"));
            e.exit_code()
        }
    }
}
