//! `sockstack destroy`: shows what the deletion keeps, asks for the stack name, deletes the stack and waits,
//! then lists what was retained (resources with `DeletionPolicy: Retain`).

use super::aws::{Aws, AwsError};
use super::progress::{Event, Reporter};
use super::prompt::Prompt;
use super::stack::{self, Retained, StackFailure};
use crate::raw::RawTemplate;
use std::fmt;

/// How a destroy ended well.
#[derive(Debug, PartialEq, Eq)]
pub enum Destroyed {
    /// There was no such stack.
    Nothing,
    /// Deleted; these resources were kept.
    Deleted(Vec<Retained>),
}

/// Why a destroy stopped.
#[derive(Debug)]
pub enum DestroyError {
    /// No terminal to ask and no `--yes`.
    NeedsYes,
    /// The answer was not the stack name.
    NotConfirmed,
    /// Reading the stack failed.
    Aws(AwsError),
    /// CloudFormation could not delete it.
    Stack(Box<StackFailure>),
}

impl DestroyError {
    /// 2 for bad usage or a failed AWS step, 1 when the person said no.
    pub fn exit_code(&self) -> u8 {
        match self {
            DestroyError::NotConfirmed => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for DestroyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DestroyError::NeedsYes => f.write_str(
                "refusing to delete the stack without confirmation: stdin is not a terminal; pass --yes",
            ),
            DestroyError::NotConfirmed => f.write_str("not confirmed; nothing was deleted"),
            DestroyError::Aws(e) => write!(f, "cannot read the stack: {e}"),
            DestroyError::Stack(s) => write!(f, "the deletion failed: {s}"),
        }
    }
}

impl std::error::Error for DestroyError {}

/// Deletes `stack_name` after confirmation (`yes`, or the stack name typed at `prompt`). What is retained is
/// read from the deployed template, else from `fallback` (the stack file's).
pub fn destroy(
    aws: &dyn Aws,
    stack_name: &str,
    fallback: &RawTemplate,
    yes: bool,
    prompt: &dyn Prompt,
    reporter: &dyn Reporter,
) -> Result<Destroyed, DestroyError> {
    if !yes && !prompt.interactive() {
        return Err(DestroyError::NeedsYes);
    }
    let Some(info) = stack::describe(aws, stack_name).map_err(DestroyError::Aws)? else {
        return Ok(Destroyed::Nothing);
    };
    let deployed = match stack::deployed_template(aws, stack_name) {
        Ok(Some(t)) => t,
        Ok(None) => fallback.clone(),
        Err(e) => {
            reporter.report(Event::Warning(format!(
                "cannot read the deployed template ({}); listing what the stack file retains",
                e.detail()
            )));
            fallback.clone()
        }
    };
    let mut retained = stack::retained(&deployed);
    if let Ok(ids) = stack::physical_ids(aws, stack_name) {
        for r in &mut retained {
            r.physical_id = ids.get(&r.logical_id).cloned();
        }
    }
    if !yes {
        let mut q = format!(
            "This deletes stack {stack_name} ({}) and every resource in it.\n",
            info.status
        );
        if retained.is_empty() {
            q.push_str("Nothing is retained: the tables and their data go too.\n");
        } else {
            q.push_str("Kept (DeletionPolicy: Retain):\n");
            for r in &retained {
                q.push_str(&format!("  {r}\n"));
            }
        }
        q.push_str("Type the stack name to confirm: ");
        if prompt.ask(&q) != stack_name {
            return Err(DestroyError::NotConfirmed);
        }
    }
    reporter.report(Event::Detail(format!("deleting stack {stack_name}")));
    stack::delete(aws, stack_name, reporter).map_err(DestroyError::Stack)?;
    reporter.finish();
    Ok(Destroyed::Deleted(retained))
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeAws;
    use super::super::progress::Collect;
    use super::super::prompt::{Answers, Nobody};
    use super::*;
    use serde_json::json;

    #[test]
    fn without_a_terminal_it_needs_yes_and_calls_nothing() {
        let aws = FakeAws::new();
        let t = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let err = destroy(&aws, "s", &t, false, &Nobody, &Collect::default()).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(aws.calls().is_empty());
    }

    #[test]
    fn a_wrong_name_deletes_nothing() {
        let aws = FakeAws::new()
            .json(
                &["cloudformation", "describe-stacks"],
                json!({"Stacks": [{"StackName": "s", "StackStatus": "CREATE_COMPLETE"}]}),
            )
            .json(
                &["cloudformation", "get-template"],
                json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"}}}),
            )
            .json(
                &["cloudformation", "list-stack-resources"],
                json!({"StackResourceSummaries": [{"LogicalResourceId": "T", "PhysicalResourceId": "s-T-1"}]}),
            );
        let t = RawTemplate::from_value(json!({"Resources": {}})).unwrap();
        let answers = Answers::new(&["nope"]);
        let err = destroy(&aws, "s", &t, false, &answers, &Collect::default()).unwrap_err();
        assert!(matches!(err, DestroyError::NotConfirmed));
        assert!(answers.questions()[0].contains("T (AWS::DynamoDB::Table) s-T-1"));
        assert!(aws.calls_to(&["cloudformation", "delete-stack"]).is_empty());
    }
}
