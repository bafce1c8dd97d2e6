//! `sockstack outputs`: the deployed stack's outputs, for people or scripts.

use super::color::Paint;
use super::deploy::Target;
use super::{BAD_INPUT, FINDINGS, OK};
use crate::deploy::aws::AwsError;
use crate::deploy::stack::{self, StackInfo};

pub const LONG_ABOUT: &str = "\
Print the outputs of a deployed stack: the wss:// URL clients connect to, the callback URL
handlers post to (POST {CallbackUrl}/@connections/{connectionId}), the API id, the stage and
the table names.

The stack name is read from the stack file; the values come from `aws cloudformation
describe-stacks` (the AWS CLI's credentials, region and endpoints; --region overrides).

--format json prints one object, stable for scripts:
  {\"stack\": NAME, \"status\": STATUS, \"outputs\": {\"WebSocketUrl\": \"wss://…\", …}}

Exit codes: 0 ok, 1 the stack is not deployed or the AWS CLI failed, 2 bad input.";

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

/// The outputs, the URLs first, as aligned lines on stdout.
pub fn print_human(info: &StackInfo, paint: &Paint) {
    println!("{} {}", paint.bold(&info.name), info.status);
    let first = ["WebSocketUrl", "CallbackUrl"];
    let mut ordered: Vec<_> = first
        .iter()
        .filter_map(|k| info.outputs.iter().find(|o| o.key == *k))
        .collect();
    ordered.extend(
        info.outputs
            .iter()
            .filter(|o| !first.contains(&o.key.as_str())),
    );
    let width = ordered.iter().map(|o| o.key.len()).max().unwrap_or(0);
    for o in ordered {
        println!("  {:<width$}  {}", o.key, o.value);
    }
}

/// The JSON form.
pub fn to_json(info: &StackInfo) -> serde_json::Value {
    let outputs: serde_json::Map<String, serde_json::Value> = info
        .outputs
        .iter()
        .map(|o| (o.key.clone(), serde_json::Value::String(o.value.clone())))
        .collect();
    serde_json::json!({
        "stack": info.name,
        "status": info.status,
        "outputs": outputs,
    })
}

pub fn run(args: &OutputsArgs, paint: &Paint) -> u8 {
    let synthesized = match args.target.synthesize(paint) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = &synthesized.model.stack_name;
    match stack::describe(&args.target.aws(), name) {
        Ok(Some(info)) => {
            match args.format {
                OutputFormat::Human => print_human(&info, paint),
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&info)).expect("JSON")
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
            FINDINGS
        }
    }
}
