//! What a deploy would change in the live stack: the synthesized template against the one CloudFormation holds
//! (`sockstack diff --deployed`), and optionally CloudFormation's own verdict from a change set made, read and
//! deleted again (`--change-set`).

use super::aws::{Aws, AwsError};
use super::changeset::{self, Comparison, Kind, ParameterValue, Request, TemplateSource};
use super::stack::{self, StackInfo};
use crate::diff::{DiffReport, Schemas, StackDiff};
use crate::raw::RawTemplate;
use std::collections::BTreeMap;
use std::fmt;

/// The stack to compare.
pub struct Target<'a> {
    /// The name in reports (the stack file's name, `dev`).
    pub name: &'a str,
    /// CloudFormation stack name.
    pub stack_name: &'a str,
    /// The synthesized template.
    pub template: &'a RawTemplate,
    /// Its text (sent as the change set's body).
    pub text: &'a str,
    /// Where it came from, for the report.
    pub source: String,
    /// Stack tags.
    pub tags: &'a BTreeMap<String, String>,
}

/// The comparison, and CloudFormation's verdict when a change set was asked for.
#[derive(Debug)]
pub struct DeployedDiff {
    /// The diff, in the shape of every diff.
    pub report: DiffReport,
    /// The change set's name and its verdicts beside sockstack's.
    pub change_set: Option<(String, Vec<Comparison>)>,
}

/// Why the deployed stack could not be compared.
#[derive(Debug)]
pub enum DeployedError {
    /// An AWS call failed.
    Aws(AwsError),
    /// The input cannot make a change set.
    Input(String),
    /// CloudFormation could not make the change set.
    ChangeSet { name: String, reason: String },
}

impl fmt::Display for DeployedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployedError::Aws(e) => write!(f, "{e}"),
            DeployedError::Input(m) => f.write_str(m),
            DeployedError::ChangeSet { name, reason } => {
                write!(
                    f,
                    "CloudFormation could not make change set {name}: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for DeployedError {}

impl From<AwsError> for DeployedError {
    fn from(e: AwsError) -> Self {
        DeployedError::Aws(e)
    }
}

/// The report of `deployed` (`None`: no stack) against `target`'s template.
pub fn report(target: &Target, deployed: Option<&RawTemplate>, label: String) -> DiffReport {
    let stack = StackDiff::new(
        target.name,
        deployed.map(|t| (t, label)),
        Some((target.template, target.source.clone())),
        Schemas::bundled(),
    );
    DiffReport::new(vec![stack])
}

/// `label` for the deployed side: `deployed stack NAME`.
pub fn label(stack_name: &str) -> String {
    format!("deployed stack {stack_name}")
}

/// The parameters a change set for `template` is given: the stack's current value where it has one, else
/// `given`, else an error naming the parameter (a parameter with a `Default` needs nothing).
pub fn parameters(
    template: &RawTemplate,
    stack: Option<&StackInfo>,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, ParameterValue>, String> {
    let mut out = BTreeMap::new();
    for (name, p) in &template.parameters {
        if let Some(v) = given.get(name) {
            out.insert(name.clone(), ParameterValue::Value(v.clone()));
        } else if stack.is_some_and(|s| s.exists() && s.parameters.contains_key(name)) {
            out.insert(name.clone(), ParameterValue::Previous);
        } else if p.get("Default").is_none() {
            return Err(format!(
                "parameter {name} has no value for a stack that does not exist yet{}",
                if name == crate::synth::ARTIFACT_BUCKET {
                    ": pass --bucket"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(out)
}

/// Compares the deployed stack with `target`; with `change_set`, also makes a change set, reads
/// CloudFormation's verdict, and deletes it again (and the stack it made, if there was none before).
/// `given` are parameter values for a stack that does not exist yet (`ArtifactBucket`).
pub fn compare(
    aws: &dyn Aws,
    target: &Target,
    change_set: bool,
    given: &BTreeMap<String, String>,
) -> Result<DeployedDiff, DeployedError> {
    let info = stack::describe(aws, target.stack_name)?;
    let deployed = match &info {
        Some(s) if s.exists() => stack::deployed_template(aws, target.stack_name)?,
        _ => None,
    };
    let report = report(target, deployed.as_ref(), label(target.stack_name));
    if !change_set {
        return Ok(DeployedDiff {
            report,
            change_set: None,
        });
    }
    if target.text.len() > super::INLINE_TEMPLATE_LIMIT {
        return Err(DeployedError::Input(format!(
            "the template is {} bytes, over the {} CloudFormation takes inline: `sockstack deploy --require-approval any-change` shows the change set through the bucket",
            target.text.len(),
            super::INLINE_TEMPLATE_LIMIT
        )));
    }
    let parameters =
        parameters(target.template, info.as_ref(), given).map_err(DeployedError::Input)?;
    let request = Request {
        stack_name: target.stack_name.to_string(),
        name: changeset::name_for(target.text, &parameters),
        kind: if info.as_ref().is_some_and(StackInfo::exists) {
            Kind::Update
        } else {
            Kind::Create
        },
        template: TemplateSource::Body(target.text.to_string()),
        capability: stack::capability(target.template),
        parameters,
        tags: target.tags.clone(),
    };
    if deployed
        .as_ref()
        .is_some_and(|d| d.document == target.template.document)
    {
        // CloudFormation makes no change set for an identical template (moto refuses it outright).
        return Ok(DeployedDiff {
            report,
            change_set: Some((request.name, Vec::new())),
        });
    }
    let computed = changeset::create(aws, &request);
    let cleanup = changeset::discard(aws, &request);
    let computed = computed?;
    cleanup?;
    if computed.status != "CREATE_COMPLETE" {
        return Err(DeployedError::ChangeSet {
            name: request.name,
            reason: computed
                .reason
                .unwrap_or_else(|| format!("status {}", computed.status)),
        });
    }
    let changes = report
        .stacks
        .first()
        .map(|s| s.changes.clone())
        .unwrap_or_default();
    let comparisons = changeset::compare(&changes, &computed.resources);
    Ok(DeployedDiff {
        report,
        change_set: Some((request.name, comparisons)),
    })
}

/// [`compare`] for a stack file: synthesizes it (bundle keys from `handlers`) and compares it with the stack
/// CloudFormation holds under its stack name (`sockstack diff --deployed STACK`).
pub fn compare_stack_file(
    aws: &dyn Aws,
    file: &std::path::Path,
    handlers: &std::path::Path,
    change_set: bool,
    given: &BTreeMap<String, String>,
) -> Result<DeployedDiff, DeployedError> {
    let input = |e: &dyn fmt::Display| DeployedError::Input(e.to_string());
    let sources = crate::sources::HandlerSources::open(handlers).map_err(|e| input(&e))?;
    let s = crate::pipeline::synthesize(file, &sources, crate::emit::Format::Yaml)
        .map_err(|e| input(&e))?;
    let template = RawTemplate::parse(&s.text).map_err(|e| input(&e))?;
    let target = Target {
        name: &s.name,
        stack_name: &s.model.stack_name,
        template: &template,
        text: &s.text,
        source: file.display().to_string(),
        tags: &s.model.tags,
    };
    compare(aws, &target, change_set, given)
}

#[cfg(test)]
mod tests {
    use super::super::fake::{FakeAws, Reply};
    use super::*;
    use serde_json::json;

    fn template() -> RawTemplate {
        RawTemplate::from_value(json!({
            "Parameters": {"ArtifactBucket": {"Type": "String"}},
            "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 512}}}}))
        .unwrap()
    }

    #[test]
    fn a_change_set_for_a_new_stack_leaves_nothing_behind() {
        let t = template();
        let tags = BTreeMap::new();
        let target = Target {
            name: "dev",
            stack_name: "myapp-dev",
            template: &t,
            text: "Resources: {}",
            source: "stacks/dev.yaml".into(),
            tags: &tags,
        };
        let aws = FakeAws::new()
            .on(
                &["cloudformation", "describe-stacks"],
                vec![
                    Reply::Err("An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id myapp-dev does not exist".into()),
                    Reply::Out(json!({"Stacks": [{"StackName": "myapp-dev", "StackStatus": "REVIEW_IN_PROGRESS"}]}).to_string()),
                ],
            )
            .json(&["cloudformation", "create-change-set"], json!({}))
            .json(
                &["cloudformation", "describe-change-set"],
                json!({"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function"}}]}),
            )
            .on(&["cloudformation", "delete-change-set"], vec![Reply::Out(String::new())])
            .on(&["cloudformation", "delete-stack"], vec![Reply::Out(String::new())]);
        // Without a bucket, a new stack's ArtifactBucket has no value.
        let err = compare(&aws, &target, true, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("pass --bucket"), "{err}");

        let aws = FakeAws::new()
            .error(&["cloudformation", "describe-stacks"], "ValidationError", "DescribeStacks", "x")
            .json(&["cloudformation", "create-change-set"], json!({}))
            .json(
                &["cloudformation", "describe-change-set"],
                json!({"Status": "CREATE_COMPLETE", "Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function"}}]}),
            )
            .on(&["cloudformation", "delete-change-set"], vec![Reply::Out(String::new())]);
        let given = [("ArtifactBucket".to_string(), "b".to_string())].into();
        let d = compare(&aws, &target, true, &given).unwrap();
        let (_, c) = d.change_set.unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].agrees, Some(true), "{c:?}");
        assert_eq!(
            aws.calls_to(&["cloudformation", "delete-change-set"]).len(),
            1
        );
        assert_eq!(d.report.stacks[0].counts.create, 1);
    }

    #[test]
    fn an_existing_stack_keeps_its_parameter_values() {
        let t = template();
        let info = StackInfo {
            name: "s".into(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
            outputs: vec![],
            parameters: [("ArtifactBucket".to_string(), "b".to_string())].into(),
            tags: BTreeMap::new(),
        };
        let p = parameters(&t, Some(&info), &BTreeMap::new()).unwrap();
        assert_eq!(p["ArtifactBucket"], ParameterValue::Previous);
    }
}
