//! A stack file as a tree of positioned YAML nodes, for checks that must see every
//! problem at once and where it is: duplicate keys, YAML tags, the file's shape.
//!
//! The tree keeps what serde would lose or hide: every entry of a mapping (a repeated key
//! too), the tag of a node, whether a scalar was quoted, and the line and column of each node.
//! It is built only after [`crate::input::check_yaml_limits`] has bounded the text, so
//! expanding aliases cannot blow up.

use super::locate::Position;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts (for a block mapping: its first key).
    pub at: Position,
    /// The node's YAML tag as written (`!Ref`, `!!str`), if it has one.
    pub tag: Option<String>,
    /// What it holds.
    pub kind: Kind,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar's text, and whether it was written plain (unquoted, not a block scalar).
    Scalar { text: String, plain: bool },
    /// A list.
    Seq(Vec<Node>),
    /// A mapping's entries in file order, repeated keys included.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A plain scalar YAML reads as null (`~`, `null`, nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// How a tag is written in the file (`!!str` for the YAML core tags).
fn written(tag: &Tag) -> String {
    match tag.handle.strip_prefix("tag:yaml.org,2002:") {
        Some("") => format!("!!{}", tag.suffix),
        _ => format!("{}{}", tag.handle, tag.suffix),
    }
}

fn position(mark: &Marker) -> Position {
    Position {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

enum Open {
    Seq(Node, Vec<Node>, usize),
    Map(Node, Vec<(Node, Node)>, Option<Node>, usize),
}

/// The first document of `text`, or `None` when it does not parse (the limits check
/// reports syntax errors with their position) or is empty.
pub fn parse(text: &str) -> Option<Node> {
    let mut lines: Vec<&str> = Vec::new();
    // A tagged node is marked where its value starts: point at the tag instead.
    let mut at_tag = |at: Position, tag: &Option<Tag>| -> (Position, Option<String>) {
        let Some(tag) = tag.as_ref().map(written) else {
            return (at, None);
        };
        if lines.is_empty() {
            lines = text.split('\n').collect();
        }
        let before: String = lines
            .get(at.line - 1)
            .map(|l| l.chars().take(at.column - 1).collect())
            .unwrap_or_default();
        let column = before
            .rfind(tag.as_str())
            .or_else(|| before.rfind('!'))
            .map_or(at.column, |byte| before[..byte].chars().count() + 1);
        (Position { column, ..at }, Some(tag))
    };
    let mut parser = Parser::new_from_str(text);
    let mut anchors: std::collections::HashMap<usize, Node> = std::collections::HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().ok()?;
        let at = position(&mark);
        let done = match event {
            Event::StreamEnd | Event::DocumentEnd => return None,
            Event::Scalar(text, style, anchor, tag) => {
                let (at, tag) = at_tag(at, &tag);
                let node = Node {
                    at,
                    tag,
                    kind: Kind::Scalar {
                        text,
                        plain: style == TScalarStyle::Plain,
                    },
                };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
            Event::Alias(id) => Some(anchors.get(&id).cloned()?),
            Event::SequenceStart(anchor, tag) => {
                let (at, tag) = at_tag(at, &tag);
                let node = Node {
                    at,
                    tag,
                    kind: Kind::Seq(Vec::new()),
                };
                stack.push(Open::Seq(node, Vec::new(), anchor));
                None
            }
            Event::MappingStart(anchor, tag) => {
                let (at, tag) = at_tag(at, &tag);
                let node = Node {
                    at,
                    tag,
                    kind: Kind::Map(Vec::new()),
                };
                stack.push(Open::Map(node, Vec::new(), None, anchor));
                None
            }
            Event::SequenceEnd => match stack.pop()? {
                Open::Seq(mut node, items, anchor) => {
                    node.kind = Kind::Seq(items);
                    if anchor > 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    Some(node)
                }
                Open::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Open::Map(mut node, entries, _, anchor) => {
                    // A block mapping's start event is marked after its first key.
                    if let Some((key, _)) = entries.first()
                        && key.at < node.at
                    {
                        node.at = key.at;
                    }
                    node.kind = Kind::Map(entries);
                    if anchor > 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    Some(node)
                }
                Open::Seq(..) => return None,
            },
            _ => None,
        };
        if let Some(node) = done {
            match stack.last_mut() {
                None => return Some(node),
                Some(Open::Seq(_, items, _)) => items.push(node),
                Some(Open::Map(_, entries, pending, _)) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => entries.push((key, node)),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn keeps_repeated_keys_tags_and_positions() {
        let doc = parse("a: 1\nb:\n  c: !Ref x\n  c: '2'\nd: [*x1, !!str 3]\ne: &x1 y\n");
        // `*x1` before its anchor does not parse: no tree.
        assert_eq!(doc, None);
        let doc = parse("a: &v 1\nb:\n  c: !Ref x\n  c: '2'\nd: [*v, !!str 3]\n").unwrap();
        let Kind::Map(top) = &doc.kind else { panic!() };
        assert_eq!(doc.at, pos(1, 1));
        let Kind::Map(b) = &top[1].1.kind else {
            panic!()
        };
        assert_eq!(b.len(), 2, "both `c` entries are kept");
        assert_eq!(top[1].1.at, pos(3, 3));
        assert_eq!(b[0].1.tag.as_deref(), Some("!Ref"));
        assert_eq!(b[1].0.at, pos(4, 3));
        assert!(matches!(&b[1].1.kind, Kind::Scalar { plain: false, .. }));
        let Kind::Seq(d) = &top[2].1.kind else {
            panic!()
        };
        assert_eq!(d[0].kind, top[0].1.kind, "an alias is its anchor's node");
        assert_eq!(d[1].tag.as_deref(), Some("!!str"));
    }
}
