//! The CloudFormation side: `aws cloudformation deploy` (a change set), the
//! stack's events when it fails, its outputs, and deleting it.

use super::aws::{Aws, AwsError, args};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The largest template CloudFormation takes inline; bigger ones go through S3.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// CloudFormation's message for an update that changes nothing.
const NO_UPDATES: &str = "No updates are to be performed";

/// Everything `aws cloudformation deploy` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployPlan {
    /// CloudFormation stack name.
    pub stack_name: String,
    /// The template on disk.
    pub template_file: PathBuf,
    /// Its size in bytes.
    pub template_bytes: usize,
    /// The artifact bucket (the `ArtifactBucket` parameter; big templates go there too).
    pub bucket: String,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// `CAPABILITY_IAM` or `CAPABILITY_NAMED_IAM`.
    pub capability: &'static str,
}

impl DeployPlan {
    /// Whether the template must be uploaded to S3 first (`--s3-bucket`).
    pub fn through_s3(&self) -> bool {
        self.template_bytes > INLINE_TEMPLATE_LIMIT
    }

    /// The `aws cloudformation deploy` arguments.
    pub fn args(&self) -> Vec<String> {
        let mut a = args([
            "cloudformation",
            "deploy",
            "--stack-name",
            &self.stack_name,
            "--template-file",
            &self.template_file.to_string_lossy(),
            "--capabilities",
            self.capability,
            "--parameter-overrides",
            &format!("{}={}", crate::synth::ARTIFACT_BUCKET, self.bucket),
            "--no-fail-on-empty-changeset",
        ]);
        if self.through_s3() {
            a.extend(args([
                "--s3-bucket",
                &self.bucket,
                "--s3-prefix",
                &format!("sockstack/{}", self.stack_name),
            ]));
        }
        if !self.tags.is_empty() {
            a.push("--tags".into());
            a.extend(self.tags.iter().map(|(k, v)| format!("{k}={v}")));
        }
        a
    }
}

/// The IAM capability a template needs: `CAPABILITY_NAMED_IAM` when it names an
/// IAM resource (`RoleName`, `UserName`…), else `CAPABILITY_IAM`.
pub fn capability(template: &Value) -> &'static str {
    let named = resources_of(template).any(|(_, r)| {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = r.get("Properties");
        ty.starts_with("AWS::IAM::")
            && ["RoleName", "UserName", "GroupName", "InstanceProfileName"]
                .iter()
                .any(|p| props.and_then(|ps| ps.get(p)).is_some())
    });
    if named {
        "CAPABILITY_NAMED_IAM"
    } else {
        "CAPABILITY_IAM"
    }
}

fn resources_of(template: &Value) -> impl Iterator<Item = (&String, &Value)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// A resource kept when the stack is deleted (`DeletionPolicy: Retain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Physical id (its name), when the stack knew it.
    pub physical_id: Option<String>,
}

/// The resources of `template` that a stack deletion keeps.
pub fn retained(template: &Value) -> Vec<Retained> {
    resources_of(template)
        .filter(|(_, r)| {
            matches!(
                r.get("DeletionPolicy").and_then(Value::as_str),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| Retained {
            logical_id: id.clone(),
            resource_type: r
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            physical_id: None,
        })
        .collect()
}

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// Logical id (the stack's name for the stack itself).
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// `CREATE_FAILED`, `UPDATE_IN_PROGRESS`…
    pub status: String,
    /// Why, when CloudFormation says.
    pub reason: Option<String>,
}

impl StackEvent {
    fn from_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        StackEvent {
            logical_id: s("LogicalResourceId").unwrap_or_default(),
            resource_type: s("ResourceType").unwrap_or_default(),
            status: s("ResourceStatus").unwrap_or_default(),
            reason: s("ResourceStatusReason").filter(|r| !r.is_empty() && r != "None"),
        }
    }

    fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }

    fn is_cancellation(&self) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    }
}

/// `describe-stack-events` output (newest first) → the events of the latest
/// operation: everything after the stack's own "User Initiated" event.
pub fn latest_operation(events: &Value) -> Vec<StackEvent> {
    let all = events
        .get("StackEvents")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(StackEvent::from_json).collect::<Vec<_>>())
        .unwrap_or_default();
    let start = all.iter().position(|e| {
        e.is_stack()
            && e.status.ends_with("_IN_PROGRESS")
            && e.reason.as_deref() == Some("User Initiated")
    });
    match start {
        Some(i) => all[..=i].to_vec(),
        None => all,
    }
}

/// The failures among `events`: resources first (the cause before the
/// cancellations it set off), oldest first, then the stack's own failure.
pub fn failures(events: &[StackEvent]) -> Vec<StackEvent> {
    let failed = |e: &&StackEvent| e.status.ends_with("_FAILED");
    let mut causes: Vec<StackEvent> = events
        .iter()
        .rev()
        .filter(failed)
        .filter(|e| !e.is_stack() && !e.is_cancellation())
        .cloned()
        .collect();
    causes.extend(
        events
            .iter()
            .rev()
            .filter(failed)
            .filter(|e| !e.is_stack() && e.is_cancellation())
            .cloned(),
    );
    causes.extend(
        events
            .iter()
            .filter(failed)
            .filter(|e| e.is_stack())
            .take(1)
            .cloned(),
    );
    causes
}

/// A deployed stack, as `describe-stacks` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// Stack name.
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`…
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub reason: Option<String>,
    /// Its outputs, in the order given.
    pub outputs: Vec<StackOutputValue>,
}

/// One stack output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutputValue {
    /// Output name (`WebSocketUrl`).
    pub key: String,
    /// Its value.
    pub value: String,
    /// Its description.
    pub description: Option<String>,
}

/// `describe-stacks` output → the first stack.
pub fn parse_stack(value: &Value) -> Option<StackInfo> {
    let stack = value.get("Stacks")?.as_array()?.first()?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut outputs: Vec<StackOutputValue> = stack
        .get("Outputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| StackOutputValue {
            key: s(o, "OutputKey").unwrap_or_default(),
            value: s(o, "OutputValue").unwrap_or_default(),
            description: s(o, "Description"),
        })
        .collect();
    outputs.sort_by(|a, b| a.key.cmp(&b.key));
    Some(StackInfo {
        name: s(stack, "StackName").unwrap_or_default(),
        status: s(stack, "StackStatus").unwrap_or_default(),
        reason: s(stack, "StackStatusReason").filter(|r| !r.is_empty() && r != "None"),
        outputs,
    })
}

/// `aws cloudformation describe-stacks` arguments.
pub fn describe_args(stack_name: &str) -> Vec<String> {
    args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack_name,
    ])
}

/// The deployed stack, or `None` when there is none by that name.
pub fn describe(aws: &Aws, stack_name: &str) -> Result<Option<StackInfo>, AwsError> {
    match aws.json(&describe_args(stack_name)) {
        Ok(v) => Ok(parse_stack(&v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The events of the stack's latest operation.
pub fn latest_events(aws: &Aws, stack_name: &str) -> Result<Vec<StackEvent>, AwsError> {
    let v = aws.json(&args([
        "cloudformation",
        "describe-stack-events",
        "--stack-name",
        stack_name,
    ]))?;
    Ok(latest_operation(&v))
}

/// A failed `aws cloudformation deploy`, with what the stack says about it.
#[derive(Debug)]
pub struct DeployFailure {
    /// The CLI's own error.
    pub error: AwsError,
    /// The stack after the failure, if it exists.
    pub stack: Option<StackInfo>,
    /// The failed resources (and the stack's failure), with reasons.
    pub failures: Vec<StackEvent>,
    /// Why the events could not be read, if they could not.
    pub events_error: Option<AwsError>,
}

impl fmt::Display for DeployFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(stack) = &self.stack {
            write!(f, "\nstack {} is {}", stack.name, stack.status)?;
            if let Some(reason) = &stack.reason {
                write!(f, ": {reason}")?;
            }
        }
        if !self.failures.is_empty() {
            write!(f, "\nwhat failed, from the stack events:")?;
            for e in &self.failures {
                write!(
                    f,
                    "\n  {} ({}) {}: {}",
                    e.logical_id,
                    e.resource_type,
                    e.status,
                    e.reason.as_deref().unwrap_or("no reason given")
                )?;
            }
        }
        if let Some(e) = &self.events_error {
            write!(f, "\n(the stack events could not be read: {})", e.detail())?;
        }
        Ok(())
    }
}

impl std::error::Error for DeployFailure {}

/// Runs `aws cloudformation deploy`; its progress lines go to `on_line`. On a
/// failure, reads the stack's status and events to say which resources failed and why.
pub fn deploy(
    aws: &Aws,
    plan: &DeployPlan,
    on_line: &mut dyn FnMut(&str),
) -> Result<(), Box<DeployFailure>> {
    let Err(error) = aws.run_streaming(&plan.args(), on_line) else {
        return Ok(());
    };
    if let AwsError::Failed { stderr, .. } = &error
        && stderr.contains(NO_UPDATES)
    {
        // Another way of saying "empty change set" (UpdateStack's, and some emulators').
        on_line(&format!(
            "No changes to deploy. Stack {} is up to date",
            plan.stack_name
        ));
        return Ok(());
    }
    let stack = describe(aws, &plan.stack_name).ok().flatten();
    let (failures, events_error) = if stack.is_some() {
        match latest_events(aws, &plan.stack_name) {
            Ok(events) => (failures(&events), None),
            Err(e) => (Vec::new(), Some(e)),
        }
    } else {
        (Vec::new(), None)
    };
    Err(Box::new(DeployFailure {
        error,
        stack,
        failures,
        events_error,
    }))
}

/// The deployed template of a stack, parsed (YAML or JSON).
pub fn deployed_template(aws: &Aws, stack_name: &str) -> Result<Value, AwsError> {
    let mut a = args(["cloudformation", "get-template", "--stack-name", stack_name]);
    a.extend(args(["--query", "TemplateBody"]));
    let body = aws.json(&a)?;
    match body {
        Value::String(text) => {
            serde_yaml::from_str::<Value>(&text).map_err(|e| AwsError::BadOutput {
                command: aws.describe(&a),
                error: format!("the template is neither JSON nor plain YAML: {e}"),
            })
        }
        other => Ok(other),
    }
}

/// `logical id → physical id` of the stack's resources.
pub fn physical_ids(aws: &Aws, stack_name: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let v = aws.json(&args([
        "cloudformation",
        "list-stack-resources",
        "--stack-name",
        stack_name,
    ]))?;
    Ok(v.get("StackResourceSummaries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let logical = r.get("LogicalResourceId")?.as_str()?;
            let physical = r.get("PhysicalResourceId")?.as_str()?;
            Some((logical.to_string(), physical.to_string()))
        })
        .collect())
}

/// `aws cloudformation delete-stack` arguments.
pub fn delete_args(stack_name: &str) -> Vec<String> {
    args(["cloudformation", "delete-stack", "--stack-name", stack_name])
}

/// `aws cloudformation wait stack-delete-complete` arguments.
pub fn wait_delete_args(stack_name: &str) -> Vec<String> {
    args([
        "cloudformation",
        "wait",
        "stack-delete-complete",
        "--stack-name",
        stack_name,
    ])
}

/// Deletes the stack and waits until it is gone; on a failure, says what could not be deleted.
pub fn delete(
    aws: &Aws,
    stack_name: &str,
    on_line: &mut dyn FnMut(&str),
) -> Result<(), Box<DeployFailure>> {
    let fail = |error: AwsError| {
        let stack = describe(aws, stack_name).ok().flatten();
        let (failures, events_error) = match latest_events(aws, stack_name) {
            Ok(events) => (failures(&events), None),
            Err(e) if e.is_not_found() => (Vec::new(), None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Box::new(DeployFailure {
            error,
            stack,
            failures,
            events_error,
        })
    };
    aws.run(&delete_args(stack_name)).map_err(fail)?;
    aws.run_streaming(&wait_delete_args(stack_name), on_line)
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(bytes: usize) -> DeployPlan {
        DeployPlan {
            stack_name: "team-health-dev".into(),
            template_file: "out/dev/template.yaml".into(),
            template_bytes: bytes,
            bucket: "my-artifacts".into(),
            tags: [("environment", "dev"), ("project", "team-health")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            capability: "CAPABILITY_IAM",
        }
    }

    #[test]
    fn deploy_arguments() {
        let aws = Aws::with_program("aws", Some("eu-west-1".into()));
        assert_eq!(
            aws.describe(&plan(20_000).args()),
            "aws cloudformation deploy --stack-name team-health-dev --template-file out/dev/template.yaml \
             --capabilities CAPABILITY_IAM --parameter-overrides ArtifactBucket=my-artifacts \
             --no-fail-on-empty-changeset --tags environment=dev project=team-health --region eu-west-1"
        );
        let big = plan(INLINE_TEMPLATE_LIMIT + 1).args().join(" ");
        assert!(
            big.contains("--s3-bucket my-artifacts --s3-prefix sockstack/team-health-dev"),
            "{big}"
        );
        assert!(
            !plan(INLINE_TEMPLATE_LIMIT)
                .args()
                .contains(&"--s3-bucket".to_string())
        );
        let mut untagged = plan(10);
        untagged.tags.clear();
        assert!(!untagged.args().contains(&"--tags".to_string()));
    }

    #[test]
    fn named_iam_needs_the_named_capability() {
        let unnamed = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}});
        assert_eq!(capability(&unnamed), "CAPABILITY_IAM");
        let named = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}});
        assert_eq!(capability(&named), "CAPABILITY_NAMED_IAM");
    }

    #[test]
    fn retained_resources_are_those_with_a_retain_policy() {
        let t = json!({"Resources": {
            "ConnectionsTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"},
            "Fn": {"Type": "AWS::Lambda::Function"}
        }});
        let r = retained(&t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].logical_id, "ConnectionsTable");
        assert_eq!(r[0].resource_type, "AWS::DynamoDB::Table");
    }

    /// The shape real CloudFormation gives for a failed update (newest first).
    fn failed_update() -> Value {
        let ev = |id: &str, ty: &str, status: &str, reason: &str| json!({"LogicalResourceId": id, "ResourceType": ty, "ResourceStatus": status, "ResourceStatusReason": reason});
        json!({"StackEvents": [
            ev("team-health-dev", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", ""),
            ev("team-health-dev", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
               "The following resource(s) failed to update: [VoteFunction]."),
            ev("ConnectFunction", "AWS::Lambda::Function", "UPDATE_FAILED", "Resource update cancelled"),
            ev("VoteFunction", "AWS::Lambda::Function", "UPDATE_FAILED",
               "Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey.\""),
            ev("VoteFunction", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS", ""),
            ev("team-health-dev", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated"),
            ev("OldFunction", "AWS::Lambda::Function", "CREATE_FAILED", "an older deployment"),
            ev("team-health-dev", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
        ]})
    }

    #[test]
    fn failures_of_the_latest_operation_cause_first() {
        let events = latest_operation(&failed_update());
        assert_eq!(events.len(), 6, "stops at the latest User Initiated event");
        let f = failures(&events);
        let ids: Vec<_> = f.iter().map(|e| e.logical_id.as_str()).collect();
        assert_eq!(ids, ["VoteFunction", "ConnectFunction"]);
        assert!(f[0].reason.as_deref().unwrap().contains("NoSuchKey"));
        let text = DeployFailure {
            error: AwsError::NotInstalled("x".into()),
            stack: None,
            failures: f,
            events_error: None,
        }
        .to_string();
        assert!(
            text.contains("VoteFunction (AWS::Lambda::Function) UPDATE_FAILED: Resource handler returned message"),
            "{text}"
        );
    }

    #[test]
    fn stack_outputs_are_read_and_sorted() {
        let v = json!({"Stacks": [{"StackName": "s", "StackStatus": "CREATE_COMPLETE", "Outputs": [
            {"OutputKey": "WebSocketUrl", "OutputValue": "wss://a.execute-api.eu-west-1.amazonaws.com/dev"},
            {"OutputKey": "CallbackUrl", "OutputValue": "https://a.execute-api.eu-west-1.amazonaws.com/dev", "Description": "d"}
        ]}]});
        let s = parse_stack(&v).unwrap();
        assert_eq!(s.status, "CREATE_COMPLETE");
        assert_eq!(s.reason, None);
        assert_eq!(s.outputs[0].key, "CallbackUrl");
        assert_eq!(s.outputs[0].description.as_deref(), Some("d"));
        assert_eq!(s.outputs[1].key, "WebSocketUrl");
    }
}
