//! `sockstack validate`: everything `synth` checks, nothing written.

use super::color::Paint;
use super::{FINDINGS, OK, StackArgs, report_findings, synthesize_all};
use crate::emit::Format;

pub const LONG_ABOUT: &str = "\
Check stack files and the templates they give, without writing anything.

Reports every problem in the stack files (with file, line and column) and every finding of
the template checks (CloudFormation limits, WebSocket rules). Exits 0 when all is well or the
checks found only warnings (such as a template that must be uploaded through S3, which
`sockstack deploy` does), 1 when a check found an error, 2 when a stack file is invalid.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack validate                       every stack of the project
  sockstack validate prod                  stacks/prod.yaml (from any folder of the project)";

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub stacks: StackArgs,
}

pub fn run(args: &ValidateArgs, paint: &Paint) -> u8 {
    let stacks = match synthesize_all(&args.stacks, Format::Yaml, paint) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (errors, _warnings) = report_findings(&stacks, paint);
    for s in &stacks {
        println!(
            "{} {} ({} resources)",
            if s.findings.is_empty() {
                paint.good("ok")
            } else {
                paint.warning("checked")
            },
            s.file.display(),
            s.template.resources.len()
        );
    }
    // Warnings are reported, not failed: exit 1 is for errors.
    if errors > 0 { FINDINGS } else { OK }
}
