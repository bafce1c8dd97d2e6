//! `sockstack diff`: what changes between two sets of templates, for a review or a CI gate.

use super::color::{Paint, When};
use super::{BAD_INPUT, FINDINGS, OK};
use crate::deploy::aws::AwsCli;
use crate::deploy::changeset;
use crate::deploy::deployed::{self, DeployedDiff};
use crate::diff::input::{self, Stacks};
use crate::diff::report::{json, markdown, terminal};
use crate::diff::{FailOn, Schemas};
use crate::emit::Format;
use crate::pipeline;
use crate::raw::{RawError, RawTemplate};
use crate::sources::HandlerSources;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const LONG_ABOUT: &str = "\
Show what changes between two versions of CloudFormation templates: resources created,
updated, replaced and deleted, with property-level detail; a separate security section for
IAM and access changes; renames recognised; bundle-only code changes folded.

OLD and NEW are each a template file (JSON or YAML, from sockstack, the CDK, SAM or by hand)
or an output folder. Folders pair stacks by name: <stack>/template.{yaml,json} (sockstack's
out/) or <stack>.template.json (cdk.out/). A stack on one side only is shown as created or
deleted.

With --base REF the old side is the stacks at git revision REF, synthesized by THIS binary:
`git archive REF` extracts <stacks-dir>, <handlers>, contract/ and Cargo.lock (paths from
the repository root) into a temporary folder, and every stack file found there is
synthesized as `sockstack synth` would (bundle keys from the handler sources at REF). So the
comparison shows what the branch's stack files and handler code change, not what changed in
the synthesizer between REF and now (to see that, synthesize each revision with its own
binary and compare the two out/ folders). The new side is NEW when given, else the stack
files of the working tree synthesized the same way.

With --deployed STACK the old side is the template CloudFormation holds for that stack
(`aws cloudformation get-template --template-stage Original`, through the AWS CLI and its
credentials, region and endpoints) and the new side is the stack file synthesized; a stack
not deployed yet shows every resource created. --change-set also makes a change set from the
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

    /// Compare this stack file's synthesized template with the one CloudFormation holds (see above).
    #[arg(long, value_name = "STACK", conflicts_with_all = ["old", "new"])]
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

    /// With --base: where stack files are (relative to the current folder, in both revisions).
    #[arg(long, value_name = "DIR", default_value = "stacks")]
    pub stacks_dir: PathBuf,

    /// With --base: the handlers member (relative to the current folder, in both revisions).
    #[arg(long, value_name = "DIR", default_value = "handlers")]
    pub handlers: PathBuf,
}

/// Runs `sockstack diff`; `when` is the global `--color`.
pub fn run(args: &DiffArgs, when: When) -> u8 {
    let err = Paint::for_stderr(when);
    let schemas = Schemas::bundled();
    let mut change_set = None;
    let report = match &args.deployed {
        Some(stack) => match deployed(args, stack) {
            Ok(d) => {
                change_set = d.change_set;
                d.report
            }
            Err((message, code)) => {
                eprintln!("{} {message}", err.error("error:"));
                return code;
            }
        },
        None => match sides(args) {
            Ok((old, new, folders)) => {
                if folders {
                    input::compare_folders(&old, &new, schemas)
                } else {
                    input::compare(&old, &new, schemas)
                }
            }
            Err(message) => {
                eprintln!("{} {message}", err.error("error:"));
                return BAD_INPUT;
            }
        },
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

/// `--deployed STACK`: the stack file synthesized, against the deployed stack; the error's exit code is 2.
fn deployed(args: &DiffArgs, stack: &str) -> Result<DeployedDiff, (String, u8)> {
    let given = args
        .bucket
        .iter()
        .map(|b| (crate::synth::ARTIFACT_BUCKET.to_string(), b.clone()))
        .collect();
    deployed::compare_stack_file(
        &AwsCli::find(args.region.clone()),
        &crate::deploy::stack_file(stack, &args.stacks_dir),
        &args.handlers,
        args.change_set,
        &given,
    )
    .map_err(|e| (e.to_string(), BAD_INPUT))
}

/// Both sides, and whether they are folders (stacks paired by name).
fn sides(args: &DiffArgs) -> Result<(Stacks, Stacks, bool), String> {
    let shown = |e: RawError| e.to_string();
    match &args.base {
        None => {
            let (old, new) = (
                args.old.as_ref().expect("required"),
                args.new.as_ref().expect("required"),
            );
            for p in [old, new] {
                if !p.exists() {
                    return Err(format!("{}: no such file or folder", p.display()));
                }
            }
            if old.is_dir() != new.is_dir() {
                return Err(format!(
                    "{} is a {} but {} is a {}: compare a file with a file, or a folder with a folder",
                    old.display(),
                    if old.is_dir() { "folder" } else { "file" },
                    new.display(),
                    if new.is_dir() { "folder" } else { "file" },
                ));
            }
            Ok((
                input::load(old).map_err(shown)?,
                input::load(new).map_err(shown)?,
                old.is_dir(),
            ))
        }
        Some(base) => {
            if args.old.is_some() && args.new.is_some() {
                return Err("with --base give at most one path (the new side)".into());
            }
            let old = synthesize_at(base, &args.stacks_dir, &args.handlers)?;
            let new = match args.old.as_ref().or(args.new.as_ref()) {
                Some(path) if path.is_file() => {
                    // One template file: compare it with the base stack of the same name.
                    let new = input::load(path).map_err(shown)?;
                    let mut old = old;
                    old.retain(|name, _| new.contains_key(name));
                    return Ok((old, new, true));
                }
                Some(path) => input::load(path).map_err(shown)?,
                None => synthesize_dir(&args.stacks_dir, &args.handlers, None)?,
            };
            Ok((old, new, true))
        }
    }
}

/// Synthesizes every stack file in `stacks_dir` with the handlers in `handlers` (`label` names the revision in
/// messages).
fn synthesize_dir(
    stacks_dir: &Path,
    handlers: &Path,
    label: Option<&str>,
) -> Result<Stacks, String> {
    let at = label.map(|l| format!(" (at {l})")).unwrap_or_default();
    if !stacks_dir.is_dir() {
        return Ok(Stacks::new());
    }
    let files = pipeline::stack_files(&[], stacks_dir).or_else(|e| match e {
        pipeline::StackError::NoStacks(_) => Ok(Vec::new()),
        other => Err(format!("{other}{at}")),
    })?;
    let sources = HandlerSources::open(handlers).map_err(|e| format!("{e}{at}"))?;
    let mut stacks = Stacks::new();
    for file in files {
        let s =
            pipeline::synthesize(&file, &sources, Format::Yaml).map_err(|e| format!("{e}{at}"))?;
        let raw =
            RawTemplate::parse(&s.text).map_err(|e| format!("{}{at}: {e}", file.display()))?;
        stacks.insert(s.name.clone(), (raw, file));
    }
    Ok(stacks)
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// The stacks at git revision `rev`: `git archive` of the stack files, the handlers member, the contract crate
/// and Cargo.lock into a temporary folder, then [`synthesize_dir`] there.
fn synthesize_at(rev: &str, stacks_dir: &Path, handlers: &Path) -> Result<Stacks, String> {
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])
    .map_err(|_| format!("--base {rev}: not a git revision here"))?;
    let prefix = String::from_utf8_lossy(&git(&["rev-parse", "--show-prefix"])?)
        .trim()
        .to_owned();
    let rel = |p: &Path| -> String {
        let p = p.to_string_lossy();
        let p = p.trim_start_matches("./").trim_end_matches('/');
        format!("{prefix}{p}")
    };
    // contract/ and Cargo.lock sit beside the handlers folder (see crate::sources).
    let beside = |name: &str| -> String {
        let parent = handlers.parent().filter(|p| !p.as_os_str().is_empty());
        rel(&parent.map_or_else(|| PathBuf::from(name), |p| p.join(name)))
    };
    let wanted = [
        rel(stacks_dir),
        rel(handlers),
        beside("contract"),
        beside("Cargo.lock"),
    ];
    let present: Vec<&String> = wanted
        .iter()
        .filter(|p| git(&["cat-file", "-e", &format!("{rev}:{p}")]).is_ok())
        .collect();
    let tmp = tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let result = (|| {
        if !present.iter().any(|p| **p == rel(stacks_dir)) {
            return Ok(Stacks::new());
        }
        let tar = tmp.join("base.tar");
        let mut args = vec!["archive", "--format=tar", "-o"];
        let tar_str = tar.to_string_lossy().into_owned();
        args.push(&tar_str);
        args.push(rev);
        args.push("--");
        args.extend(present.iter().map(|s| s.as_str()));
        git(&args)?;
        let status = Command::new("tar")
            .arg("-xf")
            .arg(&tar)
            .arg("-C")
            .arg(&tmp)
            .status()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        if !status.success() {
            return Err(format!("tar could not extract the archive of {rev}"));
        }
        let root = tmp.clone();
        let mut stacks = synthesize_dir(
            &root.join(rel(stacks_dir)),
            &root.join(rel(handlers)),
            Some(rev),
        )?;
        // Name the base side by revision, not by the temporary folder.
        for (_, path) in stacks.values_mut() {
            if let Ok(inside) = path.strip_prefix(&root) {
                *path = PathBuf::from(format!("{rev}:{}", inside.display()));
            }
        }
        Ok(stacks)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn tempdir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..100u32 {
        let dir = base.join(format!("sockstack-diff-{}-{i}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary folder name"))
}
