//! A deployed stack's outputs, for people (aligned lines, the URLs first) or scripts (one JSON object).

use super::aws::{Aws, AwsError};
use super::stack::{self, StackInfo};

/// The stack's status and outputs; `None` when it is not deployed.
pub fn read(aws: &dyn Aws, stack_name: &str) -> Result<Option<StackInfo>, AwsError> {
    stack::describe(aws, stack_name)
}

/// `NAME STATUS`, then `  key  value` lines, `WebSocketUrl` and `CallbackUrl` first.
pub fn render_human(info: &StackInfo) -> String {
    let mut out = format!("{} {}\n", info.name, info.status);
    let first = ["WebSocketUrl", "CallbackUrl"];
    let mut ordered: Vec<_> = first
        .iter()
        .filter_map(|k| info.outputs.iter().find(|o| o.key == *k))
        .collect();
    ordered.extend(
        info.outputs
            .iter()
            .filter(|o| !first.contains(&o.key.as_str())),
    );
    let width = ordered.iter().map(|o| o.key.len()).max().unwrap_or(0);
    for o in ordered {
        out.push_str(&format!("  {:<width$}  {}\n", o.key, o.value));
    }
    out
}

/// `{"stack": NAME, "status": STATUS, "outputs": {KEY: VALUE, …}}`.
pub fn to_json(info: &StackInfo) -> serde_json::Value {
    let outputs: serde_json::Map<String, serde_json::Value> = info
        .outputs
        .iter()
        .map(|o| (o.key.clone(), serde_json::Value::String(o.value.clone())))
        .collect();
    serde_json::json!({
        "stack": info.name,
        "status": info.status,
        "outputs": outputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::stack::StackOutputValue;

    #[test]
    fn the_urls_come_first_and_values_align() {
        let o = |k: &str, v: &str| StackOutputValue {
            key: k.into(),
            value: v.into(),
            description: None,
        };
        let info = StackInfo {
            name: "s".into(),
            status: "CREATE_COMPLETE".into(),
            reason: None,
            outputs: vec![
                o("ApiId", "a1"),
                o("CallbackUrl", "https://x"),
                o("WebSocketUrl", "wss://x"),
            ],
            parameters: Default::default(),
            tags: Default::default(),
        };
        assert_eq!(
            render_human(&info),
            "s CREATE_COMPLETE\n  WebSocketUrl  wss://x\n  CallbackUrl   https://x\n  ApiId         a1\n"
        );
        assert_eq!(to_json(&info)["outputs"]["ApiId"], "a1");
    }
}
