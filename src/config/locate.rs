//! Where each key and value of a YAML document stands, by path.
//!
//! serde tells us *what* is wrong with a stack file but, once the file has
//! parsed, no longer *where*. This index maps every path (`routes[2].handler`)
//! to the 1-based line and column of its key and of its value, so semantic
//! errors can point at the exact spot, like parse errors do.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Position {
    /// The start of the file.
    pub const START: Position = Position { line: 1, column: 1 };

    fn from_marker(mark: Marker) -> Self {
        Position {
            line: mark.line(),
            column: mark.col() + 1,
        }
    }
}

/// Positions of every key and value in a document, by path.
#[derive(Debug, Default)]
pub struct Locations {
    keys: HashMap<String, Position>,
    values: HashMap<String, Position>,
    repeated_keys: HashMap<String, Position>,
}

impl Locations {
    /// Indexes `text`. A document that does not parse gives an empty index
    /// (the serde error reports that case with its own position).
    pub fn index(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        let _ = parser.load(&mut builder, false);
        builder.locations
    }

    /// Where the key of `path` stands (for a list item: where the item starts).
    pub fn key(&self, path: &str) -> Option<Position> {
        self.keys
            .get(path)
            .or_else(|| self.values.get(path))
            .copied()
    }

    /// Where `path`'s key stands the second time, when a mapping repeats it.
    pub fn repeated_key(&self, path: &str) -> Option<Position> {
        self.repeated_keys.get(path).copied()
    }

    /// Where the value of `path` starts.
    pub fn value(&self, path: &str) -> Option<Position> {
        self.values
            .get(path)
            .or_else(|| self.keys.get(path))
            .copied()
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn nearest(&self, path: &str, prefer_value: bool) -> Position {
        let mut current = path.to_string();
        loop {
            let found = if prefer_value {
                self.value(&current)
            } else {
                self.key(&current)
            };
            if let Some(pos) = found {
                return pos;
            }
            match parent(&current) {
                Some(p) => current = p,
                None => return Position::START,
            }
        }
    }
}

/// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → `` (the root), `` → none.
fn parent(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

/// Joins a child segment onto a path: a key with `.`, an index with `[i]`.
pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[index]`.
pub fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

enum Frame {
    Map {
        path: String,
        pending_key: Option<String>,
        /// Where the parser saw the mapping start (a block mapping's is its first `:`).
        start: Position,
        /// Whether the mapping's own position is recorded yet.
        located: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    locations: Locations,
}

impl Builder {
    /// The path of the node that starts now, recording a key when it is one.
    /// Returns `None` when the node is a mapping key (not a value).
    fn begin_node(&mut self, pos: Position, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = item(path, *next);
                *next += 1;
                Some(p)
            }
            Some(Frame::Map {
                path,
                pending_key,
                located,
                ..
            }) => match pending_key.take() {
                Some(key) => Some(child(path, &key)),
                None => {
                    // This node is a key; a mapping starts where its first key does.
                    if !*located {
                        *located = true;
                        self.locations.values.entry(path.clone()).or_insert(pos);
                    }
                    let key = scalar.unwrap_or("").to_string();
                    let full = child(path, &key);
                    match self.locations.keys.entry(full) {
                        Entry::Occupied(first) => {
                            let key = first.key().clone();
                            self.locations.repeated_keys.entry(key).or_insert(pos);
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(pos);
                        }
                    }
                    if let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut() {
                        *pending_key = Some(key);
                    }
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Position::from_marker(mark);
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(path) = self.begin_node(pos, Some(&value)) {
                    self.locations.values.entry(path).or_insert(pos);
                }
            }
            Event::Alias(_) => {
                if let Some(path) = self.begin_node(pos, None) {
                    self.locations.values.entry(path).or_insert(pos);
                }
            }
            Event::SequenceStart(..) => {
                let path = self.begin_node(pos, None).unwrap_or_default();
                self.locations.values.entry(path.clone()).or_insert(pos);
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingStart(..) => {
                let path = self.begin_node(pos, None).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path,
                    pending_key: None,
                    start: pos,
                    located: false,
                });
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    path,
                    start,
                    located: false,
                    ..
                }) = self.stack.pop()
                {
                    self.locations.values.entry(path).or_insert(start);
                }
            }
            Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
stack: demo
routes:
  - key: $connect
    handler: connect
  - key: send
    handler: send
    authorizer: true
lambda: {memory: 64}
";

    #[test]
    fn finds_keys_and_values() {
        let loc = Locations::index(DOC);
        assert_eq!(loc.key("stack"), Some(Position { line: 1, column: 1 }));
        assert_eq!(loc.value("stack"), Some(Position { line: 1, column: 8 }));
        assert_eq!(loc.key("routes[1]"), Some(Position { line: 5, column: 5 }));
        assert_eq!(
            loc.key("routes[1].authorizer"),
            Some(Position { line: 7, column: 5 })
        );
        assert_eq!(
            loc.value("routes[1].handler"),
            Some(Position {
                line: 6,
                column: 14
            })
        );
        assert_eq!(
            loc.value("lambda.memory"),
            Some(Position {
                line: 8,
                column: 18
            })
        );
    }

    #[test]
    fn nearest_falls_back_to_ancestors() {
        let loc = Locations::index(DOC);
        assert_eq!(
            loc.nearest("routes[1].missing", false),
            Position { line: 5, column: 5 }
        );
        assert_eq!(loc.nearest("nothing", false), Position::START);
    }
}
