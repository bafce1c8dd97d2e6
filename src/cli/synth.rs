//! `sockstack synth`: stack files → out/<stack>/template.yaml + summary.txt.

use super::color::Paint;
use super::{BAD_INPUT, FINDINGS, OK, StackArgs, report_findings, synthesize_all};
use crate::emit::{self, Format};
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
other stacks are left alone. The same stack file always gives byte-identical output.";

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
            Ok(p) => relative_out(&p.root),
            Err(_) => PathBuf::from("out"),
        },
    };
    let outputs: Vec<_> = stacks.iter().map(|s| s.output()).collect();
    if let Err(e) = emit::write_all(&out, &outputs) {
        eprintln!(
            "{} cannot write {}: {e}; the previous output is unchanged",
            paint.error("error:"),
            out.display()
        );
        return BAD_INPUT;
    }
    for s in &stacks {
        println!(
            "{} {} -> {} ({} resources, {} bytes)",
            paint.good("synthesized"),
            s.file.display(),
            out.join(&s.name).join(s.template_file()).display(),
            s.template.resources.len(),
            s.text.len()
        );
    }
    OK
}

/// `<root>/out`, relative to the working folder when the root is the working folder.
fn relative_out(root: &std::path::Path) -> PathBuf {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok());
    if cwd.as_deref() == Some(root) {
        PathBuf::from("out")
    } else {
        root.join("out")
    }
}
