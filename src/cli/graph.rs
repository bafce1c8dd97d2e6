//! `sockstack graph`: draw one stack's architecture (Mermaid or Graphviz DOT).

use super::color::Paint;
use super::{BAD_INPUT, OK};
use crate::graph::{self, GraphFormat};
use crate::sources::HandlerSources;
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "\
Draw the architecture of one stack from its stack file: WebSocket clients -> API and stage ->
routes -> Lambda functions -> DynamoDB tables (with the table actions each function may call),
the JWT authorizer on $connect, and the functions that push back to clients through
@connections. Rendered with handlebars from templates/graph.mermaid.hbs or graph.dot.hbs.

Mermaid renders on GitHub inside a ```mermaid block (PR descriptions, README); DOT renders with
Graphviz (`dot -Tsvg`). Exits 2 when the stack file has a problem (file, line and column).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack graph dev                          stacks/dev.yaml as Mermaid
  sockstack graph stacks/prod.yaml --format dot | dot -Tsvg > prod.svg";

/// Arguments of `graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// A stack file, or a stack name looked up as <stacks-dir>/<name>.yaml.
    #[arg(value_name = "STACK")]
    pub stack: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,

    /// Where stack names are looked up.
    #[arg(long, value_name = "DIR", default_value = "stacks")]
    pub stacks_dir: PathBuf,

    /// The handlers member.
    #[arg(long, value_name = "DIR", default_value = "handlers")]
    pub handlers: PathBuf,
}

/// The stack file a STACK argument names.
fn stack_file(stack: &str, dir: &Path) -> Option<PathBuf> {
    let given = PathBuf::from(stack);
    if given.is_file() {
        return Some(given);
    }
    ["yaml", "yml"]
        .iter()
        .map(|ext| dir.join(format!("{stack}.{ext}")))
        .find(|p| p.is_file())
}

pub fn run(args: &GraphArgs, paint: &Paint) -> u8 {
    let Some(file) = stack_file(&args.stack, &args.stacks_dir) else {
        eprintln!(
            "{} no stack file {} (nor {}/{}.yaml)",
            paint.error("error:"),
            args.stack,
            args.stacks_dir.display(),
            args.stack
        );
        return BAD_INPUT;
    };
    let handlers = match HandlerSources::open(&args.handlers) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{} {e}", paint.error("error:"));
            return BAD_INPUT;
        }
    };
    match crate::model::load(&file, &handlers) {
        Ok(model) => {
            print!("{}", graph::render(&model, args.format));
            OK
        }
        Err(errors) => {
            eprintln!("{}", paint.errors(&errors.to_string()));
            BAD_INPUT
        }
    }
}
