//! `sockstack diff` on generated templates of 100, 250 and 500 resources (criterion). Each new side changes
//! about a fifth of the resources: memory (in place), bundle keys (folded), a widened policy, renamed routes
//! (rename detection) and a table key (replacement). The baseline in the same run is parsing one side, so the
//! figures read as ratios; the target is ≤ 20 ms at 500 resources, growing about linearly.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use sockstack::diff::{DiffReport, Schemas, StackDiff, diff, report};
use sockstack::raw::RawTemplate;
use std::hint::black_box;

/// A WebSocket stack of about `n` resources: per route a Route, Integration, Permission, Function and Role,
/// and a table per 50 resources. `changed` applies the edits of a typical pull request.
fn template(n: usize, changed: bool) -> Value {
    let mut r = Map::new();
    r.insert("Api".into(), json!({"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "bench", "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"}}));
    let tables = (n / 50).max(1);
    for t in 0..tables {
        let key = if changed && t == 0 { "id" } else { "pk" };
        r.insert(format!("Table{t}"), json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
            "SSESpecification": {"SSEEnabled": true}}}));
    }
    let routes = (n - 1 - tables) / 5;
    for i in 0..routes {
        let name = if changed && i % 25 == 3 {
            format!("Renamed{i}")
        } else {
            format!("Action{i}")
        };
        let memory = if changed && i % 4 == 0 { 512 } else { 256 };
        let key = if changed && i % 5 == 1 {
            format!("h{i}-new.zip")
        } else {
            format!("h{i}-old.zip")
        };
        let mut actions = vec!["dynamodb:GetItem", "dynamodb:PutItem"];
        if changed && i % 10 == 7 {
            actions.push("dynamodb:Scan");
        }
        let table = format!("Table{}", i % tables);
        r.insert(
            format!("{name}Route"),
            json!({"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": {"Ref": "Api"}, "RouteKey": name.to_lowercase(), "AuthorizationType": "NONE",
            "Target": {"Fn::Sub": format!("integrations/${{{name}Integration}}")}}}),
        );
        r.insert(format!("{name}Integration"), json!({"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": {"Ref": "Api"}, "IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::Sub": format!("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{Fn{i}.Arn}}/invocations")}}}));
        r.insert(format!("{name}Permission"), json!({"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": [format!("Fn{i}"), "Arn"]},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {"Fn::Sub": format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{Api}}/dev/{}", name.to_lowercase())}}}));
        r.insert(format!("Fn{i}"), json!({"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": ["arm64"], "MemorySize": memory, "Timeout": 10,
            "Role": {"Fn::GetAtt": [format!("Role{i}"), "Arn"]},
            "Code": {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": key},
            "Environment": {"Variables": {"TABLE": {"Ref": table}, "STAGE": "dev"}}}}));
        r.insert(format!("Role{i}"), json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "access", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "Table", "Effect": "Allow", "Action": actions, "Resource": {"Fn::GetAtt": [table, "Arn"]}}]}}]}}));
    }
    json!({"Parameters": {"ArtifactBucket": {"Type": "String"}}, "Resources": r})
}

fn bench(c: &mut Criterion) {
    let schemas = Schemas::bundled();
    let mut group = c.benchmark_group("diff");
    for n in [100, 250, 500] {
        let old_text = serde_json::to_string_pretty(&template(n, false)).unwrap();
        let new_text = serde_json::to_string_pretty(&template(n, true)).unwrap();
        let old = RawTemplate::parse(&old_text).unwrap();
        let new = RawTemplate::parse(&new_text).unwrap();
        let size = old.resources.len();
        group.bench_with_input(
            BenchmarkId::new("parse one side (baseline)", size),
            &new_text,
            |b, t| b.iter(|| RawTemplate::parse(black_box(t)).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("diff", size),
            &(&old, &new),
            |b, (o, n)| b.iter(|| diff(black_box(o), black_box(n), schemas)),
        );
        group.bench_with_input(
            BenchmarkId::new("parse both + diff + markdown", size),
            &(&old_text, &new_text),
            |b, (o, n)| {
                b.iter(|| {
                    let (o, n) = (
                        RawTemplate::parse(o).unwrap(),
                        RawTemplate::parse(n).unwrap(),
                    );
                    let report = DiffReport::new(vec![StackDiff::new(
                        "bench",
                        Some((&o, String::new())),
                        Some((&n, String::new())),
                        schemas,
                    )]);
                    report::markdown::render(black_box(&report))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
