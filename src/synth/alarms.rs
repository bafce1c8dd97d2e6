//! The stack's alarms, from [`crate::alarms`]: the API and its stage, every function with its timeout, the
//! registry and every table the stack creates (an existing table belongs to whoever created it).

use super::API;
use super::functions::function_id;
use crate::alarms::{self, ApiInput, Email, FunctionInput, Inputs};
use crate::cfn::Template;
use crate::model::{AlarmEmail, Model, TableSource};
use sockstack_contract::registry;

/// What [`crate::alarms::build`] watches in `model`; `None` when the stack file turns the alarms off.
pub fn inputs(model: &Model) -> Option<Inputs> {
    let config = model.alarms.as_ref()?;
    let mut tables = vec![registry::LOGICAL_ID.to_string()];
    tables.extend(
        model
            .tables
            .iter()
            .filter(|t| matches!(t.source, TableSource::Created(_)))
            .map(|t| t.logical_id()),
    );
    Some(Inputs {
        api: Some(ApiInput {
            logical_id: API.to_string(),
            stage: model.stage.name.clone(),
        }),
        functions: model
            .functions
            .iter()
            .map(|f| FunctionInput {
                logical_id: function_id(f),
                timeout: f.timeout,
            })
            .collect(),
        tables,
        email: config.email.as_ref().map(|e| match e {
            AlarmEmail::Address(a) => Email::Address(a.clone()),
            AlarmEmail::Parameter(p) => Email::SsmParameter(p.clone()),
        }),
    })
}

pub(super) fn add(model: &Model, template: &mut Template) {
    if let Some(inputs) = inputs(model) {
        alarms::build(&inputs).add_to(template);
    }
}
