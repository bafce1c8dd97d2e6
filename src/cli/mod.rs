//! The command line: argument parsing and one small function per command.
//! This is the only module that touches the process (arguments, files, exit codes, colour).

pub mod bundle;
mod check;
pub mod color;
mod deploy;
mod destroy;
mod dev;
pub mod diff;
mod graph;
mod init;
mod outputs;
mod schema;
mod synth;
mod validate;

use crate::project::{Overrides, Project, ProjectError};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code: everything fine.
pub const OK: u8 = 0;
/// Exit code: a check found something (findings, a diff gate).
pub const FINDINGS: u8 = 1;
/// Exit code: bad usage or bad input.
pub const BAD_INPUT: u8 = 2;

const ABOUT: &str =
    "Model a serverless WebSocket backend on AWS as typed stack files and emit CloudFormation.";

const LONG_ABOUT: &str = "\
Model a serverless WebSocket backend on AWS as typed stack files and emit CloudFormation.

A stack file (stacks/<env>.yaml) lists the routes of an API Gateway WebSocket API, the Lambda
handler behind each (a binary of the handlers member), the $connect JWT authorizer, the
DynamoDB tables and the stage. `sockstack synth` turns every stack file into a CloudFormation
template that `aws cloudformation deploy` accepts.

Exit codes: 0 ok, 1 a check found something, 2 bad usage or bad input.";

/// sockstack command line.
#[derive(Debug, Parser)]
#[command(name = "sockstack", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Colour in human output: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(long, global = true, value_enum, default_value_t = color::When::Auto)]
    pub color: color::When,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by commands that read stack files.
#[derive(Debug, Clone, clap::Args)]
pub struct StackArgs {
    /// Stacks to use: a name (`dev` for <stacks-dir>/dev.yaml) or a path to a stack file
    /// [default: every stack file of the project].
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,

    /// Where stack files are [default: the project's, from sockstack.toml, else <root>/stacks].
    #[arg(long, value_name = "DIR")]
    pub stacks_dir: Option<PathBuf>,

    /// The handler crate: its src/bin/*.rs are the binaries functions run
    /// [default: the project's, from sockstack.toml, else <root>/handlers].
    #[arg(long, value_name = "DIR")]
    pub handlers: Option<PathBuf>,
}

/// Where the project's parts are, when not where the project says (commands that take one stack).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProjectPaths {
    /// Where stack files are found by name, relative to the working folder
    /// [default: the project's, from sockstack.toml, else <root>/stacks].
    #[arg(long, value_name = "DIR")]
    pub stacks_dir: Option<PathBuf>,

    /// The handler crate (its src/bin/*.rs are the binaries; their sources name the bundles),
    /// relative to the working folder [default: the project's, from sockstack.toml, else <root>/handlers].
    #[arg(long, value_name = "DIR")]
    pub handlers: Option<PathBuf>,
}

impl ProjectPaths {
    /// The project these paths point at, for a command naming `stack` (see [`Project::locate`]),
    /// and the stack file `stack` names in it.
    pub fn stack(&self, stack: &str) -> Result<(Project, PathBuf), ProjectError> {
        let cwd = cwd();
        let overrides = Overrides {
            stacks_dir: self.stacks_dir.clone(),
            handlers: self.handlers.clone(),
        };
        let project = Project::locate(&cwd, &overrides, cwd.join(stack).is_file())?;
        let file = project.stack(stack, &cwd)?;
        Ok((project, file))
    }

    /// The project these paths point at (see [`Project::locate`]).
    pub fn project(&self) -> Result<Project, ProjectError> {
        let overrides = Overrides {
            stacks_dir: self.stacks_dir.clone(),
            handlers: self.handlers.clone(),
        };
        Project::locate(&cwd(), &overrides, false)
    }
}

impl StackArgs {
    /// The project these options point at (see [`Project::locate`]).
    pub fn project(&self) -> Result<Project, ProjectError> {
        Project::locate(
            &cwd(),
            &Overrides {
                stacks_dir: self.stacks_dir.clone(),
                handlers: self.handlers.clone(),
            },
            !self.stacks.is_empty(),
        )
    }

    /// The stack files these options name.
    pub fn files(&self) -> Result<(Project, Vec<PathBuf>), ProjectError> {
        let project = self.project()?;
        let files = project.stacks(&self.stacks, &cwd())?;
        Ok((project, files))
    }
}

/// The working folder (`.` if it cannot be read).
fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project of your own from one of the examples (see `init --help`).
    #[command(long_about = init::LONG_ABOUT, after_help = init::EXAMPLES)]
    Init(init::InitArgs),
    /// Synthesize stack files into CloudFormation templates under out/.
    #[command(long_about = synth::LONG_ABOUT, after_help = synth::EXAMPLES)]
    Synth(synth::SynthArgs),
    /// Check stack files and their templates without writing anything.
    #[command(long_about = validate::LONG_ABOUT, after_help = validate::EXAMPLES)]
    Validate(validate::ValidateArgs),
    /// Check any CloudFormation template (from sockstack, the CDK, SAM…) against
    /// CloudFormation limits and WebSocket API rules.
    #[command(long_about = check::LONG_ABOUT, after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Print the JSON Schema of stack files.
    #[command(long_about = schema::LONG_ABOUT, after_help = schema::EXAMPLES)]
    Schema,
    /// Show what changes between two versions of templates (files, output folders, or --base REF).
    #[command(long_about = diff::LONG_ABOUT, after_help = diff::EXAMPLES)]
    Diff(diff::DiffArgs),
    /// Draw a stack's architecture (Mermaid or DOT) for PR descriptions and docs.
    #[command(long_about = graph::LONG_ABOUT, after_help = graph::EXAMPLES)]
    Graph(graph::GraphArgs),
    /// Build every handler for Lambda and zip it reproducibly under out/assets/.
    #[command(long_about = bundle::LONG_ABOUT, after_help = bundle::EXAMPLES)]
    Bundle(bundle::BundleArgs),
    /// Deploy one stack to AWS: synth, bundles, upload, `aws cloudformation deploy`, outputs.
    #[command(long_about = deploy::LONG_ABOUT, after_help = deploy::EXAMPLES)]
    Deploy(deploy::DeployArgs),
    /// Print a deployed stack's outputs (WebSocket URL, callback URL, tables).
    #[command(long_about = outputs::LONG_ABOUT, after_help = outputs::EXAMPLES)]
    Outputs(outputs::OutputsArgs),
    /// Run the stack's backend on this machine: local gateway, real handlers, local DynamoDB.
    #[command(long_about = dev::LONG_ABOUT, after_help = dev::EXAMPLES)]
    Dev(dev::DevArgs),
    /// Delete a deployed stack after confirmation; list what it retained.
    #[command(long_about = destroy::LONG_ABOUT, after_help = destroy::EXAMPLES)]
    Destroy(destroy::DestroyArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let paint = color::Paint::for_stderr(cli.color);
    let code = match &cli.command {
        Command::Bundle(args) => return bundle::run(args),
        Command::Init(args) => init::run(args, &paint),
        Command::Synth(args) => synth::run(args, &paint),
        Command::Validate(args) => validate::run(args, &paint),
        Command::Check(args) => check::run(args, &paint),
        Command::Schema => schema::run(),
        Command::Diff(args) => diff::run(args, cli.color),
        Command::Graph(args) => graph::run(args, &paint),
        Command::Deploy(args) => deploy::run(args, &paint),
        Command::Outputs(args) => outputs::run(args, &color::Paint::for_stdout(cli.color)),
        Command::Destroy(args) => destroy::run(args, &paint),
        Command::Dev(args) => dev::run(args, &paint),
    };
    ExitCode::from(code)
}

/// Synthesizes every stack named by `args` in memory. Reports every problem of
/// every stack file on stderr and returns `Err(exit code)` if any stack failed.
fn synthesize_all(
    args: &StackArgs,
    format: crate::emit::Format,
    paint: &color::Paint,
) -> Result<Vec<crate::pipeline::Synthesized>, u8> {
    let (project, files) = args.files().map_err(|e| {
        eprintln!("{} {e}", paint.error("error:"));
        BAD_INPUT
    })?;
    synthesize_files(&project, &files, format, paint)
}

/// Synthesizes `files` of `project` in memory, as [`synthesize_all`] does.
fn synthesize_files(
    project: &Project,
    files: &[PathBuf],
    format: crate::emit::Format,
    paint: &color::Paint,
) -> Result<Vec<crate::pipeline::Synthesized>, u8> {
    use crate::pipeline;
    use crate::sources::HandlerSources;

    let files = pipeline::stack_files(files, &project.stacks_dir).map_err(|e| {
        eprintln!("{} {e}", paint.error("error:"));
        BAD_INPUT
    })?;
    let handlers = HandlerSources::open(&project.handlers_dir).map_err(|e| {
        eprintln!(
            "{} {e}\n  expected: the handler crate (a crate with src/bin/<binary>.rs): set `handlers` in sockstack.toml or pass --handlers DIR",
            paint.error("error:")
        );
        BAD_INPUT
    })?;
    let mut done = Vec::new();
    let mut failed = false;
    for file in &files {
        match pipeline::synthesize(file, &handlers, format) {
            Ok(s) => done.push(s),
            Err(errors) => {
                eprintln!("{}", paint.errors(&errors.to_string()));
                failed = true;
            }
        }
    }
    let set: Vec<(&std::path::Path, &crate::model::Model)> =
        done.iter().map(|s| (s.file.as_path(), &s.model)).collect();
    for problem in crate::project::check_set(&set) {
        eprintln!("{}", paint.errors(&format!("error: {problem}")));
        failed = true;
    }
    if failed { Err(BAD_INPUT) } else { Ok(done) }
}

/// Prints each stack's findings on stderr; returns how many errors and warnings there were.
fn report_findings(
    stacks: &[crate::pipeline::Synthesized],
    paint: &color::Paint,
) -> (usize, usize) {
    use crate::check::Severity;
    let (mut errors, mut warnings) = (0, 0);
    for s in stacks {
        for f in &s.findings {
            eprintln!("{}", paint.finding(&s.name, f));
            match f.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
                Severity::Info => {}
            }
        }
    }
    (errors, warnings)
}
