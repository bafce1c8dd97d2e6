//! The stack file's JSON Schema: what `sockstack schema` prints, `stacks/stack.schema.json`
//! holds, and the shape check ([`super::shape`]) reads.

use super::stack::StackFile;
use std::sync::OnceLock;

/// The schema of [`StackFile`], in JSON Schema draft-07: the version editors' YAML
/// extension (yaml-language-server) validates (schemars' default, 2020-12, it does not).
pub fn generate() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<StackFile>()
}

/// [`generate`] as JSON, built once per process.
pub fn value() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| generate().to_value())
}

/// The schema as pretty JSON with a trailing newline (the committed file's form).
pub fn render() -> String {
    let mut text = serde_json::to_string_pretty(&generate()).expect("a schema serializes");
    text.push('\n');
    text
}
