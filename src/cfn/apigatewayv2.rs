//! `AWS::ApiGatewayV2::*` resources of a WebSocket API.

use super::Expr;
use serde::Serialize;
use std::collections::BTreeMap;

/// `AWS::ApiGatewayV2::Api`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Api {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Always `WEBSOCKET` here.
    pub protocol_type: &'static str,
    pub route_selection_expression: String,
}

/// `AWS::ApiGatewayV2::Authorizer`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authorizer {
    pub api_id: Expr,
    pub name: String,
    /// `REQUEST` (the only type a WebSocket API supports besides IAM).
    pub authorizer_type: &'static str,
    pub authorizer_uri: Expr,
    pub identity_source: Vec<String>,
}

/// `AWS::ApiGatewayV2::Route`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    pub api_id: Expr,
    pub route_key: String,
    /// `NONE`, `CUSTOM` or `AWS_IAM`.
    pub authorization_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// `$default` makes the route two-way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<&'static str>,
    pub target: Expr,
}

/// `AWS::ApiGatewayV2::RouteResponse`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteResponse {
    pub api_id: Expr,
    pub route_id: Expr,
    pub route_response_key: &'static str,
}

/// `AWS::ApiGatewayV2::Integration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    pub api_id: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `AWS_PROXY`: the function gets the whole event.
    pub integration_type: &'static str,
    pub integration_uri: Expr,
}

/// `AWS::ApiGatewayV2::Deployment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    pub api_id: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `AWS::ApiGatewayV2::Stage`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub api_id: Expr,
    pub stage_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub deployment_id: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
    pub default_route_settings: RouteSettings,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// `AccessLogSettings` of a stage.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSettings {
    pub destination_arn: Expr,
    pub format: String,
}

/// `RouteSettings` of a stage.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteSettings {
    pub data_trace_enabled: bool,
    pub throttling_burst_limit: u32,
    pub throttling_rate_limit: f64,
}
