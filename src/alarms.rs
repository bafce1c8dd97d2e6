//! Production alarms for a stack, from plain inputs (no model): CloudWatch alarms on the WebSocket API's
//! integration and execution errors, each function's errors, throttles and duration near its timeout, and each
//! table's throttling, all notifying one SNS topic encrypted with a customer-managed KMS key that CloudWatch
//! may use; optionally an e-mail subscription, to an address or to one an SSM parameter holds. [`build`]
//! returns the resources and the monthly list price, for the synth summary; [`Observability::add_to`] puts
//! them in a template.

use crate::cfn::cloudwatch::{Alarm, Dimension};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::kms::{self, Key};
use crate::cfn::sns::{Subscription, Topic};
use crate::cfn::{Expr, Parameter, Properties, Resource, RetainPolicy, Template};
use crate::synth::security::LintSkip;
use std::collections::BTreeMap;

/// Logical id of the topic every alarm notifies.
pub const TOPIC: &str = "AlarmTopic";
/// Logical id of the topic's key.
pub const TOPIC_KEY: &str = "AlarmTopicKey";
/// Logical id of the e-mail subscription.
pub const EMAIL_SUBSCRIPTION: &str = "AlarmEmailSubscription";
/// The template parameter that reads the address from SSM, when an SSM parameter holds it.
pub const EMAIL_PARAMETER: &str = "AlarmEmail";

/// Seconds per datapoint: five minutes, standard resolution.
pub const PERIOD: u32 = 300;
/// API or function errors in one period that raise an alarm.
pub const ERRORS: f64 = 5.0;
/// A function's longest run in a period, as a share of its timeout, that raises an alarm.
pub const DURATION_SHARE: f64 = 0.8;
/// List price of one standard-resolution alarm a month, in US cents (CloudWatch pricing, us-east-1).
pub const ALARM_CENTS: u32 = 10;
/// List price of one customer-managed KMS key a month, in US cents (KMS pricing).
pub const KEY_CENTS: u32 = 100;

/// The API to watch.
#[derive(Debug, Clone)]
pub struct ApiInput {
    /// Logical id of the `AWS::ApiGatewayV2::Api` (its `Ref` is the API id).
    pub logical_id: String,
    /// Stage name.
    pub stage: String,
}

/// A function to watch.
#[derive(Debug, Clone)]
pub struct FunctionInput {
    /// Logical id of the `AWS::Lambda::Function` (its `Ref` is the function name).
    pub logical_id: String,
    /// Its timeout in seconds.
    pub timeout: u32,
}

/// What to watch.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The WebSocket API and its stage.
    pub api: Option<ApiInput>,
    /// The functions.
    pub functions: Vec<FunctionInput>,
    /// Logical ids of the `AWS::DynamoDB::Table`s created by the stack.
    pub tables: Vec<String>,
    /// Who to e-mail (a subscription is made for it).
    pub email: Option<Email>,
}

/// An e-mail recipient of the alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Email {
    /// The address, written into the template.
    Address(String),
    /// The name of an SSM parameter holding the address: the template reads it through a parameter of type
    /// `AWS::SSM::Parameter::Value<String>` whose default is that name, so a deploy needs no value.
    SsmParameter(String),
}

/// The resources and their price.
#[derive(Debug, Clone)]
pub struct Observability {
    /// Alarms, topic, key and subscription, by logical id.
    pub resources: BTreeMap<String, Resource>,
    /// The e-mail parameter, when asked for.
    pub parameters: BTreeMap<String, Parameter>,
    /// How many alarms.
    pub alarms: usize,
    /// Their monthly list price with the key's, in US cents.
    pub monthly_cents: u32,
}

impl Observability {
    /// `$1.90 a month (9 alarms at $0.10, one KMS key at $1.00; list prices)`.
    pub fn price_text(&self) -> String {
        price_text(self.alarms)
    }

    /// Adds everything to `template`. Panics on a logical id the template already has.
    pub fn add_to(self, template: &mut Template) {
        for (id, r) in self.resources {
            template.add(id, r);
        }
        for (name, p) in self.parameters {
            let previous = template.parameters.insert(name.clone(), p);
            assert!(previous.is_none(), "duplicate parameter {name}");
        }
    }
}

/// The monthly list price of `alarms` alarms and the topic's key, in US cents.
pub fn monthly_cents(alarms: usize) -> u32 {
    alarms as u32 * ALARM_CENTS + KEY_CENTS
}

/// `$1.90 a month (9 alarms at $0.10, one KMS key at $1.00; list prices)` for `alarms` alarms.
pub fn price_text(alarms: usize) -> String {
    let cents = monthly_cents(alarms);
    format!(
        "${}.{:02} a month ({alarms} alarms at $0.{ALARM_CENTS:02}, one KMS key at ${}.{:02}; list prices)",
        cents / 100,
        cents % 100,
        KEY_CENTS / 100,
        KEY_CENTS % 100
    )
}

/// cfn-lint-serverless ES7000 (a subscription without a dead-letter queue), skipped on the e-mail subscription.
pub const NO_REDRIVE: LintSkip = LintSkip {
    id: "ES7000",
    reason: "an alarm e-mail that cannot be delivered is not worth keeping: the alarm's state and history stay \
             in CloudWatch, and a dead-letter queue would be one more resource to encrypt and watch",
};

struct Spec {
    id: String,
    description: String,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<Dimension>,
    statistic: &'static str,
    threshold: f64,
}

fn alarm(s: Spec) -> Resource {
    let notify = vec![Expr::reference(TOPIC)];
    Resource::new(Properties::Alarm(Alarm {
        alarm_description: s.description,
        namespace: s.namespace,
        metric_name: s.metric,
        dimensions: s.dimensions,
        statistic: s.statistic,
        period: PERIOD,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold: s.threshold,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        treat_missing_data: "notBreaching",
        alarm_actions: notify.clone(),
        ok_actions: notify,
    }))
}

/// The topic's key: rotated yearly; the account administers it (IAM policies decide who else may use it),
/// CloudWatch may use it to publish alarm notifications to the encrypted topic, and only AWS services may
/// create grants on it.
fn topic_key() -> Resource {
    let cloudwatch = Statement {
        sid: Some("CloudWatchPublishesAlarms".into()),
        effect: "Allow",
        principal: Some(Principal::Service(vec!["cloudwatch.amazonaws.com"])),
        action: vec!["kms:Decrypt".into(), "kms:GenerateDataKey*".into()],
        resource: vec![Expr::str("*")],
        condition: None,
    };
    Resource::new(Properties::Key(Key {
        description: "Encrypts the alarm notifications of this stack".into(),
        enable_key_rotation: true,
        key_policy: PolicyDocument::new(vec![
            kms::account_administers_key(),
            cloudwatch,
            kms::grants_only_for_aws_services(),
        ]),
    }))
    .with_policy(RetainPolicy::Delete)
}

/// Builds the alarms, the topic, its key and the optional subscription for `inputs`.
pub fn build(inputs: &Inputs) -> Observability {
    let mut resources = BTreeMap::new();
    let mut add = |s: Spec| {
        let id = s.id.clone();
        resources.insert(id, alarm(s));
    };
    if let Some(api) = &inputs.api {
        let dims = || {
            vec![
                Dimension {
                    name: "ApiId",
                    value: Expr::reference(&api.logical_id),
                },
                Dimension {
                    name: "Stage",
                    value: Expr::str(&api.stage),
                },
            ]
        };
        for (metric, what) in [
            (
                "IntegrationError",
                "integration errors (the functions behind routes failed or timed out)",
            ),
            (
                "ExecutionError",
                "execution errors (API Gateway could not run the route)",
            ),
        ] {
            add(Spec {
                id: format!("{}{metric}sAlarm", api.logical_id),
                description: format!(
                    "{} stage {}: {ERRORS} or more {what} in {} minutes",
                    api.logical_id,
                    api.stage,
                    PERIOD / 60
                ),
                namespace: "AWS/ApiGateway",
                metric,
                dimensions: dims(),
                statistic: "Sum",
                threshold: ERRORS,
            });
        }
    }
    for f in &inputs.functions {
        let dims = || {
            vec![Dimension {
                name: "FunctionName",
                value: Expr::reference(&f.logical_id),
            }]
        };
        let limit_ms = f64::from(f.timeout) * 1000.0 * DURATION_SHARE;
        for (metric, statistic, threshold, what) in [
            ("Errors", "Sum", ERRORS, format!("{ERRORS} or more errors")),
            ("Throttles", "Sum", 1.0, "throttled invocations".to_string()),
            (
                "Duration",
                "Maximum",
                limit_ms,
                format!(
                    "a run of {limit_ms} ms or longer ({}% of its {} s timeout)",
                    (DURATION_SHARE * 100.0) as u32,
                    f.timeout
                ),
            ),
        ] {
            add(Spec {
                id: format!("{}{metric}Alarm", f.logical_id),
                description: format!("{}: {what} in {} minutes", f.logical_id, PERIOD / 60),
                namespace: "AWS/Lambda",
                metric,
                dimensions: dims(),
                statistic,
                threshold,
            });
        }
    }
    for t in &inputs.tables {
        for (metric, short) in [
            ("ReadThrottleEvents", "ReadThrottle"),
            ("WriteThrottleEvents", "WriteThrottle"),
        ] {
            add(Spec {
                id: format!("{t}{short}Alarm"),
                description: format!(
                    "{t}: throttled requests ({metric}) in {} minutes",
                    PERIOD / 60
                ),
                namespace: "AWS/DynamoDB",
                metric,
                dimensions: vec![Dimension {
                    name: "TableName",
                    value: Expr::reference(t),
                }],
                statistic: "Sum",
                threshold: 1.0,
            });
        }
    }
    let alarms = resources.len();
    resources.insert(TOPIC_KEY.into(), topic_key());
    resources.insert(
        TOPIC.into(),
        Resource::new(Properties::Topic(Topic {
            display_name: "sockstack alarms".into(),
            kms_master_key_id: Expr::get_att(TOPIC_KEY, "Arn"),
        })),
    );
    let mut parameters = BTreeMap::new();
    if let Some(email) = &inputs.email {
        let endpoint = match email {
            Email::Address(a) => Expr::str(a.clone()),
            Email::SsmParameter(name) => {
                parameters.insert(
                    EMAIL_PARAMETER.to_string(),
                    Parameter {
                        type_name: "AWS::SSM::Parameter::Value<String>",
                        description: "SSM parameter holding the e-mail address the alarms notify (confirm the subscription from the first message)"
                            .into(),
                        allowed_pattern: None,
                        default: Some(name.clone()),
                    },
                );
                Expr::reference(EMAIL_PARAMETER)
            }
        };
        let mut subscription = Resource::new(Properties::Subscription(Subscription {
            protocol: "email",
            endpoint,
            topic_arn: Expr::reference(TOPIC),
        }));
        crate::synth::security::suppress_lint(&mut subscription, NO_REDRIVE);
        resources.insert(EMAIL_SUBSCRIPTION.into(), subscription);
    }
    Observability {
        resources,
        parameters,
        alarms,
        monthly_cents: monthly_cents(alarms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn inputs() -> Inputs {
        Inputs {
            api: Some(ApiInput {
                logical_id: "WebSocketApi".into(),
                stage: "dev".into(),
            }),
            functions: vec![
                FunctionInput {
                    logical_id: "SendFunction".into(),
                    timeout: 10,
                },
                FunctionInput {
                    logical_id: "ConnectFunction".into(),
                    timeout: 3,
                },
            ],
            tables: vec!["ConnectionsTable".into()],
            email: None,
        }
    }

    fn value(r: &Resource) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn one_alarm_per_api_metric_function_metric_and_table_direction() {
        let o = build(&inputs());
        assert_eq!(o.alarms, 2 + 2 * 3 + 2);
        let ids: Vec<&String> = o.resources.keys().collect();
        for id in [
            "WebSocketApiIntegrationErrorsAlarm",
            "WebSocketApiExecutionErrorsAlarm",
            "SendFunctionErrorsAlarm",
            "SendFunctionThrottlesAlarm",
            "SendFunctionDurationAlarm",
            "ConnectionsTableReadThrottleAlarm",
            "ConnectionsTableWriteThrottleAlarm",
            TOPIC,
            TOPIC_KEY,
        ] {
            assert!(ids.iter().any(|i| *i == id), "{id} in {ids:?}");
        }
        assert!(!o.resources.contains_key(EMAIL_SUBSCRIPTION));
        assert!(o.parameters.is_empty());
    }

    #[test]
    fn duration_alarms_follow_each_functions_timeout() {
        let o = build(&inputs());
        let send = value(&o.resources["SendFunctionDurationAlarm"]);
        assert_eq!(send["Properties"]["Threshold"], 8000.0);
        assert_eq!(send["Properties"]["Statistic"], "Maximum");
        let connect = value(&o.resources["ConnectFunctionDurationAlarm"]);
        assert_eq!(connect["Properties"]["Threshold"], 2400.0);
        assert_eq!(
            connect["Properties"]["Dimensions"],
            json!([{"Name": "FunctionName", "Value": {"Ref": "ConnectFunction"}}])
        );
    }

    #[test]
    fn every_alarm_notifies_the_encrypted_topic_both_ways() {
        let o = build(&inputs());
        for (id, r) in &o.resources {
            let v = value(r);
            if v["Type"] == "AWS::CloudWatch::Alarm" {
                assert_eq!(
                    v["Properties"]["AlarmActions"],
                    json!([{"Ref": TOPIC}]),
                    "{id}"
                );
                assert_eq!(
                    v["Properties"]["OKActions"],
                    json!([{"Ref": TOPIC}]),
                    "{id}"
                );
                assert_eq!(v["Properties"]["TreatMissingData"], "notBreaching", "{id}");
            }
        }
        let topic = value(&o.resources[TOPIC]);
        assert_eq!(
            topic["Properties"]["KmsMasterKeyId"],
            json!({"Fn::GetAtt": [TOPIC_KEY, "Arn"]})
        );
    }

    #[test]
    fn cloudwatch_may_use_the_topic_key_and_it_rotates() {
        let key = value(&build(&inputs()).resources[TOPIC_KEY]);
        assert_eq!(key["Properties"]["EnableKeyRotation"], true);
        let statements = key["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap();
        let cw = statements
            .iter()
            .find(|s| s["Principal"] == json!({"Service": ["cloudwatch.amazonaws.com"]}))
            .expect("a statement for CloudWatch");
        assert_eq!(cw["Action"], json!(["kms:Decrypt", "kms:GenerateDataKey*"]));
        assert_eq!(cw["Effect"], "Allow");
    }

    #[test]
    fn an_address_adds_a_subscription_and_no_parameter() {
        let o = build(&Inputs {
            email: Some(Email::Address("ops@example.com".into())),
            ..inputs()
        });
        let sub = value(&o.resources[EMAIL_SUBSCRIPTION]);
        assert_eq!(
            sub["Properties"],
            json!({"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": {"Ref": TOPIC}})
        );
        assert!(o.parameters.is_empty());
    }

    #[test]
    fn an_ssm_parameter_adds_a_subscription_read_through_a_defaulted_parameter() {
        let o = build(&Inputs {
            email: Some(Email::SsmParameter("/app/prod/alarm-email".into())),
            ..inputs()
        });
        let sub = value(&o.resources[EMAIL_SUBSCRIPTION]);
        assert_eq!(
            sub["Properties"],
            json!({"Protocol": "email", "Endpoint": {"Ref": EMAIL_PARAMETER}, "TopicArn": {"Ref": TOPIC}})
        );
        let p = serde_json::to_value(&o.parameters[EMAIL_PARAMETER]).unwrap();
        assert_eq!(p["Type"], "AWS::SSM::Parameter::Value<String>");
        assert_eq!(p["Default"], "/app/prod/alarm-email");
        assert_eq!(
            sub["Metadata"]["cfn-lint"]["config"]["ignore_checks"],
            json!([NO_REDRIVE.id])
        );
        assert!(
            sub["Metadata"]["cfn-lint"]["reasons"][NO_REDRIVE.id]
                .as_str()
                .unwrap()
                .contains("dead-letter queue")
        );
    }

    #[test]
    fn the_price_counts_each_alarm_and_the_key() {
        let o = build(&inputs());
        assert_eq!(o.monthly_cents, 10 * 10 + 100);
        assert_eq!(
            o.price_text(),
            "$2.00 a month (10 alarms at $0.10, one KMS key at $1.00; list prices)"
        );
        let none = build(&Inputs::default());
        assert_eq!(none.alarms, 0);
        assert_eq!(none.monthly_cents, 100);
    }

    #[test]
    fn the_same_inputs_give_the_same_resources() {
        let a = serde_json::to_string(&build(&inputs()).resources).unwrap();
        let b = serde_json::to_string(&build(&inputs()).resources).unwrap();
        assert_eq!(a, b);
    }
}
