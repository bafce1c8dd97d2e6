//! A scripted [`Aws`] for unit tests: each call is answered by the first rule whose words start the call's
//! arguments; a rule with several replies gives them one per call and then repeats the last. Every call is
//! recorded.

use super::aws::{Aws, AwsError};
use std::sync::Mutex;
use std::time::Duration;

/// One answer: standard output, or the stderr of a failed call.
#[derive(Debug, Clone)]
pub enum Reply {
    Out(String),
    Err(String),
}

/// A scripted AWS CLI.
#[derive(Default)]
pub struct FakeAws {
    rules: Mutex<Vec<(Vec<String>, Vec<Reply>)>>,
    calls: Mutex<Vec<Vec<String>>>,
}

impl FakeAws {
    pub fn new() -> FakeAws {
        FakeAws::default()
    }

    /// Answers calls starting with `prefix` with `replies`, in turn.
    pub fn on(self, prefix: &[&str], replies: Vec<Reply>) -> FakeAws {
        self.rules
            .lock()
            .unwrap()
            .push((prefix.iter().map(|s| s.to_string()).collect(), replies));
        self
    }

    /// Answers with JSON.
    pub fn json(self, prefix: &[&str], value: serde_json::Value) -> FakeAws {
        self.on(prefix, vec![Reply::Out(value.to_string())])
    }

    /// Fails with the CLI's error line for `code` and `operation`.
    pub fn error(self, prefix: &[&str], code: &str, operation: &str, message: &str) -> FakeAws {
        let text =
            format!("An error occurred ({code}) when calling the {operation} operation: {message}");
        self.on(prefix, vec![Reply::Err(text)])
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls starting with `prefix`.
    pub fn calls_to(&self, prefix: &[&str]) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.len() >= prefix.len() && c.iter().zip(prefix).all(|(a, b)| a == b))
            .collect()
    }
}

impl Aws for FakeAws {
    fn run(&self, args: &[String]) -> Result<String, AwsError> {
        self.calls.lock().unwrap().push(args.to_vec());
        let mut rules = self.rules.lock().unwrap();
        let rule = rules.iter_mut().find(|(prefix, _)| {
            args.len() >= prefix.len() && args.iter().zip(prefix.iter()).all(|(a, b)| a == b)
        });
        let reply = match rule {
            Some((_, replies)) if replies.len() > 1 => replies.remove(0),
            Some((_, replies)) => replies[0].clone(),
            None => Reply::Err(format!("fake aws: no rule for {}", args.join(" "))),
        };
        match reply {
            Reply::Out(text) => Ok(text),
            Reply::Err(text) => Err(AwsError::failed(self.command_line(args), Some(254), &text)),
        }
    }

    fn pause(&self, _: Duration) {}
}
