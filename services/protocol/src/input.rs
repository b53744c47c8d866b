//! Job input of `candle/bert-embed@1`: a JSON list of strings, within documented limits. One definition for
//! every component: the buyer's CLI checks an input before paying, the runner and the verifiers before running
//! it, the relay before pinning it, and the web app reads the same limits as JSON ([`InputLimits::to_json`]).

use serde::Serialize;

/// Why an input was refused: what is wrong and what to do, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

type Result<T> = std::result::Result<T, InputError>;

/// Limits on one job's input. The defaults bound one job to a few seconds of CPU time per 100 items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputLimits {
    /// Most strings in one job (default 4,096).
    pub max_items: usize,
    /// Most UTF-8 bytes in one string (default 16 KiB; text past 256 tokens is truncated anyway).
    pub max_item_bytes: usize,
    /// Most bytes of the whole JSON document (default 8 MiB).
    pub max_total_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self { max_items: 4096, max_item_bytes: 16 * 1024, max_total_bytes: 8 * 1024 * 1024 }
    }
}

impl InputLimits {
    /// The limits as JSON for clients that are not Rust (the web app): `{"runtime", "format", "maxItems",
    /// "maxItemBytes", "maxTotalBytes"}`, sizes in bytes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "runtime": crate::Runtime::BertEmbedV1.name(),
            "format": "a JSON list of UTF-8 strings, without byte-order mark",
            "maxItems": self.max_items,
            "maxItemBytes": self.max_item_bytes,
            "maxTotalBytes": self.max_total_bytes,
        })
    }
}

/// A plain text file as a job input: one sentence per line (LF or CRLF), blank lines and surrounding
/// whitespace dropped, encoded as the JSON list the runtime takes (compact, UTF-8). The result is then checked
/// as any input is ([`parse_texts`]).
///
/// Errors: the text is not UTF-8; no line holds text.
pub fn texts_from_lines(text: &[u8]) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(text)
        .map_err(|e| InputError(format!("the text file is not UTF-8 ({e}); save it as UTF-8 and try again")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(InputError("the text file holds NUL bytes: it looks binary, not one sentence per line".into()));
    }
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Err(InputError("the text file has no sentence; write one sentence per line".into()));
    }
    Ok(serde_json::to_vec(&lines).expect("a list of strings serialises"))
}

/// Whether `bytes` look like a JSON document rather than plain text (the first non-blank byte is `[`, `{` or
/// `"`), so a JSON input with a mistake is reported as bad JSON instead of being read as sentences.
pub fn looks_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'[' | b'{' | b'"'))
}

/// Parses a job input: a non-empty JSON array of strings.
pub fn parse_texts(bytes: &[u8], limits: &InputLimits) -> Result<Vec<String>> {
    if bytes.len() > limits.max_total_bytes {
        return Err(InputError(format!(
            "the input is {} bytes, more than the limit of {} bytes; split it into several jobs",
            bytes.len(),
            limits.max_total_bytes
        )));
    }
    if let Some(encoding) = byte_order_mark(bytes) {
        // RFC 8259 §8.1: JSON text must not begin with a BOM; a parser MAY ignore one. We refuse it rather
        // than skip it: the job's digest covers these exact bytes and every runner and verifier must agree
        // on which inputs are valid, so the rule is the strict one, the same everywhere.
        return Err(InputError(format!(
            "the input starts with a {encoding} byte-order mark; a job input is JSON in UTF-8 without a BOM \
             (RFC 8259 §8.1). Save the file as UTF-8 without BOM (e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' in.json`) \
             and publish it again: the BOM is part of the bytes the job's digest covers, so it is not dropped here"
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| InputError(format!("not JSON ({e}); expected a list of strings like [\"a sentence\"]")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(InputError(format!(
            "expected a JSON list of strings like [\"a sentence\"], found {}",
            kind(&value)
        )));
    };
    if items.is_empty() {
        return Err(InputError("the list is empty; give at least one string".into()));
    }
    if items.len() > limits.max_items {
        return Err(InputError(format!(
            "{} items, more than the limit of {}; split them into several jobs",
            items.len(),
            limits.max_items
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            serde_json::Value::String(text) if text.len() > limits.max_item_bytes => Err(InputError(format!(
                "item {index} is {} bytes, more than the limit of {} bytes per item",
                text.len(),
                limits.max_item_bytes
            ))),
            serde_json::Value::String(text) => Ok(text),
            other => Err(InputError(format!("item {index} is {}, not a string", kind(&other)))),
        })
        .collect()
}

/// The encoding a leading byte-order mark (U+FEFF) announces, if the input starts with one (the encoding
/// signatures of The Unicode Standard, "Byte Order Mark"; UTF-32 LE is checked before UTF-16 LE, whose mark
/// it starts with).
fn byte_order_mark(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => Some("UTF-8"),
        [0xFF, 0xFE, 0, 0, ..] | [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32"),
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => Some("UTF-16"),
        _ => None,
    }
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str, limits: InputLimits) -> String {
        parse_texts(input.as_bytes(), &limits).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_list_of_strings() {
        let texts = parse_texts(br#"["a", "", "\u00e9"]"#, &InputLimits::default()).unwrap();
        assert_eq!(texts, vec!["a".to_owned(), String::new(), "é".to_owned()]);
    }

    #[test]
    fn every_bad_input_says_what_is_wrong() {
        let limits = InputLimits::default();
        assert!(err("not json", limits).contains("not JSON"));
        assert!(err(r#"{"a": 1}"#, limits).contains("found an object"));
        assert!(err(r#""just a string""#, limits).contains("found a string"));
        assert!(err("[]", limits).contains("empty"));
        assert!(err(r#"["ok", 3]"#, limits).contains("item 1 is a number"));
        assert!(err(r#"["ok", ["nested"]]"#, limits).contains("item 1 is a list"));
        let small = InputLimits { max_items: 2, max_item_bytes: 4, max_total_bytes: 64 };
        assert!(err(r#"["a", "b", "c"]"#, small).contains("3 items, more than the limit of 2"));
        assert!(err(r#"["abcde"]"#, small).contains("item 0 is 5 bytes"));
        assert!(err(&format!("[\"{}\"]", "x".repeat(80)), small).contains("more than the limit of 64 bytes"));
    }

    #[test]
    fn a_text_file_becomes_one_string_per_line() {
        let json = texts_from_lines("\u{feff}The cat sat.\r\n\n  A dog barked.  \n".as_bytes()).unwrap();
        assert_eq!(json, br#"["The cat sat.","A dog barked."]"#);
        assert_eq!(parse_texts(&json, &InputLimits::default()).unwrap().len(), 2);
        assert!(texts_from_lines(b"\n \n").unwrap_err().to_string().contains("no sentence"));
        assert!(texts_from_lines(&[0, 0, 0]).unwrap_err().to_string().contains("looks binary"));
        assert!(texts_from_lines(&[0xff, 0xfe, 0x41]).unwrap_err().to_string().contains("not UTF-8"));
        assert!(looks_like_json(b" \n[\"a\"]") && looks_like_json(b"{}") && !looks_like_json(b"The cat."));
    }

    #[test]
    fn the_limits_are_exported_as_json() {
        let json = InputLimits::default().to_json();
        assert_eq!(json["maxItems"], 4096);
        assert_eq!(json["maxItemBytes"], 16 * 1024);
        assert_eq!(json["runtime"], "candle/bert-embed@1");
    }

    #[test]
    fn a_byte_order_mark_is_named_and_refused() {
        let limits = InputLimits::default();
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], br#"["a"]"#].concat();
        let message = parse_texts(&with_bom, &limits).unwrap_err().to_string();
        assert!(
            message.contains("starts with a UTF-8 byte-order mark") && message.contains("without BOM"),
            "{message}"
        );
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("[\"a\"]".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let message = parse_texts(&utf16, &limits).unwrap_err().to_string();
        assert!(message.contains("UTF-16 byte-order mark"), "{message}");
        // A BOM-like character inside a string is text, not a mark.
        assert_eq!(parse_texts("[\"\u{feff}a\"]".as_bytes(), &limits).unwrap(), vec!["\u{feff}a".to_owned()]);
    }
}
