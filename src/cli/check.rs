//! `sockstack check`: the template rules, on any CloudFormation template.

use super::color::Paint;
use super::{BAD_INPUT, FINDINGS, OK};
use crate::check::{self, Severity};
use crate::raw::RawTemplate;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "\
Check CloudFormation templates from any tool (sockstack, the CDK, SAM, hand-written; JSON or
YAML with short-form tags) against CloudFormation's limits (51,200-byte inline body, 1 MB,
500 resources, 200 outputs and parameters, logical ids) and WebSocket API rules (authorizer
only on $connect, identity-source syntax, valid and unique route keys, 300 routes per API).

Exits 0 when nothing is found, 1 when an error or warning is found, 2 when a file cannot be
read (the message gives file, line and column).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack check out/dev/template.yaml
  sockstack check cdk.out/*.template.json --format json";

/// Output format of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    /// One line per finding.
    Human,
    /// A JSON array of `{"file","severity","rule","resource","message"}`.
    Json,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Template files.
    #[arg(value_name = "TEMPLATE", required = true)]
    pub templates: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FindingFormat::Human)]
    pub format: FindingFormat,
}

pub fn run(args: &CheckArgs, paint: &Paint) -> u8 {
    let mut code = OK;
    let mut json = Vec::new();
    for path in &args.templates {
        let template = match RawTemplate::read(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{} {e}", paint.error("error:"));
                code = BAD_INPUT;
                continue;
            }
        };
        let findings = check::check(&template);
        let origin = path.display().to_string();
        for f in &findings {
            if f.severity != Severity::Info && code == OK {
                code = FINDINGS;
            }
            match args.format {
                FindingFormat::Human => println!("{}", paint.finding(&origin, f)),
                FindingFormat::Json => json.push(serde_json::json!({
                    "file": origin, "severity": f.severity, "rule": f.rule,
                    "resource": f.resource, "message": f.message,
                })),
            }
        }
        if findings.is_empty() && args.format == FindingFormat::Human {
            println!("{} {origin}", paint.good("ok"));
        }
    }
    if args.format == FindingFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("serializable")
        );
    }
    code
}
