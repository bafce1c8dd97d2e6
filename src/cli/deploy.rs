//! `sockstack deploy`: parses the arguments and calls [`crate::deploy::workflow`].

use super::color::Paint;
use super::{BAD_INPUT, OK, ProjectPaths, report_findings, synthesize_files};
use crate::deploy::approval::RequireApproval;
use crate::deploy::aws::{AwsCli, shell_quote};
use crate::deploy::outputs;
use crate::deploy::progress::{Lines, Reporter, Spinner};
use crate::deploy::prompt::Terminal;
use crate::deploy::workflow::{self, Deployed, Options};
use crate::emit::Format;
use crate::pipeline::Synthesized;
use crate::project::Project;
use std::io::IsTerminal;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "\
Deploy one stack to AWS with the AWS CLI, after showing what it changes.

Steps, each reported on stderr (a spinner on a terminal, plain lines otherwise):
  1. synth       the stack file -> out/<stack>/template.yaml (as `sockstack synth` does)
  2. preflight   before anything is uploaded: the AWS CLI is new enough (1.29 / 2.13), the
                 credentials work (sts get-caller-identity), the bucket exists and is in the
                 region, the stack is not in a state CloudFormation cannot update
                 (ROLLBACK_COMPLETE, *_IN_PROGRESS, UPDATE_ROLLBACK_FAILED), and when the stage
                 writes access logs and the stack does not create API Gateway's account role,
                 the account has a CloudWatch role that exists. Each problem says what to run.
  3. bundles     build the handler zips for the stack's architecture into out/assets/
                 (as `sockstack bundle` does), or take prebuilt ones from --bundles DIR
  4. upload      every zip the bucket does not have yet (head-object, s3 cp)
  5. change set  create-change-set with ArtifactBucket=<bucket>, the IAM capability the
                 template needs and the stack file's tags (templates over 51,200 bytes go
                 through the bucket); nothing to change ends here
  6. review      the diff against the deployed template, CloudFormation's own verdict on each
                 resource beside sockstack's, and the approval question when needed
  7. execute     exactly that change set; resources are reported as CloudFormation reports
                 them; a failure prints the failing resources and their reasons
Then the stack's outputs (WebSocket URL, callback URL, table names) on stdout.

--require-approval (the CDK's spelling): `broadening` (default) asks before a change that
widens IAM or an invoke permission, replaces or deletes a stateful resource (a table, log
group, key), or removes the $connect authorizer; `any-change` asks before any change; `never`
does not ask. A new function's own execution role and invoke permission are not a widening.
The question names each such change. Without a terminal on stdin the deploy fails instead
(exit 1, the change set deleted, the stack unchanged) unless --yes approves in advance.

Credentials, region and endpoints are the AWS CLI's own (AWS CLI profiles, SSO, AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL…); --region overrides the region for every call.

The project is found from any folder inside it (walking up to the folder with sockstack.toml
or stacks/): STACK `dev` is <stacks>/dev.yaml there, the handler crate is the one sockstack.toml
names, and out/ is the root's. A name with no stack file lists the stacks there are (exit 2).
--stacks-dir, --handlers and --out, when given, are relative to the working folder.

--dry-run prints the commands as a shell script (every value quoted) and runs none of them; it
still writes out/<stack>/, which the script deploys. The script stops after computing the
change set unless run with EXECUTE=1.

Exit codes: 0 deployed (or nothing to change), 1 the template's checks found errors or the
changes were not approved, 2 bad input, a failed preflight or a failed AWS step.";

pub const EXAMPLES: &str = "\
Examples:
  sockstack deploy dev --bucket my-artifacts               build, upload, review, deploy stacks/dev.yaml
                                                           (from any folder of the project)
  sockstack deploy prod --bucket my-artifacts --region eu-west-1
  sockstack deploy dev --bucket my-artifacts --bundles out/assets   prebuilt zips
  sockstack deploy dev --bucket my-artifacts --yes         approve widening changes in advance (CI)
  sockstack deploy dev --bucket my-artifacts --dry-run     print the commands only";

/// The stack a command works on, and where things are.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The stack: a stack file's name (`dev` for <stacks>/dev.yaml in the project, found from any
    /// folder inside it) or a path to a stack file (relative to the working folder).
    #[arg(value_name = "STACK")]
    pub stack: String,

    #[command(flatten)]
    pub paths: ProjectPaths,

    /// AWS region for every call [default: the AWS CLI's: AWS_REGION, AWS_DEFAULT_REGION, AWS CLI profile].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// A stack synthesized in memory, and the project it belongs to.
pub struct Resolved {
    /// The project (root, stack-file folder, handler crate).
    pub project: Project,
    /// The stack, synthesized.
    pub synthesized: Synthesized,
}

impl Target {
    /// Finds the project and the stack file, and synthesizes it in memory; reports problems
    /// (an unknown name lists the stacks there are) and returns the exit code on failure.
    pub fn synthesize(&self, paint: &Paint) -> Result<Resolved, u8> {
        let (project, file) = self.paths.stack(&self.stack).map_err(|e| {
            eprintln!("{} {e}", paint.error("error:"));
            BAD_INPUT
        })?;
        let mut all = synthesize_files(&project, &[file], Format::Yaml, paint)?;
        Ok(Resolved {
            project,
            synthesized: all.remove(0),
        })
    }

    /// The AWS CLI runner, with the region if one was given.
    pub fn aws(&self) -> AwsCli {
        AwsCli::find(self.region.clone())
    }

    /// The region the calls go to, when it is known here.
    pub fn region(&self) -> Option<String> {
        self.region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.is_empty())
    }

    /// The region, for messages.
    pub fn region_text(&self) -> String {
        self.region()
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

    /// Output folder of the synthesized template (<DIR>/<stack>/) and of built zips (<DIR>/assets/),
    /// relative to the working folder [default: <project root>/out].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Which changes need approval before the change set is executed.
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
    pub require_approval: RequireApproval,

    /// Approve in advance (needed without a terminal when a change needs approval).
    #[arg(long)]
    pub yes: bool,

    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: &DeployArgs, paint: &Paint) -> u8 {
    let Resolved {
        project,
        synthesized,
    } = match args.target.synthesize(paint) {
        Ok(r) => r,
        Err(code) => return code,
    };
    report_findings(std::slice::from_ref(&synthesized), paint);
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => project.out_dir(&super::cwd()),
    };
    let options = Options {
        bucket: args.bucket.clone(),
        bundles: args.bundles.clone(),
        out: out.clone(),
        handlers: project.handlers_dir.clone(),
        region: args.target.region(),
        require_approval: args.require_approval,
        yes: args.yes,
    };
    let aws = args.target.aws();
    if args.dry_run {
        return match workflow::dry_run(&synthesized, &options, &aws) {
            Ok(script) => {
                print!("{script}");
                eprintln!(
                    "{} nothing was run; {} is the template the commands deploy",
                    paint.info("dry run:"),
                    shell_quote(
                        &out.join(&synthesized.name)
                            .join(synthesized.template_file())
                            .to_string_lossy()
                    )
                );
                OK
            }
            Err(e) => {
                eprintln!("{} {e}", paint.error("error:"));
                e.exit_code()
            }
        };
    }
    let reporter: Box<dyn Reporter> = if std::io::stderr().is_terminal() {
        Box::new(Spinner::new())
    } else {
        Box::new(Lines)
    };
    let result = workflow::deploy(&synthesized, &options, &aws, reporter.as_ref(), &Terminal);
    reporter.finish();
    match result {
        Ok(Deployed::Done(info)) | Ok(Deployed::Unchanged(info)) => {
            print!("{}", outputs::render_human(&info));
            OK
        }
        Err(e) => {
            eprintln!("{} {e}", paint.error("error:"));
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::deploy::workflow::valid_bucket;

    #[test]
    fn bucket_names() {
        assert!(valid_bucket("my-artifacts.eu"));
        assert!(!valid_bucket("My_Bucket"));
        assert!(!valid_bucket("ab"));
        assert!(!valid_bucket("-leading"));
    }
}
