//! `sockstack graph`: draw one stack's architecture (Mermaid or Graphviz DOT).

use super::color::Paint;
use super::{BAD_INPUT, OK, ProjectPaths};
use crate::graph::{self, GraphFormat};
use crate::sources::HandlerSources;

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
    /// The stack: a name (`dev` for <stacks>/dev.yaml in the project, found from any folder inside it)
    /// or a path to a stack file.
    #[arg(value_name = "STACK")]
    pub stack: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,

    #[command(flatten)]
    pub paths: ProjectPaths,
}

pub fn run(args: &GraphArgs, paint: &Paint) -> u8 {
    let (project, file) = match args.paths.stack(&args.stack) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("{} {e}", paint.error("error:"));
            return BAD_INPUT;
        }
    };
    let handlers = match HandlerSources::open(&project.handlers_dir) {
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
