//! Bounded input: what every reader of a user's file goes through before
//! parsing it into values.
//!
//! [`read_bounded`] reads regular files only (a FIFO, a device, a folder or a
//! link to one is refused before a byte is read) and at most [`Limits::max_bytes`].
//! [`check_structure`] then walks the text once, in time linear in its length and
//! without building values, and refuses nesting deeper than [`Limits::max_depth`],
//! a mapping or sequence with more than [`Limits::max_items`] entries, a document
//! of more than [`Limits::max_nodes`] values (YAML aliases count as often as
//! they are used, so an alias bomb is refused), and duplicate keys (serde_json would
//! silently keep the last one). Every refusal says file:line:col where it is known.
//!
//! The defaults suit any CloudFormation template (AWS caps a template body at
//! 1 MB); each can be raised with an environment variable, see [`Limits::from_env`].

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Environment variable overriding [`Limits::max_bytes`].
pub const ENV_MAX_BYTES: &str = "SOCKSTACK_MAX_INPUT_BYTES";
/// Environment variable overriding [`Limits::max_depth`].
pub const ENV_MAX_DEPTH: &str = "SOCKSTACK_MAX_INPUT_DEPTH";
/// Environment variable overriding [`Limits::max_items`].
pub const ENV_MAX_ITEMS: &str = "SOCKSTACK_MAX_INPUT_ITEMS";
/// Environment variable overriding [`Limits::max_nodes`].
pub const ENV_MAX_NODES: &str = "SOCKSTACK_MAX_INPUT_NODES";
/// Environment variable overriding [`Limits::max_archive_bytes`].
pub const ENV_MAX_ARCHIVE_BYTES: &str = "SOCKSTACK_MAX_INPUT_ARCHIVE_BYTES";

/// The deepest nesting `max_depth` may be raised to: serde_json's own recursion limit.
pub const DEPTH_CEILING: usize = 128;

/// Bounds on one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Deepest nesting of mappings and sequences (the document's top level is depth 1).
    pub max_depth: usize,
    /// Most entries in one mapping or sequence.
    pub max_items: usize,
    /// Most values in the whole document, every use of a YAML alias counted in full.
    pub max_nodes: usize,
    /// Most bytes `diff --base REF` exports from REF in all (stack files, handler crates,
    /// contract, lock file), before anything is written to disk.
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The defaults: 8 MiB, depth 64, 100,000 entries per collection, 1,000,000 values,
    /// 256 MiB exported from a `--base` revision.
    pub const DEFAULT: Limits = Limits {
        max_bytes: 8 * 1024 * 1024,
        max_depth: 64,
        max_items: 100_000,
        max_nodes: 1_000_000,
        max_archive_bytes: 256 * 1024 * 1024,
    };

    /// The defaults, each overridden by its environment variable when set
    /// ([`ENV_MAX_BYTES`], [`ENV_MAX_DEPTH`], [`ENV_MAX_ITEMS`], [`ENV_MAX_NODES`],
    /// [`ENV_MAX_ARCHIVE_BYTES`]).
    pub fn from_env() -> Result<Limits, String> {
        Limits::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Limits::from_env`] with another source of variables (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name}={v:?} is not a positive whole number")),
            }
        };
        let d = Limits::DEFAULT;
        let max_depth = number(ENV_MAX_DEPTH, d.max_depth as u64)?;
        if max_depth > DEPTH_CEILING as u64 {
            return Err(format!(
                "{ENV_MAX_DEPTH}={max_depth} is more than {DEPTH_CEILING}, the deepest nesting the JSON reader supports"
            ));
        }
        Ok(Limits {
            max_bytes: number(ENV_MAX_BYTES, d.max_bytes)?,
            max_depth: max_depth as usize,
            max_items: usize::try_from(number(ENV_MAX_ITEMS, d.max_items as u64)?)
                .unwrap_or(usize::MAX),
            max_nodes: usize::try_from(number(ENV_MAX_NODES, d.max_nodes as u64)?)
                .unwrap_or(usize::MAX),
            max_archive_bytes: number(ENV_MAX_ARCHIVE_BYTES, d.max_archive_bytes)?,
        })
    }
}

/// A refused input: the file, where in it (when known) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file (as the user named it).
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// A problem found in text, before it is tied to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl TextError {
    /// The same problem in `file`.
    pub fn in_file(self, file: &Path) -> InputError {
        InputError {
            file: file.to_path_buf(),
            position: self.position,
            message: self.message,
        }
    }
}

/// Reads a regular file of at most `limits.max_bytes` bytes as UTF-8 text
/// (a leading byte-order mark is kept; parsers skip it).
pub fn read_bounded(path: &Path, limits: &Limits) -> Result<String, InputError> {
    let err = |message: String| InputError {
        file: path.to_path_buf(),
        position: None,
        message,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading would wait for a writer: don't.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(err(format!(
            "{} is not a regular file; sockstack reads only regular files",
            kind_of(&meta)
        )));
    }
    let too_large = |size: String| {
        err(format!(
            "the file is {size} bytes, more than the limit of {} (raise it with {ENV_MAX_BYTES}=BYTES)",
            limits.max_bytes
        ))
    };
    if meta.len() > limits.max_bytes {
        return Err(too_large(meta.len().to_string()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_large(format!("more than {}", limits.max_bytes)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[start..]).chars().count() + 1;
        InputError {
            file: path.to_path_buf(),
            position: Some((line, column)),
            message: "the file is not UTF-8 text".into(),
        }
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "it is a folder, which";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "it is a FIFO (named pipe), which";
        }
        if t.is_char_device() || t.is_block_device() {
            return "it is a device, which";
        }
        if t.is_socket() {
            return "it is a socket, which";
        }
    }
    "it"
}

/// The syntax of a text for [`check_structure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON.
    Json,
    /// YAML (any JSON is read as JSON by [`Syntax::of`]).
    Yaml,
}

impl Syntax {
    /// JSON when the first non-blank character (after a byte-order mark) is `{`, else YAML:
    /// the rule the template reader uses.
    pub fn of(text: &str) -> Syntax {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        match text.trim_start().chars().next() {
            Some('{') => Syntax::Json,
            _ => Syntax::Yaml,
        }
    }
}

/// Checks depth, collection sizes, the number of values and duplicate keys in
/// one pass over `text`, building no values.
pub fn check_structure(text: &str, syntax: Syntax, limits: &Limits) -> Result<(), TextError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match syntax {
        Syntax::Json => json::check(text, limits),
        Syntax::Yaml => yaml::check(text, limits, true),
    }
}

/// [`check_structure`] of YAML without the duplicate-key check, for a reader that reports
/// duplicate keys itself (the stack-file reader names both places, with every other problem).
pub fn check_yaml_limits(text: &str, limits: &Limits) -> Result<(), TextError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    yaml::check(text, limits, false)
}

/// [`read_bounded`] then [`check_structure`] (syntax by [`Syntax::of`]).
pub fn read_checked(path: &Path, limits: &Limits) -> Result<String, InputError> {
    let text = read_bounded(path, limits)?;
    check_structure(&text, Syntax::of(&text), limits).map_err(|e| e.in_file(path))?;
    Ok(text)
}

fn depth_error(limits: &Limits) -> String {
    format!(
        "nesting deeper than {} levels (raise the limit with {ENV_MAX_DEPTH}=N, at most {DEPTH_CEILING})",
        limits.max_depth
    )
}

fn items_error(limits: &Limits) -> String {
    format!(
        "a mapping or list with more than {} entries (raise the limit with {ENV_MAX_ITEMS}=N)",
        limits.max_items
    )
}

fn nodes_error(limits: &Limits) -> String {
    format!(
        "more than {} values in the document, every use of an alias counted (raise the limit with {ENV_MAX_NODES}=N)",
        limits.max_nodes
    )
}

mod yaml {
    use super::*;
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::Marker;

    struct Frame {
        mapping: bool,
        items: usize,
        /// In a mapping: the next node is a key.
        expect_key: bool,
        /// In a mapping: plain keys seen, with their line.
        keys: HashMap<String, usize>,
        /// The anchor of this collection (0: none) and the node count when it started.
        anchor: usize,
        nodes_at_start: usize,
        /// Line where the collection starts, for syntax errors inside it.
        start_line: usize,
    }

    pub fn check(text: &str, limits: &Limits, duplicates: bool) -> Result<(), TextError> {
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        // Nodes per anchor id (the size an alias expands to).
        let mut anchors: HashMap<usize, usize> = HashMap::new();
        let mut nodes: usize = 0;
        loop {
            let (event, mark) = parser.next_token().map_err(|e| {
                let open = stack
                    .last()
                    .map(|f| {
                        let what = if f.mapping { "mapping" } else { "list" };
                        format!(" (in the {what} that starts at line {})", f.start_line)
                    })
                    .unwrap_or_default();
                TextError {
                    position: Some(position(e.marker())),
                    message: format!("invalid YAML: {}{open}", e.info()),
                }
            })?;
            let at = |message: String| TextError {
                position: Some(position(&mark)),
                message,
            };
            let weight = match &event {
                Event::StreamEnd => return Ok(()),
                Event::Alias(id) => anchors.get(id).copied().unwrap_or(1),
                Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => 1,
                _ => 0,
            };
            if weight > 0 {
                nodes = nodes.saturating_add(weight);
                if nodes > limits.max_nodes {
                    return Err(at(nodes_error(limits)));
                }
                if let Some(parent) = stack.last_mut() {
                    let is_key = parent.mapping && parent.expect_key;
                    if parent.mapping {
                        parent.expect_key = !parent.expect_key;
                    }
                    if is_key || !parent.mapping {
                        parent.items += 1;
                        if parent.items > limits.max_items {
                            return Err(at(items_error(limits)));
                        }
                    }
                    if duplicates
                        && is_key
                        && let Event::Scalar(key, ..) = &event
                    {
                        if let Some(first) = parent.keys.get(key.as_str()) {
                            return Err(at(format!(
                                "duplicate key `{key}` (first at line {first})"
                            )));
                        }
                        parent.keys.insert(key.clone(), mark.line());
                    }
                }
            }
            match event {
                Event::Scalar(_, _, anchor, _) if anchor > 0 => {
                    anchors.insert(anchor, 1);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let mapping = matches!(event, Event::MappingStart(..));
                    stack.push(Frame {
                        mapping,
                        items: 0,
                        expect_key: true,
                        keys: HashMap::new(),
                        anchor,
                        nodes_at_start: nodes,
                        start_line: mark.line(),
                    });
                    if stack.len() > limits.max_depth {
                        // A block mapping's start is marked after its first key: point at the key.
                        let first = match parser.peek() {
                            Ok((_, next)) if next.index() < mark.index() => *next,
                            _ => mark,
                        };
                        return Err(TextError {
                            position: Some(position(&first)),
                            message: depth_error(limits),
                        });
                    }
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some(frame) = stack.pop()
                        && frame.anchor > 0
                    {
                        anchors.insert(frame.anchor, nodes - frame.nodes_at_start + 1);
                    }
                }
                _ => {}
            }
        }
    }

    /// yaml-rust2's columns are 0-based.
    fn position(mark: &Marker) -> (usize, usize) {
        (mark.line(), mark.col() + 1)
    }
}

mod json {
    use super::*;
    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::cell::Cell;

    /// Visits one JSON value at `depth`, counting values in `nodes`.
    #[derive(Clone, Copy)]
    struct Node<'a> {
        depth: usize,
        limits: &'a Limits,
        nodes: &'a Cell<usize>,
    }

    impl<'a> Node<'a> {
        fn count<E: de::Error>(&self) -> Result<(), E> {
            self.nodes.set(self.nodes.get() + 1);
            if self.nodes.get() > self.limits.max_nodes {
                return Err(E::custom(nodes_error(self.limits)));
            }
            Ok(())
        }

        /// Counts a collection at this depth; returns the node for its entries.
        fn open<E: de::Error>(&self) -> Result<Node<'a>, E> {
            self.count()?;
            if self.depth > self.limits.max_depth {
                return Err(E::custom(depth_error(self.limits)));
            }
            Ok(Node {
                depth: self.depth + 1,
                ..*self
            })
        }
    }

    impl<'de> DeserializeSeed<'de> for Node<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            self.count()
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            self.count()
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            self.count()
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            self.count()
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            self.count()
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.count()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let child = self.open()?;
            let mut items = 0usize;
            while seq.next_element_seed(child)?.is_some() {
                items += 1;
                if items > self.limits.max_items {
                    return Err(de::Error::custom(items_error(self.limits)));
                }
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let child = self.open()?;
            let mut keys = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if keys.len() >= self.limits.max_items {
                    return Err(de::Error::custom(items_error(self.limits)));
                }
                if keys.contains(&key) {
                    return Err(de::Error::custom(format!("duplicate key `{key}`")));
                }
                keys.insert(key);
                map.next_value_seed(child)?;
            }
            Ok(())
        }
    }

    pub fn check(text: &str, limits: &Limits) -> Result<(), TextError> {
        let nodes = Cell::new(0);
        let root = Node {
            depth: 1,
            limits,
            nodes: &nodes,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        root.deserialize(&mut de)
            .and_then(|()| de.end())
            .map_err(|e| {
                let position = (e.line() > 0).then(|| (e.line(), e.column()));
                let mut message = e.to_string();
                if let Some((l, c)) = position
                    && let Some(stripped) =
                        message.strip_suffix(&format!(" at line {l} column {c}"))
                {
                    message = stripped.to_string();
                }
                TextError {
                    position,
                    message: if e.is_syntax() || e.is_eof() {
                        format!("invalid JSON: {message}")
                    } else {
                        message
                    },
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn small() -> Limits {
        Limits {
            max_bytes: 1000,
            max_depth: 4,
            max_items: 3,
            max_nodes: 20,
            max_archive_bytes: 1000,
        }
    }

    fn yaml(text: &str) -> Result<(), TextError> {
        check_structure(text, Syntax::Yaml, &small())
    }

    fn json(text: &str) -> Result<(), TextError> {
        check_structure(text, Syntax::Json, &small())
    }

    #[test]
    fn within_the_limits_passes() {
        assert_eq!(yaml("a:\n  b:\n    c: [1, 2, 3]\n"), Ok(()));
        assert_eq!(json(r#"{"a": {"b": {"c": [1, 2, 3]}}}"#), Ok(()));
        assert_eq!(yaml("Resources: !Ref X\nb: !GetAtt A.B\n"), Ok(()));
    }

    #[test]
    fn too_deep_is_refused_where_it_goes_too_deep() {
        let e = yaml("a:\n  b:\n    c:\n      d:\n        e: 1\n").unwrap_err();
        assert_eq!(
            e.position,
            Some((5, 9)),
            "the fifth mapping starts at `e`: {e:?}"
        );
        assert!(e.message.contains("deeper than 4"), "{e:?}");
        let e = json("{\"a\":\n {\"b\": {\"c\": {\"d\": {\"e\": 1}}}}}").unwrap_err();
        assert!(e.message.contains("deeper than 4"), "{e:?}");
        assert_eq!(e.position.map(|p| p.0), Some(2));
    }

    #[test]
    fn too_many_items_is_refused() {
        for e in [
            yaml("- 1\n- 2\n- 3\n- 4\n").unwrap_err(),
            yaml("a: 1\nb: 2\nc: 3\nd: 4\n").unwrap_err(),
            json("[1, 2, 3, 4]").unwrap_err(),
            json(r#"{"a": 1, "b": 2, "c": 3, "d": 4}"#).unwrap_err(),
        ] {
            assert!(e.message.contains("more than 3 entries"), "{e:?}");
            assert!(e.position.is_some());
        }
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_expands() {
        let bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n";
        let e = yaml(bomb).unwrap_err();
        assert!(e.message.contains("more than 20 values"), "{e:?}");
        assert_eq!(e.position.map(|p| p.0), Some(3));
    }

    #[test]
    fn duplicate_keys_are_errors_in_yaml_and_json() {
        let e = yaml("Resources:\n  A: 1\n  A: 2\n").unwrap_err();
        assert_eq!(e.position, Some((3, 3)));
        assert!(
            e.message.contains("duplicate key `A` (first at line 2)"),
            "{e:?}"
        );
        let e = json("{\"Resources\": {\"A\": 1,\n \"A\": 2}}").unwrap_err();
        assert!(e.message.contains("duplicate key `A`"), "{e:?}");
        assert_eq!(e.position.map(|p| p.0), Some(2));
        // The same key in two mappings is fine.
        assert_eq!(yaml("a: {k: 1}\nb: {k: 2}\n"), Ok(()));
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = yaml("a: [1, 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
        assert!(e.position.is_some());
        let e = json("{\"a\": }").unwrap_err();
        assert!(e.message.starts_with("invalid JSON"), "{e:?}");
        assert_eq!(e.position, Some((1, 7)));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        for (path, what) in [
            (fifo.as_path(), "FIFO"),
            (zero.as_path(), "device"),
            (dir.path(), "folder"),
        ] {
            let e = read_bounded(path, &small()).unwrap_err();
            assert!(e.message.contains(what), "{e}");
            assert!(e.message.contains("not a regular file"), "{e}");
        }
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_with_the_override() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        fs::write(&file, "x".repeat(1001)).unwrap();
        let e = read_bounded(&file, &small()).unwrap_err();
        assert!(e.message.contains("1001 bytes"), "{e}");
        assert!(e.message.contains(ENV_MAX_BYTES), "{e}");
        fs::write(&file, "x".repeat(1000)).unwrap();
        assert_eq!(read_bounded(&file, &small()).unwrap().len(), 1000);
    }

    #[test]
    fn invalid_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.yaml");
        fs::write(&file, b"a: 1\nb: \xff\n").unwrap();
        let e = read_bounded(&file, &small()).unwrap_err();
        assert_eq!(e.position, Some((2, 4)));
    }

    #[test]
    fn limits_come_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Limits::from_lookup(vars(&[])), Ok(Limits::DEFAULT));
        let l =
            Limits::from_lookup(vars(&[(ENV_MAX_BYTES, "10"), (ENV_MAX_DEPTH, "100")])).unwrap();
        assert_eq!((l.max_bytes, l.max_depth), (10, 100));
        let l = Limits::from_lookup(vars(&[(ENV_MAX_ARCHIVE_BYTES, "5000")])).unwrap();
        assert_eq!(l.max_archive_bytes, 5000);
        assert!(Limits::from_lookup(vars(&[(ENV_MAX_BYTES, "ten")])).is_err());
        assert!(Limits::from_lookup(vars(&[(ENV_MAX_ITEMS, "0")])).is_err());
        assert!(Limits::from_lookup(vars(&[(ENV_MAX_DEPTH, "129")])).is_err());
    }
}
