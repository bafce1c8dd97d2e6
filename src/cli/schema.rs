//! `sockstack schema`: the JSON Schema of stack files.

use super::OK;

pub const LONG_ABOUT: &str = "\
Print the JSON Schema (draft-07) of stack files on standard output.

Editors use it for completion and inline errors: stack files in stacks/ start with
`# yaml-language-server: $schema=stack.schema.json`, a copy of this output kept current by
the test suite.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack schema > stacks/stack.schema.json";

/// The schema as pretty JSON with a trailing newline.
pub fn render() -> String {
    crate::config::schema::render()
}

pub fn run() -> u8 {
    print!("{}", render());
    OK
}
