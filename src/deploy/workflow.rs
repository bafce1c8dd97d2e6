//! `sockstack deploy`, the whole path: synth output → preflight → bundles → upload → change set → review
//! (and approval) → execute exactly that change set → outputs. Or, with `--dry-run`, the same as a shell
//! script that runs nothing here.

use super::approval::{self, RequireApproval};
use super::assets::{self, Asset};
use super::aws::{Aws, AwsError, args, shell_comment, shell_line, shell_quote};
use super::changeset::{self, Kind, ParameterValue, Request, TemplateSource};
use super::preflight;
use super::progress::{Event, Reporter};
use super::prompt::Prompt;
use super::stack::{self, StackFailure, StackInfo};
use super::upload::{self, Outcome};
use crate::bundle::Progress;
use crate::diff::report::terminal;
use crate::emit;
use crate::pipeline::Synthesized;
use crate::raw::RawTemplate;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

const STEPS: usize = 7;

/// How to deploy.
#[derive(Debug, Clone)]
pub struct Options {
    /// The artifact bucket (the template's `ArtifactBucket`).
    pub bucket: String,
    /// Prebuilt zips from here instead of building them.
    pub bundles: Option<PathBuf>,
    /// Output folder (`<out>/<stack>/`, built zips in `<out>/assets/`).
    pub out: PathBuf,
    /// The handlers member (for building).
    pub handlers: PathBuf,
    /// The region the AWS CLI uses, when known (`--region`, `AWS_REGION`…).
    pub region: Option<String>,
    /// Which changes need a yes.
    pub require_approval: RequireApproval,
    /// The yes, given in advance.
    pub yes: bool,
}

/// How a deploy ended well.
#[derive(Debug)]
pub enum Deployed {
    /// The change set was executed; the stack as it is now.
    Done(StackInfo),
    /// The template and parameters are what the stack already has.
    Unchanged(StackInfo),
}

/// Why a deploy stopped. [`DeployError::exit_code`] says how the command exits.
#[derive(Debug)]
pub enum DeployError {
    /// Bad input: a bucket name, a missing bundle, an unwritable folder.
    Input(String),
    /// The template's own checks found errors.
    Findings(usize),
    /// Preflight found problems; nothing was uploaded.
    Preflight(preflight::Failed),
    /// Building the bundles failed.
    Bundle(String),
    /// An AWS step failed.
    Aws(String),
    /// CloudFormation failed, with what the stack says.
    Stack(Box<StackFailure>),
    /// The changes needed approval and did not get it; the change set was deleted.
    NotApproved {
        /// What needed approval.
        concerns: Vec<String>,
        /// Whether anyone could have been asked.
        interactive: bool,
    },
}

impl DeployError {
    /// 1 when a check or the approval gate stopped it, 2 for bad input or a failed external step.
    pub fn exit_code(&self) -> u8 {
        match self {
            DeployError::Findings(_) | DeployError::NotApproved { .. } => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for DeployError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployError::Input(m) | DeployError::Bundle(m) | DeployError::Aws(m) => f.write_str(m),
            DeployError::Findings(n) => write!(
                f,
                "the checks found {n} error(s) in the template; nothing was deployed"
            ),
            DeployError::Preflight(p) => write!(f, "{p}"),
            DeployError::Stack(s) => write!(f, "the deployment failed: {s}"),
            DeployError::NotApproved {
                concerns,
                interactive,
            } => {
                write!(f, "not deployed: these changes need approval")?;
                for c in concerns {
                    write!(f, "\n  - {c}")?;
                }
                if !interactive {
                    write!(
                        f,
                        "\nstdin is not a terminal, so no one could be asked: review them and pass --yes \
                         (or --require-approval never)"
                    )?;
                }
                write!(f, "\nthe change set was deleted; the stack is unchanged")
            }
        }
    }
}

impl std::error::Error for DeployError {}

/// Whether `name` can be an S3 bucket name (what the template's parameter pattern accepts).
pub fn valid_bucket(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// What is deployed, prepared from a synthesized stack.
struct Plan {
    stack_name: String,
    template_file: PathBuf,
    template: RawTemplate,
    text: String,
    tags: BTreeMap<String, String>,
    bundle_dir: PathBuf,
    needed: Vec<Asset>,
}

fn prepare(s: &Synthesized, options: &Options) -> Result<Plan, DeployError> {
    if !valid_bucket(&options.bucket) {
        return Err(DeployError::Input(format!(
            "{:?} is not an S3 bucket name (3-63 characters: lower-case letters, digits, dots, hyphens)",
            options.bucket
        )));
    }
    let errors = s
        .findings
        .iter()
        .filter(|f| f.severity == crate::check::Severity::Error)
        .count();
    if errors > 0 {
        return Err(DeployError::Findings(errors));
    }
    emit::write_all(&options.out, &[s.output()])
        .map_err(|e| DeployError::Input(format!("cannot write {}: {e}", options.out.display())))?;
    let template = RawTemplate::parse(&s.text)
        .map_err(|e| DeployError::Input(format!("the synthesized template: {e}")))?;
    let bundle_dir = options
        .bundles
        .clone()
        .unwrap_or_else(|| options.out.join("assets"));
    Ok(Plan {
        stack_name: s.model.stack_name.clone(),
        template_file: options.out.join(&s.name).join(s.template_file()),
        template,
        text: s.text.clone(),
        tags: s.model.tags.clone(),
        needed: assets::needed(&s.model, &bundle_dir),
        bundle_dir,
    })
}

fn step(reporter: &dyn Reporter, n: usize, name: &str, text: String) {
    reporter.report(Event::Step {
        n,
        of: STEPS,
        name: name.into(),
        text,
    });
}

/// The template's key in the bucket when it is too big to send inline.
fn template_key(plan: &Plan) -> String {
    let name = changeset::name_for(&plan.text, &BTreeMap::new());
    format!("sockstack/{}/{name}.template", plan.stack_name)
}

/// Deploys `synthesized` (see the module doc). Progress goes to `reporter`; questions to `prompt`.
pub fn deploy(
    synthesized: &Synthesized,
    options: &Options,
    aws: &dyn Aws,
    reporter: &dyn Reporter,
    prompt: &dyn Prompt,
) -> Result<Deployed, DeployError> {
    let plan = prepare(synthesized, options)?;
    step(
        reporter,
        1,
        "synth",
        format!(
            "{} -> {} (stack {}, {} resources, {} bytes)",
            synthesized.file.display(),
            plan.template_file.display(),
            plan.stack_name,
            plan.template.resources.len(),
            plan.text.len()
        ),
    );
    if options.bundles.is_some() {
        assets::check_present(&plan.bundle_dir, &plan.needed)
            .map_err(|m| DeployError::Input(m.to_string()))?;
    }

    step(
        reporter,
        2,
        "preflight",
        "AWS CLI, credentials, bucket, stack state, API Gateway account role".into(),
    );
    let passed = preflight::run(
        aws,
        &preflight::Checks {
            stack_name: &plan.stack_name,
            bucket: &options.bucket,
            region: options.region.as_deref(),
            template: &plan.template,
        },
    )
    .map_err(DeployError::Preflight)?;
    reporter.report(Event::Detail(format!(
        "{} as {}; stack {}",
        passed.cli,
        passed.identity,
        passed
            .stack
            .as_ref()
            .map_or("does not exist yet".to_string(), |s| format!(
                "is {}",
                s.status
            ))
    )));

    let assets = match &options.bundles {
        Some(dir) => {
            step(
                reporter,
                3,
                "bundles",
                format!(
                    "{} prebuilt zip(s) from {}",
                    plan.needed.len(),
                    dir.display()
                ),
            );
            plan.needed.clone()
        }
        None => {
            step(
                reporter,
                3,
                "bundles",
                format!(
                    "building {} handler(s) into {}",
                    plan.needed.len(),
                    plan.bundle_dir.display()
                ),
            );
            build(synthesized, options, &plan, reporter)?
        }
    };

    step(
        reporter,
        4,
        "upload",
        format!("{} zip(s) to s3://{}", assets.len(), options.bucket),
    );
    upload::upload_missing(aws, &options.bucket, &assets, &mut |asset, outcome| {
        let what = match outcome {
            Outcome::Present => "already there",
            Outcome::Uploaded => "uploaded",
        };
        reporter.report(Event::Detail(format!("{} {what}", asset.key)));
    })
    .map_err(|e| DeployError::Aws(e.to_string()))?;
    let source = if plan.text.len() > super::INLINE_TEMPLATE_LIMIT {
        let key = template_key(&plan);
        aws.run(&upload::copy_args(
            &plan.template_file,
            &options.bucket,
            &key,
        ))
        .map_err(|e| DeployError::Aws(e.to_string()))?;
        let region = options.region.as_deref().unwrap_or("us-east-1");
        reporter.report(Event::Detail(format!(
            "template ({} bytes) to s3://{}/{key}",
            plan.text.len(),
            options.bucket
        )));
        TemplateSource::Url(format!(
            "https://{}.s3.{region}.amazonaws.com/{key}",
            options.bucket
        ))
    } else {
        TemplateSource::File(plan.template_file.clone())
    };

    step(
        reporter,
        5,
        "change set",
        format!("what CloudFormation would change in {}", plan.stack_name),
    );
    let existing = passed.stack.filter(StackInfo::exists);
    let deployed = match &existing {
        Some(_) => stack::deployed_template(aws, &plan.stack_name).map_err(aws_error)?,
        None => None,
    };
    let mut given = BTreeMap::new();
    given.insert(
        crate::synth::ARTIFACT_BUCKET.to_string(),
        options.bucket.clone(),
    );
    let parameters: BTreeMap<String, ParameterValue> =
        super::deployed::parameters(&plan.template, existing.as_ref(), &given)
            .map_err(DeployError::Input)?;
    if let (Some(info), Some(d)) = (&existing, &deployed)
        && d.document == plan.template.document
        && info.parameters.get(crate::synth::ARTIFACT_BUCKET) == Some(&options.bucket)
        && info.tags == plan.tags
    {
        reporter.report(Event::Detail(format!(
            "no changes: stack {} already has this template, bucket and tags",
            plan.stack_name
        )));
        reporter.finish();
        return Ok(Deployed::Unchanged(info.clone()));
    }
    let request = Request {
        stack_name: plan.stack_name.clone(),
        name: changeset::name_for(&plan.text, &parameters),
        kind: if existing.is_some() {
            Kind::Update
        } else {
            Kind::Create
        },
        template: source,
        capability: stack::capability(&plan.template),
        parameters,
        tags: plan.tags.clone(),
    };
    let computed = changeset::create(aws, &request).map_err(aws_error)?;
    if computed.status != "CREATE_COMPLETE" {
        let _ = changeset::discard(aws, &request);
        return Err(DeployError::Aws(format!(
            "CloudFormation could not make change set {}: {}",
            request.name,
            computed.reason.unwrap_or(computed.status)
        )));
    }

    step(
        reporter,
        6,
        "review",
        format!("change set {}", request.name),
    );
    let label = super::deployed::label(&plan.stack_name);
    let report = crate::diff::DiffReport::new(vec![crate::diff::StackDiff::new(
        &synthesized.name,
        deployed.as_ref().map(|d| (d, label)),
        Some((&plan.template, plan.template_file.display().to_string())),
        crate::diff::Schemas::bundled(),
    )]);
    reporter.report(Event::Text(terminal::render(
        &report,
        terminal::Style { color: false },
    )));
    let changes = report.stacks[0].changes.clone();
    let comparisons = changeset::compare(&changes, &computed.resources);
    reporter.report(Event::Text(changeset::render_terminal(
        &request.name,
        &comparisons,
    )));
    let concerns = approval::to_approve(options.require_approval, &changes, &computed.resources);
    if !concerns.is_empty() {
        reporter.finish();
        let approved = if options.yes {
            reporter.report(Event::Detail(format!(
                "{} change(s) need approval: approved by --yes",
                concerns.len()
            )));
            true
        } else if prompt.interactive() {
            let mut q = String::from("These changes need your approval:\n");
            for c in &concerns {
                q.push_str(&format!("  - {c}\n"));
            }
            q.push_str(&format!(
                "Execute change set {} on stack {}? [y/N] ",
                request.name, plan.stack_name
            ));
            matches!(prompt.ask(&q).to_ascii_lowercase().as_str(), "y" | "yes")
        } else {
            false
        };
        if !approved {
            changeset::discard(aws, &request).map_err(aws_error)?;
            return Err(DeployError::NotApproved {
                concerns,
                interactive: prompt.interactive(),
            });
        }
    }

    step(
        reporter,
        7,
        "execute",
        format!("change set {} on {}", request.name, plan.stack_name),
    );
    let mut seen = stack::seen_events(aws, &plan.stack_name);
    aws.run(&request.execute_args())
        .map_err(|e| stack_error(aws, &plan.stack_name, e.to_string()))?;
    let done = stack::follow(aws, &plan.stack_name, &mut seen, reporter)
        .map_err(|e| stack_error(aws, &plan.stack_name, e.to_string()))?;
    reporter.finish();
    match done {
        Some(info) if matches!(info.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") => {
            Ok(Deployed::Done(info))
        }
        Some(info) => Err(stack_error(
            aws,
            &plan.stack_name,
            format!("stack {} ended in {}", plan.stack_name, info.status),
        )),
        None => Err(DeployError::Aws(format!(
            "stack {} is gone after its change set ran",
            plan.stack_name
        ))),
    }
}

fn aws_error(e: AwsError) -> DeployError {
    DeployError::Aws(e.to_string())
}

fn stack_error(aws: &dyn Aws, stack_name: &str, error: String) -> DeployError {
    DeployError::Stack(Box::new(stack::explain(aws, stack_name, error)))
}

/// The bundle step: builds the zips with [`crate::bundle`] (the library behind `sockstack bundle`).
fn build(
    synthesized: &Synthesized,
    options: &Options,
    plan: &Plan,
    reporter: &dyn Reporter,
) -> Result<Vec<Asset>, DeployError> {
    let mut report = |event: Progress| {
        reporter.report(Event::Detail(match event {
            Progress::Building { handlers, command } => {
                format!("building {}: {command}", handlers.join(", "))
            }
            Progress::Wrote(b) => format!(
                "{} -> {} ({} bytes)",
                b.handler,
                b.path.display(),
                b.zip_bytes
            ),
        }))
    };
    let built = assets::build(
        &synthesized.model,
        &options.handlers,
        &plan.bundle_dir,
        &mut report,
    )
    .map_err(|e| {
        if e.is_bad_input() {
            DeployError::Input(format!("bundle: {e}"))
        } else {
            DeployError::Bundle(format!("bundle: {e}"))
        }
    })?;
    assets::check_present(&plan.bundle_dir, &built)
        .map_err(|m| DeployError::Bundle(format!("the build did not write every bundle: {m}")))?;
    Ok(built)
}

/// The deploy as a shell script that does what [`deploy`] does (without its review and question: the script
/// stops after computing the change set unless run with `EXECUTE=1`). Every value is quoted, so the script is
/// safe to paste whatever the names and paths. Writes `<out>/<stack>/` (the template the script deploys).
pub fn dry_run(
    synthesized: &Synthesized,
    options: &Options,
    aws: &dyn Aws,
) -> Result<String, DeployError> {
    let plan = prepare(synthesized, options)?;
    if options.bundles.is_some() {
        assets::check_present(&plan.bundle_dir, &plan.needed)
            .map_err(|m| DeployError::Input(m.to_string()))?;
    }
    let line = |a: &[String]| aws.command_line(a);
    let mut out = vec![
        "#!/bin/sh".to_string(),
        shell_comment(&format!(
            "sockstack deploy --dry-run: stack {} from {} (template written to {})",
            plan.stack_name,
            synthesized.file.display(),
            plan.template_file.display()
        )),
        "set -eu".into(),
        "# preflight: the CLI, the credentials, the bucket".into(),
        line(&args(["--version"])),
        line(&args(["sts", "get-caller-identity"])),
        line(&upload::head_bucket_args(&options.bucket)),
    ];
    match &options.bundles {
        Some(dir) => out.push(shell_comment(&format!(
            "bundles: prebuilt, from {}",
            dir.display()
        ))),
        None => {
            out.push("# bundles".into());
            for (arch, handlers) in assets::by_arch(&synthesized.model) {
                let mut a = vec![
                    "bundle".to_string(),
                    "--arch".into(),
                    arch.to_string(),
                    "--handlers".into(),
                    options.handlers.to_string_lossy().into_owned(),
                    "--out".into(),
                    plan.bundle_dir.to_string_lossy().into_owned(),
                ];
                a.extend(handlers);
                out.push(shell_line("sockstack", &a));
            }
        }
    }
    out.push("# upload what the bucket lacks".into());
    for a in &plan.needed {
        out.push(format!(
            "{} >/dev/null 2>&1 || {}",
            line(&upload::head_object_args(&options.bucket, &a.key)),
            line(&upload::copy_args(&a.path, &options.bucket, &a.key))
        ));
    }
    let source = if plan.text.len() > super::INLINE_TEMPLATE_LIMIT {
        let key = template_key(&plan);
        out.push(line(&upload::copy_args(
            &plan.template_file,
            &options.bucket,
            &key,
        )));
        let region = options.region.as_deref().unwrap_or("us-east-1");
        TemplateSource::Url(format!(
            "https://{}.s3.{region}.amazonaws.com/{key}",
            options.bucket
        ))
    } else {
        TemplateSource::File(plan.template_file.clone())
    };
    let parameters: BTreeMap<String, ParameterValue> = [(
        crate::synth::ARTIFACT_BUCKET.to_string(),
        ParameterValue::Value(options.bucket.clone()),
    )]
    .into();
    let request = |kind| Request {
        stack_name: plan.stack_name.clone(),
        name: changeset::name_for(&plan.text, &parameters),
        kind,
        template: source.clone(),
        capability: stack::capability(&plan.template),
        parameters: parameters.clone(),
        tags: plan.tags.clone(),
    };
    let (update, create) = (request(Kind::Update), request(Kind::Create));
    let stack = shell_quote(&plan.stack_name);
    out.push("# a change set: UPDATE when the stack exists, else CREATE".into());
    out.push(format!(
        "if {} >/dev/null 2>&1; then",
        line(&stack::describe_args(&plan.stack_name))
    ));
    out.push(format!("  {}", line(&update.create_args())));
    out.push("  done_waiter=stack-update-complete".into());
    out.push("else".into());
    out.push(format!("  {}", line(&create.create_args())));
    out.push("  done_waiter=stack-create-complete".into());
    out.push("fi".into());
    out.push(line(&args([
        "cloudformation",
        "wait",
        "change-set-create-complete",
        "--stack-name",
        &plan.stack_name,
        "--change-set-name",
        &update.name,
    ])));
    out.push("# review what it changes, then run this script with EXECUTE=1".into());
    out.push(line(&update.describe_args()));
    out.push(
        "if [ \"${EXECUTE:-}\" != 1 ]; then echo 'review the change set above; EXECUTE=1 runs it' >&2; exit 0; fi"
            .into(),
    );
    out.push(line(&update.execute_args()));
    // The waiter is chosen above; everything else is quoted.
    out.push(format!(
        "aws cloudformation wait \"$done_waiter\" --stack-name {stack}{}",
        region_suffix(aws)
    ));
    let mut outputs = stack::describe_args(&plan.stack_name);
    outputs.extend(args(["--query", "Stacks[0].Outputs"]));
    out.push("# outputs".into());
    out.push(line(&outputs));
    Ok(out.join("\n") + "\n")
}

/// What the runner adds after the arguments of every call (` --region R`).
fn region_suffix(aws: &dyn Aws) -> String {
    aws.command_line(&[])
        .strip_prefix("aws")
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::fake::{FakeAws, Reply};
    use super::super::progress::Collect;
    use super::super::prompt::Answers;
    use super::*;
    use crate::emit::Format;
    use crate::sources::HandlerSources;
    use serde_json::{Value, json};

    /// The chat example's dev stack (its `send` function posts to connections).
    fn dev() -> Synthesized {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chat");
        let sources = HandlerSources::open(&root.join("handlers")).unwrap();
        crate::pipeline::synthesize(&root.join("stacks/dev.yaml"), &sources, Format::Yaml).unwrap()
    }

    /// The dev template as deployed before the send role could post to connections.
    fn narrower(s: &Synthesized) -> Value {
        let mut doc = RawTemplate::parse(&s.text).unwrap().document;
        let statements = doc["Resources"]["SendRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"]
            .as_array_mut()
            .unwrap();
        statements.retain(|st| st["Sid"] != "PostToConnections");
        doc
    }

    /// An account where everything is in order and the stack is deployed with `deployed`.
    fn account(s: &Synthesized, deployed: Value) -> FakeAws {
        let keys: Vec<String> = s
            .model
            .functions
            .iter()
            .map(|f| f.bundle_key.clone())
            .collect();
        assert!(!keys.is_empty());
        let stack = json!({"Stacks": [{"StackName": s.model.stack_name, "StackStatus": "UPDATE_COMPLETE",
            "Parameters": [{"ParameterKey": "ArtifactBucket", "ParameterValue": "my-artifacts"}],
            "Tags": s.model.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}]});
        FakeAws::new()
            .on(&["--version"], vec![Reply::Out("aws-cli/1.45.11 Python/3.11".into())])
            .json(&["sts", "get-caller-identity"], json!({"Arn": "arn:aws:iam::1:user/me"}))
            .on(&["s3api", "head-bucket"], vec![Reply::Out(String::new())])
            .json(&["s3api", "get-bucket-location"], json!({"LocationConstraint": "eu-west-1"}))
            .json(&["cloudformation", "describe-stacks"], stack)
            .json(
                &["apigateway", "get-account"],
                json!({"cloudwatchRoleArn": "arn:aws:iam::1:role/logs"}),
            )
            .on(&["iam", "get-role"], vec![Reply::Out("{}".into())])
            .on(&["s3api", "head-object"], vec![Reply::Out("{}".into())])
            .json(&["cloudformation", "get-template"], json!(deployed.to_string()))
            .json(&["cloudformation", "create-change-set"], json!({}))
            .json(
                &["cloudformation", "describe-change-set"],
                json!({"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": {
                    "Action": "Modify", "LogicalResourceId": "SendRole", "ResourceType": "AWS::IAM::Role",
                    "Replacement": "False"}}]}),
            )
            .json(&["cloudformation", "describe-stack-events"], json!({"StackEvents": []}))
            .on(&["cloudformation", "delete-change-set"], vec![Reply::Out(String::new())])
            .on(&["cloudformation", "execute-change-set"], vec![Reply::Out(String::new())])
    }

    fn options(out: &std::path::Path) -> Options {
        Options {
            bucket: "my-artifacts".into(),
            bundles: None,
            out: out.to_path_buf(),
            handlers: "handlers".into(),
            region: Some("eu-west-1".into()),
            require_approval: RequireApproval::Broadening,
            yes: false,
        }
    }

    /// Prebuilt stand-in zips, so nothing is built.
    fn with_bundles(s: &Synthesized, dir: &std::path::Path) -> Options {
        let bundles = dir.join("bundles");
        std::fs::create_dir_all(&bundles).unwrap();
        for f in &s.model.functions {
            std::fs::write(bundles.join(&f.bundle_key), b"zip").unwrap();
        }
        Options {
            bundles: Some(bundles),
            ..options(&dir.join("out"))
        }
    }

    #[test]
    fn a_widening_is_asked_about_by_name_and_a_no_executes_nothing() {
        let s = dev();
        let dir = tempfile::tempdir().unwrap();
        let aws = account(&s, narrower(&s));
        let answers = Answers::new(&["n"]);
        let err = deploy(
            &s,
            &with_bundles(&s, dir.path()),
            &aws,
            &Collect::default(),
            &answers,
        )
        .unwrap_err();
        let q = &answers.questions()[0];
        assert!(
            q.contains("widens access: SendRole (AWS::IAM::Role)"),
            "{q}"
        );
        assert!(q.contains("execute-api:ManageConnections"), "{q}");
        assert!(q.ends_with("[y/N] "), "{q}");
        assert!(matches!(
            err,
            DeployError::NotApproved {
                interactive: true,
                ..
            }
        ));
        assert_eq!(err.exit_code(), 1);
        assert!(
            aws.calls_to(&["cloudformation", "execute-change-set"])
                .is_empty()
        );
        assert_eq!(
            aws.calls_to(&["cloudformation", "delete-change-set"]).len(),
            1
        );
    }

    #[test]
    fn a_yes_executes_exactly_the_reviewed_change_set() {
        let s = dev();
        let dir = tempfile::tempdir().unwrap();
        let aws = account(&s, narrower(&s));
        let reporter = Collect::default();
        let done = deploy(
            &s,
            &with_bundles(&s, dir.path()),
            &aws,
            &reporter,
            &Answers::new(&["y"]),
        )
        .unwrap();
        assert!(matches!(done, Deployed::Done(ref i) if i.status == "UPDATE_COMPLETE"));
        let created = &aws.calls_to(&["cloudformation", "create-change-set"])[0];
        let executed = &aws.calls_to(&["cloudformation", "execute-change-set"])[0];
        let name = |call: &[String]| {
            call[call.iter().position(|a| a == "--change-set-name").unwrap() + 1].clone()
        };
        assert_eq!(name(created), name(executed));
        assert!(
            created
                .windows(2)
                .any(|w| w == ["--change-set-type", "UPDATE"])
        );
        assert!(
            aws.calls_to(&["s3", "cp"]).is_empty(),
            "the bucket had every zip"
        );
        let text = reporter.text();
        assert!(text.contains("deploy [6/7] review"), "{text}");
        assert!(text.contains("SendRole"), "{text}");
    }

    #[test]
    fn the_same_template_bucket_and_tags_make_no_change_set() {
        let s = dev();
        let dir = tempfile::tempdir().unwrap();
        let same = RawTemplate::parse(&s.text).unwrap().document;
        let aws = account(&s, same);
        let done = deploy(
            &s,
            &with_bundles(&s, dir.path()),
            &aws,
            &Collect::default(),
            &Answers::new(&[]),
        )
        .unwrap();
        assert!(matches!(done, Deployed::Unchanged(_)));
        assert!(
            aws.calls_to(&["cloudformation", "create-change-set"])
                .is_empty()
        );
    }

    #[test]
    fn a_bad_bucket_name_is_bad_input_before_any_call() {
        let s = dev();
        let dir = tempfile::tempdir().unwrap();
        let aws = FakeAws::new();
        let mut o = options(dir.path());
        o.bucket = "Not_A_Bucket".into();
        let err = deploy(&s, &o, &aws, &Collect::default(), &Answers::new(&[])).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(aws.calls().is_empty());
    }
}
