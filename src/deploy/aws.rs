//! How sockstack talks to AWS: the AWS CLI (`aws`), behind one small trait ([`Aws`]).
//!
//! The CLI reads credentials, region and endpoints itself, so everything a user has set up for it (AWS CLI profiles,
//! SSO, `AWS_REGION`, `AWS_ENDPOINT_URL` for a local emulator…) applies. [`AwsCli`] is the real runner; the
//! workflows in [`crate::deploy`] take any [`Aws`], so their logic is tested with a fake.
//!
//! Errors are recognised by the AWS error code the CLI prints
//! (`An error occurred (CODE) when calling the OPERATION operation: message`), never by their free text.

use serde_json::Value;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Why a call of the AWS CLI failed.
#[derive(Debug, Clone, PartialEq)]
pub enum AwsError {
    /// The `aws` program was not found or could not be started.
    NotInstalled(String),
    /// It ran and exited with an error.
    Failed(Failure),
    /// It succeeded but printed something that is not what was asked for.
    BadOutput {
        /// The command line.
        command: String,
        /// What is wrong with it.
        error: String,
    },
}

/// A call that exited with an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The command line, as it could be typed.
    pub command: String,
    /// Exit status (`None`: killed by a signal).
    pub status: Option<i32>,
    /// The AWS error code (`ValidationError`, `404`, `NoSuchBucket`…), when the CLI printed one.
    pub code: Option<String>,
    /// The API operation that failed (`DescribeStacks`), when the CLI printed it.
    pub operation: Option<String>,
    /// What the CLI wrote on stderr (trimmed).
    pub stderr: String,
}

impl AwsError {
    /// The AWS error code of a failed call, if the CLI printed one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Failed(f) => f.code.as_deref(),
            _ => None,
        }
    }

    /// Whether the error is one of `codes`.
    pub fn is(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }

    /// What the CLI said (its stderr), or the whole error.
    pub fn detail(&self) -> String {
        match self {
            AwsError::Failed(f) if !f.stderr.is_empty() => f.stderr.clone(),
            other => other.to_string(),
        }
    }

    /// Builds the error for a call that exited with `status` after printing `stderr`.
    pub fn failed(command: String, status: Option<i32>, stderr: &str) -> AwsError {
        let stderr = stderr.trim().to_string();
        let (code, operation) = match parse_error(&stderr) {
            Some((c, o)) => (Some(c), Some(o)),
            None => (None, None),
        };
        AwsError::Failed(Failure {
            command,
            status,
            code,
            operation,
            stderr,
        })
    }
}

/// The code and operation of the CLI's error line
/// `An error occurred (CODE) when calling the OPERATION operation[ (reached max retries: N)]: message`.
pub fn parse_error(stderr: &str) -> Option<(String, String)> {
    const START: &str = "An error occurred (";
    let line = stderr.lines().find_map(|l| {
        let at = l.find(START)?;
        Some(&l[at + START.len()..])
    })?;
    let (code, rest) = line.split_once(')')?;
    let rest = rest.strip_prefix(" when calling the ")?;
    let (operation, _) = rest.split_once(" operation")?;
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    (plain(code) && plain(operation)).then(|| (code.to_string(), operation.to_string()))
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsError::NotInstalled(why) => write!(
                f,
                "cannot run the AWS CLI ({why}); install it (`make tools` puts a pinned one in .venv/bin, \
                 or `pip install awscli`)"
            ),
            AwsError::Failed(x) => {
                let status = x
                    .status
                    .map_or("was killed".to_string(), |c| format!("exited with {c}"));
                write!(f, "`{}` {status}", x.command)?;
                if !x.stderr.is_empty() {
                    write!(f, ":\n{}", indent(&x.stderr))?;
                }
                Ok(())
            }
            AwsError::BadOutput { command, error } => {
                write!(f, "`{command}` printed unexpected output: {error}")
            }
        }
    }
}

impl std::error::Error for AwsError {}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything sockstack needs from AWS: run one AWS CLI call and get what it printed.
pub trait Aws: Sync {
    /// Runs `aws ARGS…` and returns its standard output.
    fn run(&self, args: &[String]) -> Result<String, AwsError>;

    /// The command line of a call as it can be pasted into a POSIX shell.
    fn command_line(&self, args: &[String]) -> String {
        shell_line("aws", args)
    }

    /// Waits between two polls of a long operation (a fake returns at once).
    fn pause(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// Runs a call with `--output json` and parses what it printed (`Null` when it printed nothing).
    fn json(&self, args: &[String]) -> Result<Value, AwsError> {
        let mut args = args.to_vec();
        args.extend(["--output".to_string(), "json".to_string()]);
        let text = self.run(&args)?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| AwsError::BadOutput {
            command: self.command_line(&args),
            error: e.to_string(),
        })
    }
}

/// The real AWS CLI, with an optional region for every call.
#[derive(Debug, Clone)]
pub struct AwsCli {
    program: PathBuf,
    region: Option<String>,
}

impl AwsCli {
    /// `aws` from `PATH`, else `.venv/bin/aws` in the current folder (where `make tools` puts it).
    pub fn find(region: Option<String>) -> Self {
        let on_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("aws"))
                .find(|p| p.is_file())
        });
        let program = on_path
            .or_else(|| {
                let venv = Path::new(".venv/bin/aws");
                venv.is_file().then(|| venv.to_path_buf())
            })
            .unwrap_or_else(|| PathBuf::from("aws"));
        AwsCli { program, region }
    }

    /// A runner for a given program (tests).
    pub fn with_program(program: impl Into<PathBuf>, region: Option<String>) -> Self {
        AwsCli {
            program: program.into(),
            region,
        }
    }

    /// The full argument list of a call: `args`, then `--region R` when set.
    fn all_args(&self, args: &[String]) -> Vec<String> {
        let mut all = args.to_vec();
        if let Some(region) = &self.region {
            all.push("--region".into());
            all.push(region.clone());
        }
        all
    }
}

impl Aws for AwsCli {
    fn run(&self, args: &[String]) -> Result<String, AwsError> {
        let output = Command::new(&self.program)
            .args(self.all_args(args).iter().map(OsString::from))
            // The CLI's pager and prompts have no place in a pipeline.
            .env("AWS_PAGER", "")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| AwsError::NotInstalled(format!("{}: {e}", self.program.display())))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(AwsError::failed(
                self.command_line(args),
                output.status.code(),
                &String::from_utf8_lossy(&output.stderr),
            ))
        }
    }

    fn command_line(&self, args: &[String]) -> String {
        shell_line("aws", &self.all_args(args))
    }
}

/// `program args…` quoted for a POSIX shell.
pub fn shell_line(program: &str, args: &[String]) -> String {
    let mut text = shell_quote(program);
    for arg in args {
        text.push(' ');
        text.push_str(&shell_quote(arg));
    }
    text
}

/// Quotes `arg` for a POSIX shell when it needs it: the result is always one word, taken literally.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Text for a shell comment line: control characters (a newline would end the comment) shown escaped.
pub fn shell_comment(text: &str) -> String {
    let mut out = String::from("# ");
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Converts a list of `&str` into owned arguments.
pub fn args<const N: usize>(list: [&str; N]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            shell_quote("ArtifactBucket=my-bucket"),
            "ArtifactBucket=my-bucket"
        );
        assert_eq!(shell_quote("s3://b/k.zip"), "s3://b/k.zip");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn a_comment_cannot_be_ended_by_a_newline() {
        assert_eq!(shell_comment("a\nrm -rf /"), "# a\\nrm -rf /");
    }

    #[test]
    fn region_goes_on_every_call() {
        let aws = AwsCli::with_program("aws", Some("eu-west-1".into()));
        assert_eq!(
            aws.command_line(&args(["cloudformation", "describe-stacks"])),
            "aws cloudformation describe-stacks --region eu-west-1"
        );
        let aws = AwsCli::with_program("aws", None);
        assert_eq!(aws.command_line(&args(["s3", "ls"])), "aws s3 ls");
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let aws = AwsCli::with_program("/nonexistent/aws", None);
        let err = aws.run(&args(["s3", "ls"])).unwrap_err();
        assert!(matches!(err, AwsError::NotInstalled(_)));
        assert!(err.to_string().contains("make tools"), "{err}");
    }

    #[test]
    fn the_error_code_and_operation_are_read_from_the_clis_error_line() {
        let err = AwsError::failed(
            "aws x".into(),
            Some(254),
            "\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist\n",
        );
        assert_eq!(err.code(), Some("ValidationError"));
        assert!(err.is(&["ValidationError"]));
        let AwsError::Failed(f) = &err else { panic!() };
        assert_eq!(f.operation.as_deref(), Some("DescribeStacks"));
        let head = AwsError::failed(
            "aws y".into(),
            Some(254),
            "An error occurred (404) when calling the HeadObject operation: Not Found",
        );
        assert_eq!(head.code(), Some("404"));
        let retried = parse_error(
            "An error occurred (Throttling) when calling the DescribeStackEvents operation (reached max retries: 4): Rate exceeded",
        );
        assert_eq!(
            retried,
            Some(("Throttling".into(), "DescribeStackEvents".into()))
        );
        // No code printed (e.g. no credentials): no code guessed from the text.
        let none = AwsError::failed("aws z".into(), Some(253), "Unable to locate credentials.");
        assert_eq!(none.code(), None);
    }

    #[test]
    fn failures_carry_the_command_and_what_it_said() {
        let aws = AwsCli::with_program("sh", None);
        let err = aws
            .run(&args(["-c", "echo 'An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist' >&2; exit 254"]))
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationError"));
        let text = err.to_string();
        assert!(text.contains("exited with 254"), "{text}");
        assert!(text.contains("Stack with id x does not exist"), "{text}");
    }
}
