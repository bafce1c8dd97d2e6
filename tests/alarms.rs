//! Observability as the template wires it, in both example stacks: the alarms on the API, every function and
//! every table the stack creates, the encrypted topic they notify, X-Ray tracing on by default, the opt-out,
//! the e-mail subscription and the summary's count and price.

mod common;

use common::{handlers, resources, root, synthesize_stack};
use serde_json::{Value, json};
use sockstack::emit::Format;
use sockstack::pipeline::{self, Synthesized};
use sockstack::sources::HandlerSources;
use std::fs;

/// The dev stack file with `edit` applied to its text.
fn edited_dev(edit: impl Fn(&str) -> String) -> Synthesized {
    let sources = HandlerSources::open(&handlers()).unwrap();
    let file = root().join("stacks/dev.yaml");
    let text = edit(&fs::read_to_string(&file).unwrap());
    let model =
        sockstack::model::load_str(&file, &text, &sources).unwrap_or_else(|e| panic!("{e}"));
    pipeline::from_model(&file, model, Format::Yaml)
}

/// The alarm `id`'s properties, failing with the alarms there are.
fn alarm<'a>(t: &'a Value, id: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert_eq!(
        r["Type"],
        "AWS::CloudWatch::Alarm",
        "no alarm {id}; alarms: {:?}",
        resources(t, "AWS::CloudWatch::Alarm")
            .iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    );
    &r["Properties"]
}

#[test]
fn the_api_every_function_and_every_created_table_have_their_alarms_in_both_stacks() {
    for name in ["dev", "prod"] {
        let s = synthesize_stack(name);
        let t = s.template.to_value();
        let mut expected = 0;

        for metric in ["IntegrationError", "ExecutionError"] {
            let a = alarm(&t, &format!("WebSocketApi{metric}sAlarm"));
            assert_eq!(a["Namespace"], "AWS/ApiGateway", "{name}");
            assert_eq!(a["MetricName"], metric, "{name}");
            assert_eq!(
                a["Dimensions"],
                json!([{"Name": "ApiId", "Value": {"Ref": "WebSocketApi"}},
                       {"Name": "Stage", "Value": s.model.stage.name}]),
                "{name}"
            );
            expected += 1;
        }

        let functions = resources(&t, "AWS::Lambda::Function");
        assert_eq!(functions.len(), s.model.functions.len());
        for (id, f) in &functions {
            let dims = json!([{"Name": "FunctionName", "Value": {"Ref": id}}]);
            for metric in ["Errors", "Throttles"] {
                let a = alarm(&t, &format!("{id}{metric}Alarm"));
                assert_eq!(a["Namespace"], "AWS/Lambda");
                assert_eq!(a["MetricName"], metric);
                assert_eq!(a["Dimensions"], dims);
            }
            let d = alarm(&t, &format!("{id}DurationAlarm"));
            assert_eq!(d["Statistic"], "Maximum");
            assert_eq!(d["Dimensions"], dims);
            let timeout_ms = f["Properties"]["Timeout"].as_f64().unwrap() * 1000.0;
            assert_eq!(
                d["Threshold"].as_f64().unwrap(),
                timeout_ms * 0.8,
                "{name} {id}: near its own timeout"
            );
            expected += 3;
        }

        // Every table the stack creates; an existing one (prod's profiles) is its owner's to watch.
        let tables = resources(&t, "AWS::DynamoDB::Table");
        assert!(tables.iter().any(|(id, _)| *id == "ConnectionsTable"));
        for (id, _) in &tables {
            for (short, metric) in [
                ("Read", "ReadThrottleEvents"),
                ("Write", "WriteThrottleEvents"),
            ] {
                let a = alarm(&t, &format!("{id}{short}ThrottleAlarm"));
                assert_eq!(a["Namespace"], "AWS/DynamoDB");
                assert_eq!(a["MetricName"], metric);
                assert_eq!(
                    a["Dimensions"],
                    json!([{"Name": "TableName", "Value": {"Ref": id}}])
                );
            }
            expected += 2;
        }
        let alarms = resources(&t, "AWS::CloudWatch::Alarm");
        assert_eq!(alarms.len(), expected, "{name}: no other alarms");
        for (id, a) in &alarms {
            let p = &a["Properties"];
            assert_eq!(p["AlarmActions"], json!([{"Ref": "AlarmTopic"}]), "{id}");
            assert_eq!(p["OKActions"], json!([{"Ref": "AlarmTopic"}]), "{id}");
            assert_eq!(p["TreatMissingData"], "notBreaching", "{id}");
        }
    }
}

#[test]
fn prod_watches_its_registry_but_not_the_existing_profiles_table() {
    let t = synthesize_stack("prod").template.to_value();
    assert!(t["Resources"]["ConnectionsTableReadThrottleAlarm"].is_object());
    let watched: Vec<String> = resources(&t, "AWS::CloudWatch::Alarm")
        .iter()
        .filter(|(_, a)| a["Properties"]["Namespace"] == "AWS/DynamoDB")
        .map(|(_, a)| a["Properties"]["Dimensions"][0]["Value"]["Ref"].to_string())
        .collect();
    assert!(
        watched.iter().all(|r| r == "\"ConnectionsTable\""),
        "{watched:?}"
    );
}

#[test]
fn the_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use() {
    for name in ["dev", "prod"] {
        let t = synthesize_stack(name).template.to_value();
        let topic = &t["Resources"]["AlarmTopic"];
        assert_eq!(topic["Type"], "AWS::SNS::Topic");
        assert_eq!(
            topic["Properties"]["KmsMasterKeyId"],
            json!({"Fn::GetAtt": ["AlarmTopicKey", "Arn"]})
        );
        let key = &t["Resources"]["AlarmTopicKey"];
        assert_eq!(key["Type"], "AWS::KMS::Key");
        assert_eq!(key["Properties"]["EnableKeyRotation"], true);
        let statements = key["Properties"]["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap();
        let cloudwatch: Vec<&Value> = statements
            .iter()
            .filter(|s| s["Principal"] == json!({"Service": ["cloudwatch.amazonaws.com"]}))
            .collect();
        assert_eq!(cloudwatch.len(), 1, "{name}");
        assert_eq!(cloudwatch[0]["Effect"], "Allow");
        assert_eq!(
            cloudwatch[0]["Action"],
            json!(["kms:Decrypt", "kms:GenerateDataKey*"])
        );
        // Nothing else but the account itself is allowed anything.
        for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
            assert!(
                s == cloudwatch[0]
                    || s["Principal"]
                        == json!({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}),
                "{name}: {s}"
            );
        }
        // No e-mail in the example stacks.
        assert!(t["Resources"].get("AlarmEmailSubscription").is_none());
    }
}

#[test]
fn functions_are_traced_by_default_and_their_roles_may_send_traces() {
    for name in ["dev", "prod"] {
        let t = synthesize_stack(name).template.to_value();
        for (id, f) in resources(&t, "AWS::Lambda::Function") {
            assert_eq!(
                f["Properties"]["TracingConfig"],
                json!({"Mode": "Active"}),
                "{name} {id}"
            );
            let role = f["Properties"]["Role"]["Fn::GetAtt"][0].as_str().unwrap();
            let policy = t["Resources"][role]["Properties"].to_string();
            assert!(policy.contains("xray:PutTraceSegments"), "{name} {role}");
            assert!(policy.contains("xray:PutTelemetryRecords"), "{name} {role}");
        }
    }
    let off = edited_dev(|t| {
        t.replace(
            "    logRetentionDays: 7\n",
            "    logRetentionDays: 7\n    tracing: false\n",
        )
    });
    let t = off.template.to_value();
    for (id, f) in resources(&t, "AWS::Lambda::Function") {
        assert!(f["Properties"].get("TracingConfig").is_none(), "{id}");
    }
}

#[test]
fn functions_keep_logging_to_their_own_log_groups_with_ws1004_skipped_for_that_reason() {
    let t = synthesize_stack("dev").template.to_value();
    for (id, f) in resources(&t, "AWS::Lambda::Function") {
        let stem = id.strip_suffix("Function").unwrap();
        let group = format!("{stem}LogGroup");
        assert_eq!(t["Resources"][&group]["Type"], "AWS::Logs::LogGroup");
        assert_eq!(
            f["Properties"]["LoggingConfig"]["LogGroup"],
            json!({"Ref": group})
        );
        let lint = &f["Metadata"]["cfn-lint"];
        assert_eq!(lint["config"]["ignore_checks"], json!(["WS1004"]), "{id}");
        assert!(
            lint["reasons"]["WS1004"]
                .as_str()
                .unwrap()
                .contains("LoggingConfig.LogGroup"),
            "{id}"
        );
    }
}

#[test]
fn alarms_enabled_false_leaves_no_alarm_topic_or_key() {
    let on = synthesize_stack("dev");
    let off = edited_dev(|t| format!("{t}\nalarms: {{enabled: false}}\n"));
    assert!(off.model.alarms.is_none());
    let t = off.template.to_value();
    for ty in [
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
    ] {
        assert!(resources(&t, ty).is_empty(), "{ty}");
    }
    assert!(t["Resources"].get("AlarmTopicKey").is_none());
    // Everything else is as it was.
    let on_t = on.template.to_value();
    let others = |t: &Value| -> Vec<String> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(id, r)| !id.starts_with("Alarm") && r["Type"] != "AWS::CloudWatch::Alarm")
            .map(|(id, r)| format!("{id} {r}"))
            .collect()
    };
    assert_eq!(others(&t), others(&on_t));
    let summary = sockstack::summary::render(&off);
    assert!(summary.contains("off (alarms.enabled: false)"), "{summary}");
}

#[test]
fn an_email_address_or_an_ssm_parameter_subscribes_to_the_topic() {
    let address = edited_dev(|t| format!("{t}\nalarms:\n  email: ops@example.com\n"));
    let t = address.template.to_value();
    let sub = &t["Resources"]["AlarmEmailSubscription"];
    assert_eq!(sub["Type"], "AWS::SNS::Subscription");
    assert_eq!(
        sub["Properties"],
        json!({"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": {"Ref": "AlarmTopic"}})
    );
    assert!(t["Parameters"].get("AlarmEmail").is_none());

    let parameter = edited_dev(|t| {
        format!("{t}\nalarms:\n  email: {{parameter: /team-health/dev/alarm-email}}\n")
    });
    let t = parameter.template.to_value();
    assert_eq!(
        t["Resources"]["AlarmEmailSubscription"]["Properties"]["Endpoint"],
        json!({"Ref": "AlarmEmail"})
    );
    assert_eq!(
        t["Parameters"]["AlarmEmail"]["Type"],
        "AWS::SSM::Parameter::Value<String>"
    );
    // A default, so a deploy needs no value for it.
    assert_eq!(
        t["Parameters"]["AlarmEmail"]["Default"],
        "/team-health/dev/alarm-email"
    );
    let summary = sockstack::summary::render(&parameter);
    assert!(
        summary.contains("e-mail: the address in SSM parameter /team-health/dev/alarm-email"),
        "{summary}"
    );
}

#[test]
fn the_summary_counts_the_alarms_and_their_monthly_price() {
    for name in ["dev", "prod"] {
        let s = synthesize_stack(name);
        let count = resources(&s.template.to_value(), "AWS::CloudWatch::Alarm").len();
        let summary = sockstack::summary::render(&s);
        assert!(
            summary.contains(&format!("{count} alarms (API errors;")),
            "{summary}"
        );
        let price = sockstack::alarms::price_text(count);
        assert!(summary.contains(&price), "{summary}");
        // 10 cents an alarm and a dollar for the key.
        assert!(
            price.starts_with(&format!(
                "${}.{:02} a month",
                (count * 10 + 100) / 100,
                (count * 10) % 100
            )),
            "{price}"
        );
    }
}
