//! `sockstack outputs`: parses the arguments and calls [`crate::deploy::outputs`].

use super::color::Paint;
use super::deploy::Target;
use super::{BAD_INPUT, FINDINGS, OK};
use crate::deploy::aws::AwsError;
use crate::deploy::outputs;

pub const LONG_ABOUT: &str = "\
Print the outputs of a deployed stack: the wss:// URL clients connect to, the callback URL
handlers post to (POST {CallbackUrl}/@connections/{connectionId}), the API id, the stage and
the table names.

The stack name is read from the stack file (STACK as in `sockstack deploy`: `dev` is
<stacks>/dev.yaml of the project found from the working folder, or a path); the values come from `aws cloudformation
describe-stacks` (the AWS CLI's credentials, region and endpoints; --region overrides).

--format json prints one object, stable for scripts:
  {\"stack\": NAME, \"status\": STATUS, \"outputs\": {\"WebSocketUrl\": \"wss://…\", …}}

Exit codes: 0 ok, 1 the stack is not deployed, 2 bad input, no AWS CLI or a failed AWS call.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack outputs dev
  sockstack outputs prod --region eu-west-1 --format json | jq -r .outputs.WebSocketUrl";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned `name  value` lines.
    Human,
    /// One JSON object.
    Json,
}

/// Arguments of `outputs`.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputsArgs {
    #[command(flatten)]
    pub target: Target,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

pub fn run(args: &OutputsArgs, paint: &Paint) -> u8 {
    let synthesized = match args.target.synthesize(paint) {
        Ok(r) => r.synthesized,
        Err(code) => return code,
    };
    let name = &synthesized.model.stack_name;
    match outputs::read(&args.target.aws(), name) {
        Ok(Some(info)) => {
            match args.format {
                OutputFormat::Human => print!("{}", outputs::render_human(&info)),
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&outputs::to_json(&info)).expect("JSON")
                ),
            }
            OK
        }
        Ok(None) => {
            eprintln!(
                "{} stack {name} is not deployed in {} (deploy it with `sockstack deploy {} --bucket B`)",
                paint.error("error:"),
                args.target.region_text(),
                args.target.stack
            );
            FINDINGS
        }
        Err(e @ AwsError::NotInstalled(_)) => {
            eprintln!("{} {e}", paint.error("error:"));
            BAD_INPUT
        }
        Err(e) => {
            eprintln!("{} cannot read stack {name}: {e}", paint.error("error:"));
            BAD_INPUT
        }
    }
}
