//! A CloudFormation stack as the AWS CLI shows it: its status and outputs, the template it holds, its events
//! (followed while an operation runs, and read for what failed), its resources, and deleting it.

use super::aws::{Aws, AwsError, args};
use super::progress::{Event, Reporter};
use crate::raw::RawTemplate;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// How often a running operation is polled.
pub const POLL: Duration = Duration::from_secs(5);
/// Polls before giving up on an operation (two hours at [`POLL`]).
pub const MAX_POLLS: usize = 1440;

/// The IAM capability a template needs: `CAPABILITY_NAMED_IAM` when it names an IAM resource (`RoleName`,
/// `UserName`…), else `CAPABILITY_IAM`.
pub fn capability(template: &RawTemplate) -> &'static str {
    let named = template.resources.values().any(|r| {
        r.type_name.starts_with("AWS::IAM::")
            && ["RoleName", "UserName", "GroupName", "InstanceProfileName"]
                .iter()
                .any(|p| r.properties.contains_key(*p))
    });
    if named {
        "CAPABILITY_NAMED_IAM"
    } else {
        "CAPABILITY_IAM"
    }
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

impl fmt::Display for Retained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.logical_id, self.resource_type)?;
        if let Some(id) = &self.physical_id {
            write!(f, " {id}")?;
        }
        Ok(())
    }
}

/// The resources of `template` that a stack deletion keeps.
pub fn retained(template: &RawTemplate) -> Vec<Retained> {
    template
        .resources
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.deletion_policy.as_deref(),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| Retained {
            logical_id: id.clone(),
            resource_type: r.type_name.clone(),
            physical_id: None,
        })
        .collect()
}

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// CloudFormation's id of the event.
    pub event_id: String,
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
            event_id: s("EventId").unwrap_or_else(|| v.to_string()),
            logical_id: s("LogicalResourceId").unwrap_or_default(),
            resource_type: s("ResourceType").unwrap_or_default(),
            status: s("ResourceStatus").unwrap_or_default(),
            reason: s("ResourceStatusReason").filter(|r| !r.is_empty() && r != "None"),
        }
    }

    fn is_stack(&self) -> bool {
        self.resource_type == "AWS::CloudFormation::Stack"
    }

    fn event(&self) -> Event {
        Event::Resource {
            logical_id: self.logical_id.clone(),
            type_name: self.resource_type.clone(),
            status: self.status.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// `describe-stack-events` output (newest first) → every event.
pub fn parse_events(events: &Value) -> Vec<StackEvent> {
    events
        .get("StackEvents")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(StackEvent::from_json).collect())
        .unwrap_or_default()
}

/// Events (newest first) → those of the latest operation: everything after the stack's own "User Initiated"
/// event.
pub fn latest_operation(all: Vec<StackEvent>) -> Vec<StackEvent> {
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

/// The failures among `events` (newest first): resources oldest first — the cause fails before the resources
/// CloudFormation then cancels — then the stack's own failure.
pub fn failures(events: &[StackEvent]) -> Vec<StackEvent> {
    let failed = |e: &&StackEvent| e.status.ends_with("_FAILED");
    let mut causes: Vec<StackEvent> = events
        .iter()
        .rev()
        .filter(failed)
        .filter(|e| !e.is_stack())
        .cloned()
        .collect();
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
    /// Its outputs, sorted by name.
    pub outputs: Vec<StackOutputValue>,
    /// Its parameters, by name.
    pub parameters: BTreeMap<String, String>,
    /// Its tags, by key.
    pub tags: BTreeMap<String, String>,
}

impl StackInfo {
    /// Whether CloudFormation is still working on it.
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }

    /// Whether a change set made for it is an update (the stack has resources), not a creation. A stack that
    /// only holds an unexecuted change set is `REVIEW_IN_PROGRESS`.
    pub fn exists(&self) -> bool {
        self.status != "REVIEW_IN_PROGRESS"
    }
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
    let list = |k: &str| {
        stack
            .get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut outputs: Vec<StackOutputValue> = list("Outputs")
        .iter()
        .map(|o| StackOutputValue {
            key: s(o, "OutputKey").unwrap_or_default(),
            value: s(o, "OutputValue").unwrap_or_default(),
            description: s(o, "Description"),
        })
        .collect();
    outputs.sort_by(|a, b| a.key.cmp(&b.key));
    let parameters = list("Parameters")
        .iter()
        .filter_map(|p| Some((s(p, "ParameterKey")?, s(p, "ParameterValue")?)))
        .collect();
    let tags = list("Tags")
        .iter()
        .filter_map(|t| Some((s(t, "Key")?, s(t, "Value")?)))
        .collect();
    Some(StackInfo {
        name: s(stack, "StackName").unwrap_or_default(),
        status: s(stack, "StackStatus").unwrap_or_default(),
        reason: s(stack, "StackStatusReason").filter(|r| !r.is_empty() && r != "None"),
        outputs,
        parameters,
        tags,
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

/// The deployed stack, or `None` when there is none by that name. (`DescribeStacks` of one name answers
/// `ValidationError` exactly when no stack has it.)
pub fn describe(aws: &dyn Aws, stack_name: &str) -> Result<Option<StackInfo>, AwsError> {
    match aws.json(&describe_args(stack_name)) {
        Ok(v) => Ok(parse_stack(&v)),
        Err(e) if e.is(&["ValidationError"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every event of the stack, newest first.
pub fn events(aws: &dyn Aws, stack_name: &str) -> Result<Vec<StackEvent>, AwsError> {
    let v = aws.json(&args([
        "cloudformation",
        "describe-stack-events",
        "--stack-name",
        stack_name,
    ]))?;
    Ok(parse_events(&v))
}

/// The template CloudFormation holds for the stack, as submitted (`--template-stage Original`), read by the
/// shared reader (JSON or YAML with short-form tags). `None`: no such stack.
pub fn deployed_template(aws: &dyn Aws, stack_name: &str) -> Result<Option<RawTemplate>, AwsError> {
    let call = args([
        "cloudformation",
        "get-template",
        "--stack-name",
        stack_name,
        "--template-stage",
        "Original",
        "--query",
        "TemplateBody",
    ]);
    let body = match aws.json(&call) {
        Ok(b) => b,
        Err(e) if e.is(&["ValidationError"]) => return Ok(None),
        Err(e) => return Err(e),
    };
    let parsed = match body {
        Value::String(text) => RawTemplate::parse(&text),
        other => RawTemplate::from_value(other),
    };
    parsed.map(Some).map_err(|e| AwsError::BadOutput {
        command: aws.command_line(&call),
        error: format!("the deployed template cannot be read: {e}"),
    })
}

/// `logical id → physical id` of the stack's resources.
pub fn physical_ids(aws: &dyn Aws, stack_name: &str) -> Result<BTreeMap<String, String>, AwsError> {
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

/// A CloudFormation operation that did not end well, with what the stack says about it.
#[derive(Debug)]
pub struct StackFailure {
    /// What went wrong: the CLI's error, or the stack's final status.
    pub error: String,
    /// The stack after the failure, if it exists.
    pub stack: Option<StackInfo>,
    /// The failed resources (and the stack's failure), with reasons.
    pub failures: Vec<StackEvent>,
    /// Why the events could not be read, if they could not.
    pub events_error: Option<AwsError>,
}

impl fmt::Display for StackFailure {
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

impl std::error::Error for StackFailure {}

/// Reads the stack and its latest operation's failures, to explain `error`.
pub fn explain(aws: &dyn Aws, stack_name: &str, error: String) -> StackFailure {
    let stack = describe(aws, stack_name).ok().flatten();
    let (failures, events_error) = if stack.is_some() {
        match events(aws, stack_name) {
            Ok(all) => (self::failures(&latest_operation(all)), None),
            Err(e) => (Vec::new(), Some(e)),
        }
    } else {
        (Vec::new(), None)
    };
    StackFailure {
        error,
        stack,
        failures,
        events_error,
    }
}

/// Ids of the events the stack has now, so that [`follow`] reports only newer ones.
pub fn seen_events(aws: &dyn Aws, stack_name: &str) -> BTreeSet<String> {
    events(aws, stack_name)
        .map(|all| all.into_iter().map(|e| e.event_id).collect())
        .unwrap_or_default()
}

/// Polls the stack until CloudFormation is done with it, reporting each new resource event; returns the final
/// state (`None`: the stack is gone, as after a deletion).
pub fn follow(
    aws: &dyn Aws,
    stack_name: &str,
    seen: &mut BTreeSet<String>,
    reporter: &dyn Reporter,
) -> Result<Option<StackInfo>, AwsError> {
    for _ in 0..MAX_POLLS {
        if let Ok(all) = events(aws, stack_name) {
            for e in all.into_iter().rev() {
                if seen.insert(e.event_id.clone()) && !e.is_stack() {
                    reporter.report(e.event());
                }
            }
        }
        match describe(aws, stack_name)? {
            Some(info) if info.in_progress() => aws.pause(POLL),
            done => return Ok(done),
        }
    }
    Err(AwsError::BadOutput {
        command: aws.command_line(&describe_args(stack_name)),
        error: format!(
            "stack {stack_name} was still in progress after {} minutes",
            MAX_POLLS as u64 * POLL.as_secs() / 60
        ),
    })
}

/// `aws cloudformation delete-stack` arguments.
pub fn delete_args(stack_name: &str) -> Vec<String> {
    args(["cloudformation", "delete-stack", "--stack-name", stack_name])
}

/// Deletes the stack and waits until it is gone; on a failure, says what could not be deleted.
pub fn delete(
    aws: &dyn Aws,
    stack_name: &str,
    reporter: &dyn Reporter,
) -> Result<(), Box<StackFailure>> {
    let mut seen = seen_events(aws, stack_name);
    aws.run(&delete_args(stack_name))
        .map_err(|e| Box::new(explain(aws, stack_name, e.to_string())))?;
    match follow(aws, stack_name, &mut seen, reporter) {
        Ok(None) => Ok(()),
        Ok(Some(info)) if info.status == "DELETE_COMPLETE" => Ok(()),
        Ok(Some(info)) => Err(Box::new(explain(
            aws,
            stack_name,
            format!("the deletion of {stack_name} ended in {}", info.status),
        ))),
        Err(e) => Err(Box::new(explain(aws, stack_name, e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{FakeAws, Reply};
    use super::super::progress::Collect;
    use super::*;
    use serde_json::json;

    fn raw(v: Value) -> RawTemplate {
        RawTemplate::from_value(v).unwrap()
    }

    #[test]
    fn named_iam_needs_the_named_capability() {
        let unnamed = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}});
        assert_eq!(capability(&raw(unnamed)), "CAPABILITY_IAM");
        let named = json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}});
        assert_eq!(capability(&raw(named)), "CAPABILITY_NAMED_IAM");
    }

    #[test]
    fn retained_resources_are_those_with_a_retain_policy() {
        let t = json!({"Resources": {
            "ConnectionsTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"},
            "Fn": {"Type": "AWS::Lambda::Function"}
        }});
        let r = retained(&raw(t));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].to_string(), "ConnectionsTable (AWS::DynamoDB::Table)");
    }

    /// The shape real CloudFormation gives for a failed update (newest first).
    fn failed_update() -> Value {
        let ev = |id: &str, ty: &str, status: &str, reason: &str| json!({"LogicalResourceId": id, "ResourceType": ty, "ResourceStatus": status, "ResourceStatusReason": reason});
        json!({"StackEvents": [
            ev("myapp-dev", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", ""),
            ev("myapp-dev", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
               "The following resource(s) failed to update: [SendFunction]."),
            ev("ConnectFunction", "AWS::Lambda::Function", "UPDATE_FAILED", "Resource update cancelled"),
            ev("SendFunction", "AWS::Lambda::Function", "UPDATE_FAILED",
               "Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey.\""),
            ev("SendFunction", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS", ""),
            ev("myapp-dev", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated"),
            ev("OldFunction", "AWS::Lambda::Function", "CREATE_FAILED", "an older deployment"),
            ev("myapp-dev", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
        ]})
    }

    #[test]
    fn failures_of_the_latest_operation_cause_first() {
        let events = latest_operation(parse_events(&failed_update()));
        assert_eq!(events.len(), 6, "stops at the latest User Initiated event");
        let f = failures(&events);
        let ids: Vec<_> = f.iter().map(|e| e.logical_id.as_str()).collect();
        assert_eq!(ids, ["SendFunction", "ConnectFunction"]);
        let text = StackFailure {
            error: "failed".into(),
            stack: None,
            failures: f,
            events_error: None,
        }
        .to_string();
        assert!(
            text.contains("SendFunction (AWS::Lambda::Function) UPDATE_FAILED: Resource handler returned message"),
            "{text}"
        );
    }

    #[test]
    fn stack_outputs_and_parameters_are_read() {
        let v = json!({"Stacks": [{"StackName": "s", "StackStatus": "CREATE_COMPLETE", "Outputs": [
            {"OutputKey": "WebSocketUrl", "OutputValue": "wss://a.execute-api.eu-west-1.amazonaws.com/dev"},
            {"OutputKey": "CallbackUrl", "OutputValue": "https://a.execute-api.eu-west-1.amazonaws.com/dev", "Description": "d"}
        ], "Parameters": [{"ParameterKey": "ArtifactBucket", "ParameterValue": "b"}]}]});
        let s = parse_stack(&v).unwrap();
        assert_eq!(s.status, "CREATE_COMPLETE");
        assert_eq!(s.reason, None);
        assert_eq!(s.outputs[0].key, "CallbackUrl");
        assert_eq!(s.outputs[1].key, "WebSocketUrl");
        assert_eq!(s.parameters["ArtifactBucket"], "b");
    }

    #[test]
    fn a_missing_stack_is_recognised_by_its_error_code() {
        let aws = FakeAws::new().error(
            &["cloudformation", "describe-stacks"],
            "ValidationError",
            "DescribeStacks",
            "Stack with id x does not exist",
        );
        assert_eq!(describe(&aws, "x").unwrap(), None);
        let aws = FakeAws::new().error(
            &["cloudformation", "describe-stacks"],
            "ExpiredToken",
            "DescribeStacks",
            "The security token included in the request is expired",
        );
        assert_eq!(
            describe(&aws, "x").unwrap_err().code(),
            Some("ExpiredToken")
        );
    }

    #[test]
    fn the_deployed_template_is_read_with_short_form_tags() {
        let aws = FakeAws::new().json(
            &["cloudformation", "get-template"],
            json!("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt FnRole.Arn\n"),
        );
        let t = deployed_template(&aws, "s").unwrap().unwrap();
        assert_eq!(
            t.resources["Fn"].properties["Role"],
            json!({"Fn::GetAtt": ["FnRole", "Arn"]})
        );
        assert!(
            aws.calls()[0]
                .windows(2)
                .any(|w| w == ["--template-stage", "Original"])
        );
    }

    #[test]
    fn following_an_operation_reports_each_new_event_once_in_order() {
        let ev = |id: &str, logical: &str, status: &str| json!({"EventId": id, "LogicalResourceId": logical, "ResourceType": "AWS::Lambda::Function", "ResourceStatus": status});
        let stacks = |status: &str| {
            Reply::Out(json!({"Stacks": [{"StackName": "s", "StackStatus": status}]}).to_string())
        };
        let aws = FakeAws::new()
            .on(
                &["cloudformation", "describe-stack-events"],
                vec![
                    Reply::Out(json!({"StackEvents": [ev("2", "A", "CREATE_IN_PROGRESS"), ev("1", "Old", "CREATE_COMPLETE")]}).to_string()),
                    Reply::Out(json!({"StackEvents": [ev("3", "A", "CREATE_COMPLETE"), ev("2", "A", "CREATE_IN_PROGRESS"), ev("1", "Old", "CREATE_COMPLETE")]}).to_string()),
                ],
            )
            .on(
                &["cloudformation", "describe-stacks"],
                vec![stacks("CREATE_IN_PROGRESS"), stacks("CREATE_COMPLETE")],
            );
        let reporter = Collect::default();
        let mut seen: BTreeSet<String> = ["1".to_string()].into();
        let done = follow(&aws, "s", &mut seen, &reporter).unwrap().unwrap();
        assert_eq!(done.status, "CREATE_COMPLETE");
        assert_eq!(
            reporter.text(),
            "  | CREATE_IN_PROGRESS A (AWS::Lambda::Function)\n  | CREATE_COMPLETE A (AWS::Lambda::Function)\n"
        );
    }
}
