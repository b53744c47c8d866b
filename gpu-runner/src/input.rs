//! Job input of `candle/bert-embed@1`: a JSON list of strings, within documented limits.

use crate::{Error, Result};

/// Limits on one job's input. The defaults bound one job to a few seconds of CPU time per 100 items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Parses a job input: a non-empty JSON array of strings.
pub fn parse_texts(bytes: &[u8], limits: &InputLimits) -> Result<Vec<String>> {
    if bytes.len() > limits.max_total_bytes {
        return Err(Error::Input(format!(
            "the input is {} bytes, more than the limit of {} bytes; split it into several jobs",
            bytes.len(),
            limits.max_total_bytes
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Input(format!("not JSON ({e}); expected a list of strings like [\"a sentence\"]")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(Error::Input(format!(
            "expected a JSON list of strings like [\"a sentence\"], found {}",
            kind(&value)
        )));
    };
    if items.is_empty() {
        return Err(Error::Input("the list is empty; give at least one string".into()));
    }
    if items.len() > limits.max_items {
        return Err(Error::Input(format!(
            "{} items, more than the limit of {}; split them into several jobs",
            items.len(),
            limits.max_items
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            serde_json::Value::String(text) if text.len() > limits.max_item_bytes => Err(Error::Input(format!(
                "item {index} is {} bytes, more than the limit of {} bytes per item",
                text.len(),
                limits.max_item_bytes
            ))),
            serde_json::Value::String(text) => Ok(text),
            other => Err(Error::Input(format!("item {index} is {}, not a string", kind(&other)))),
        })
        .collect()
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
}
