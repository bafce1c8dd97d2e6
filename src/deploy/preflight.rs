//! Checks before a deploy uploads anything: the AWS CLI is new enough, the credentials work, the bucket exists
//! in the region, the stack is in a state CloudFormation can update, and API Gateway's account has the
//! CloudWatch role that stage access logs need. Each problem says what to run to fix it.

use super::aws::{Aws, args, shell_quote};
use super::stack;
use crate::raw::RawTemplate;
use serde_json::Value;
use std::fmt;

/// The oldest AWS CLI v1 and v2 that sockstack works with: the first to honour `AWS_ENDPOINT_URL` and
/// per-service endpoint variables (what local emulators and the test suite rely on); everything else sockstack
/// calls is older.
pub const MIN_V1: (u32, u32, u32) = (1, 29, 0);
/// See [`MIN_V1`].
pub const MIN_V2: (u32, u32, u32) = (2, 13, 0);

/// What is checked.
#[derive(Debug, Clone)]
pub struct Checks<'a> {
    /// Stack name.
    pub stack_name: &'a str,
    /// The artifact bucket.
    pub bucket: &'a str,
    /// The region the calls go to, when known (else the bucket's region is not compared).
    pub region: Option<&'a str>,
    /// The template to deploy.
    pub template: &'a RawTemplate,
}

/// One problem found, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub what: String,
    /// What to run (or do) about it.
    pub fix: String,
}

/// Every problem found; nothing was uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub problems: Vec<Problem>,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "preflight found {} problem(s); nothing was uploaded or deployed",
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n  - {}\n    fix: {}", p.what, p.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failed {}

/// What the checks found out, for the progress report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// `aws-cli/1.45.11`.
    pub cli: String,
    /// The caller's ARN.
    pub identity: String,
    /// The stack, when it exists.
    pub stack: Option<stack::StackInfo>,
}

/// `aws --version` output (`aws-cli/2.15.0 Python/3.11 …`) → the version.
pub fn cli_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text.split_whitespace().next()?.strip_prefix("aws-cli/")?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

fn show((a, b, c): (u32, u32, u32)) -> String {
    format!("{a}.{b}.{c}")
}

/// Whether a stack in `status` can take a change set, and if not, what to run.
pub fn blocked(stack_name: &str, status: &str) -> Option<Problem> {
    let name = shell_quote(stack_name);
    let fix = match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => format!(
            "its first creation failed and it can only be deleted: `aws cloudformation describe-stack-events --stack-name {name}` says why, then `aws cloudformation delete-stack --stack-name {name}` and deploy again"
        ),
        "UPDATE_ROLLBACK_FAILED" => format!(
            "`aws cloudformation continue-update-rollback --stack-name {name}` (skip resources that cannot roll back with --resources-to-skip), then deploy again"
        ),
        "DELETE_FAILED" => format!(
            "`aws cloudformation describe-stack-events --stack-name {name}` says what could not be deleted; fix it and `sockstack destroy` again"
        ),
        // A stack that only holds a change set takes another one.
        "REVIEW_IN_PROGRESS" => return None,
        s if s.ends_with("_IN_PROGRESS") => format!(
            "wait until the running operation ends (`aws cloudformation describe-stacks --stack-name {name}`), then deploy again"
        ),
        _ => return None,
    };
    Some(Problem {
        what: format!("stack {stack_name} is {status}: CloudFormation cannot update it"),
        fix,
    })
}

/// Whether the template turns on stage access logs without creating API Gateway's account role itself.
pub fn needs_account_role(template: &RawTemplate) -> bool {
    let logs = template.resources.values().any(|r| {
        matches!(
            r.type_name.as_str(),
            "AWS::ApiGatewayV2::Stage" | "AWS::ApiGateway::Stage"
        ) && (r.properties.contains_key("AccessLogSettings")
            || r.properties.contains_key("AccessLogSetting"))
    });
    logs && template
        .resources_of_type("AWS::ApiGateway::Account")
        .next()
        .is_none()
}

const ACCOUNT_ROLE_FIX: &str = "set `apiGatewayAccountRole: true` in one stack file of this account and region and deploy \
     that stack first, or point API Gateway at an existing role that trusts apigateway.amazonaws.com: \
     `aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=ROLE_ARN`";

/// Runs every check; stops early only when the CLI or the credentials do not work.
pub fn run(aws: &dyn Aws, checks: &Checks) -> Result<Passed, Failed> {
    let mut problems = Vec::new();
    let fail = |p: Problem| Failed { problems: vec![p] };

    let version_text = aws.run(&args(["--version"])).map_err(|e| {
        fail(Problem {
            what: format!("the AWS CLI does not run: {}", e.detail()),
            fix:
                "install it: `make tools` puts a pinned one in .venv/bin (or `pip install awscli`)"
                    .into(),
        })
    })?;
    let cli = match cli_version(&version_text) {
        Some(v) => {
            let min = if v.0 >= 2 { MIN_V2 } else { MIN_V1 };
            if v < min {
                return Err(fail(Problem {
                    what: format!("AWS CLI {} is too old (sockstack needs {} or newer)", show(v), show(min)),
                    fix: "upgrade it: `pip install --upgrade awscli`, or the v2 installer; `make tools` puts a pinned one in .venv/bin".into(),
                }));
            }
            format!("aws-cli/{}", show(v))
        }
        None => {
            return Err(fail(Problem {
                what: format!(
                    "`aws --version` printed {:?}, not a version",
                    version_text.trim()
                ),
                fix: "check which `aws` is first on PATH".into(),
            }));
        }
    };

    let identity = aws
        .json(&args(["sts", "get-caller-identity"]))
        .map_err(|e| {
            fail(Problem {
                what: format!("the AWS credentials do not work: {}", e.detail()),
                fix: "configure them: `aws configure`, `aws sso login --profile P` with AWS_PROFILE=P, or the \
                      AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables; `aws sts get-caller-identity` shows who you are"
                    .into(),
            })
        })?;
    let identity = identity
        .get("Arn")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();

    let bucket = shell_quote(checks.bucket);
    let region_flag = checks
        .region
        .map(|r| format!(" --region {}", shell_quote(r)))
        .unwrap_or_default();
    match aws.run(&args(["s3api", "head-bucket", "--bucket", checks.bucket])) {
        Ok(_) => {
            match aws.json(&args([
                "s3api",
                "get-bucket-location",
                "--bucket",
                checks.bucket,
            ])) {
                Ok(v) => {
                    // No constraint is us-east-1; `EU` is the old name of eu-west-1.
                    let at = match v.get("LocationConstraint").and_then(Value::as_str) {
                        None | Some("") => "us-east-1",
                        Some("EU") => "eu-west-1",
                        Some(r) => r,
                    };
                    if let Some(region) = checks.region
                        && region != at
                    {
                        problems.push(Problem {
                            what: format!(
                                "bucket {} is in {at}, but the stack deploys to {region} (Lambda reads code only from a bucket in its own region)",
                                checks.bucket
                            ),
                            fix: format!(
                                "use a bucket in {region}: `aws s3 mb s3://NAME --region {}`, then --bucket NAME",
                                shell_quote(region)
                            ),
                        });
                    }
                }
                Err(e) => problems.push(Problem {
                    what: format!(
                        "the region of bucket {} cannot be read: {}",
                        checks.bucket,
                        e.detail()
                    ),
                    fix: "allow s3:GetBucketLocation on it".into(),
                }),
            }
        }
        Err(e) if e.is(&["404", "NoSuchBucket"]) => problems.push(Problem {
            what: format!("bucket {} does not exist", checks.bucket),
            fix: format!("create it: `aws s3 mb s3://{bucket}{region_flag}`"),
        }),
        Err(e) if e.is(&["403", "AccessDenied"]) => problems.push(Problem {
            what: format!(
                "bucket {} exists but these credentials may not use it (another account's?)",
                checks.bucket
            ),
            fix: "use a bucket of this account (`aws s3 mb s3://NAME`), or allow s3:ListBucket, s3:GetObject and s3:PutObject on it".into(),
        }),
        Err(e) => problems.push(Problem {
            what: format!("bucket {} cannot be checked: {}", checks.bucket, e.detail()),
            fix: format!("`aws s3api head-bucket --bucket {bucket}` shows the same error"),
        }),
    }

    let stack = match stack::describe(aws, checks.stack_name) {
        Ok(s) => s,
        Err(e) => {
            problems.push(Problem {
                what: format!("stack {} cannot be read: {}", checks.stack_name, e.detail()),
                fix: "allow cloudformation:DescribeStacks".into(),
            });
            None
        }
    };
    if let Some(s) = &stack
        && let Some(p) = blocked(checks.stack_name, &s.status)
    {
        problems.push(p);
    }

    if needs_account_role(checks.template)
        && let Some(p) = account_role(aws)
    {
        problems.push(p);
    }

    if problems.is_empty() {
        Ok(Passed {
            cli,
            identity,
            stack,
        })
    } else {
        Err(Failed { problems })
    }
}

/// API Gateway's account CloudWatch role: set, and a role that exists.
fn account_role(aws: &dyn Aws) -> Option<Problem> {
    let account = match aws.json(&args(["apigateway", "get-account"])) {
        Ok(v) => v,
        Err(e) => {
            return Some(Problem {
                what: format!(
                    "API Gateway's account settings cannot be read: {}",
                    e.detail()
                ),
                fix: "allow apigateway:GET on arn:aws:apigateway:REGION::/account".into(),
            });
        }
    };
    let Some(arn) = account
        .get("cloudwatchRoleArn")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    else {
        return Some(Problem {
            what: "the stage writes access logs, but API Gateway has no CloudWatch role in this account and region \
                   (and this stack does not create one): the deploy would fail"
                .into(),
            fix: ACCOUNT_ROLE_FIX.into(),
        });
    };
    let name = arn.rsplit('/').next().unwrap_or(arn);
    match aws.run(&args(["iam", "get-role", "--role-name", name])) {
        Ok(_) => None,
        Err(e) if e.is(&["NoSuchEntity"]) => Some(Problem {
            what: format!(
                "API Gateway's CloudWatch role {arn} does not exist any more: the deploy would fail"
            ),
            fix: ACCOUNT_ROLE_FIX.into(),
        }),
        Err(e) => Some(Problem {
            what: format!(
                "API Gateway's CloudWatch role {arn} cannot be checked: {}",
                e.detail()
            ),
            fix: "allow iam:GetRole on it".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{FakeAws, Reply};
    use super::*;
    use serde_json::json;

    fn template(account: bool) -> RawTemplate {
        let mut r = json!({"Stage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"AccessLogSettings": {"DestinationArn": "x"}}}});
        if account {
            r["Account"] = json!({"Type": "AWS::ApiGateway::Account"});
        }
        RawTemplate::from_value(json!({ "Resources": r })).unwrap()
    }

    fn healthy() -> FakeAws {
        FakeAws::new()
            .on(
                &["--version"],
                vec![Reply::Out(
                    "aws-cli/1.45.11 Python/3.11.7 Linux/6 botocore/1.43.11\n".into(),
                )],
            )
            .json(
                &["sts", "get-caller-identity"],
                json!({"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/me"}),
            )
            .on(&["s3api", "head-bucket"], vec![Reply::Out(String::new())])
            .json(
                &["s3api", "get-bucket-location"],
                json!({"LocationConstraint": "eu-west-1"}),
            )
            .json(
                &["apigateway", "get-account"],
                json!({"cloudwatchRoleArn": "arn:aws:iam::123456789012:role/apigw-logs"}),
            )
            .on(&["iam", "get-role"], vec![Reply::Out("{}".into())])
    }

    fn checks(t: &RawTemplate) -> Checks<'_> {
        Checks {
            stack_name: "myapp-dev",
            bucket: "my-artifacts",
            region: Some("eu-west-1"),
            template: t,
        }
    }

    #[test]
    fn a_healthy_account_passes() {
        let t = template(false);
        let aws = healthy().error(
            &["cloudformation", "describe-stacks"],
            "ValidationError",
            "DescribeStacks",
            "Stack with id myapp-dev does not exist",
        );
        let passed = run(&aws, &checks(&t)).unwrap();
        assert_eq!(passed.cli, "aws-cli/1.45.11");
        assert_eq!(passed.stack, None);
        assert_eq!(
            aws.calls_to(&["iam", "get-role"])[0],
            ["iam", "get-role", "--role-name", "apigw-logs"]
        );
    }

    #[test]
    fn an_old_cli_is_refused_with_the_upgrade() {
        let aws = FakeAws::new().on(
            &["--version"],
            vec![Reply::Out("aws-cli/1.18.69 Python/3.8 Linux".into())],
        );
        let t = template(false);
        let err = run(&aws, &checks(&t)).unwrap_err().to_string();
        assert!(
            err.contains("AWS CLI 1.18.69 is too old (sockstack needs 1.29.0"),
            "{err}"
        );
        assert!(err.contains("pip install --upgrade awscli"), "{err}");
        assert_eq!(cli_version("aws-cli/2.15.0 Python/3.11"), Some((2, 15, 0)));
    }

    #[test]
    fn a_missing_bucket_a_blocked_stack_and_no_account_role_are_all_named() {
        let t = template(false);
        let aws = FakeAws::new()
            .error(&["s3api", "head-bucket"], "404", "HeadBucket", "Not Found")
            .json(
                &["cloudformation", "describe-stacks"],
                json!({"Stacks": [{"StackName": "myapp-dev", "StackStatus": "ROLLBACK_COMPLETE"}]}),
            )
            .json(
                &["apigateway", "get-account"],
                json!({"throttleSettings": {}}),
            );
        let aws = aws
            .on(
                &["--version"],
                vec![Reply::Out("aws-cli/1.45.11 Python/3".into())],
            )
            .json(&["sts", "get-caller-identity"], json!({"Arn": "me"}));
        let err = run(&aws, &checks(&t)).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 3, "{text}");
        assert!(
            text.contains("bucket my-artifacts does not exist"),
            "{text}"
        );
        assert!(
            text.contains("aws s3 mb s3://my-artifacts --region eu-west-1"),
            "{text}"
        );
        assert!(
            text.contains("stack myapp-dev is ROLLBACK_COMPLETE"),
            "{text}"
        );
        assert!(
            text.contains("aws cloudformation delete-stack --stack-name myapp-dev"),
            "{text}"
        );
        assert!(
            text.contains("API Gateway has no CloudWatch role"),
            "{text}"
        );
        assert!(text.contains("apiGatewayAccountRole: true"), "{text}");
        assert!(aws.calls_to(&["s3", "cp"]).is_empty());
    }

    #[test]
    fn bad_credentials_stop_the_checks() {
        let aws = FakeAws::new()
            .on(&["--version"], vec![Reply::Out("aws-cli/2.20.1 Python/3".into())])
            .on(
                &["sts", "get-caller-identity"],
                vec![Reply::Err("Unable to locate credentials. You can configure credentials by running \"aws configure\".".into())],
            );
        let t = template(false);
        let err = run(&aws, &checks(&t)).unwrap_err().to_string();
        assert!(err.contains("the AWS credentials do not work"), "{err}");
        assert!(err.contains("aws sso login"), "{err}");
        assert_eq!(aws.calls().len(), 2, "nothing after the credentials");
    }

    #[test]
    fn a_bucket_in_another_region_and_a_deleted_account_role_are_named() {
        let t = template(false);
        let aws = FakeAws::new()
            .json(
                &["s3api", "get-bucket-location"],
                json!({"LocationConstraint": null}),
            )
            .error(
                &["iam", "get-role"],
                "NoSuchEntity",
                "GetRole",
                "Role apigw-logs not found",
            )
            .error(
                &["cloudformation", "describe-stacks"],
                "ValidationError",
                "DescribeStacks",
                "Stack with id myapp-dev does not exist",
            );
        let aws = aws
            .on(
                &["--version"],
                vec![Reply::Out("aws-cli/1.45.11 Python/3".into())],
            )
            .json(&["sts", "get-caller-identity"], json!({"Arn": "me"}))
            .on(&["s3api", "head-bucket"], vec![Reply::Out(String::new())])
            .json(
                &["apigateway", "get-account"],
                json!({"cloudwatchRoleArn": "arn:aws:iam::123456789012:role/apigw-logs"}),
            );
        let err = run(&aws, &checks(&t)).unwrap_err().to_string();
        assert!(
            err.contains("bucket my-artifacts is in us-east-1, but the stack deploys to eu-west-1"),
            "{err}"
        );
        assert!(
            err.contains("role/apigw-logs does not exist any more"),
            "{err}"
        );
    }

    #[test]
    fn a_stack_that_creates_the_account_role_needs_none() {
        assert!(!needs_account_role(&template(true)));
        assert!(needs_account_role(&template(false)));
        let no_logs = RawTemplate::from_value(
            json!({"Resources": {"Stage": {"Type": "AWS::ApiGatewayV2::Stage"}}}),
        )
        .unwrap();
        assert!(!needs_account_role(&no_logs));
    }

    #[test]
    fn stack_states_cloudformation_cannot_update_say_what_to_run() {
        for (status, fix) in [
            ("ROLLBACK_COMPLETE", "delete-stack"),
            ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
            ("UPDATE_IN_PROGRESS", "wait until"),
            ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "wait until"),
        ] {
            let p = blocked("s", status).unwrap_or_else(|| panic!("{status}"));
            assert!(p.fix.contains(fix), "{status}: {}", p.fix);
        }
        for ok in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "REVIEW_IN_PROGRESS",
        ] {
            assert_eq!(blocked("s", ok), None, "{ok}");
        }
    }
}
