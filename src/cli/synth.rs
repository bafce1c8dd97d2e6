//! `sockstack synth`: stack files → out/<stack>/template.yaml + summary.txt.

use super::color::Paint;
use super::{BAD_INPUT, FINDINGS, OK, StackArgs, report_findings, synthesize_all};
use crate::emit::{self, Format, Outcome};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "\
Synthesize stack files into CloudFormation templates.

Each stack file stacks/<name>.yaml becomes out/<name>/template.yaml (or template.json) and
out/<name>/summary.txt, in the project root (found by walking up from the working folder to
the one with sockstack.toml or stacks/). No build is needed: each function's code is referenced as
s3://<ArtifactBucket>/<handler>-<hash of its sources>.zip, the name `sockstack bundle` gives
the zip it builds.

All stacks are synthesized and checked in memory first. If any stack file has a problem,
every problem is reported with its file, line and column, the command exits 2 and nothing
is written. Otherwise each out/<name>/ folder is replaced whole, atomically; folders of
other stacks are left alone, and a folder sockstack did not create is never replaced. A run
stopped half-way is finished by the next one. The same stack file always gives byte-identical
output.

Stack names (the stack file's name without .yaml) must be plain: a lower-case letter, then
lower-case letters, digits or `-`, at most 64 characters; `assets` and `token` are reserved.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack synth                          every stack in stacks/ -> out/
  sockstack synth dev                      only dev -> out/dev/template.yaml
  sockstack synth stacks/dev.yaml          the same, by path
  sockstack synth --format json --out build/cfn";

/// Arguments of `synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    #[command(flatten)]
    pub stacks: StackArgs,

    /// Output folder; each stack gets <DIR>/<stack>/ [default: <project root>/out].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Template format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
}

pub fn run(args: &SynthArgs, paint: &Paint) -> u8 {
    let stacks = match synthesize_all(&args.stacks, args.format, paint) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (errors, _) = report_findings(&stacks, paint);
    if errors > 0 {
        eprintln!(
            "{} the checks found {errors} error(s); nothing was written",
            paint.error("error:")
        );
        return FINDINGS;
    }
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => match args.stacks.project() {
            Ok(p) => p.out_dir(&super::cwd()),
            Err(_) => PathBuf::from("out"),
        },
    };
    let outputs: Vec<_> = stacks.iter().map(|s| s.output()).collect();
    let written = match emit::write_all(&out, &outputs) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{} {e}", paint.error("error:"));
            return BAD_INPUT;
        }
    };
    if let Some(r) = &written.recovered {
        eprintln!("note: {r} (in {})", out.display());
    }
    for (s, (_, outcome)) in stacks.iter().zip(&written.stacks) {
        let verb = match outcome {
            Outcome::Unchanged => "unchanged",
            Outcome::Created | Outcome::Replaced => "synthesized",
        };
        println!(
            "{} {} -> {} ({} resources, {} bytes)",
            paint.good(verb),
            s.file.display(),
            out.join(&s.name).join(s.template_file()).display(),
            s.template.resources.len(),
            s.text.len()
        );
    }
    OK
}
