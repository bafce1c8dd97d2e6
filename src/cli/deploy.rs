//! `sockstack deploy`: synth → bundles → upload → `aws cloudformation deploy` → outputs.

use super::color::Paint;
use super::{BAD_INPUT, FINDINGS, OK, StackArgs, report_findings, synthesize_all};
use crate::bundle::Progress;
use crate::deploy::assets::{self, Asset};
use crate::deploy::aws::{Aws, AwsError, shell_quote};
use crate::deploy::stack::{self, DeployPlan};
use crate::deploy::upload::{self, Outcome};
use crate::emit::{self, Format};
use crate::pipeline::Synthesized;
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "\
Deploy one stack to AWS with the AWS CLI.

Steps, each reported on stderr:
  1. synth     the stack file -> out/<stack>/template.yaml (as `sockstack synth` does)
  2. bundles   build the handler zips for the stack's architecture into out/assets/
               (as `sockstack bundle` does), or take prebuilt ones from --bundles DIR;
               a zip is named <handler>-<hash of its sources>.zip, the key the template uses
  3. upload    every zip the bucket does not have yet (aws s3api head-object, aws s3 cp)
  4. deploy    aws cloudformation deploy: a change set with ArtifactBucket=<bucket>, the IAM
               capability the template needs, the stack file's tags, no failure on an empty
               change set; templates over 51,200 bytes go through the bucket
  5. outputs   the stack's outputs (WebSocket URL, callback URL, table names) on stdout

Credentials, region and endpoints are the AWS CLI's own (profiles, AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL…); --region overrides the region for every call. When CloudFormation
fails, the failing resources and their reasons are read from the stack events and printed.

--dry-run prints the commands, as a shell script, and runs none of them (it still writes
out/<stack>/, which the deploy command reads).

Exit codes: 0 deployed (or nothing to change), 1 a step failed, 2 bad input (an invalid stack
file, a missing bundle, no AWS CLI).";

pub const EXAMPLES: &str = "\
Examples:
  sockstack deploy dev --bucket my-artifacts               build, upload, deploy stacks/dev.yaml
  sockstack deploy prod --bucket my-artifacts --region eu-west-1
  sockstack deploy dev --bucket my-artifacts --bundles out/assets   prebuilt zips
  sockstack deploy dev --bucket my-artifacts --dry-run     print the commands only";

/// The stack a command works on, and where things are.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The stack: a stack file's name (`dev` for <stacks-dir>/dev.yaml) or a path to a stack file.
    #[arg(value_name = "STACK")]
    pub stack: String,

    /// Where stack files are found by name.
    #[arg(long, value_name = "DIR", default_value = "stacks")]
    pub stacks_dir: PathBuf,

    /// The handlers member (its src/bin/*.rs are the handlers; their sources name the bundles).
    #[arg(long, value_name = "DIR", default_value = "handlers")]
    pub handlers: PathBuf,

    /// AWS region for every call [default: the AWS CLI's: AWS_REGION, AWS_DEFAULT_REGION, profile].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl Target {
    /// The stack file: STACK itself when it is a path, else <stacks-dir>/STACK.yaml (or .yml).
    pub fn file(&self) -> PathBuf {
        let given = Path::new(&self.stack);
        let looks_like_path = given.components().count() > 1
            || given.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if looks_like_path || given.is_file() {
            return given.to_path_buf();
        }
        let yml = self.stacks_dir.join(format!("{}.yml", self.stack));
        if yml.is_file() {
            return yml;
        }
        self.stacks_dir.join(format!("{}.yaml", self.stack))
    }

    /// Synthesizes the stack file in memory; reports problems and returns the exit code on failure.
    pub fn synthesize(&self, paint: &Paint) -> Result<Synthesized, u8> {
        let file = self.file();
        if !file.is_file() {
            eprintln!(
                "{} no stack file {} (STACK is a stack file's name in {} or a path to one)",
                paint.error("error:"),
                file.display(),
                self.stacks_dir.display()
            );
            return Err(BAD_INPUT);
        }
        let args = StackArgs {
            stacks: vec![file.to_string_lossy().into_owned()],
            stacks_dir: Some(self.stacks_dir.clone()),
            handlers: Some(self.handlers.clone()),
        };
        let mut all = synthesize_all(&args, Format::Yaml, paint)?;
        Ok(all.remove(0))
    }

    /// The AWS CLI runner, with the region if one was given.
    pub fn aws(&self) -> Aws {
        Aws::find(self.region.clone())
    }

    /// The region, for messages.
    pub fn region_text(&self) -> String {
        self.region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "the AWS CLI's default region".into())
    }
}

/// Arguments of `deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: Target,

    /// The S3 bucket for the handler zips (the template's ArtifactBucket); it must exist.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: String,

    /// Take prebuilt zips (named <handler>-<hash>.zip, as `sockstack bundle` writes them) from DIR
    /// instead of building them.
    #[arg(long, value_name = "DIR")]
    pub bundles: Option<PathBuf>,

    /// Output folder of the synthesized template (<DIR>/<stack>/) and of built zips (<DIR>/assets/).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// Whether `name` can be an S3 bucket name (what the template's parameter pattern accepts).
fn valid_bucket(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

fn step(paint: &Paint, n: u8, name: &str, text: &str) {
    eprintln!("{} {text}", paint.bold(&format!("deploy [{n}/5] {name}:")));
}

pub fn run(args: &DeployArgs, paint: &Paint) -> u8 {
    if !valid_bucket(&args.bucket) {
        eprintln!(
            "{} {:?} is not an S3 bucket name (3-63 characters: lower-case letters, digits, dots, hyphens)",
            paint.error("error:"),
            args.bucket
        );
        return BAD_INPUT;
    }

    // 1. synth
    let synthesized = match args.target.synthesize(paint) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (errors, _) = report_findings(std::slice::from_ref(&synthesized), paint);
    if errors > 0 {
        eprintln!(
            "{} the checks found {errors} error(s) in the template; nothing was deployed",
            paint.error("error:")
        );
        return FINDINGS;
    }
    if let Err(e) = emit::write_all(&args.out, &[synthesized.output()]) {
        eprintln!(
            "{} cannot write {}: {e}",
            paint.error("error:"),
            args.out.display()
        );
        return BAD_INPUT;
    }
    let template_file = args
        .out
        .join(&synthesized.name)
        .join(synthesized.template_file());
    let model = &synthesized.model;
    let stack_name = model.stack_name.clone();
    step(
        paint,
        1,
        "synth",
        &format!(
            "{} -> {} (stack {stack_name}, {} resources, {} bytes)",
            synthesized.file.display(),
            template_file.display(),
            synthesized.template.resources.len(),
            synthesized.text.len()
        ),
    );

    let aws = args.target.aws();
    let template_value = synthesized.template.to_value();
    let plan = DeployPlan {
        stack_name: stack_name.clone(),
        template_file: template_file.clone(),
        template_bytes: synthesized.text.len(),
        bucket: args.bucket.clone(),
        tags: model.tags.clone(),
        capability: stack::capability(&template_value),
    };
    let bundle_dir = args
        .bundles
        .clone()
        .unwrap_or_else(|| args.out.join("assets"));
    let needed = assets::needed(model, &bundle_dir);

    if args.dry_run {
        return dry_run(args, &synthesized, &aws, &plan, &bundle_dir, &needed, paint);
    }

    // 2. bundles
    let assets = match &args.bundles {
        Some(dir) => {
            if let Err(missing) = assets::check_present(dir, &needed) {
                eprintln!("{} {missing}", paint.error("error:"));
                return BAD_INPUT;
            }
            step(
                paint,
                2,
                "bundles",
                &format!("{} prebuilt zip(s) from {}", needed.len(), dir.display()),
            );
            needed
        }
        None => {
            step(
                paint,
                2,
                "bundles",
                &format!(
                    "building {} handler(s) into {}",
                    needed.len(),
                    bundle_dir.display()
                ),
            );
            match build_bundles(args, &synthesized, &bundle_dir) {
                Ok(a) => a,
                Err(code) => return code,
            }
        }
    };

    // 3. upload
    step(
        paint,
        3,
        "upload",
        &format!("{} zip(s) to s3://{}", assets.len(), args.bucket),
    );
    let mut report = |asset: &Asset, outcome: Outcome| {
        let what = match outcome {
            Outcome::Present => "already there".to_string(),
            Outcome::Uploaded => paint.good("uploaded"),
        };
        eprintln!("  {} {what}", asset.key);
    };
    if let Err(e) = upload::upload_missing(&aws, &args.bucket, &assets, &mut report) {
        eprintln!("{} {e}", paint.error("error:"));
        return aws_exit(e_source(&e));
    }

    // 4. deploy
    step(
        paint,
        4,
        "deploy",
        &format!(
            "aws cloudformation deploy {stack_name} ({}{})",
            args.target.region_text(),
            if plan.through_s3() {
                ", template through S3"
            } else {
                ""
            }
        ),
    );
    if let Err(failure) = stack::deploy(&aws, &plan, &mut |line| eprintln!("  | {line}")) {
        eprintln!(
            "{} the deployment of {stack_name} failed: {failure}",
            paint.error("error:")
        );
        return aws_exit(&failure.error);
    }

    // 5. outputs
    step(paint, 5, "outputs", &stack_name);
    match stack::describe(&aws, &stack_name) {
        Ok(Some(info)) => {
            super::outputs::print_human(&info, paint);
            if info.outputs.is_empty() {
                eprintln!(
                    "{} the stack reports no outputs; try `sockstack outputs {}` later",
                    paint.warning("note:"),
                    args.target.stack
                );
            }
            OK
        }
        Ok(None) => {
            eprintln!(
                "{} CloudFormation reported success but stack {stack_name} cannot be found",
                paint.error("error:")
            );
            FINDINGS
        }
        Err(e) => {
            eprintln!(
                "{} deployed, but the outputs could not be read: {e}",
                paint.warning("warning:")
            );
            OK
        }
    }
}

fn e_source(e: &upload::UploadError) -> &AwsError {
    match e {
        upload::UploadError::Bucket { source, .. } | upload::UploadError::Object { source, .. } => {
            source
        }
    }
}

/// A missing AWS CLI is bad setup (2); anything else it reports is a failed step (1).
fn aws_exit(e: &AwsError) -> u8 {
    match e {
        AwsError::NotInstalled(_) => BAD_INPUT,
        _ => FINDINGS,
    }
}

/// The bundle step: builds the zips with [`crate::bundle`] (the library behind `sockstack bundle`).
fn build_bundles(
    args: &DeployArgs,
    synthesized: &Synthesized,
    bundle_dir: &Path,
) -> Result<Vec<Asset>, u8> {
    let mut report = |event: Progress| match event {
        Progress::Building { handlers, command } => {
            eprintln!("  building {}: {command}", handlers.join(", "))
        }
        Progress::Wrote(b) => eprintln!(
            "  {} -> {} ({} bytes)",
            b.handler,
            b.path.display(),
            b.zip_bytes
        ),
    };
    let built = assets::build(
        &synthesized.model,
        &args.target.handlers,
        bundle_dir,
        &mut report,
    )
    .map_err(|e| {
        eprintln!("error: bundle: {e}");
        if e.is_bad_input() {
            BAD_INPUT
        } else {
            FINDINGS
        }
    })?;
    if let Err(missing) = assets::check_present(bundle_dir, &built) {
        eprintln!("error: the build did not write every bundle: {missing}");
        return Err(FINDINGS);
    }
    Ok(built)
}

fn dry_run(
    args: &DeployArgs,
    synthesized: &Synthesized,
    aws: &Aws,
    plan: &DeployPlan,
    bundle_dir: &Path,
    needed: &[Asset],
    paint: &Paint,
) -> u8 {
    if args.bundles.is_some()
        && let Err(missing) = assets::check_present(bundle_dir, needed)
    {
        eprintln!("{} {missing}", paint.error("error:"));
        return BAD_INPUT;
    }
    let mut lines = vec![format!(
        "# sockstack deploy --dry-run: stack {} from {} (template written to {})",
        plan.stack_name,
        synthesized.file.display(),
        plan.template_file.display()
    )];
    lines.push("set -e".into());
    match &args.bundles {
        Some(dir) => lines.push(format!("# bundles: prebuilt, from {}", dir.display())),
        None => {
            lines.push("# bundles".into());
            lines.extend(assets::build_commands(
                &synthesized.model,
                &args.target.handlers,
                bundle_dir,
            ));
        }
    }
    lines.push("# upload what the bucket lacks".into());
    lines.push(aws.describe(&upload::head_bucket_args(&args.bucket)));
    for a in needed {
        lines.push(format!(
            "{} >/dev/null 2>&1 || {}",
            aws.describe(&upload::head_object_args(&args.bucket, &a.key)),
            aws.describe(&upload::copy_args(&a.path, &args.bucket, &a.key))
        ));
    }
    lines.push("# deploy".into());
    lines.push(aws.describe(&plan.args()));
    lines.push("# outputs".into());
    let mut describe = stack::describe_args(&plan.stack_name);
    describe.extend(
        ["--query", "Stacks[0].Outputs"]
            .iter()
            .map(|s| s.to_string()),
    );
    lines.push(aws.describe(&describe));
    for line in lines {
        println!("{line}");
    }
    eprintln!(
        "{} nothing was run; {} is the template the commands deploy",
        paint.info("dry run:"),
        shell_quote(&plan.template_file.to_string_lossy())
    );
    OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(stack: &str) -> Target {
        Target {
            stack: stack.into(),
            stacks_dir: "stacks".into(),
            handlers: "handlers".into(),
            region: None,
        }
    }

    #[test]
    fn stack_argument_is_a_name_or_a_path() {
        assert_eq!(target("dev").file(), PathBuf::from("stacks/dev.yaml"));
        assert_eq!(
            target("other/prod.yaml").file(),
            PathBuf::from("other/prod.yaml")
        );
        assert_eq!(target("prod.yml").file(), PathBuf::from("prod.yml"));
    }

    #[test]
    fn bucket_names() {
        assert!(valid_bucket("my-artifacts.eu"));
        assert!(!valid_bucket("My_Bucket"));
        assert!(!valid_bucket("ab"));
        assert!(!valid_bucket("-leading"));
    }
}
