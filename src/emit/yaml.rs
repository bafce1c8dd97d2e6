//! A fast writer for the YAML templates sockstack emits: the same bytes as
//! `serde_yaml::to_string`, in a fraction of its time (libyaml's emitter was
//! most of the cost of `synth`).
//!
//! It writes only what it is sure of: block mappings and sequences (empty ones as
//! `{}` and `[]`), integers, booleans, `null`, whole floats, and strings of printable
//! ASCII on one line, plain or single-quoted by the rules libyaml applies to them
//! (and with the quotes serde_yaml adds to strings that would read back as numbers,
//! booleans or null). Anything else — a line break, a tab, a non-ASCII character, a
//! string that might read back as a number, a key longer than 128 bytes, an enum with
//! data — makes [`to_string`] return `None`, and the caller uses serde_yaml for the
//! whole document. `tests` compare both writers on generated documents.

use serde::Serialize;
use serde::ser::{self, Impossible};
use std::fmt;

/// `value` as YAML, byte-identical to `serde_yaml::to_string(value)`, or `None`
/// when it holds something this writer leaves to serde_yaml.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut w = Writer {
        out: String::with_capacity(64 * 1024),
        pos: Pos::Top,
        frames: Vec::with_capacity(16),
    };
    value.serialize(&mut w).ok()?;
    Some(w.out)
}

/// Where the next node goes.
#[derive(Clone, Copy)]
enum Pos {
    /// Nothing written yet: the document's root.
    Top,
    /// After `key:` of a mapping whose keys are at this column.
    AfterKey(usize),
    /// After `- ` of a sequence whose dashes are at this column.
    AfterDash(usize),
    /// At the start of a line, after a complete node.
    LineStart,
}

/// An open mapping or sequence.
struct Frame {
    /// Where the collection itself goes (decides its layout once its first item comes).
    at: Pos,
    /// Column of its keys or dashes, once known.
    indent: usize,
    /// Items written so far.
    count: usize,
    /// A mapping (else a sequence).
    mapping: bool,
}

struct Writer {
    out: String,
    pos: Pos,
    frames: Vec<Frame>,
}

/// Something this writer leaves to serde_yaml.
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not in the subset the fast YAML writer handles")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// How a string scalar is written.
#[derive(Debug, PartialEq)]
enum Style {
    Plain,
    SingleQuoted,
}

/// Whether serde_yaml might read `s` back as a number: everything it reads as one
/// (decimal, `0x`/`0o`/`0b` integers, floats with exponents, `.inf`, `.nan`) is an
/// optional sign and then one of these shapes. Some strings of these shapes are
/// not numbers; the writer leaves them to serde_yaml.
fn maybe_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let prefix = unsigned.get(..2).unwrap_or_default();
    if ["0x", "0o", "0b"]
        .iter()
        .any(|p| prefix.eq_ignore_ascii_case(p))
    {
        return true;
    }
    let word = unsigned.trim_start_matches('.');
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && exponent.is_none_or(|e| {
            e.strip_prefix(['+', '-'])
                .unwrap_or(e)
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
}

/// The style serde_yaml and libyaml give `s`, or `None` when this writer is not sure.
fn style(s: &str) -> Option<Style> {
    let bytes = s.as_bytes();
    // Most keys and values: a letter, then letters, digits and `_-./`, none of which is an
    // indicator or a space; only the words and numbers below make such a string need quotes.
    let word = bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
    if !word && !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return None;
    }
    // serde_yaml quotes what would read back as null, a boolean or a number.
    if matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    ) {
        return Some(Style::SingleQuoted);
    }
    if maybe_number(s) {
        // Integers are quoted; anything else of a number's shape is left to serde_yaml.
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        return (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Style::SingleQuoted);
    }
    if word {
        return Some(Style::Plain);
    }
    // libyaml's rules for a plain scalar in block context (no line breaks, ASCII).
    let blank_after = |i: usize| bytes.get(i + 1).is_none_or(|&b| b == b' ');
    let first = bytes[0];
    let indicator_first = s.starts_with("---")
        || s.starts_with("...")
        || b"#,[]{}&*!|>'\"%@`".contains(&first)
        || (matches!(first, b'?' | b':' | b'-') && blank_after(0));
    let indicator_later = bytes
        .iter()
        .enumerate()
        .skip(1)
        .any(|(i, &b)| (b == b':' && blank_after(i)) || (b == b'#' && bytes[i - 1] == b' '));
    let spaces_at_ends = first == b' ' || bytes[bytes.len() - 1] == b' ';
    Some(if indicator_first || indicator_later || spaces_at_ends {
        Style::SingleQuoted
    } else {
        Style::Plain
    })
}

fn push_scalar(out: &mut String, s: &str, style: Style) {
    match style {
        Style::Plain => out.push_str(s),
        Style::SingleQuoted => {
            out.push('\'');
            for (i, part) in s.split('\'').enumerate() {
                if i > 0 {
                    out.push_str("''");
                }
                out.push_str(part);
            }
            out.push('\'');
        }
    }
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

impl Writer {
    /// Writes a scalar at the current position.
    fn scalar(&mut self, s: &str, style: Style) -> Result {
        self.item_start()?;
        match self.pos {
            Pos::AfterKey(_) => self.out.push(' '),
            Pos::Top | Pos::AfterDash(_) => {}
            Pos::LineStart => return Err(Unsupported),
        }
        push_scalar(&mut self.out, s, style);
        self.out.push('\n');
        self.pos = Pos::LineStart;
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result {
        let style = style(s).ok_or(Unsupported)?;
        self.scalar(s, style)
    }

    /// Before a node that is an item of the innermost sequence: its dash.
    fn item_start(&mut self) -> Result {
        let Some(frame) = self.frames.last_mut() else {
            return Ok(());
        };
        if frame.mapping {
            // A value: its key already placed it.
            return Ok(());
        }
        if frame.count == 0 {
            match frame.at {
                Pos::Top => frame.indent = 0,
                Pos::AfterKey(k) => {
                    self.out.push('\n');
                    frame.indent = k;
                    indent(&mut self.out, k);
                }
                Pos::AfterDash(d) => frame.indent = d + 2,
                Pos::LineStart => return Err(Unsupported),
            }
        } else {
            indent(&mut self.out, frame.indent);
        }
        frame.count += 1;
        self.out.push_str("- ");
        self.pos = Pos::AfterDash(frame.indent);
        Ok(())
    }

    fn open(&mut self, mapping: bool) -> Result {
        self.item_start()?;
        self.frames.push(Frame {
            at: self.pos,
            indent: 0,
            count: 0,
            mapping,
        });
        Ok(())
    }

    fn key(&mut self, key: &str) -> Result {
        let style = style(key).ok_or(Unsupported)?;
        // Longer keys become `? key` complex keys; a `!` would be read as a tag.
        if key.len() > 128 || key.starts_with('!') {
            return Err(Unsupported);
        }
        let frame = self.frames.last_mut().ok_or(Unsupported)?;
        if frame.count == 0 {
            match frame.at {
                Pos::Top => frame.indent = 0,
                Pos::AfterKey(k) => {
                    self.out.push('\n');
                    frame.indent = k + 2;
                    indent(&mut self.out, frame.indent);
                }
                Pos::AfterDash(d) => frame.indent = d + 2,
                Pos::LineStart => return Err(Unsupported),
            }
        } else {
            indent(&mut self.out, frame.indent);
        }
        frame.count += 1;
        push_scalar(&mut self.out, key, style);
        self.out.push(':');
        self.pos = Pos::AfterKey(frame.indent);
        Ok(())
    }

    fn close(&mut self) -> Result {
        let frame = self.frames.pop().ok_or(Unsupported)?;
        if frame.count == 0 {
            let empty = if frame.mapping { "{}" } else { "[]" };
            match frame.at {
                Pos::AfterKey(_) => self.out.push(' '),
                Pos::Top | Pos::AfterDash(_) => {}
                Pos::LineStart => return Err(Unsupported),
            }
            self.out.push_str(empty);
            self.out.push('\n');
        }
        self.pos = Pos::LineStart;
        Ok(())
    }
}

impl ser::Serializer for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result {
        self.scalar(if v { "true" } else { "false" }, Style::Plain)
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.scalar(&v.to_string(), Style::Plain)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.scalar(&v.to_string(), Style::Plain)
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        // Whole numbers well inside the range where serde_yaml writes `N.0`.
        if v.fract() != 0.0 || v.abs() >= 1e9 || (v == 0.0 && v.is_sign_negative()) {
            return Err(Unsupported);
        }
        self.scalar(&format!("{}.0", v as i64), Style::Plain)
    }
    fn serialize_char(self, _v: char) -> Result {
        Err(Unsupported)
    }
    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.scalar("null", Style::Plain)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, variant: &'static str) -> Result {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Result {
        Err(Unsupported)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self> {
        self.open(false)?;
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self> {
        self.open(true)?;
        Ok(self)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self> {
        self.open(true)?;
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTuple for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeTupleStruct for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeMap for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        let key = key.serialize(KeyName)?;
        self.key(&key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl ser::SerializeStruct for &mut Writer {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key)?;
        value.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.close()
    }
}

/// A mapping key: only strings (anything else goes to serde_yaml).
struct KeyName;

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = Unsupported;
    type SerializeSeq = Impossible<String, Unsupported>;
    type SerializeTuple = Impossible<String, Unsupported>;
    type SerializeTupleStruct = Impossible<String, Unsupported>;
    type SerializeTupleVariant = Impossible<String, Unsupported>;
    type SerializeMap = Impossible<String, Unsupported>;
    type SerializeStruct = Impossible<String, Unsupported>;
    type SerializeStructVariant = Impossible<String, Unsupported>;

    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_owned())
    }
    fn serialize_unit_variant(self, _n: &'static str, _i: u32, v: &'static str) -> Result<String> {
        Ok(v.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_i8(self, _v: i8) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_i16(self, _v: i16) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_i32(self, _v: i32) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_i64(self, _v: i64) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_u8(self, _v: u8) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_u16(self, _v: u16) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_u32(self, _v: u32) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_u64(self, _v: u64) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_f32(self, _v: f32) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _v: f64) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_char(self, _v: char) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_unit(self) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _value: &T,
    ) -> Result<String> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _n: &'static str,
        _i: u32,
        _v: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// Whatever the fast writer writes, serde_yaml writes the same.
    fn agrees(value: &Value) -> bool {
        let slow = serde_yaml::to_string(value).unwrap();
        match to_string(value) {
            Some(fast) => {
                assert_eq!(fast, slow, "for {value}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn writes_template_shapes_as_serde_yaml_does() {
        let doc = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "Key": {"Type": "AWS::KMS::Key", "Properties": {
                    "EnableKeyRotation": true,
                    "PendingWindowInDays": 7,
                    "Threshold": 8000.0,
                    "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                        {"Sid": "S1", "Principal": "*", "Action": ["kms:*"], "Resource": ["*"],
                         "Condition": {"Bool": {"aws:X": "false"}}},
                        {"Nested": [["a", "b"], [], {}, [{"k": "v"}]]}
                    ]},
                    "Empty": {}, "None": [], "Null": null,
                    "Text": "a: b", "Hash": "a #b", "Quote": "it's", "Lead": "-x", "Dash": "- x",
                    "Format": "{\"a\":\"$b\"}", "Number": "256", "Neg": "-5", "Zero": "007",
                    "Word": "True", "Blank": "", "Colon": "arn:aws:x", "Trail": "x:",
                    "Arch": "x86_64", "Date": "2012-10-17", "Route": "action0", "Hex": "abc", "Sign": "+-5",
                }}
            }
        });
        assert!(agrees(&doc));
        assert!(agrees(&json!([])));
        assert!(agrees(&json!({})));
        assert!(agrees(&json!("plain")));
        // YAML 1.1 booleans, merge keys and lone indicators: whichever the fast writer takes, it
        // must write as serde_yaml does.
        for word in [
            "yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "<<", "=", "-", "?", ":", "!",
            "&a", "*a", "|", ">", "%", "@", "`", "#", "- ", "? x", "a:", "a :b", "[", "]", "{",
            "}", ",", "'", "\"",
        ] {
            agrees(&json!(word));
            agrees(&json!({ word: word }));
        }
    }

    #[test]
    fn leaves_what_it_is_not_sure_of_to_serde_yaml() {
        for value in [
            json!("two\nlines"),
            json!("tab\there"),
            json!("caf\u{e9}"),
            json!("0xff"),
            json!("nan"),
            json!("1e5"),
            json!(".inf"),
            json!(0.5),
            json!({"!Ref": "x"}),
            json!({"k".repeat(129): 1}),
        ] {
            assert!(!agrees(&value), "{value}");
        }
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex(
            "[ a-z0-9:#'\"!&*?.,\\[\\]{}|>%@`~+_$/=()-]{0,12}|[0-9a-fxoinEe+.-]{1,8}",
        )
        .unwrap()
    }

    fn document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            text().prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            (-1000i32..1000).prop_map(|n| Value::from(f64::from(n))),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn fast_writer_matches_serde_yaml(doc in document()) {
            agrees(&doc);
        }

        #[test]
        fn every_string_it_writes_reads_back(s in text()) {
            if let Some(yaml) = to_string(&s) {
                prop_assert_eq!(serde_yaml::from_str::<String>(&yaml).unwrap(), s);
            }
        }
    }
}
