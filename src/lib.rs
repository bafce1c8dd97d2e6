//! sockstack: a serverless WebSocket backend as typed Rust, emitted as CloudFormation.
