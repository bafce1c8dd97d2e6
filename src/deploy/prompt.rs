//! Asking the person at the terminal ([`Prompt`]): a deploy that widens access, a destroy.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;

/// Someone who may be asked a question.
pub trait Prompt: Sync {
    /// Whether anyone can answer (standard input is a terminal).
    fn interactive(&self) -> bool;
    /// Shows `question` and returns the answer line, trimmed (empty when none came).
    fn ask(&self, question: &str) -> String;
}

/// The terminal: questions on stderr, answers from stdin.
pub struct Terminal;

impl Prompt for Terminal {
    fn interactive(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn ask(&self, question: &str) -> String {
        eprint!("{question}");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer.trim().to_string()
    }
}

/// No one to ask (a pipeline, CI).
pub struct Nobody;

impl Prompt for Nobody {
    fn interactive(&self) -> bool {
        false
    }

    fn ask(&self, _: &str) -> String {
        String::new()
    }
}

/// Scripted answers (tests): records the questions.
pub struct Answers {
    answers: Mutex<Vec<String>>,
    questions: Mutex<Vec<String>>,
}

impl Answers {
    /// Answers `answers` in turn, then nothing.
    pub fn new(answers: &[&str]) -> Answers {
        Answers {
            answers: Mutex::new(answers.iter().rev().map(|s| s.to_string()).collect()),
            questions: Mutex::new(Vec::new()),
        }
    }

    /// The questions asked so far.
    pub fn questions(&self) -> Vec<String> {
        self.questions.lock().expect("lock").clone()
    }
}

impl Prompt for Answers {
    fn interactive(&self) -> bool {
        true
    }

    fn ask(&self, question: &str) -> String {
        self.questions
            .lock()
            .expect("lock")
            .push(question.to_string());
        self.answers.lock().expect("lock").pop().unwrap_or_default()
    }
}
