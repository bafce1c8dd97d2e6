//! The JSON report: [`DiffReport`](crate::diff::DiffReport) serialized, pretty-printed. Its shape (version 1):
//!
//! ```text
//! {
//!   "version": 1,
//!   "stacks": [{
//!     "name": "chat", "status": "created|deleted|modified|unchanged",
//!     "old": "path", "new": "path",                       // absent on the missing side
//!     "counts": {"create", "update", "replace", "rename", "delete", "code", "security", "critical",
//!                "data_loss", "sections"},                 // numbers
//!     "changes": {
//!       "resources": [{
//!         "logical_id": "PostRoute", "renamed_from": "SendRoute", "similarity": 0.75,   // renames only
//!         "type_name": "AWS::ApiGatewayV2::Route",
//!         "action": "create|update|replace|rename|delete",
//!         "replacement": "never|unknown|conditional|always",
//!         "replaced_because": ["KeySchema (may replace)", "ApiId refers to Api, which is replaced"],
//!         "changes": [{"path": "KeySchema[0].AttributeName", "attribute": false,
//!                      "kind": "added|removed|modified", "old": …, "new": …,            // per kind
//!                      "replacement": "never|unknown|conditional|always"}],
//!         "data_loss": true, "warnings": ["…"]
//!       }],
//!       "code": [{"logical_id", "type_name", "old": {"S3Key": …}, "new": {"S3Key": …}}],
//!       "security": [{"severity": "critical|widened|changed|narrowed", "logical_id", "type_name",
//!                     "summary", "details": ["…"]}],
//!       "sections": [{"section": "Outputs", "name": "Url", "kind": …, "old": …, "new": …}]
//!     }
//!   }],
//!   "totals": {…counts…}, "stacks_created": 0, "stacks_deleted": 0, "stacks_modified": 1
//! }
//! ```
//!
//! Values (`old`/`new`) are the template's JSON, intrinsics in long form. Fields are only added within a
//! version; a removal or a change of meaning bumps `version`.

use crate::diff::DiffReport;

/// Pretty JSON with a trailing newline.
pub fn render(report: &DiffReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a diff report serializes");
    s.push('\n');
    s
}
