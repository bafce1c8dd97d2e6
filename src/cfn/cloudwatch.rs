//! `AWS::CloudWatch::Alarm`.

use super::Expr;
use serde::Serialize;

/// `AWS::CloudWatch::Alarm` on one metric.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    pub alarm_description: String,
    pub namespace: &'static str,
    pub metric_name: &'static str,
    pub dimensions: Vec<Dimension>,
    /// `Sum`, `Maximum`, `Average`…
    pub statistic: &'static str,
    /// Seconds per datapoint (60 or a multiple: standard resolution).
    pub period: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    /// `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`…
    pub comparison_operator: &'static str,
    /// `notBreaching`: no traffic is not a failure.
    pub treat_missing_data: &'static str,
    pub alarm_actions: Vec<Expr>,
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<Expr>,
}

/// One metric dimension.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: &'static str,
    pub value: Expr,
}
