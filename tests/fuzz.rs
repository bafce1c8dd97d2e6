//! Property-based fuzzing (proptest, stable Rust) of the template reader and the diff.
//!
//! `cargo test` runs a few hundred cases per target (seconds); `make fuzz` runs
//! many more (`SOCKSTACK_FUZZ_CASES`, default 256). A crash found here becomes a
//! named regression test at the end of this file.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sockstack::diff::report::{json as json_report, markdown, terminal};
use sockstack::diff::{DiffReport, Schemas, StackDiff, diff};
use sockstack::input::{self, Limits, Syntax};
use sockstack::raw::RawTemplate;

fn config() -> ProptestConfig {
    let cases = std::env::var("SOCKSTACK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Fragments that steer random text towards YAML/JSON a template reader must handle.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Resources:\n".to_string()),
        Just("  A:\n    Type: AWS::SNS::Topic\n".to_string()),
        Just("    Properties:\n".to_string()),
        Just("!Ref X".to_string()),
        Just("!GetAtt A.B".to_string()),
        Just("!Sub '${A}'".to_string()),
        Just("!If [C, 1, 2]".to_string()),
        Just("&a".to_string()),
        Just("*a".to_string()),
        Just("<<: *a\n".to_string()),
        Just("- ".to_string()),
        Just(": ".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("---\n".to_string()),
        Just("\u{feff}".to_string()),
        Just("{\"Fn::GetAtt\": \"A.B\"}".to_string()),
        "[a-zA-Z0-9:.$ ]{0,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn texts() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(fragment(), 0..40).prop_map(|f| f.concat()),
    ]
}

/// A property value: scalars, lists, mappings and intrinsics, a few levels deep.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z0-9${}.:/*-]{0,12}".prop_map(Value::from),
        "[A-C]".prop_map(|id| json!({"Ref": id})),
        ("[A-C]", "[A-Z][a-z]{0,4}").prop_map(|(id, a)| json!({"Fn::GetAtt": [id, a]})),
        "[A-C]".prop_map(|id| json!({"Fn::Sub": format!("x/${{{id}}}/${{AWS::Region}}")})),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z]{1,6}", inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            (inner.clone(), inner).prop_map(|(a, b)| json!({"Fn::If": ["Cond", a, b]})),
        ]
    })
}

const TYPES: &[&str] = &[
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "AWS::ApiGatewayV2::Route",
    "AWS::Lambda::Permission",
];

/// A template of up to six resources named A–F with random properties and policies.
fn template() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        "[A-F]",
        (
            prop::sample::select(TYPES),
            prop::collection::btree_map("[A-Z][a-z]{0,6}", value(), 0..5),
            prop::option::of(prop::sample::select(&["Retain", "Delete", "Snapshot"][..])),
        ),
        0..6,
    )
    .prop_map(|resources| {
        let resources: Map<String, Value> = resources
            .into_iter()
            .map(|(id, (kind, props, policy))| {
                let mut r = json!({"Type": kind, "Properties": props});
                if let Some(p) = policy {
                    r["DeletionPolicy"] = json!(p);
                }
                (id, r)
            })
            .collect();
        json!({"Resources": resources})
    })
}

fn report_of(old: &RawTemplate, new: &RawTemplate) -> DiffReport {
    DiffReport::new(vec![StackDiff::new(
        "fuzz",
        Some((old, "old".into())),
        Some((new, "new".into())),
        Schemas::bundled(),
    )])
}

proptest! {
    #![proptest_config(config())]

    /// Any text: the reader and the limit check return a result, never panic.
    #[test]
    fn the_template_reader_never_panics(text in texts()) {
        let _ = input::check_structure(&text, Syntax::of(&text), &Limits::DEFAULT);
        let _ = RawTemplate::parse(&text);
    }

    /// A template read from its JSON and from its YAML text is the same template.
    #[test]
    fn json_and_yaml_texts_of_a_template_read_the_same(t in template()) {
        let from_json = RawTemplate::parse(&serde_json::to_string_pretty(&t).unwrap());
        let from_yaml = RawTemplate::parse(&serde_yaml::to_string(&t).unwrap());
        match (from_json, from_yaml) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a.document, b.document),
            (a, b) => prop_assert_eq!(a.is_ok(), b.is_ok(), "{:?} / {:?}", a.err(), b.err()),
        }
    }

    /// Any two templates: the diff and its three reports never panic, and a
    /// template compared with itself has no changes.
    #[test]
    fn the_diff_never_panics_and_finds_nothing_between_equals(a in template(), b in template()) {
        let (Ok(a), Ok(b)) = (RawTemplate::from_value(a), RawTemplate::from_value(b)) else {
            return Ok(());
        };
        prop_assert!(diff(&a, &a, Schemas::bundled()).is_empty());
        let changes = diff(&a, &b, Schemas::bundled());
        prop_assert_eq!(changes.is_empty(), a.document == b.document);
        let report = report_of(&a, &b);
        let _ = terminal::render(&report, terminal::Style { color: false });
        let _ = markdown::render(&report);
        let _ = json_report::render(&report);
    }
}
