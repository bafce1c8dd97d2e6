//! The journal of a multi-stack replacement: written (atomically, by rename)
//! after every new folder is staged and before the first swap, removed after
//! the last. A journal found at the start of a run means an earlier run was
//! stopped mid-way; it names every stack of that run and the content hash of its
//! new folder, which is all the next run needs to finish it.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

const HEADER: &str = "sockstack journal 1";

/// One interrupted (or running) replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    /// The run's id: its staging folder is `.sockstack/run-<id>`.
    pub run: String,
    /// `(stack name, content hash of its new folder)`, in swap order.
    pub stacks: Vec<(String, String)>,
}

impl Journal {
    /// The journal as text.
    pub fn render(&self) -> String {
        let mut text = format!("{HEADER}\nrun {}\n", self.run);
        for (name, hash) in &self.stacks {
            let _ = writeln!(text, "stack {name} {hash}");
        }
        text
    }

    /// Reads a journal's text; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<Journal, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("its first line is not `{HEADER}`"));
        }
        let run = lines
            .next()
            .and_then(|l| l.strip_prefix("run "))
            .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or("its second line is not `run <id>`")?
            .to_string();
        let mut stacks = Vec::new();
        for line in lines {
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("stack"), Some(name), Some(hash), None)
                    if super::name::check(name).is_ok() && !hash.is_empty() =>
                {
                    stacks.push((name.to_string(), hash.to_string()));
                }
                _ => return Err(format!("the line `{line}` is not `stack <name> <hash>`")),
            }
        }
        Ok(Journal { run, stacks })
    }

    /// Reads the journal at `path`, if there is one.
    pub fn load(path: &Path) -> io::Result<Option<Result<Journal, String>>> {
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
            Ok(meta) if !meta.is_file() || meta.len() > 1 << 20 => {
                Ok(Some(Err("it is not a small regular file".into())))
            }
            Ok(_) => Ok(Some(Journal::parse(&fs::read_to_string(path)?))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_what_was_written() {
        let j = Journal {
            run: "4242".into(),
            stacks: vec![
                ("dev".into(), "ab12".into()),
                ("prod".into(), "cd34".into()),
            ],
        };
        assert_eq!(Journal::parse(&j.render()), Ok(j));
    }

    #[test]
    fn a_damaged_journal_is_an_error() {
        for text in [
            "",
            "something else\nrun 1\n",
            "sockstack journal 1\nrun ../x\n",
            "sockstack journal 1\nrun 1\nstack ../etc abc\n",
            "sockstack journal 1\nrun 1\nstack dev\n",
        ] {
            assert!(Journal::parse(text).is_err(), "{text:?}");
        }
    }
}
