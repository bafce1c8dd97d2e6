//! The synthesizer and the contract know no application: no source file under
//! `src/`, `contract/src/` or `lambda-local/src/` names the team-health example's concepts (votes,
//! teams, the profiles table). The example lives in stacks/ and the handler crate.

mod common;

use common::root;
use std::fs;
use std::path::{Path, PathBuf};

/// Words of the team-health example, matched case-insensitively.
const WORDS: &[&str] = &["vote", "team", "profiles"];

/// Files that name the example application on purpose, each with the reason; the test fails if one of
/// them no longer matches, so the list cannot go stale.
const NOT_YET: &[(&str, &str)] = &[
    (
        "src/init.rs",
        "`sockstack init --example team-health` scaffolds the example, so it names it (the sources are the example's own files)",
    ),
    (
        "src/cli/init.rs",
        "`init --help` lists the examples by name",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Phrases that contain a word but name something else: the AWS CLI's own profiles
/// (`~/.aws/config`), which every AWS tool documents.
const NOT_THE_APPLICATION: &[&str] = &["aws cli profile"];

fn matches(text: &str) -> Vec<String> {
    let mut lower = text.to_lowercase();
    for phrase in NOT_THE_APPLICATION {
        lower = lower.replace(phrase, " ");
    }
    WORDS
        .iter()
        .filter(|w| lower.contains(*w))
        .map(|w| w.to_string())
        .collect()
}

#[test]
fn src_and_contract_name_no_application_concept() {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("contract/src"), &mut files);
    rust_files(&root.join("lambda-local/src"), &mut files);
    assert!(files.len() > 30, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(file).unwrap();
        let hits = matches(&text);
        let excused = NOT_YET.iter().any(|(f, _)| *f == rel);
        if excused {
            assert!(
                !hits.is_empty(),
                "{rel} is clean now: remove it from NOT_YET"
            );
        } else if !hits.is_empty() {
            found.push(format!("{rel}: {}", hits.join(", ")));
        }
    }
    assert!(
        found.is_empty(),
        "application names in the synthesizer or contract:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_matcher_finds_each_word() {
    assert_eq!(matches("fn cast_Vote() {}"), ["vote"]);
    assert_eq!(matches("TEAM_ID"), ["team"]);
    assert_eq!(matches("ProfilesTable"), ["profiles"]);
    assert!(matches("cargo build --profile lambda").is_empty());
}

#[test]
fn aws_cli_profiles_are_not_the_application_but_a_profiles_table_still_is() {
    assert!(matches("credentials from AWS CLI profiles, SSO, AWS_PROFILE").is_empty());
    assert!(matches("`aws --profile prod` (the AWS CLI profile)").is_empty());
    assert_eq!(
        matches("AWS CLI profiles and the ProfilesTable"),
        ["profiles"]
    );
    assert_eq!(matches("profiles, SSO"), ["profiles"]);
}
