//! Every vector of `testdata/vectors/inputs.json`: the job-input rules of `candle/bert-embed@1` as the
//! runners, the verifiers, the relay and the CLI apply them. The web app runs the same file
//! (`web/test/input.test.ts`), so a browser never accepts an input a runner refuses, or the reverse.

use cairn_protocol::input::{InputLimits, parse_texts, texts_from_lines};
use serde_json::Value;

use crate::repo_root;

fn vectors() -> Value {
    let path = repo_root().join("testdata/vectors/inputs.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A case's bytes: `utf8` text or `hex`.
fn bytes(case: &Value) -> Vec<u8> {
    match (case["utf8"].as_str(), case["hex"].as_str()) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(hex)) => alloy::hex::decode(hex).unwrap(),
        _ => panic!("case {case} needs exactly one of utf8 and hex"),
    }
}

fn check<T: std::fmt::Debug>(case: &Value, got: Result<T, cairn_protocol::input::InputError>, ok: impl Fn(&T) -> bool) {
    let about = case["about"].as_str().unwrap();
    match (got, case["error"].as_str()) {
        (Ok(v), None) => assert!(ok(&v), "{about}: got {v:?}, expected {case}"),
        (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{about}: refused with `{e}`, expected `{want}`"),
        (Ok(v), Some(want)) => panic!("{about}: accepted as {v:?}, expected a refusal with `{want}`"),
        (Err(e), None) => panic!("{about}: refused with `{e}`, expected acceptance"),
    }
}

#[test]
fn parse_vectors_agree_with_parse_texts() {
    let v = vectors();
    let l = &v["limits"];
    let limits = InputLimits {
        max_items: l["maxItems"].as_u64().unwrap() as usize,
        max_item_bytes: l["maxItemBytes"].as_u64().unwrap() as usize,
        max_total_bytes: l["maxTotalBytes"].as_u64().unwrap() as usize,
    };
    let cases = v["parse"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        check(case, parse_texts(&bytes(case), &limits), |texts| {
            let want: Vec<String> = serde_json::from_value(case["ok"].clone()).unwrap();
            *texts == want
        });
    }
}

#[test]
fn line_vectors_agree_with_texts_from_lines() {
    let v = vectors();
    for case in v["lines"].as_array().unwrap() {
        check(case, texts_from_lines(&bytes(case)), |json| {
            json.as_slice() == case["json"].as_str().unwrap().as_bytes()
        });
    }
}
