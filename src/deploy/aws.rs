//! A thin runner for the AWS CLI (`aws`): builds the argument list, runs it,
//! captures what it prints and turns a failure into an error that says which
//! command failed and what the CLI said.
//!
//! The CLI reads credentials, region and endpoints itself, so everything a user
//! has set up for it (profiles, `AWS_REGION`, `AWS_ENDPOINT_URL` for a local
//! emulator…) applies. `--region` is added to every call when one is given.

use serde_json::Value;
use std::ffi::OsString;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a call of the AWS CLI failed.
#[derive(Debug)]
pub enum AwsError {
    /// The `aws` program was not found or could not be started.
    NotInstalled(String),
    /// It ran and exited with an error.
    Failed {
        /// The command line, as it could be typed.
        command: String,
        /// Exit code (`None`: killed by a signal).
        code: Option<i32>,
        /// What it wrote on stderr (trimmed).
        stderr: String,
    },
    /// It succeeded but printed something that is not the JSON asked for.
    BadOutput {
        /// The command line.
        command: String,
        /// The parse error.
        error: String,
    },
}

impl AwsError {
    /// Whether the CLI reported that the thing asked about does not exist
    /// (a missing stack, object or bucket).
    pub fn is_not_found(&self) -> bool {
        match self {
            AwsError::Failed { stderr, .. } => {
                stderr.contains("does not exist")
                    || stderr.contains("(404)")
                    || stderr.contains("Not Found")
                    || stderr.contains("NoSuchKey")
                    || stderr.contains("NoSuchBucket")
            }
            _ => false,
        }
    }

    /// What the CLI said (its stderr), or the whole error.
    pub fn detail(&self) -> String {
        match self {
            AwsError::Failed { stderr, .. } if !stderr.is_empty() => stderr.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsError::NotInstalled(why) => write!(
                f,
                "cannot run the AWS CLI ({why}); install it (`make tools` puts a pinned one in .venv/bin, \
                 or `pip install awscli`)"
            ),
            AwsError::Failed {
                command,
                code,
                stderr,
            } => {
                let status = code.map_or("was killed".to_string(), |c| format!("exited with {c}"));
                write!(f, "`{command}` {status}")?;
                if !stderr.is_empty() {
                    write!(f, ":\n{}", indent(stderr))?;
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

/// The AWS CLI, with an optional region for every call.
#[derive(Debug, Clone)]
pub struct Aws {
    program: PathBuf,
    region: Option<String>,
}

impl Aws {
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
        Aws { program, region }
    }

    /// A runner for a given program (tests).
    pub fn with_program(program: impl Into<PathBuf>, region: Option<String>) -> Self {
        Aws {
            program: program.into(),
            region,
        }
    }

    /// The region passed to every call, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The full argument list of a call: `args`, then `--region R` when set.
    pub fn args(&self, args: &[String]) -> Vec<String> {
        let mut all = args.to_vec();
        if let Some(region) = &self.region {
            all.push("--region".into());
            all.push(region.clone());
        }
        all
    }

    /// The command line of a call as it could be typed into a shell (`aws …`).
    pub fn describe(&self, args: &[String]) -> String {
        let mut text = String::from("aws");
        for arg in self.args(args) {
            text.push(' ');
            text.push_str(&shell_quote(&arg));
        }
        text
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.program);
        command.args(self.args(args).iter().map(OsString::from));
        // The CLI's pager and prompts have no place in a pipeline.
        command.env("AWS_PAGER", "").stdin(Stdio::null());
        command
    }

    /// Runs a call and returns what it printed on stdout.
    pub fn run(&self, args: &[String]) -> Result<String, AwsError> {
        let output = self
            .command(args)
            .output()
            .map_err(|e| AwsError::NotInstalled(format!("{}: {e}", self.program.display())))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(AwsError::Failed {
                command: self.describe(args),
                code: output.status.code(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }

    /// Runs a call with `--output json` and parses what it printed.
    pub fn json(&self, args: &[String]) -> Result<Value, AwsError> {
        let mut args = args.to_vec();
        args.extend(["--output".to_string(), "json".to_string()]);
        let text = self.run(&args)?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| AwsError::BadOutput {
            command: self.describe(&args),
            error: e.to_string(),
        })
    }

    /// Runs a long call, handing each line it prints (stdout and stderr) to
    /// `on_line` as it comes; on failure the error carries everything it printed.
    pub fn run_streaming(
        &self,
        args: &[String],
        on_line: &mut dyn FnMut(&str),
    ) -> Result<(), AwsError> {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AwsError::NotInstalled(format!("{}: {e}", self.program.display())))?;
        let mut stderr = child.stderr.take().expect("piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut printed = String::new();
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let line = line.trim_end();
                if !line.trim().is_empty() {
                    on_line(line);
                    printed.push_str(line);
                    printed.push('\n');
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| AwsError::NotInstalled(e.to_string()))?;
        let err_text = stderr_reader.join().unwrap_or_default();
        for line in err_text.lines().filter(|l| !l.trim().is_empty()) {
            on_line(line.trim_end());
        }
        if status.success() {
            Ok(())
        } else {
            let mut all = printed;
            all.push_str(&err_text);
            Err(AwsError::Failed {
                command: self.describe(args),
                code: status.code(),
                stderr: all.trim().to_string(),
            })
        }
    }
}

/// Quotes `arg` for a POSIX shell when it needs it.
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
    }

    #[test]
    fn region_goes_on_every_call() {
        let aws = Aws::with_program("aws", Some("eu-west-1".into()));
        assert_eq!(
            aws.describe(&args(["cloudformation", "describe-stacks"])),
            "aws cloudformation describe-stacks --region eu-west-1"
        );
        let aws = Aws::with_program("aws", None);
        assert_eq!(aws.describe(&args(["s3", "ls"])), "aws s3 ls");
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let aws = Aws::with_program("/nonexistent/aws", None);
        let err = aws.run(&args(["s3", "ls"])).unwrap_err();
        assert!(matches!(err, AwsError::NotInstalled(_)));
        assert!(err.to_string().contains("make tools"), "{err}");
    }

    #[test]
    fn failures_carry_the_command_and_what_it_said() {
        let aws = Aws::with_program("sh", None);
        let err = aws
            .run(&args(["-c", "echo 'An error occurred (ValidationError): Stack with id x does not exist' >&2; exit 254"]))
            .unwrap_err();
        assert!(err.is_not_found());
        let text = err.to_string();
        assert!(text.contains("exited with 254"), "{text}");
        assert!(text.contains("Stack with id x does not exist"), "{text}");
    }
}
