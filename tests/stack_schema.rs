//! The committed JSON Schema (`stacks/stack.schema.json`, what editors validate against) is
//! draft-07, is what the generator emits now, accepts every valid stack file in the repository
//! and rejects every malformed one the CLI rejects, except those it cannot express (listed
//! below with the reason).

mod common;

use common::root;
use common::stack_cases::CASES;
use serde_json::Value;
use std::fs;

fn committed() -> Value {
    serde_json::from_str(&fs::read_to_string(root().join("stacks/stack.schema.json")).unwrap())
        .unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&committed())
        .expect("the committed schema is a valid draft-07 schema")
}

/// A stack file as the JSON an editor's YAML extension validates.
fn as_json(text: &str) -> Result<Value, String> {
    serde_yaml::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// Malformed stack files the schema does not reject, each with why: rules about more than
/// one place in the file, or about what is outside it, which the CLI checks when it builds the
/// model (a JSON Schema validates each value on its own).
const NOT_EXPRESSIBLE: &[(&str, &str)] = &[
    (
        "yaml-syntax",
        "not YAML at all: there is nothing to validate",
    ),
    (
        "duplicate-yaml-key",
        "a repeated key vanishes when YAML becomes JSON",
    ),
    (
        "duplicate-function",
        "a repeated key vanishes when YAML becomes JSON",
    ),
    ("yaml-tag", "a YAML tag vanishes when YAML becomes JSON"),
    (
        "duplicate-route",
        "uniqueness of one field across list items (`uniqueItems` compares whole items)",
    ),
    (
        "authorizer-on-custom-route",
        "cross-field: `authorizer` depends on the route's `key`",
    ),
    (
        "http-api-identity-source",
        "kept in the CLI: the message explains the HTTP API form and the WebSocket one",
    ),
    (
        "route-timeout-over-29",
        "cross-reference: the limit depends on whether a route uses the function",
    ),
    (
        "unknown-function",
        "cross-reference: a route names a key of `functions:`",
    ),
    (
        "missing-binary",
        "outside the file: the handler crate's binaries",
    ),
    (
        "missing-default-binary",
        "outside the file: the handler crate's binaries",
    ),
    (
        "unused-function",
        "cross-reference: no route names the function",
    ),
    (
        "no-connect-not-public",
        "cross-field: `public` depends on the routes",
    ),
    (
        "connect-without-auth",
        "cross-field: `$connect` needs `authorizer` or `public`",
    ),
    (
        "two-way-disconnect",
        "cross-field: `twoWay` depends on the route's `key`",
    ),
    (
        "authorizer-unused",
        "cross-reference: no route uses the authorizer",
    ),
    (
        "authorizer-function-missing",
        "cross-reference: the authorizer names a key of `functions:`",
    ),
    (
        "authorizer-serves-route",
        "cross-reference: the authorizer's function named by a route",
    ),
    (
        "jwt-and-cognito",
        "cross-field: exactly one of `jwt` and `cognito`, each optional",
    ),
    (
        "no-key-source",
        "cross-field: exactly one of `jwt` and `cognito`, each optional",
    ),
    (
        "reserved-context-key",
        "the registry's own attribute names live in the contract crate",
    ),
    (
        "index-by-unknown-key",
        "cross-reference: `indexBy` names keys of `authorizer.context`",
    ),
    (
        "index-by-twice",
        "uniqueness across short and long forms of a list item",
    ),
    (
        "index-type-conflict",
        "cross-field: one attribute's type in the key and in an index",
    ),
    (
        "table-named-connections",
        "derived: the logical id made from the table's name",
    ),
    (
        "kms-key-on-created-table",
        "cross-field: `kmsKeyArn` needs `existing`",
    ),
    (
        "ttl-on-existing-table",
        "cross-field: `ttl` needs a created table",
    ),
    (
        "grant-unknown-table",
        "cross-reference: a grant names a key of `tables:`",
    ),
    (
        "grant-unknown-index",
        "cross-reference: a grant names an index of a table",
    ),
    (
        "grant-index-write",
        "cross-field: the access allowed depends on the key's form (`table/index`)",
    ),
    (
        "env-name-collision",
        "derived: the environment-variable names grants give",
    ),
    (
        "env-reserved-name",
        "kept in the CLI: Lambda's reserved names are one list in the model",
    ),
    (
        "env-ref-unknown-table",
        "cross-reference: a reference names a key of `tables:`",
    ),
];

#[test]
fn the_committed_schema_is_draft_07_and_what_the_generator_emits() {
    let schema = committed();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(schema.get("definitions").is_some() && schema.get("$defs").is_none());
    let text = fs::read_to_string(root().join("stacks/stack.schema.json")).unwrap();
    assert_eq!(
        text,
        sockstack::config::schema::render(),
        "stacks/stack.schema.json is stale: run `cargo run -- schema > stacks/stack.schema.json`"
    );
    // The constraints it had are kept.
    let stack = &schema["properties"]["stack"];
    assert_eq!(stack["maxLength"], 128);
    assert_eq!(stack["pattern"], "^[A-Za-z][A-Za-z0-9-]*$");
    assert_eq!(
        schema["properties"]["tags"]["propertyNames"]["maxLength"],
        128
    );
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn the_schema_accepts_every_valid_stack_file_in_the_repository() {
    let v = validator();
    let mut files = Vec::new();
    for dir in [
        "stacks",
        "examples/chat/stacks",
        "examples/minimal/stacks",
        "tests/fixtures/dev-project/stacks",
    ] {
        for entry in fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let doc = as_json(&fs::read_to_string(&file).unwrap()).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

#[test]
fn the_schema_rejects_every_malformed_stack_file_it_can_express() {
    let v = validator();
    let mut wrong = Vec::new();
    for (name, text, _, _) in CASES {
        let listed = NOT_EXPRESSIBLE.iter().any(|(n, _)| n == name);
        let rejected = match as_json(text) {
            Ok(doc) => !v.is_valid(&doc),
            Err(_) => false,
        };
        if rejected == listed {
            wrong.push(format!(
                "{name}: {}",
                if listed {
                    "the schema rejects it now: take it off NOT_EXPRESSIBLE"
                } else {
                    "the schema accepts it: reject it in the schema, or list it in NOT_EXPRESSIBLE with the reason"
                }
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
