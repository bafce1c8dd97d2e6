//! `sockstack diff`: what changes between two sets of templates, for a review or a CI gate.

use super::color::{Paint, When};
use super::{BAD_INPUT, FINDINGS, OK, ProjectPaths};
use crate::deploy::aws::AwsCli;
use crate::deploy::changeset;
use crate::deploy::deployed::{self, DeployedDiff};
use crate::diff::base::GitCli;
use crate::diff::input::{self, Request};
use crate::diff::report::{json, markdown, terminal};
use crate::diff::{FailOn, Schemas};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "\
Show what changes between two versions of CloudFormation templates: resources created,
updated, replaced and deleted, with property-level detail; a separate security section for
IAM and access changes; renames recognised; bundle-only code changes folded.

OLD and NEW are each a template file (JSON or YAML, from sockstack, the CDK, SAM or by hand)
or an output folder. Folders pair stacks by name: <stack>/template.{yaml,json} (sockstack's
out/) or <stack>.template.json (cdk.out/). A stack on one side only is shown as created or
deleted.

The project is found from any folder inside it, as every command does (walking up to the
folder with sockstack.toml or stacks/); its stack-file folder and handler crate are the ones
sockstack.toml names (--stacks-dir and --handlers override them, relative to the working
folder).

With --base REF the old side is the stacks at git revision REF, synthesized by THIS binary:
`git archive REF` extracts the project's stack-file folder and handler crate (at the same
place in the repository at REF), its path dependencies, contract/ and Cargo.lock into a
temporary folder, and every stack file found there is synthesized as `sockstack synth` would (bundle keys from the handler sources at REF). So the
comparison shows what the branch's stack files and handler code change, not what changed in
the synthesizer between REF and now (to see that, synthesize each revision with its own
binary and compare the two out/ folders). The new side is NEW when given, else the stack
files of the working tree synthesized the same way.

With --deployed STACK, or STACK --deployed (a stack file's name, `dev` for <stacks>/dev.yaml,
or a path; a name with no stack file lists the stacks there are), the old side is the
template CloudFormation holds for that stack (`aws cloudformation get-template
--template-stage Original`, through the AWS CLI and its credentials, region and endpoints)
and the new side is the stack file synthesized; a stack not deployed yet shows every
resource created. --change-set also makes a change set from the
new template, reads CloudFormation's own verdict on each resource (Add/Modify/Remove,
Replacement True/False/Conditional and the properties that force it), deletes the change set
again (and the REVIEW_IN_PROGRESS stack it made when there was none), and shows that verdict
beside sockstack's prediction, flagging every disagreement (JSON: a `changeSet` key).
A failed AWS call exits 2.

Replacement is predicted from each type's create-only properties (data/create-only.json,
from the CloudFormation resource schemas). Replacing or deleting a table, log group, key or
bucket is marked as data loss unless its UpdateReplacePolicy/DeletionPolicy retains it. A
removed and an added resource of the same type are one renamed resource when at least half
of their property leaves are equal (references to other moved resources ignored).

Formats: terminal (a tree like `terraform plan`: + create, ~ update, -/+ replace, - delete),
markdown (a pull-request comment under GitHub's 65,536-character limit), json (documented in
src/diff/report/json.rs; `version` is bumped on incompatible changes).

Inputs fail closed: a path that does not exist, a folder with no templates, a REF that is
not a revision, or a stacks folder missing or empty (at REF or here) is an error (exit 2),
never `no changes`. Errors at REF name files as REF:path and list every invalid stack.

Exit codes: 0 ok; 1 when a --fail-on gate matched; 2 bad usage or unreadable input (the
message gives the file, line and column).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack diff old/template.yaml out/dev/template.yaml
  sockstack diff base-out/ out/                      every stack, paired by name
  sockstack diff cdk.out.main/ cdk.out/              CDK output works too
  sockstack diff --base origin/main                  this branch's stacks vs main's
  sockstack diff --base origin/main --format markdown --output diff.md
  sockstack diff base-out/ out/ --fail-on replace,destroy,iam
  sockstack diff --deployed dev                      what a deploy would change in the live stack
  sockstack diff dev --deployed                      the same
  sockstack diff --deployed dev --change-set         and CloudFormation's verdict beside sockstack's";

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A tree like `terraform plan`, coloured on a terminal.
    Terminal,
    /// Markdown for a pull-request comment.
    Markdown,
    /// JSON (shape documented in src/diff/report/json.rs).
    Json,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old side: a template file or an output folder (with --base: omit it).
    #[arg(value_name = "OLD", required_unless_present_any = ["base", "deployed"])]
    pub old: Option<PathBuf>,

    /// The new side: a template file or an output folder (with --base: optional, default the working tree's
    /// stack files synthesized).
    #[arg(value_name = "NEW", required_unless_present_any = ["base", "deployed"])]
    pub new: Option<PathBuf>,

    /// Compare with the stacks at this git revision, synthesized by this binary (see above).
    #[arg(long, value_name = "REF", conflicts_with = "deployed")]
    pub base: Option<String>,

    /// Compare this stack file's synthesized template with the one CloudFormation holds (see above);
    /// the stack may also come first, as in `deploy`: `diff dev --deployed`.
    #[arg(long, value_name = "STACK", num_args = 0..=1, default_missing_value = "")]
    pub deployed: Option<String>,

    /// With --deployed: also make a change set, show CloudFormation's verdict beside sockstack's, delete it.
    #[arg(long, requires = "deployed")]
    pub change_set: bool,

    /// With --change-set for a stack not deployed yet: the ArtifactBucket value.
    #[arg(long, value_name = "BUCKET", requires = "change_set")]
    pub bucket: Option<String>,

    /// With --deployed: AWS region for every call [default: the AWS CLI's].
    #[arg(long, value_name = "REGION", requires = "deployed")]
    pub region: Option<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Terminal)]
    pub format: DiffFormat,

    /// Exit 1 when the diff has such a change (comma-separated or repeated).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub fail_on: Vec<FailOn>,

    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With --base or --deployed: where the project's stack files and handler crate are.
    #[command(flatten)]
    pub paths: ProjectPaths,
}

/// Runs `sockstack diff`; `when` is the global `--color`.
pub fn run(args: &DiffArgs, when: When) -> u8 {
    let err = Paint::for_stderr(when);
    let mut change_set = None;
    let report = match &args.deployed {
        Some(given) => match deployed_stack(args, given).and_then(|stack| deployed(args, stack)) {
            Ok(d) => {
                change_set = d.change_set;
                d.report
            }
            Err((message, code)) => {
                eprintln!("{} {message}", err.error("error:"));
                return code;
            }
        },
        None => {
            let project;
            let request = match (&args.base, &args.old, &args.new) {
                (None, Some(old), Some(new)) => Request::Paths { old, new },
                (Some(_), Some(_), Some(_)) => {
                    eprintln!(
                        "{} with --base give at most one path (the new side)",
                        err.error("error:")
                    );
                    return BAD_INPUT;
                }
                (Some(rev), old, new) => {
                    project = match args.paths.project() {
                        Ok(p) => p,
                        Err(e) => {
                            eprintln!("{} {e}", err.error("error:"));
                            return BAD_INPUT;
                        }
                    };
                    Request::Base {
                        rev,
                        new: old.as_deref().or(new.as_deref()),
                        stacks_dir: &project.stacks_dir,
                        handlers: &project.handlers_dir,
                    }
                }
                (None, _, _) => unreachable!("clap requires OLD and NEW without --base"),
            };
            match input::read_sides(&request, &GitCli) {
                Ok(sides) => sides.compare(Schemas::bundled()),
                Err(message) => {
                    eprintln!("{} {message}", err.error("error:"));
                    return BAD_INPUT;
                }
            }
        }
    };
    let mut text = match args.format {
        DiffFormat::Terminal => {
            let color = args.output.is_none() && Paint::for_stdout(when).enabled();
            terminal::render(&report, terminal::Style { color })
        }
        DiffFormat::Markdown => markdown::render(&report),
        DiffFormat::Json => json::render(&report),
    };
    if let Some((name, comparisons)) = &change_set {
        text = changeset::append(
            &text,
            args.format == DiffFormat::Json,
            args.format == DiffFormat::Markdown,
            name,
            comparisons,
        );
    }
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!(
                    "{} cannot write {}: {e}",
                    err.error("error:"),
                    path.display()
                );
                return BAD_INPUT;
            }
        }
        None => print!("{text}"),
    }
    let reasons = report.gate(&args.fail_on);
    if reasons.is_empty() {
        OK
    } else {
        for r in &reasons {
            eprintln!("{} {r}", err.warning("fail:"));
        }
        FINDINGS
    }
}

/// The stack `--deployed` names: its value, or the one positional argument (`diff dev --deployed`).
fn deployed_stack<'a>(args: &'a DiffArgs, given: &'a str) -> Result<&'a str, (String, u8)> {
    let positional: Vec<String> = [&args.old, &args.new]
        .into_iter()
        .flatten()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match (given, positional.as_slice()) {
        ("", []) => Err((
            "--deployed needs a stack: `sockstack diff --deployed dev` or `sockstack diff dev --deployed`".into(),
            BAD_INPUT,
        )),
        ("", [_]) => Ok(args
            .old
            .as_deref()
            .and_then(|p| p.to_str())
            .ok_or_else(|| ("the stack name is not UTF-8".to_string(), BAD_INPUT))?),
        ("", _) | (_, [_, ..]) => Err((
            format!(
                "--deployed compares one stack with CloudFormation's; OLD and NEW are not used with it (got {})",
                positional.join(" ")
            ),
            BAD_INPUT,
        )),
        (stack, []) => Ok(stack),
    }
}

/// `--deployed STACK`: the stack file synthesized, against the deployed stack; the error's exit code is 2.
fn deployed(args: &DiffArgs, stack: &str) -> Result<DeployedDiff, (String, u8)> {
    let given = args
        .bucket
        .iter()
        .map(|b| (crate::synth::ARTIFACT_BUCKET.to_string(), b.clone()))
        .collect();
    let (project, file) = args
        .paths
        .stack(stack)
        .map_err(|e| (e.to_string(), BAD_INPUT))?;
    deployed::compare_stack_file(
        &AwsCli::find(args.region.clone()),
        &file,
        &project.handlers_dir,
        args.change_set,
        &given,
    )
    .map_err(|e| (e.to_string(), BAD_INPUT))
}
