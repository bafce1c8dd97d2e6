//! `sockstack diff`: library checks over template pairs (hand-written short-form YAML and CDK-style JSON, see
//! tests/fixtures/diff/), and the CLI as a user (and the example CI workflow) runs it.

mod common;

use assert_cmd::Command;
use serde_json::{Value, json};
use sockstack::diff::report::{json as json_report, markdown};
use sockstack::diff::{
    Action, ChangeSet, DiffReport, Replacement, Schemas, Severity, StackDiff, diff,
};
use sockstack::raw::RawTemplate;
use std::path::{Path, PathBuf};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(path)
}

/// The two fixture styles: the same cases written by hand in short-form YAML and by a CDK-style generator.
const STYLES: &[(&str, &str)] = &[("yaml/", ".yaml"), ("cdk/", ".template.json")];

fn pair(style: (&str, &str), case: &str) -> ChangeSet {
    let old = RawTemplate::read(&fixture(&format!("{}base{}", style.0, style.1))).unwrap();
    let new = RawTemplate::read(&fixture(&format!("{}{case}{}", style.0, style.1))).unwrap();
    diff(&old, &new, Schemas::bundled())
}

/// The change whose logical id is `name`, or `name` plus a CDK hash suffix.
fn resource<'a>(changes: &'a ChangeSet, name: &str) -> &'a sockstack::diff::ResourceChange {
    changes
        .resources
        .iter()
        .find(|r| {
            r.logical_id == name
                || (r.logical_id.starts_with(name) && r.logical_id.len() == name.len() + 8)
        })
        .unwrap_or_else(|| panic!("no change for {name} in {changes:#?}"))
}

fn sockstack() -> Command {
    let mut cmd = Command::cargo_bin("sockstack").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

fn stdout_of(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// The cases, in both styles.

#[test]
fn key_schema_change_replaces_the_table_and_loses_its_data() {
    for style in STYLES {
        let c = pair(*style, "table-key");
        assert_eq!(c.resources.len(), 1, "{style:?}: {c:#?}");
        let t = resource(&c, "ConnectionsTable");
        assert_eq!(
            (t.action, t.replacement),
            (Action::Replace, Replacement::Always),
            "{style:?}"
        );
        assert!(
            t.replaced_because.iter().any(|r| r == "KeySchema"),
            "{:?}",
            t.replaced_because
        );
        assert!(t.data_loss, "{style:?}: no retain policy, so the data goes");
        // The fixed TableName makes the replacement fail: CloudFormation creates the new table first.
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains("replacement fails: TableName stays")),
            "{:?}",
            t.warnings
        );
        let key_changes: Vec<_> = t
            .changes
            .iter()
            .filter(|p| p.path.to_string().starts_with("KeySchema"))
            .collect();
        assert!(
            !key_changes.is_empty()
                && key_changes
                    .iter()
                    .all(|p| p.replacement == Replacement::Always)
        );
        assert_eq!(c.counts().data_loss, 1);
    }
}

#[test]
fn memory_change_is_in_place() {
    for style in STYLES {
        let c = pair(*style, "memory");
        assert_eq!(c.resources.len(), 1, "{style:?}: {c:#?}");
        let f = resource(&c, "ConnectFunction");
        assert_eq!(
            (f.action, f.replacement),
            (Action::Update, Replacement::Never)
        );
        assert_eq!(f.changes.len(), 1);
        assert_eq!(f.changes[0].path.to_string(), "MemorySize");
        assert!(c.security.is_empty() && c.code.is_empty());
    }
}

#[test]
fn renamed_route_is_one_rename_not_delete_and_create() {
    for style in STYLES {
        let c = pair(*style, "route-renamed");
        let counts = c.counts();
        assert_eq!((counts.create, counts.delete), (0, 0), "{style:?}: {c:#?}");
        assert_eq!(
            counts.rename, 3,
            "route, integration and permission move together"
        );
        let route = resource(&c, "PostRoute");
        assert_eq!(route.action, Action::Rename);
        assert_eq!(
            route.replacement,
            Replacement::Always,
            "CloudFormation has no rename: it replaces"
        );
        assert!(
            route
                .renamed_from
                .as_deref()
                .unwrap()
                .starts_with("SendRoute")
        );
        assert!(route.similarity.unwrap() >= sockstack::diff::rename::RENAME_THRESHOLD);
        assert!(
            route
                .changes
                .iter()
                .any(|p| p.path.to_string() == "RouteKey")
        );
        assert_eq!(
            resource(&c, "PostIntegration")
                .renamed_from
                .as_deref()
                .map(|s| &s[..15]),
            Some("SendIntegration")
        );
    }
}

#[test]
fn widened_policy_statement_is_a_security_change() {
    for style in STYLES {
        let c = pair(*style, "policy-widened");
        assert_eq!(c.security.len(), 1, "{style:?}: {:#?}", c.security);
        let s = &c.security[0];
        assert_eq!(s.severity, Severity::Widened);
        assert!(s.logical_id.starts_with("SendRole"));
        assert_eq!(
            s.details,
            ["~ statement 1: + actions dynamodb:DeleteItem, dynamodb:Scan"]
        );
    }
}

#[test]
fn removed_authorizer_on_connect_is_critical() {
    for style in STYLES {
        let c = pair(*style, "authorizer-removed");
        let critical: Vec<_> = c
            .security
            .iter()
            .filter(|s| s.severity == Severity::Critical)
            .collect();
        assert_eq!(critical.len(), 1, "{style:?}: {:#?}", c.security);
        assert!(critical[0].logical_id.starts_with("ConnectRoute"));
        assert!(
            critical[0]
                .summary
                .contains("$connect no longer requires authorization")
        );
        assert_eq!(
            c.security[0].severity,
            Severity::Critical,
            "critical comes first"
        );
        assert_eq!(resource(&c, "Authorizer").action, Action::Delete);
    }
}

#[test]
fn bundle_key_only_changes_fold_to_one_line_per_function() {
    for style in STYLES {
        let c = pair(*style, "bundle-only");
        assert!(c.resources.is_empty(), "{style:?}: {:#?}", c.resources);
        let ids: Vec<&str> = c
            .code
            .iter()
            .map(|f| &f.logical_id[..f.logical_id.len().min(11)])
            .collect();
        assert_eq!(ids, ["ConnectFunc", "SendFunctio"]);
        assert_eq!(c.code[0].old, json!({"S3Key": "connect-2222bbbb.zip"}));
        assert_eq!(c.code[0].new, json!({"S3Key": "connect-9999ffff.zip"}));
    }
}

#[test]
fn identical_inputs_have_no_changes() {
    for style in STYLES {
        assert!(pair(*style, "base").is_empty());
    }
    // The same template written as short-form YAML and as long-form JSON.
    let yaml = RawTemplate::read(&fixture("yaml/base.yaml")).unwrap();
    let json = RawTemplate::read(&fixture("yaml/base-long.json")).unwrap();
    assert!(diff(&yaml, &json, Schemas::bundled()).is_empty());
}

#[test]
fn a_stack_on_one_side_only_is_created_or_deleted() {
    let t = RawTemplate::read(&fixture("yaml/base.yaml")).unwrap();
    let created = StackDiff::new("chat", None, Some((&t, "new".into())), Schemas::bundled());
    assert_eq!(created.status, sockstack::diff::StackStatus::Created);
    assert_eq!(created.counts.create, t.resources.len());
    let deleted = StackDiff::new("chat", Some((&t, "old".into())), None, Schemas::bundled());
    assert_eq!(deleted.status, sockstack::diff::StackStatus::Deleted);
    assert_eq!(deleted.counts.delete, t.resources.len());
    // Deleting the stack deletes the table, which has no retain policy.
    assert_eq!(deleted.counts.data_loss, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Finer points, on inline templates.

fn template(resources: Value) -> RawTemplate {
    RawTemplate::from_value(json!({ "Resources": resources })).unwrap()
}

#[test]
fn replacing_an_api_replaces_what_refers_to_it_in_a_create_only_property() {
    let old = template(json!({
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a", "ProtocolType": "WEBSOCKET"}},
        "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": "$default"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"API": {"Ref": "Api"}}}}}
    }));
    let mut new = old.clone();
    new.resources
        .get_mut("Api")
        .unwrap()
        .properties
        .insert("ProtocolType".into(), json!("HTTP"));
    let c = diff(&old, &new, Schemas::bundled());
    assert_eq!(resource(&c, "Api").action, Action::Replace);
    let route = resource(&c, "Route");
    assert_eq!(route.action, Action::Replace);
    assert_eq!(
        route.replaced_because,
        ["ApiId refers to Api, which is replaced"]
    );
    // The function refers to the API too, but not in a create-only property.
    assert!(c.resources.iter().all(|r| r.logical_id != "Fn"));
}

#[test]
fn a_retained_table_is_replaced_without_data_loss() {
    let table = |key: &str| {
        json!({"T": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {"KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]}}})
    };
    let c = diff(
        &template(table("a")),
        &template(table("b")),
        Schemas::bundled(),
    );
    let t = resource(&c, "T");
    assert_eq!(t.action, Action::Replace);
    assert!(!t.data_loss);
    assert!(
        t.warnings[0].contains("kept (UpdateReplacePolicy: Retain)"),
        "{:?}",
        t.warnings
    );
    // Deleting a retained log group leaves it in the account.
    let old = template(json!({"L": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain"}}));
    let c = diff(&old, &template(json!({})), Schemas::bundled());
    assert!(!c.resources[0].data_loss);
}

#[test]
fn unrelated_resources_of_one_type_are_not_a_rename() {
    let old = template(
        json!({"A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "a", "DisplayName": "x"}}}),
    );
    let new = template(
        json!({"B": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "b", "DisplayName": "y"}},
                              "C": {"Type": "AWS::SQS::Queue", "Properties": {"TopicName": "a", "DisplayName": "x"}}}),
    );
    let c = diff(&old, &new, Schemas::bundled());
    let actions: Vec<(&str, Action)> = c
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("A", Action::Delete),
            ("B", Action::Create),
            ("C", Action::Create)
        ]
    );
}

#[test]
fn invoke_permission_without_source_is_widened() {
    let perm = |source: Option<&str>| {
        let mut p = json!({"Action": "lambda:InvokeFunction", "FunctionName": "f", "Principal": "apigateway.amazonaws.com"});
        if let Some(s) = source {
            p["SourceArn"] = json!(s);
        }
        template(json!({"P": {"Type": "AWS::Lambda::Permission", "Properties": p}}))
    };
    let c = diff(
        &perm(Some("arn:aws:execute-api:eu-west-1:1:api/dev/send")),
        &perm(None),
        Schemas::bundled(),
    );
    assert_eq!(c.security[0].severity, Severity::Widened);
    assert_eq!(
        resource(&c, "P").action,
        Action::Replace,
        "SourceArn is create-only"
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let old = RawTemplate::read(&fixture("yaml/base.yaml")).unwrap();
    let new = RawTemplate::read(&fixture("yaml/table-key.yaml")).unwrap();
    let report = DiffReport::new(vec![StackDiff::new(
        "chat",
        Some((&old, "a".into())),
        Some((&new, "b".into())),
        Schemas::bundled(),
    )]);
    let v: Value = serde_json::from_str(&json_report::render(&report)).unwrap();
    assert_eq!(v["version"], 1);
    let stack = &v["stacks"][0];
    assert_eq!(stack["status"], "modified");
    assert_eq!(stack["counts"]["replace"], 1);
    let r = &stack["changes"]["resources"][0];
    assert_eq!(r["action"], "replace");
    assert_eq!(r["replacement"], "always");
    assert_eq!(r["data_loss"], true);
    let change = &r["changes"][0];
    for key in ["path", "attribute", "kind", "replacement"] {
        assert!(change.get(key).is_some(), "{key} missing in {change}");
    }
    assert_eq!(v["totals"]["data_loss"], 1);
}

#[test]
fn markdown_has_the_summary_first_and_details_collapsed() {
    let old = RawTemplate::read(&fixture("yaml/base.yaml")).unwrap();
    let new = RawTemplate::read(&fixture("yaml/authorizer-removed.yaml")).unwrap();
    let report = DiffReport::new(vec![StackDiff::new(
        "chat",
        Some((&old, "a".into())),
        Some((&new, "b".into())),
        Schemas::bundled(),
    )]);
    let md = markdown::render(&report);
    let table = md.find("| Stack | Status |").expect("summary table");
    let details = md.find("<details>").expect("collapsible details");
    assert!(table < details);
    assert!(
        md.contains("[!CAUTION]"),
        "critical change called out:\n{md}"
    );
    assert!(md.contains("$connect no longer requires authorization"));
    assert!(md.contains("```diff\n"));
    assert!(!md.contains("Truncated"));
}

#[test]
fn markdown_stays_under_the_github_comment_limit() {
    // 3,000 resources, each with a long property: far over 65,536 characters in full.
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    for i in 0..3000 {
        let r = |v: &str| json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": format!("{v}{}", "x".repeat(100))}});
        old.insert(format!("Topic{i:04}"), r("old"));
        new.insert(format!("Topic{i:04}"), r("new"));
    }
    let (old, new) = (template(Value::Object(old)), template(Value::Object(new)));
    let report = DiffReport::new(vec![StackDiff::new(
        "big",
        Some((&old, "a".into())),
        Some((&new, "b".into())),
        Schemas::bundled(),
    )]);
    let md = markdown::render(&report);
    assert!(
        md.chars().count() <= markdown::GITHUB_COMMENT_LIMIT,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("**Truncated:**"), "the cut is said explicitly");
    assert!(md.contains("| Stack | Status |"), "the summary survives");
    assert!(md.contains("more |"), "the hidden row count is shown");
}

// ---------------------------------------------------------------------------------------------------------
// The command line.

#[test]
fn cli_identical_inputs_exit_0() {
    let out = stdout_of(
        sockstack()
            .args(["diff", "--fail-on", "any"])
            .arg(fixture("yaml/base.yaml"))
            .arg(fixture("yaml/base-long.json")),
        0,
    );
    assert!(out.contains("no changes"), "{out}");
}

#[test]
fn cli_fail_on_gates() {
    let run = |case: &str, gate: &str| {
        sockstack()
            .args(["diff", "--fail-on", gate])
            .arg(fixture("cdk/base.template.json"))
            .arg(fixture(&format!("cdk/{case}.template.json")))
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("table-key", "replace"), Some(1));
    assert_eq!(run("table-key", "destroy"), Some(1), "data loss");
    assert_eq!(run("memory", "replace,destroy,iam"), Some(0));
    assert_eq!(run("memory", "any"), Some(1));
    assert_eq!(run("policy-widened", "iam"), Some(1));
    assert_eq!(run("policy-widened", "replace"), Some(0));
    assert_eq!(run("authorizer-removed", "destroy"), Some(1));
    assert_eq!(run("route-renamed", "replace"), Some(1));
    assert_eq!(run("bundle-only", "replace,destroy,iam"), Some(0));
    // The narrower gates the example workflow uses.
    assert_eq!(run("table-key", "data-loss"), Some(1));
    assert_eq!(
        run("route-renamed", "data-loss,widened"),
        Some(0),
        "a rename loses no data"
    );
    assert_eq!(run("policy-widened", "widened"), Some(1));
    assert_eq!(run("authorizer-removed", "widened"), Some(1));
}

#[test]
fn cli_unreadable_input_exits_2_with_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: [x}\n",
    )
    .unwrap();
    let out = sockstack()
        .arg("diff")
        .arg(fixture("yaml/base.yaml"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:", bad.display())), "{err}");
    let out = sockstack()
        .arg("diff")
        .arg(fixture("yaml/base.yaml"))
        .arg(dir.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn cli_folders_pair_stacks_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let base = std::fs::read_to_string(fixture("yaml/base.yaml")).unwrap();
    let memory = std::fs::read_to_string(fixture("yaml/memory.yaml")).unwrap();
    write(&old.join("chat/template.yaml"), &base);
    write(&old.join("legacy/template.yaml"), &base);
    write(&new.join("chat/template.yaml"), &memory);
    write(
        &new.join("analytics/template.json"),
        &std::fs::read_to_string(fixture("yaml/base-long.json")).unwrap(),
    );
    write(&new.join("notes.txt"), "not a stack");
    let out = stdout_of(
        sockstack()
            .args(["diff", "--format", "json"])
            .arg(&old)
            .arg(&new),
        0,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let statuses: Vec<(&str, &str)> = v["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("analytics", "created"),
            ("chat", "modified"),
            ("legacy", "deleted")
        ]
    );
    assert_eq!(v["stacks_deleted"], 1);
    // Deleting a stack is a destroy.
    let code = sockstack()
        .args(["diff", "--fail-on", "destroy"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap()
        .status
        .code();
    assert_eq!(code, Some(1));
}

#[test]
fn cli_reads_cdk_out_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("cdk.out.main"), dir.path().join("cdk.out"));
    std::fs::create_dir_all(&old).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    std::fs::copy(
        fixture("cdk/base.template.json"),
        old.join("Chat.template.json"),
    )
    .unwrap();
    std::fs::copy(
        fixture("cdk/route-renamed.template.json"),
        new.join("Chat.template.json"),
    )
    .unwrap();
    let out = stdout_of(
        sockstack()
            .args(["diff", "--color", "never"])
            .arg(&old)
            .arg(&new),
        0,
    );
    assert!(out.contains("stack Chat (modified)"), "{out}");
    assert!(
        out.contains(
            "-/+ PostRouteB75BFC9E (AWS::ApiGatewayV2::Route) — renamed from SendRoute819CA6FD"
        ),
        "{out}"
    );
}

#[test]
fn cli_colour_follows_the_flag_and_no_color() {
    let args = |cmd: &mut Command| {
        cmd.arg("diff")
            .arg(fixture("yaml/base.yaml"))
            .arg(fixture("yaml/memory.yaml"));
    };
    let mut always = sockstack();
    always.args(["--color", "always"]);
    args(&mut always);
    assert!(stdout_of(&mut always, 0).contains("\x1b["));
    let mut never = sockstack();
    never.args(["--color", "never"]);
    args(&mut never);
    assert!(!stdout_of(&mut never, 0).contains("\x1b["));
    let mut auto = sockstack();
    auto.env("NO_COLOR", "1");
    args(&mut auto);
    let out = stdout_of(&mut auto, 0);
    assert!(!out.contains("\x1b["));
    assert!(out.contains("~ MemorySize: 128 → 512"), "{out}");
}

#[test]
fn cli_markdown_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("diff.md");
    let out = stdout_of(
        sockstack()
            .args(["diff", "--format", "markdown", "--output"])
            .arg(&file)
            .arg(fixture("yaml/base.yaml"))
            .arg(fixture("yaml/table-key.yaml")),
        0,
    );
    assert!(out.is_empty());
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(
        md.starts_with("<!-- sockstack-diff"),
        "the marker CI finds its comment by: {md}"
    );
    assert!(md.contains("\n### sockstack diff\n"), "{md}");
    assert!(
        md.contains("[!WARNING]") && md.contains("Data loss"),
        "{md}"
    );
}

/// What the example workflow (.github/workflows/pr-diff.yml) runs: `sockstack diff --base <ref>` in a git
/// checkout, where the base side is synthesized from the stack files and handlers at that revision.
#[test]
fn cli_base_ref_synthesizes_the_base_from_git() {
    let dir = common::committed_project_copy();
    let repo = dir.path();
    let git = |args: &[&str]| common::git(repo, args);
    // Unchanged working tree: nothing to report.
    let out = stdout_of(
        sockstack()
            .current_dir(repo)
            .args(["diff", "--base", "main", "--fail-on", "any"]),
        0,
    );
    assert!(out.contains("no changes"), "{out}");
    // A branch that raises memory and edits a handler.
    let stack = repo.join("stacks/dev.yaml");
    let text = std::fs::read_to_string(&stack).unwrap();
    assert!(text.contains("memory: 256"));
    std::fs::write(&stack, text.replace("memory: 256", "memory: 1024")).unwrap();
    let handler = repo.join("handlers/src/bin/vote.rs");
    let mut code = std::fs::read_to_string(&handler).unwrap();
    code.push_str("\n// a change to the vote handler\n");
    std::fs::write(&handler, code).unwrap();
    git(&["checkout", "-q", "-b", "feature"]);
    git(&["commit", "-q", "-am", "more memory"]);
    // The workflow's commands: the merge base, then the Markdown comment with the gate, then the JSON.
    let base = {
        let out = std::process::Command::new("git")
            .args(["merge-base", "HEAD", "main"])
            .current_dir(repo)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    stdout_of(
        sockstack()
            .current_dir(repo)
            .args([
                "diff", "--base", &base, "--format", "markdown", "--output", "diff.md",
            ])
            .args(["--fail-on", "data-loss,widened"]),
        0,
    );
    let md = std::fs::read_to_string(repo.join("diff.md")).unwrap();
    assert!(md.contains("| `dev` | modified |"), "{md}");
    stdout_of(
        sockstack().current_dir(repo).args([
            "diff",
            "--base",
            &base,
            "--format",
            "json",
            "--output",
            "diff.json",
        ]),
        0,
    );
    let out = std::fs::read_to_string(repo.join("diff.json")).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    let dev = v["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dev")
        .unwrap();
    assert_eq!(dev["status"], "modified");
    let resources = dev["changes"]["resources"].as_array().unwrap();
    assert!(
        resources.iter().all(|r| r["action"] == "update"),
        "{resources:#?}"
    );
    assert!(resources.iter().any(|r| {
        r["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == "MemorySize")
    }));
    let code: Vec<&str> = dev["changes"]["code"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["logical_id"].as_str().unwrap())
        .collect();
    assert!(
        code.is_empty() || code.iter().all(|id| id.starts_with("Vote")),
        "{code:?}"
    );
    assert!(
        v["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "prod")
    );
    // Not a revision: bad input.
    let out = sockstack()
        .current_dir(repo)
        .args(["diff", "--base", "no-such-ref"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-ref"));
}

/// data/create-only.json is what scripts/gen-create-only makes from the cfn-lint schemas. It runs with the
/// project's Python (.venv, `make tools`), else python3 on PATH; a Python without cfn-lint fails the test
/// (a missing tool never skips it).
#[test]
fn create_only_data_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join(".venv/bin/python3");
    let python = if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let has_cfnlint = std::process::Command::new(&python)
        .args(["-c", "import cfnlint"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_cfnlint,
        "{} cannot import cfnlint: run `make tools` (it installs the pinned cfn-lint into .venv)",
        python.display()
    );
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts/gen-create-only"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's add-a-route flow (a new `chat` binary, its function and one route entry in stacks/dev.yaml) passes the PR gate
/// `--fail-on data-loss,widened`: the new function's own role and invoke permission are what the stack file
/// asked for. Widening an existing role still trips it.
#[test]
fn cli_adding_a_route_passes_the_widened_gate() {
    let dir = tempfile::tempdir().unwrap();
    let handlers = dir.path().join("handlers");
    std::fs::create_dir_all(handlers.join("src/bin")).unwrap();
    std::fs::write(handlers.join("Cargo.toml"), "[package]\nname = \"fake\"\n").unwrap();
    std::fs::write(handlers.join("src/lib.rs"), "").unwrap();
    for name in ["authorizer", "connect", "disconnect", "default", "vote"] {
        std::fs::write(
            handlers.join(format!("src/bin/{name}.rs")),
            "fn main() {}\n",
        )
        .unwrap();
    }
    let dev =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/dev.yaml"))
            .unwrap();
    let synth = |stack: &str, out: &str| {
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::write(dir.path().join("stacks/dev.yaml"), stack).unwrap();
        stdout_of(
            sockstack()
                .current_dir(dir.path())
                .args(["synth", "--out", out]),
            0,
        );
    };
    synth(&dev, "before");
    std::fs::write(handlers.join("src/bin/chat.rs"), "fn main() {}\n").unwrap();
    let routes = "\n\nroutes:\n";
    assert!(dev.contains(routes));
    let with_chat = dev.replacen(
        routes,
        "\n  chat: {grants: {connections: send, tables: {profiles: read}}}\n\nroutes:\n  - {key: chat, function: chat}\n",
        1,
    );
    synth(&with_chat, "after");
    let out = stdout_of(
        sockstack().current_dir(dir.path()).args([
            "diff",
            "before",
            "after",
            "--fail-on",
            "data-loss,widened",
            "--format",
            "json",
        ]),
        0,
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    let security = report["stacks"][0]["changes"]["security"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = security
        .iter()
        .map(|s| s["logical_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"ChatRole") && ids.contains(&"ChatRoutePermission"),
        "{ids:?}"
    );
    assert!(
        security.iter().all(|s| s["severity"] == "changed"),
        "{security:#?}"
    );

    // Granting the existing vote handler's role more still fails the gate.
    let vote_role = |t: &str| {
        let mut out = String::new();
        for line in t.lines() {
            if line.trim() == "- dynamodb:Query" {
                out.push_str(&line.replace("dynamodb:Query", "dynamodb:Scan"));
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    };
    let after = dir.path().join("after/dev/template.yaml");
    let text = std::fs::read_to_string(&after).unwrap();
    assert!(text.contains("dynamodb:Query"));
    std::fs::write(&after, vote_role(&text)).unwrap();
    stdout_of(
        sockstack().current_dir(dir.path()).args([
            "diff",
            "before",
            "after",
            "--fail-on",
            "widened",
        ]),
        1,
    );
}
