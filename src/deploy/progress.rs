//! Progress of a deploy, told through [`Reporter`]: a spinner with indicatif on a terminal ([`Spinner`]), plain
//! lines otherwise ([`Lines`]). Workflows never print; tests collect the events ([`Collect`]).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Something a workflow has to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A numbered step starts: `deploy [3/7] upload: 5 zip(s) to s3://b`.
    Step {
        n: usize,
        of: usize,
        name: String,
        text: String,
    },
    /// A line of detail under the current step.
    Detail(String),
    /// A resource's status, as CloudFormation reports it.
    Resource {
        logical_id: String,
        type_name: String,
        status: String,
        reason: Option<String>,
    },
    /// Something the user should notice, but not a failure.
    Warning(String),
    /// A block of text shown as is (the review of a change set).
    Text(String),
}

impl Event {
    /// The event as one or more plain lines.
    pub fn render(&self) -> String {
        match self {
            Event::Step { n, of, name, text } => format!("deploy [{n}/{of}] {name}: {text}"),
            Event::Detail(text) => format!("  {text}"),
            Event::Resource {
                logical_id,
                type_name,
                status,
                reason,
            } => match reason {
                Some(r) => format!("  | {status} {logical_id} ({type_name}): {r}"),
                None => format!("  | {status} {logical_id} ({type_name})"),
            },
            Event::Warning(text) => format!("warning: {text}"),
            Event::Text(text) => text.trim_end().to_string(),
        }
    }
}

/// Where a workflow's progress goes.
pub trait Reporter: Sync {
    /// Tells one event.
    fn report(&self, event: Event);
    /// Ends any running spinner (before a question, or at the end).
    fn finish(&self) {}
}

/// Plain lines on stderr (not a terminal, or `NO_COLOR`-style logs).
pub struct Lines;

impl Reporter for Lines {
    fn report(&self, event: Event) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", event.render());
    }
}

/// On a terminal: every event printed above a spinner that names the running step.
pub struct Spinner {
    bar: Mutex<Option<ProgressBar>>,
}

impl Spinner {
    /// A reporter drawing on stderr.
    pub fn new() -> Spinner {
        Spinner {
            bar: Mutex::new(None),
        }
    }
}

impl Default for Spinner {
    fn default() -> Self {
        Spinner::new()
    }
}

impl Reporter for Spinner {
    fn report(&self, event: Event) {
        let mut bar = self.bar.lock().expect("reporter lock");
        if let Event::Step { name, text, .. } = &event {
            let b = bar.get_or_insert_with(|| {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                        .expect("a valid template"),
                );
                b.enable_steady_tick(Duration::from_millis(120));
                b
            });
            b.set_message(format!("{name}: {text}"));
        }
        match bar.as_ref() {
            Some(b) => b.println(event.render()),
            None => eprintln!("{}", event.render()),
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("reporter lock").take() {
            b.finish_and_clear();
        }
    }
}

/// Keeps every event (tests).
#[derive(Default)]
pub struct Collect {
    events: Mutex<Vec<Event>>,
}

impl Collect {
    /// Everything reported, as plain text.
    pub fn text(&self) -> String {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.render() + "\n")
            .collect()
    }
}

impl Reporter for Collect {
    fn report(&self, event: Event) {
        self.events.lock().expect("lock").push(event);
    }
}
