//! `sockstack destroy`: delete a deployed stack, after confirmation, and say what it kept.

use super::color::Paint;
use super::deploy::Target;
use super::{BAD_INPUT, FINDINGS, OK};
use crate::deploy::aws::AwsError;
use crate::deploy::stack::{self, Retained};
use std::io::{BufRead, IsTerminal, Write};

pub const LONG_ABOUT: &str = "\
Delete a deployed stack and everything in it, except what the template retains.

Resources with `DeletionPolicy: Retain` (the tables of a stack file with
dataProtection.retainTables, the log groups with retainLogs) stay in the account; they are
listed, with their names, when the deletion is done. Delete them by hand once they are no
longer needed.

On a terminal, destroy asks you to type the stack name. Without a terminal on stdin it
refuses unless --yes is given. It waits until CloudFormation has finished; if a resource
cannot be deleted, the stack events say which and why, and they are printed.

Exit codes: 0 deleted (or nothing to delete), 1 not confirmed or the deletion failed,
2 bad input (no --yes without a terminal, an invalid stack file, no AWS CLI).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack destroy dev                      asks, then deletes team-health-dev
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

fn describe_retained(r: &Retained) -> String {
    match &r.physical_id {
        Some(id) => format!("{} ({}) {id}", r.logical_id, r.resource_type),
        None => format!("{} ({})", r.logical_id, r.resource_type),
    }
}

pub fn run(args: &DestroyArgs, paint: &Paint) -> u8 {
    let synthesized = match args.target.synthesize(paint) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = synthesized.model.stack_name.clone();
    let region = args.target.region_text();
    if !args.yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "{} refusing to delete stack {name} without confirmation: stdin is not a terminal; pass --yes",
            paint.error("error:")
        );
        return BAD_INPUT;
    }
    let aws = args.target.aws();
    let info = match stack::describe(&aws, &name) {
        Ok(Some(info)) => info,
        Ok(None) => {
            eprintln!("stack {name} does not exist in {region}: nothing to delete");
            return OK;
        }
        Err(e) => {
            eprintln!("{} cannot read stack {name}: {e}", paint.error("error:"));
            return if matches!(e, AwsError::NotInstalled(_)) {
                BAD_INPUT
            } else {
                FINDINGS
            };
        }
    };

    // What will be kept: from the deployed template (the stack file may have changed since).
    let template = stack::deployed_template(&aws, &name).unwrap_or_else(|e| {
        eprintln!(
            "{} cannot read the deployed template ({}); listing what the stack file retains",
            paint.warning("warning:"),
            e.detail()
        );
        synthesized.template.to_value()
    });
    let mut retained = stack::retained(&template);
    if let Ok(ids) = stack::physical_ids(&aws, &name) {
        for r in &mut retained {
            r.physical_id = ids.get(&r.logical_id).cloned();
        }
    }

    if !args.yes {
        eprintln!(
            "This deletes stack {} ({}, {region}) and every resource in it.",
            paint.bold(&name),
            info.status
        );
        if retained.is_empty() {
            eprintln!("Nothing is retained: the tables and their data go too.");
        } else {
            eprintln!("Kept (DeletionPolicy: Retain):");
            for r in &retained {
                eprintln!("  {}", describe_retained(r));
            }
        }
        eprint!("Type the stack name to confirm: ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != name {
            eprintln!("not confirmed; nothing was deleted");
            return FINDINGS;
        }
    }

    eprintln!(
        "{} deleting stack {name} ({region})",
        paint.bold("destroy:")
    );
    if let Err(failure) = stack::delete(&aws, &name, &mut |line| eprintln!("  | {line}")) {
        eprintln!(
            "{} the deletion of {name} failed: {failure}",
            paint.error("error:")
        );
        return if matches!(failure.error, AwsError::NotInstalled(_)) {
            BAD_INPUT
        } else {
            FINDINGS
        };
    }
    println!("{} {name}", paint.good("deleted"));
    if retained.is_empty() {
        println!("nothing retained");
    } else {
        println!("retained (delete by hand when no longer needed):");
        for r in &retained {
            println!("  {}", describe_retained(r));
        }
    }
    OK
}
