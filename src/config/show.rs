//! How user text appears in error messages: characters that could hide or reorder what a
//! terminal shows (control characters, bidirectional overrides and isolates) are written as
//! escapes such as `\u{202e}`, and long values are cut, so an error report stays readable and
//! bounded whatever the file holds.

/// Longest value, in characters, that a message quotes in full.
pub const QUOTE_CHARS: usize = 80;

/// Whether `c` changes the direction of the text around it: the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the marks U+200E/U+200F.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Whether `c` is shown as an escape: a control character or a bidirectional control.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// `c` as Rust writes an escape: `\u{202e}`.
pub fn escape_char(c: char) -> String {
    format!("\\u{{{:x}}}", c as u32)
}

/// `text` with every hidden character ([`is_hidden`]) escaped.
pub fn escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if is_hidden(c) {
                escape_char(c)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `text` escaped and cut after [`QUOTE_CHARS`] characters with `…`.
pub fn quote(text: &str) -> String {
    cut(&escape(text), QUOTE_CHARS)
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A message made safe to print: hidden characters escaped (line breaks kept), and every
/// `` `quoted` `` value longer than [`QUOTE_CHARS`] cut.
pub fn message(text: &str) -> String {
    let escaped: String = text.split('\n').map(escape).collect::<Vec<_>>().join("\n");
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd parts are inside backticks.
        if i % 2 == 1 {
            out.push_str(&cut(part, QUOTE_CHARS));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Widest source line shown under an error, in characters.
pub const LINE_CHARS: usize = 120;

/// The source line `line` escaped and, when long, cut to a window around `column` (1-based,
/// in characters); returns the text and the caret's new 1-based column.
pub fn source_line(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let at = column.saturating_sub(1).min(chars.len());
    let start = if chars.len() > LINE_CHARS {
        at.saturating_sub(LINE_CHARS / 3)
    } else {
        0
    };
    let end = (start + LINE_CHARS).min(chars.len());
    let mut text = String::new();
    let mut caret = 1;
    if start > 0 {
        text.push('…');
        caret += 1;
    }
    for (i, c) in chars[start..end].iter().enumerate() {
        let shown = if is_hidden(*c) {
            escape_char(*c)
        } else {
            c.to_string()
        };
        if start + i < at {
            caret += shown.chars().count();
        }
        text.push_str(&shown);
    }
    if end < chars.len() {
        text.push('…');
    }
    (text, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_escaped() {
        assert_eq!(escape("a\u{202e}b\u{7}c\td"), "a\\u{202e}b\\u{7}c\\u{9}d");
        assert_eq!(escape("é日🎉"), "é日🎉");
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}',
        ] {
            assert!(is_bidi_control(c));
        }
        assert!(!is_bidi_control('\u{2070}'));
    }

    #[test]
    fn long_quoted_values_are_cut() {
        let long = "x".repeat(200);
        let m = message(&format!("`{long}` is bad, `short` too\nnext `a\u{202e}`"));
        assert_eq!(
            m,
            format!(
                "`{}…` is bad, `short` too\nnext `a\\u{{202e}}`",
                "x".repeat(80)
            )
        );
        assert_eq!(quote(&"é".repeat(81)), format!("{}…", "é".repeat(80)));
    }

    #[test]
    fn a_long_source_line_is_a_window_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (text, caret) = source_line(&line, 501);
        assert!(text.chars().count() <= LINE_CHARS + 2, "{text}");
        assert_eq!(text.chars().nth(caret - 1), Some('X'));
        let (text, caret) = source_line("k: a\u{202e}b", 6);
        assert_eq!((text.as_str(), caret), ("k: a\\u{202e}b", 13));
    }
}
