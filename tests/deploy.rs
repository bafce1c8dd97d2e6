//! `sockstack deploy`, `outputs` and `destroy` end to end, against `moto_server`
//! (a local AWS emulator) on 127.0.0.1, through the real AWS CLI.
//!
//! Every AWS client the CLI creates is pointed at moto with `AWS_ENDPOINT_URL`
//! (`--endpoint-url` on `cloudformation deploy` would not reach its S3 calls),
//! with fake credentials and a fixed region. `MOTO_ENDPOINT` (set by
//! `scripts/with-moto`, as `make test` does) is used when set; otherwise each
//! test starts its own moto_server on a free port and stops it at the end. A
//! missing moto_server or aws fails the test with the fix (`make tools`): these
//! tests never skip.
//!
//! What moto cannot show, said plainly:
//! - moto never runs the functions' code. The zips deployed here are small
//!   stand-ins named by the real bundle keys, each holding a `bootstrap`; building
//!   the real release bundles would take many minutes on CI. What is checked is
//!   that each function got *its* zip (same size and SHA-256).
//! - moto's CloudFormation silently skips every `AWS::ApiGatewayV2::*` resource
//!   (the API, routes, integrations, authorizer, deployment, stage); references
//!   to them stay unresolved (`${WebSocketApi}`, `None`). The WebSocket wiring is
//!   therefore checked on the template CloudFormation received (`get-template`).
//! - moto loses the outputs of stacks deployed through change sets (what
//!   `aws cloudformation deploy` does), and could not compute ours anyway (they
//!   name the skipped API). `outputs` is exercised on a stack made with
//!   `create-stack`, where moto keeps outputs.
//! - moto ignores a function's `Architectures` (it reports x86_64), so the
//!   architecture is not checked against it.
//! - moto records no per-resource failure events: a stack it fails to create
//!   stays CREATE_IN_PROGRESS with no reason. How a CloudFormation failure is
//!   reported is shown with a stand-in `aws` that answers like real
//!   CloudFormation does after a failed update.

mod common;

use common::moto::Moto;
use common::{handlers, resources, root};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sockstack::emit::Format;
use sockstack::pipeline::{self, Synthesized};
use sockstack::sources::HandlerSources;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::Ordering;
use std::time::Instant;

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

// ---------------------------------------------------------------- moto

/// The shared moto (`common::moto`), with API Gateway's account CloudWatch role in [`REGION`]
/// set once, because the dev stack's access logs need it.
fn moto() -> &'static Moto {
    static ROLE: Once = Once::new();
    let moto = Moto::start();
    ROLE.call_once(|| moto.account_role(REGION));
    moto
}

/// A name no other test (or earlier run on a shared moto) uses.
fn unique(prefix: &str) -> String {
    use std::sync::atomic::AtomicU32;
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

// ---------------------------------------------------------------- project

/// A project folder: the repository's stack files (stack names made unique),
/// deployed with the real handlers member.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("stacks")).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies stacks/<name>.yaml, renaming the stack to `stack_name`, with `edit` applied.
    fn stack(&self, name: &str, stack_name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let text = fs::read_to_string(root().join(format!("stacks/{name}.yaml"))).unwrap();
        let original = text
            .lines()
            .find(|l| l.starts_with("stack:"))
            .unwrap()
            .to_string();
        let text = edit(text.replacen(&original, &format!("stack: {stack_name}"), 1));
        let path = self.path().join(format!("stacks/{name}.yaml"));
        fs::write(&path, text).unwrap();
        path
    }

    fn synthesize(&self, name: &str) -> Synthesized {
        let sources = HandlerSources::open(&handlers()).unwrap();
        pipeline::synthesize(
            &self.path().join(format!("stacks/{name}.yaml")),
            &sources,
            Format::Yaml,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Stand-in bundles for `stack`: one zip per function, named by its real
    /// bundle key, holding a `bootstrap` (moto never runs it). Returns key → bytes.
    fn bundles(&self, stack: &Synthesized) -> BTreeMap<String, Vec<u8>> {
        let dir = self.path().join("bundles");
        fs::create_dir_all(&dir).unwrap();
        let mut zips = BTreeMap::new();
        for f in &stack.model.functions {
            let script = format!(
                "#!/bin/sh\n# stand-in for handler {}: moto never runs it\n",
                f.handler
            );
            let zip = sockstack::bundle::zip_bootstrap(script.as_bytes()).unwrap();
            fs::write(dir.join(&f.bundle_key), &zip).unwrap();
            zips.insert(f.bundle_key.clone(), zip);
        }
        zips
    }
}

/// Fails with the command's stdout and stderr unless it exited with `code`.
fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn deploy(moto: &Moto, project: &Project, stack: &str, bucket: &str) -> std::process::Output {
    deploy_with(moto, project, stack, bucket, &[])
}

fn deploy_with(
    moto: &Moto,
    project: &Project,
    stack: &str,
    bucket: &str,
    extra: &[&str],
) -> std::process::Output {
    let out = moto
        .sockstack(project.path())
        .args(["deploy", stack, "--bucket", bucket, "--bundles", "bundles"])
        .args(extra)
        .args(["--handlers", handlers().to_str().unwrap()])
        .args(["--region", REGION])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "deploy {stack} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

fn create_bucket(moto: &Moto) -> String {
    let bucket = unique("artifacts").to_lowercase();
    let bucket = bucket[..bucket.len().min(63)].to_string();
    moto.create_bucket(&bucket, REGION);
    bucket
}

// ---------------------------------------------------------------- template helpers

/// Logical ids an expression refers to (`Ref`, `Fn::GetAtt`, `${X}` / `${X.Attr}` in `Fn::Sub`).
fn referenced(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("Ref") {
                out.insert(r.clone());
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt") {
                out.insert(a[0].as_str().unwrap().to_string());
            }
            if let Some(Value::String(s)) = m.get("Fn::Sub") {
                for piece in s.split("${").skip(1) {
                    let name = piece.split('}').next().unwrap();
                    out.insert(name.split('.').next().unwrap().to_string());
                }
            }
            m.values().for_each(|x| referenced(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| referenced(x, out)),
        _ => {}
    }
}

/// What moto makes of an expression: `Ref`s to resources it created become
/// their physical ids, pseudo parameters their values, references to the
/// ApiGatewayV2 resources it skipped stay unresolved (`${X}` in a `Fn::Sub`).
fn moto_value(v: &Value, physical: &BTreeMap<String, String>) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    if let Some(r) = v["Ref"].as_str() {
        return physical
            .get(r)
            .unwrap_or_else(|| panic!("no physical id for {r}"))
            .clone();
    }
    if let Some(s) = v["Fn::Sub"].as_str() {
        let mut text = s.to_string();
        for (k, val) in [
            ("AWS::Region", REGION),
            ("AWS::AccountId", ACCOUNT),
            ("AWS::Partition", "aws"),
            ("AWS::URLSuffix", "amazonaws.com"),
        ] {
            text = text.replace(&format!("${{{k}}}"), val);
        }
        for (logical, id) in physical {
            text = text.replace(&format!("${{{logical}}}"), id);
        }
        return text;
    }
    panic!("no moto value for {v}")
}

/// moto returns an inline policy as Python's repr of a dict (and a YAML
/// `Version: 2012-10-17` as `datetime.date(2012, 10, 17)`); real IAM returns JSON.
fn policy_document(v: &Value) -> Value {
    if v.is_object() {
        return v.clone();
    }
    let text = v.as_str().unwrap();
    if let Ok(parsed) = serde_json::from_str(text) {
        return parsed;
    }
    let mut fixed = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("datetime.date(") {
        fixed.push_str(&rest[..i]);
        let after = &rest[i + "datetime.date(".len()..];
        let end = after.find(')').unwrap();
        let parts: Vec<u32> = after[..end]
            .split(',')
            .map(|p| p.trim().parse().unwrap())
            .collect();
        fixed.push_str(&format!(
            "'{:04}-{:02}-{:02}'",
            parts[0], parts[1], parts[2]
        ));
        rest = &after[end + 1..];
    }
    fixed.push_str(rest);
    let json = fixed
        .replace('\'', "\"")
        .replace(": True", ": true")
        .replace(": False", ": false")
        .replace(": None", ": null");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("cannot read policy {text}: {e}"))
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// One `/`-separated segment of the resource part of a permission's SourceArn.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// Written as is (`dev`, `$connect`, `authorizers`).
    Literal(String),
    /// A reference to a resource (`WebSocketApi`, `Authorizer`).
    Ref(String),
}

/// The segments after the account in a SourceArn written as `Fn::Sub`
/// (`…:${AWS::AccountId}:${WebSocketApi}/dev/$connect`) or as `Fn::Join`
/// (`[…, {Fn::Join: [/, [{Ref: WebSocketApi}, dev, $connect]]}]`).
fn source_arn_tail(v: &Value) -> Vec<Segment> {
    if let Some(sub) = v["Fn::Sub"].as_str() {
        let resource = sub.rsplit("}:").next().unwrap();
        return resource
            .split('/')
            .map(
                |seg| match seg.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                    Some(name) => Segment::Ref(name.to_string()),
                    None => Segment::Literal(seg.to_string()),
                },
            )
            .collect();
    }
    let inner = as_list(&v["Fn::Join"][1])
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("unexpected SourceArn {v}"));
    as_list(&inner["Fn::Join"][1])
        .iter()
        .map(|part| match (part.as_str(), part["Ref"].as_str()) {
            (Some(lit), _) => Segment::Literal(lit.to_string()),
            (None, Some(r)) => Segment::Ref(r.to_string()),
            _ => panic!("unexpected SourceArn part {part}"),
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------- service checks

fn check_tables(moto: &Moto, t: &Value, physical: &BTreeMap<String, String>) {
    let tables = resources(t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 2, "dev creates both tables");
    for (id, r) in tables {
        let p = &r["Properties"];
        let name = &physical[id];
        let d = &moto.aws(&["dynamodb", "describe-table", "--table-name", name])["Table"];
        assert_eq!(d["KeySchema"], p["KeySchema"], "{id}: key schema");
        let defs =
            |v: &Value| -> BTreeSet<String> { as_list(v).iter().map(|a| a.to_string()).collect() };
        assert_eq!(
            defs(&d["AttributeDefinitions"]),
            defs(&p["AttributeDefinitions"]),
            "{id}: attribute definitions"
        );
        assert_eq!(
            d["BillingModeSummary"]["BillingMode"], p["BillingMode"],
            "{id}: billing mode"
        );
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        let indexes = |list: &Value| -> BTreeMap<String, (Value, Value)> {
            as_list(list)
                .iter()
                .map(|i| {
                    (
                        i["IndexName"].as_str().unwrap().to_string(),
                        (i["KeySchema"].clone(), i["Projection"].clone()),
                    )
                })
                .collect()
        };
        assert_eq!(
            indexes(&d["GlobalSecondaryIndexes"]),
            indexes(&p["GlobalSecondaryIndexes"]),
            "{id}: global secondary indexes"
        );
        if id == "ConnectionsTable" {
            assert!(
                indexes(&d["GlobalSecondaryIndexes"]).contains_key("ByTeam"),
                "the connections table has the team index"
            );
        }
    }
}

fn check_roles(moto: &Moto, t: &Value, physical: &BTreeMap<String, String>) {
    let roles = resources(t, "AWS::IAM::Role");
    assert!(!roles.is_empty());
    for (id, r) in roles {
        let p = &r["Properties"];
        let name = &physical[id];
        let role = &moto.aws(&["iam", "get-role", "--role-name", name])["Role"];
        let trust = policy_document(&role["AssumeRolePolicyDocument"]);
        assert_eq!(
            trust["Statement"][0]["Principal"],
            p["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            "{id}: trust policy"
        );
        let listed: BTreeSet<String> =
            as_list(&moto.aws(&["iam", "list-role-policies", "--role-name", name])["PolicyNames"])
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
        let expected: BTreeSet<String> = as_list(&p["Policies"])
            .iter()
            .map(|x| x["PolicyName"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, expected, "{id}: inline policies");
        // Each inline policy, through the API that reads one.
        for policy in as_list(&p["Policies"]) {
            let policy_name = policy["PolicyName"].as_str().unwrap();
            let got = moto.aws(&[
                "iam",
                "get-role-policy",
                "--role-name",
                name,
                "--policy-name",
                policy_name,
            ]);
            let doc = policy_document(&got["PolicyDocument"]);
            let want = as_list(&policy["PolicyDocument"]["Statement"]);
            let have = as_list(&doc["Statement"]);
            assert_eq!(have.len(), want.len(), "{id}/{policy_name}: statements");
            for (w, h) in want.iter().zip(&have) {
                assert_eq!(h["Sid"], w["Sid"], "{id}/{policy_name}");
                assert_eq!(h["Effect"], w["Effect"], "{id}/{policy_name}");
                assert_eq!(
                    as_list(&h["Action"]),
                    as_list(&w["Action"]),
                    "{id}/{policy_name} {}: actions",
                    w["Sid"]
                );
                let wr = as_list(&w["Resource"]);
                let hr = as_list(&h["Resource"]);
                assert_eq!(hr.len(), wr.len(), "{id}/{policy_name}: resources");
                for (we, he) in wr.iter().zip(&hr) {
                    let he = he.as_str().unwrap();
                    // Each resource names the physical resources the template refers to.
                    let mut refs = BTreeSet::new();
                    referenced(we, &mut refs);
                    for logical in refs.iter().filter(|r| !r.starts_with("AWS::")) {
                        if let Some(phys) = physical.get(logical) {
                            assert!(
                                he.contains(phys.as_str()),
                                "{id}/{policy_name}: {he} should name {logical} ({phys})"
                            );
                        }
                    }
                    // X-Ray's trace actions take no resource but `*` (tracing is on by default).
                    let xray = as_list(&w["Action"])
                        .iter()
                        .all(|a| sockstack_contract::grants::XRAY.contains(&a.as_str().unwrap()));
                    assert!(
                        he.starts_with("arn:aws:") || (xray && he == "*"),
                        "{id}: {he}"
                    );
                }
            }
        }
    }
}

fn check_functions(
    moto: &Moto,
    t: &Value,
    physical: &BTreeMap<String, String>,
    zips: &BTreeMap<String, Vec<u8>>,
) {
    let functions = resources(t, "AWS::Lambda::Function");
    assert_eq!(functions.len(), zips.len(), "one zip per function");
    for (id, r) in functions {
        let p = &r["Properties"];
        let name = &physical[id];
        let got = moto.aws(&["lambda", "get-function", "--function-name", name]);
        let c = &got["Configuration"];
        assert_eq!(c["Runtime"], "provided.al2023", "{id}");
        assert_eq!(c["Handler"], "bootstrap", "{id}");
        assert_eq!(c["MemorySize"], p["MemorySize"], "{id}: memory");
        assert_eq!(c["Timeout"], p["Timeout"], "{id}: timeout");
        let role = &physical[p["Role"]["Fn::GetAtt"][0].as_str().unwrap()];
        assert!(
            c["Role"]
                .as_str()
                .unwrap()
                .ends_with(&format!("role/{role}")),
            "{id}: runs as its own role {role}, got {}",
            c["Role"]
        );
        // The uploaded code is this function's zip.
        let key = p["Code"]["S3Key"].as_str().unwrap();
        let zip = &zips[key];
        assert_eq!(c["CodeSize"], zip.len() as u64, "{id}: code size of {key}");
        assert_eq!(
            c["CodeSha256"].as_str().unwrap(),
            base64(&Sha256::digest(zip)),
            "{id}: code is {key}"
        );
        assert!(
            got["Code"]["Location"].as_str().unwrap().ends_with(key),
            "{id}: {}",
            got["Code"]["Location"]
        );
        // Its environment, resolved as moto resolves it.
        let want: BTreeMap<String, String> = p["Environment"]["Variables"]
            .as_object()
            .map(|vars| {
                vars.iter()
                    .map(|(k, v)| (k.clone(), moto_value(v, physical)))
                    .collect()
            })
            .unwrap_or_default();
        let have: BTreeMap<String, String> = c["Environment"]["Variables"]
            .as_object()
            .map(|vars| {
                vars.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(have, want, "{id}: environment");
    }
}

fn check_permissions(moto: &Moto, t: &Value, physical: &BTreeMap<String, String>) {
    let permissions = resources(t, "AWS::Lambda::Permission");
    assert!(!permissions.is_empty());
    let mut statements_by_function: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (_, r) in &permissions {
        let function = r["Properties"]["FunctionName"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .to_string();
        let name = physical[&function].clone();
        statements_by_function.entry(function).or_insert_with(|| {
            let got = moto.aws(&["lambda", "get-policy", "--function-name", &name]);
            let policy: Value = serde_json::from_str(got["Policy"].as_str().unwrap()).unwrap();
            as_list(&policy["Statement"])
        });
    }
    for (id, r) in &permissions {
        let p = &r["Properties"];
        let function = p["FunctionName"]["Fn::GetAtt"][0].as_str().unwrap();
        // The tail of the SourceArn: `{api}/{stage}/{route}` or `{api}/authorizers/{id}`;
        // moto leaves references to the resources it skipped unresolved: any segment.
        let tail = source_arn_tail(&p["SourceArn"]);
        let matches = |s: &Value| {
            let arn = s["Condition"]["ArnLike"]["AWS:SourceArn"]
                .as_str()
                .unwrap_or_default();
            let segments: Vec<&str> = arn.rsplit(':').next().unwrap().split('/').collect();
            s["Action"] == p["Action"]
                && s["Principal"]["Service"] == p["Principal"]
                && arn.starts_with(&format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:"))
                && segments.len() == tail.len()
                && segments.iter().zip(&tail).all(|(seg, want)| match want {
                    Segment::Literal(w) => w == seg,
                    Segment::Ref(_) => true,
                })
        };
        assert!(
            statements_by_function[function].iter().any(matches),
            "{id}: no statement on {function} allows {} from {tail:?}: {:#?}",
            p["Principal"],
            statements_by_function[function]
        );
    }
    let total: usize = statements_by_function.values().map(Vec::len).sum();
    assert_eq!(total, permissions.len(), "one statement per permission");
}

/// The WebSocket wiring, from the template CloudFormation received (moto skips
/// every `AWS::ApiGatewayV2::*` resource, so there is nothing to ask it).
fn check_wiring(t: &Value, stage: &str) {
    let api = "WebSocketApi";
    assert_eq!(t["Resources"][api]["Type"], "AWS::ApiGatewayV2::Api");
    assert_eq!(
        t["Resources"][api]["Properties"]["ProtocolType"],
        "WEBSOCKET"
    );
    let functions: BTreeSet<&String> = resources(t, "AWS::Lambda::Function")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let integrations: BTreeMap<&String, &Value> = resources(t, "AWS::ApiGatewayV2::Integration")
        .into_iter()
        .collect();
    let invoked = |uri: &Value| -> String {
        let sub = uri["Fn::Sub"].as_str().unwrap();
        let start = sub.find("functions/${").unwrap() + "functions/${".len();
        sub[start..].split('.').next().unwrap().to_string()
    };
    // Every route targets an integration of the same API.
    let routes = resources(t, "AWS::ApiGatewayV2::Route");
    assert!(
        routes.len() >= 4,
        "$connect, $disconnect, $default and vote"
    );
    let mut route_function: Vec<(String, String)> = Vec::new();
    for (id, r) in &routes {
        let p = &r["Properties"];
        assert_eq!(p["ApiId"]["Ref"], api, "{id}");
        let target = &p["Target"]["Fn::Join"];
        assert_eq!(target[0], "/");
        assert_eq!(target[1][0], "integrations", "{id}");
        let integration = target[1][1]["Ref"].as_str().unwrap().to_string();
        let i = integrations
            .get(&integration)
            .unwrap_or_else(|| panic!("{id} targets {integration}, not an integration"));
        assert_eq!(
            i["Properties"]["ApiId"]["Ref"], api,
            "{integration}: same API"
        );
        route_function.push((
            p["RouteKey"].as_str().unwrap().to_string(),
            invoked(&i["Properties"]["IntegrationUri"]),
        ));
    }
    // Every integration names a function of the stack.
    for (id, i) in &integrations {
        assert_eq!(i["Properties"]["IntegrationType"], "AWS_PROXY", "{id}");
        let f = invoked(&i["Properties"]["IntegrationUri"]);
        assert!(
            functions.contains(&f),
            "{id} invokes {f}, not a function of the stack"
        );
    }
    // Every function API Gateway invokes has a matching permission.
    let permissions = resources(t, "AWS::Lambda::Permission");
    let permits = |function: &str, tail: &[&str]| {
        permissions.iter().any(|(_, r)| {
            let p = &r["Properties"];
            let parts = source_arn_tail(&p["SourceArn"]);
            p["FunctionName"]["Fn::GetAtt"][0] == function
                && p["Principal"] == "apigateway.amazonaws.com"
                && p["Action"] == "lambda:InvokeFunction"
                && parts[0] == Segment::Ref(api.to_string())
                && parts.len() == tail.len() + 1
                && parts[1..].iter().zip(tail).all(|(have, want)| match have {
                    Segment::Literal(s) | Segment::Ref(s) => s == want,
                })
        })
    };
    for (route_key, function) in &route_function {
        assert!(
            permits(function, &[stage, route_key]),
            "{function} has no permission for {stage}/{route_key}"
        );
    }
    for (id, a) in resources(t, "AWS::ApiGatewayV2::Authorizer") {
        let f = invoked(&a["Properties"]["AuthorizerUri"]);
        assert!(functions.contains(&f), "{id} invokes {f}");
        assert!(
            permits(&f, &["authorizers", id]),
            "{f} has no permission for {id}"
        );
    }
    // The output URLs name the API and the stage.
    let outputs = &t["Outputs"];
    assert_eq!(
        outputs["WebSocketUrl"]["Value"],
        json!({"Fn::Join": ["/", [{"Fn::GetAtt": [api, "ApiEndpoint"]}, stage]]})
    );
    let callback = outputs["CallbackUrl"]["Value"]["Fn::Sub"].as_str().unwrap();
    assert!(
        callback.starts_with(&format!("https://${{{api}}}.execute-api."))
            && callback.ends_with(&format!("/{stage}")),
        "{callback}"
    );
    assert_eq!(outputs["ApiId"]["Value"]["Ref"], api);
    assert_eq!(outputs["StageName"]["Value"], stage);
}

// ---------------------------------------------------------------- tests

#[test]
fn deploys_the_dev_stack_and_what_moto_creates_is_what_the_template_says() {
    let started = Instant::now();
    let moto = moto();
    let project = Project::new();
    let stack_name = unique("team-health-dev");
    project.stack("dev", &stack_name, |t| t);
    let synthesized = project.synthesize("dev");
    let zips = project.bundles(&synthesized);
    let bucket = create_bucket(moto);

    let out = deploy(moto, &project, "dev", &bucket);
    let err = stderr(&out);
    for step in [
        "[1/7] synth",
        "[2/7] preflight",
        "[3/7] bundles",
        "[4/7] upload",
        "[5/7] change set",
        "[6/7] review",
        "[7/7] execute",
    ] {
        assert!(err.contains(step), "progress for {step}:\n{err}");
    }
    for key in zips.keys() {
        assert!(err.contains(&format!("{key} uploaded")), "{key}:\n{err}");
    }
    assert!(
        stdout(&out).contains(&format!("{stack_name} CREATE_COMPLETE")),
        "{}",
        stdout(&out)
    );
    // deploy writes out/<stack>/ as synth does.
    let written = fs::read_to_string(project.path().join("out/dev/template.yaml")).unwrap();
    assert_eq!(written, synthesized.text);

    // Every zip is in the bucket under its key.
    let listed = moto.aws(&["s3api", "list-objects-v2", "--bucket", &bucket]);
    let sizes: BTreeMap<String, u64> = as_list(&listed["Contents"])
        .iter()
        .map(|o| {
            (
                o["Key"].as_str().unwrap().to_string(),
                o["Size"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: BTreeMap<String, u64> = zips
        .iter()
        .map(|(k, z)| (k.clone(), z.len() as u64))
        .collect();
    assert_eq!(sizes, expected, "the bucket holds exactly the zips");
    // The stack, with the stack file's tags and the bucket parameter.
    let described = moto.aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &stack_name,
    ]);
    let s = &described["Stacks"][0];
    assert_eq!(s["StackStatus"], "CREATE_COMPLETE");
    let tags: BTreeMap<String, String> = as_list(&s["Tags"])
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(tags, synthesized.model.tags);
    assert_eq!(
        s["Parameters"][0],
        json!({"ParameterKey": "ArtifactBucket", "ParameterValue": bucket})
    );

    // What CloudFormation received is the synthesized template.
    let template = synthesized.template.to_value();
    let body = moto.aws(&[
        "cloudformation",
        "get-template",
        "--stack-name",
        &stack_name,
        "--query",
        "TemplateBody",
    ]);
    assert_eq!(body.as_str().unwrap(), synthesized.text);

    // Through the service APIs.
    // moto 5.2.1 skips every ApiGatewayV2 resource, and lists each alarm it made from a template with neither
    // its logical nor its physical id (so alarms are asserted by the wiring tests, not here).
    let physical = moto.physical_ids(&stack_name);
    for (id, r) in template["Resources"].as_object().unwrap() {
        let ty = r["Type"].as_str().unwrap();
        let skipped = ty.starts_with("AWS::ApiGatewayV2::") || ty == "AWS::CloudWatch::Alarm";
        assert_eq!(
            physical.contains_key(id),
            !skipped,
            "{id}: moto lists everything but the ApiGatewayV2 resources and the alarms"
        );
    }
    // Independent look-ups, run side by side (each `aws` call is a Python start-up).
    std::thread::scope(|s| {
        s.spawn(|| check_tables(moto, &template, &physical));
        s.spawn(|| check_roles(moto, &template, &physical));
        s.spawn(|| check_functions(moto, &template, &physical, &zips));
        s.spawn(|| check_permissions(moto, &template, &physical));
    });
    check_wiring(
        &serde_yaml::from_str(body.as_str().unwrap()).unwrap(),
        &synthesized.model.stage.name,
    );

    // A second deploy after a memory change updates the stack in place.
    project.stack("dev", &stack_name, |t| {
        t.replace("memory: 256", "memory: 512")
    });
    let second = project.synthesize("dev");
    assert_eq!(
        second
            .model
            .functions
            .iter()
            .map(|f| &f.bundle_key)
            .collect::<Vec<_>>(),
        synthesized
            .model
            .functions
            .iter()
            .map(|f| &f.bundle_key)
            .collect::<Vec<_>>(),
        "memory is not part of the code"
    );
    let out = deploy(moto, &project, "dev", &bucket);
    let err = stderr(&out);
    for key in zips.keys() {
        assert!(
            err.contains(&format!("{key} already there")),
            "{key}:\n{err}"
        );
    }
    assert!(
        stdout(&out).contains(&format!("{stack_name} UPDATE_COMPLETE")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        moto.physical_ids(&stack_name),
        physical,
        "updated, not replaced"
    );
    let listed = moto.aws(&["lambda", "list-functions"]);
    for (id, _) in resources(&second.template.to_value(), "AWS::Lambda::Function") {
        let f = as_list(&listed["Functions"])
            .into_iter()
            .find(|f| f["FunctionName"] == physical[id].as_str())
            .unwrap_or_else(|| panic!("{id}: gone after the update"));
        assert_eq!(f["MemorySize"], 512, "{id}: memory updated");
        assert_eq!(f["Runtime"], "provided.al2023", "{id}");
    }

    // Nothing changed: still succeeds, and makes no change set.
    let out = deploy(moto, &project, "dev", &bucket);
    assert!(
        stderr(&out).contains("no changes: stack"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("[6/7]"), "{}", stderr(&out));

    eprintln!("dev end to end: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn destroy_asks_deletes_and_lists_what_prod_retains() {
    let moto = moto();
    let project = Project::new();
    let stack_name = unique("team-health-prod");
    project.stack("prod", &stack_name, |t| t);
    let synthesized = project.synthesize("prod");
    project.bundles(&synthesized);
    let bucket = create_bucket(moto);
    // prod's first deploy needs approval: its API Gateway account role grants more than a new function's own
    // role (its new keys are for the account and AWS services only).
    deploy_with(moto, &project, "prod", &bucket, &["--yes"]);
    let physical = moto.physical_ids(&stack_name);
    let table = physical["ConnectionsTable"].clone();

    // No terminal and no --yes: refused, nothing deleted.
    let out = moto
        .sockstack(project.path())
        .args([
            "destroy",
            "prod",
            "--handlers",
            handlers().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    moto.aws(&[
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        &stack_name,
    ]);

    let out = moto
        .sockstack(project.path())
        .args([
            "destroy",
            "prod",
            "--yes",
            "--handlers",
            handlers().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("deleted {stack_name}")), "{text}");
    // prod retains its tables and log groups (dataProtection), each listed with its name.
    let template = synthesized.template.to_value();
    for (id, r) in template["Resources"].as_object().unwrap() {
        if r["DeletionPolicy"] == "Retain" {
            assert!(
                text.contains(&format!("{id} ({})", r["Type"].as_str().unwrap())),
                "{id} listed as retained:\n{text}"
            );
        }
    }
    assert!(
        text.contains(&format!("ConnectionsTable (AWS::DynamoDB::Table) {table}")),
        "{text}"
    );
    // The stack is gone; the retained table is not.
    let gone = moto
        .try_aws(&[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            &stack_name,
        ])
        .unwrap_err();
    assert!(gone.contains("does not exist"), "{gone}");
    moto.aws(&["dynamodb", "describe-table", "--table-name", &table]);

    // Destroying again: nothing to delete, not an error.
    let out = moto
        .sockstack(project.path())
        .args([
            "destroy",
            "prod",
            "--yes",
            "--handlers",
            handlers().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing to delete"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn outputs_prints_a_created_stacks_outputs_for_people_and_scripts() {
    let moto = moto();
    let project = Project::new();
    let stack_name = unique("team-health-outputs");
    project.stack("dev", &stack_name, |t| t);

    // Not deployed yet.
    let out = moto
        .sockstack(project.path())
        .args(["outputs", "dev", "--handlers", handlers().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not deployed"), "{}", stderr(&out));

    // moto keeps outputs of stacks made with create-stack (not of change sets),
    // and cannot compute ours (they name the API it skips): a stand-in stack
    // with the same output names and the values the real ones take.
    let api = "a1b2c3d4e5";
    let wss = format!("wss://{api}.execute-api.{REGION}.amazonaws.com/dev");
    let callback = format!("https://{api}.execute-api.{REGION}.amazonaws.com/dev");
    let template = json!({
        "Resources": {"ConnectionsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"}}},
        "Outputs": {
            "WebSocketUrl": {"Value": {"Fn::Join": ["/", [format!("wss://{api}.execute-api.{REGION}.amazonaws.com"), "dev"]]}},
            "CallbackUrl": {"Value": {"Fn::Sub": format!("https://{api}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/dev")}},
            "ConnectionsTableName": {"Value": {"Ref": "ConnectionsTable"}},
            "StageName": {"Value": "dev"}
        }
    });
    moto.aws(&[
        "cloudformation",
        "create-stack",
        "--stack-name",
        &stack_name,
        "--template-body",
        &template.to_string(),
    ]);
    let table = moto.physical_ids(&stack_name)["ConnectionsTable"].clone();

    let out = moto
        .sockstack(project.path())
        .args(["outputs", "dev", "--format", "json"])
        .args([
            "--handlers",
            handlers().to_str().unwrap(),
            "--region",
            REGION,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!({"stack": stack_name, "status": "CREATE_COMPLETE", "outputs": {
            "WebSocketUrl": wss, "CallbackUrl": callback,
            "ConnectionsTableName": table, "StageName": "dev"}})
    );

    let out = moto
        .sockstack(project.path())
        .args([
            "outputs",
            "stacks/dev.yaml",
            "--handlers",
            handlers().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("{stack_name} CREATE_COMPLETE"));
    assert_eq!(
        lines[1],
        format!("  WebSocketUrl          {wss}"),
        "URLs first:\n{text}"
    );
    assert_eq!(lines[2], format!("  CallbackUrl           {callback}"));
    assert!(
        text.contains(&format!("  ConnectionsTableName  {table}")),
        "{text}"
    );
}

#[test]
fn a_failing_deploy_says_what_failed() {
    let moto = moto();
    let project = Project::new();
    let stack_name = unique("team-health-fail");
    project.stack("dev", &stack_name, |t| t);
    let synthesized = project.synthesize("dev");
    project.bundles(&synthesized);

    // A missing bundle is named, before anything is called.
    let missing = &synthesized.model.functions[0].bundle_key;
    fs::remove_file(project.path().join("bundles").join(missing)).unwrap();
    let out = moto
        .sockstack(project.path())
        .args([
            "deploy",
            "dev",
            "--bucket",
            "no-such-bucket",
            "--bundles",
            "bundles",
        ])
        .args(["--handlers", handlers().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{missing} (handler `{}`)",
            synthesized.model.functions[0].handler
        )),
        "{}",
        stderr(&out)
    );
    project.bundles(&synthesized);

    // A CloudFormation failure. moto records no resource failures, so a stand-in
    // `aws` answers as real CloudFormation does after a failed update: the CLI's
    // generic message, then the stack's status and events.
    let fake = project.path().join("fake-aws");
    fs::create_dir_all(&fake).unwrap();
    let events = json!({"StackEvents": [
        {"LogicalResourceId": stack_name, "ResourceType": "AWS::CloudFormation::Stack",
         "ResourceStatus": "UPDATE_ROLLBACK_COMPLETE"},
        {"LogicalResourceId": "ConnectFunction", "ResourceType": "AWS::Lambda::Function",
         "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "Resource update cancelled"},
        {"LogicalResourceId": "VoteFunction", "ResourceType": "AWS::Lambda::Function",
         "ResourceStatus": "UPDATE_FAILED",
         "ResourceStatusReason": "Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey.\""},
        {"LogicalResourceId": stack_name, "ResourceType": "AWS::CloudFormation::Stack",
         "ResourceStatus": "UPDATE_IN_PROGRESS", "ResourceStatusReason": "User Initiated"}
    ]});
    let stacks =
        json!({"Stacks": [{"StackName": stack_name, "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}]});
    fs::write(fake.join("events.json"), events.to_string()).unwrap();
    fs::write(fake.join("stacks.json"), stacks.to_string()).unwrap();
    let script = format!(
        r#"#!/bin/sh
dir='{dir}'
case "$1 $2" in
  "--version ") echo "aws-cli/1.45.11 Python/3.11.7 Linux botocore/1.43.11" ;;
  "sts get-caller-identity") echo '{{"Arn": "arn:aws:iam::123456789012:user/me"}}' ;;
  "s3api head-bucket"|"s3api head-object"|"iam get-role") echo '{{}}' ;;
  "s3api get-bucket-location") echo '{{"LocationConstraint": null}}' ;;
  "apigateway get-account") echo '{{"cloudwatchRoleArn": "arn:aws:iam::123456789012:role/logs"}}' ;;
  "cloudformation get-template") echo '{{"Resources": {{}}}}' ;;
  "cloudformation create-change-set"|"cloudformation execute-change-set") echo '{{}}' ;;
  "cloudformation describe-change-set") echo '{{"Status": "CREATE_COMPLETE", "Changes": []}}' ;;
  "cloudformation describe-stack-events") cat "$dir/events.json" ;;
  "cloudformation describe-stacks") cat "$dir/stacks.json" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"#,
        dir = fake.display()
    );
    let aws = fake.join("aws");
    fs::write(&aws, script).unwrap();
    fs::set_permissions(&aws, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = common::sockstack(project.path())
        .args([
            "deploy",
            "dev",
            "--bucket",
            "any-bucket",
            "--bundles",
            "bundles",
            "--yes",
        ])
        .args(["--handlers", handlers().to_str().unwrap()])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a failed AWS step: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("stack {stack_name} is UPDATE_ROLLBACK_COMPLETE")),
        "{err}"
    );
    let cause = err.find("VoteFunction (AWS::Lambda::Function) UPDATE_FAILED: Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey.\"");
    let cancelled = err
        .find("ConnectFunction (AWS::Lambda::Function) UPDATE_FAILED: Resource update cancelled");
    assert!(
        cause.is_some() && cancelled.is_some() && cause < cancelled,
        "the cause first, then what it cancelled:\n{err}"
    );
}

#[test]
fn dry_run_prints_the_commands_and_runs_nothing() {
    let project = Project::new();
    project.stack("dev", "team-health-dev", |t| t);
    let synthesized = project.synthesize("dev");
    // An `aws` that records being called: it must not be.
    let fake = project.path().join("fake-aws");
    fs::create_dir_all(&fake).unwrap();
    let called = project.path().join("called");
    fs::write(
        fake.join("aws"),
        format!("#!/bin/sh\necho \"$@\" >> '{}'\nexit 1\n", called.display()),
    )
    .unwrap();
    fs::set_permissions(
        fake.join("aws"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = common::sockstack(project.path())
        .args([
            "deploy",
            "dev",
            "--bucket",
            "my-artifacts",
            "--dry-run",
            "--region",
            REGION,
        ])
        .args(["--handlers", handlers().to_str().unwrap()])
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !called.exists(),
        "aws was called: {}",
        fs::read_to_string(&called).unwrap()
    );
    assert!(
        !project.path().join("out/assets").exists(),
        "nothing was built"
    );
    let text = stdout(&out);
    let keys: Vec<&str> = synthesized
        .model
        .functions
        .iter()
        .map(|f| f.bundle_key.as_str())
        .collect();
    let handlers_list: Vec<&str> = synthesized
        .model
        .functions
        .iter()
        .map(|f| f.handler.as_str())
        .collect();
    assert!(
        text.contains(&format!(
            "sockstack bundle --arch arm64 --handlers {} --out out/assets {}",
            handlers().display(),
            handlers_list.join(" ")
        )),
        "{text}"
    );
    for key in &keys {
        assert!(
            text.contains(&format!(
                "aws s3api head-object --bucket my-artifacts --key {key} --region {REGION} >/dev/null 2>&1 || \
                 aws s3 cp out/assets/{key} s3://my-artifacts/{key} --only-show-errors --region {REGION}"
            )),
            "{key}:\n{text}"
        );
    }
    for needle in [
        "aws cloudformation create-change-set --stack-name team-health-dev --change-set-name sockstack-",
        "--change-set-type UPDATE --template-body file://out/dev/template.yaml --capabilities CAPABILITY_IAM \
         --parameters '[{\"ParameterKey\":\"ArtifactBucket\",\"ParameterValue\":\"my-artifacts\"}]' \
         --tags '[{\"Key\":\"environment\",\"Value\":\"dev\"},{\"Key\":\"project\",\"Value\":\"team-health\"}]' \
         --region eu-west-1",
        "--change-set-type CREATE",
        "aws cloudformation execute-change-set --change-set-name sockstack-",
        "aws --version --region eu-west-1",
        "aws sts get-caller-identity --region eu-west-1",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    // The template the printed command deploys is written.
    assert_eq!(
        fs::read_to_string(project.path().join("out/dev/template.yaml")).unwrap(),
        synthesized.text
    );
    // Prebuilt bundles are checked even in a dry run.
    let out = common::sockstack(project.path())
        .args([
            "deploy",
            "dev",
            "--bucket",
            "my-artifacts",
            "--dry-run",
            "--bundles",
            "nowhere",
        ])
        .args(["--handlers", handlers().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(keys[0]), "{}", stderr(&out));
}

// ---------------------------------------------------------------- review, approval, preflight

/// A project whose handlers member is a stand-in with a custom `chat` handler, so the stack file can change
/// that function's grants (and with them its role's policy).
struct ChatProject {
    project: Project,
    stack_name: String,
}

impl ChatProject {
    fn new(grants: &str) -> ChatProject {
        let project = Project::new();
        common::fake_handlers(
            project.path(),
            &[
                "authorizer",
                "connect",
                "disconnect",
                "default",
                "vote",
                "chat",
            ],
        );
        let stack_name = unique("team-health-chat");
        let p = ChatProject {
            project,
            stack_name,
        };
        p.grants(grants);
        p
    }

    /// Writes the dev stack file with a `chat` function of these grants (a YAML flow mapping) behind a `chat`
    /// route, and its stand-in bundles.
    fn grants(&self, grants: &str) {
        self.project.stack("dev", &self.stack_name, |t| {
            let edited = t.replacen(
                "\n\nroutes:\n",
                &format!(
                    "\n  chat: {{grants: {grants}}}\n\nroutes:\n  - {{key: chat, function: chat}}\n"
                ),
                1,
            );
            assert_ne!(
                edited, t,
                "the dev stack file has `routes:` after `functions:`"
            );
            edited
        });
        let sources = HandlerSources::open(&self.project.path().join("handlers")).unwrap();
        let s = pipeline::synthesize(
            &self.project.path().join("stacks/dev.yaml"),
            &sources,
            Format::Yaml,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.project.bundles(&s);
    }

    fn run(&self, moto: &Moto, args: &[&str]) -> std::process::Output {
        moto.sockstack(self.project.path())
            .args(args)
            .args(["--handlers", "handlers", "--region", REGION])
            .output()
            .unwrap()
    }

    fn deploy(&self, moto: &Moto, bucket: &str, extra: &[&str]) -> std::process::Output {
        let mut args = vec!["deploy", "dev", "--bucket", bucket, "--bundles", "bundles"];
        args.extend(extra);
        self.run(moto, &args)
    }

    fn deployed_body(&self, moto: &Moto) -> String {
        moto.aws(&[
            "cloudformation",
            "get-template",
            "--stack-name",
            &self.stack_name,
            "--query",
            "TemplateBody",
        ])
        .as_str()
        .unwrap()
        .to_string()
    }

    /// Change sets that could still be executed (executed ones stay listed in moto).
    fn change_sets(&self, moto: &Moto) -> Vec<Value> {
        as_list(
            &moto.aws(&[
                "cloudformation",
                "list-change-sets",
                "--stack-name",
                &self.stack_name,
            ])["Summaries"],
        )
        .into_iter()
        .filter(|c| c["ExecutionStatus"] == "AVAILABLE")
        .collect()
    }
}

#[test]
fn widening_a_role_needs_approval_and_diff_deployed_shows_it_then_nothing() {
    let moto = moto();
    let chat = ChatProject::new("{}");
    let bucket = create_bucket(moto);
    let out = chat.deploy(moto, &bucket, &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    // A first deploy of new functions asks nothing: their roles are what the stack file asked for.
    assert!(!stderr(&out).contains("need approval"), "{}", stderr(&out));
    let before = chat.deployed_body(moto);

    // Deployed and synthesized are the same.
    let out = chat.run(moto, &["diff", "--deployed", "dev", "--fail-on", "any"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));

    // Sending to connections and writing a table give the chat role DynamoDB and @connections access it did
    // not have.
    chat.grants("{connections: send, tables: {profiles: readwrite}}");
    let out = chat.run(moto, &["diff", "--deployed", "dev", "--fail-on", "widened"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("ChatRole"), "{text}");
    assert!(text.contains("execute-api:ManageConnections"), "{text}");

    // --change-set: CloudFormation's verdict beside sockstack's; nothing left behind.
    let out = chat.run(
        moto,
        &[
            "diff",
            "--deployed",
            "dev",
            "--change-set",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources = as_list(&v["changeSet"]["resources"]);
    let role = resources
        .iter()
        .find(|r| r["logical_id"] == "ChatRole")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(role["cloudformation"]["action"], "Modify");
    assert_eq!(role["sockstack"]["replacement"], "False");
    // moto reports no `Replacement`, so there is no verdict to agree with (the comparison itself is tested on
    // a recorded describe-change-set reply in src/deploy/changeset.rs).
    assert_eq!(role["agrees"], Value::Null);
    assert!(
        chat.change_sets(moto).is_empty(),
        "the change set was deleted"
    );
    assert_eq!(chat.deployed_body(moto), before);

    // Without a terminal and without --yes: refused, the widening named, the stack unchanged.
    let out = chat.deploy(moto, &bucket, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("these changes need approval"), "{err}");
    assert!(
        err.contains("widens access: ChatRole (AWS::IAM::Role)"),
        "{err}"
    );
    assert!(err.contains("stdin is not a terminal"), "{err}");
    assert!(!err.contains("[7/7]"), "never executed:\n{err}");
    assert_eq!(chat.deployed_body(moto), before, "the stack is unchanged");
    assert!(
        chat.change_sets(moto).is_empty(),
        "the change set was deleted"
    );

    // With --yes it applies.
    let out = chat.deploy(moto, &bucket, &["--yes"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("approved by --yes"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains(&format!("{} UPDATE_COMPLETE", chat.stack_name)),
        "{}",
        stdout(&out)
    );
    let now = fs::read_to_string(chat.project.path().join("out/dev/template.yaml")).unwrap();
    assert_eq!(chat.deployed_body(moto), now);

    // And now the deployed stack is what the stack file says.
    let out = chat.run(moto, &["diff", "--deployed", "dev", "--fail-on", "any"]);
    assert_exit(&out, 0);
}

#[test]
fn a_change_set_for_a_stack_not_deployed_leaves_no_stack_behind() {
    let moto = moto();
    let chat = ChatProject::new("{}");
    let bucket = create_bucket(moto);
    let out = chat.run(
        moto,
        &[
            "diff",
            "--deployed",
            "dev",
            "--change-set",
            "--bucket",
            &bucket,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(created)"), "{text}");
    assert!(
        text.contains("ChatRole (AWS::IAM::Role): CloudFormation Add · sockstack Add"),
        "{text}"
    );
    let gone = moto
        .try_aws(&[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            &chat.stack_name,
        ])
        .unwrap_err();
    assert!(
        gone.contains("does not exist"),
        "no REVIEW_IN_PROGRESS stack: {gone}"
    );
}

/// The objects in `bucket` (empty: nothing was uploaded).
fn objects(moto: &Moto, bucket: &str, region: &str) -> Vec<Value> {
    as_list(
        &moto.aws(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--region",
            region,
        ])["Contents"],
    )
}

#[test]
fn preflight_failures_say_what_to_run_and_upload_nothing() {
    let moto = moto();
    let chat = ChatProject::new("{}");

    // No bucket.
    let out = chat.deploy(moto, "no-such-bucket-sockstack", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bucket no-such-bucket-sockstack does not exist"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "aws s3 mb s3://no-such-bucket-sockstack --region {REGION}"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was uploaded"), "{err}");
    assert!(!err.contains("[3/7]"), "stopped before the bundles:\n{err}");

    // No credentials.
    let bucket = create_bucket(moto);
    let out = moto
        .sockstack(chat.project.path())
        .args(["deploy", "dev", "--bucket", &bucket, "--bundles", "bundles"])
        .args(["--handlers", "handlers", "--region", REGION])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the AWS credentials do not work"), "{err}");
    assert!(err.contains("aws configure"), "{err}");
    assert!(
        objects(moto, &bucket, REGION).is_empty(),
        "nothing uploaded"
    );

    // No API Gateway account role in this region, and the dev stack's stage writes access logs.
    let region = "us-west-2";
    let bucket = unique("artifacts-west").to_lowercase();
    let bucket = bucket[..bucket.len().min(63)].to_string();
    moto.create_bucket(&bucket, region);
    let out = moto
        .sockstack(chat.project.path())
        .args(["deploy", "dev", "--bucket", &bucket, "--bundles", "bundles"])
        .args(["--handlers", "handlers", "--region", region])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("API Gateway has no CloudWatch role"), "{err}");
    assert!(err.contains("apiGatewayAccountRole: true"), "{err}");
    assert!(
        err.contains(
            "aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn"
        ),
        "{err}"
    );
    assert!(
        objects(moto, &bucket, region).is_empty(),
        "nothing uploaded"
    );
}

#[test]
fn dry_run_script_is_safe_to_paste_whatever_the_names() {
    let project = Project::new();
    // Hostile paths and tag values: quotes, command substitution, a newline.
    project.stack("dev", "team-health-dev", |t| {
        t.replace(
            "environment: dev",
            "environment: \"dev'; touch PWNED-TAG; '\"",
        )
    });
    let real = handlers();
    let handlers_link = project.path().join("h a'n$(touch PWNED-H)");
    std::os::unix::fs::symlink(&real, &handlers_link).unwrap();
    let out_dir = "o u't;$(touch PWNED-OUT)\nx";
    let fake = project.path().join("fake-bin");
    fs::create_dir_all(&fake).unwrap();
    let log = project.path().join("calls.log");
    for (name, code) in [("aws", "0"), ("sockstack", "0")] {
        let script = format!(
            "#!/bin/sh\n{{ printf '%s\\n' {name}; for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; }} >> '{}'\n\
             case \"$*\" in *describe-stacks*--query*) ;; *describe-stacks*) exit 1 ;; esac\nexit {code}\n",
            log.display()
        );
        fs::write(fake.join(name), script).unwrap();
        fs::set_permissions(
            fake.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    let out = common::sockstack(project.path())
        .args(["deploy", "dev", "--bucket", "my-artifacts", "--dry-run"])
        .args(["--region", REGION, "--out", out_dir, "--handlers"])
        .arg(&handlers_link)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let script = project.path().join("deploy.sh");
    fs::write(&script, &out.stdout).unwrap();
    let run = Command::new("sh")
        .arg(&script)
        .current_dir(project.path())
        .env("PATH", format!("{}:/usr/bin:/bin", fake.display()))
        .env("EXECUTE", "1")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the script runs:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    for marker in ["PWNED-TAG", "PWNED-H", "PWNED-OUT"] {
        assert!(
            !project.path().join(marker).exists(),
            "{marker}: the script ran something it should have quoted:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let calls = fs::read_to_string(&log).unwrap();
    // Each value reached the command as one argument, exactly.
    assert!(
        calls.contains(&format!("[{}]\n", handlers_link.display())),
        "{calls}"
    );
    assert!(calls.contains(&format!("[{out_dir}/assets]\n")), "{calls}");
    assert!(
        calls.contains("\"Key\":\"environment\",\"Value\":\"dev'; touch PWNED-TAG; '\""),
        "{calls}"
    );
    assert!(
        calls.contains("[execute-change-set]"),
        "EXECUTE=1 runs it:\n{calls}"
    );
    assert!(calls.contains("[stack-create-complete]"), "{calls}");

    // A hostile bucket or stack name never reaches a script: both are refused as bad input.
    let out = common::sockstack(project.path())
        .args([
            "deploy",
            "dev",
            "--bucket",
            "b'; touch PWNED-B; '",
            "--dry-run",
        ])
        .args(["--handlers"])
        .arg(&handlers_link)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no script for a bad bucket name");
    project.stack("dev", "team'; touch PWNED-S; '", |t| t);
    let out = common::sockstack(project.path())
        .args(["deploy", "dev", "--bucket", "my-artifacts", "--dry-run"])
        .args(["--handlers"])
        .arg(&handlers_link)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no script for a bad stack name");
    assert!(
        stderr(&out).contains("is not a valid CloudFormation stack name"),
        "{}",
        stderr(&out)
    );
}
