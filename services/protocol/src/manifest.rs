//! The manifest a seller pins next to the weights (its sha256 is `manifestDigest`, its CID `manifestCid`)
//! and the model card inside it. Validation reports every problem at once, each naming its field.
//!
//! ```json
//! {
//!   "schema": "cairn.manifest/1",
//!   "runtime": "candle/bert-embed@1",
//!   "weights": "model.safetensors",
//!   "files": [{ "path": "model.safetensors", "size": 90868376, "sha256": "53aa5117…d9db" }, …],
//!   "card": { "name": "all-MiniLM-L6-v2", "description": "…", "license": "Apache-2.0",
//!             "task": "sentence-embedding", "languages": ["en"], "outputDim": 384 }
//! }
//! ```

use cairn_primitives::{FileDigests, Sha256Digest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result, Runtime};

/// The `schema` value of this version.
pub const MANIFEST_SCHEMA: &str = "cairn.manifest/1";

/// The tasks a card may declare.
pub const TASKS: &[&str] = &["sentence-embedding"];

/// One file of the model directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the directory, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the bytes (64 lowercase hex digits in JSON).
    pub sha256: Sha256Digest,
}

/// The model card: what a buyer reads before paying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCard {
    /// Display name.
    pub name: String,
    /// What the model does, for whom, and its limits.
    pub description: String,
    /// SPDX license id of the weights.
    pub license: String,
    /// One of [`TASKS`].
    pub task: String,
    /// BCP-47 language tags the model was trained for.
    pub languages: Vec<String>,
    /// Width of one output row.
    pub output_dim: u64,
    /// Where the weights come from (paper, upstream repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// Runtime name (see [`Runtime`]).
    pub runtime: String,
    /// Path of the weights file (safetensors) among `files`.
    pub weights: String,
    /// Every file of the model directory.
    pub files: Vec<FileEntry>,
    /// The model card.
    pub card: ModelCard,
}

impl Manifest {
    /// Parses and validates manifest JSON; the error lists every problem found.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::Json { what: "manifest", detail: e.to_string() })?;
        let mut problems = Vec::new();
        check_manifest(&value, &mut problems);
        if !problems.is_empty() {
            return Err(Error::Invalid { what: "manifest", problems });
        }
        serde_json::from_value(value).map_err(|e| Error::Json { what: "manifest", detail: e.to_string() })
    }

    /// The runtime this manifest declares (validated by [`Manifest::from_json`]).
    pub fn runtime(&self) -> Option<Runtime> {
        Runtime::from_name(&self.runtime)
    }

    /// The entry of the weights file.
    pub fn weights_entry(&self) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == self.weights)
    }

    /// The files' expected digests, by path (the rules were checked by [`Manifest::from_json`]).
    pub fn file_digests(&self) -> FileDigests {
        let mut list = FileDigests::new();
        for f in &self.files {
            list.insert(f.path.clone(), f.sha256);
        }
        list
    }

    /// Canonical JSON bytes (the bytes that are pinned and hashed): pretty, keys in struct order, newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        s.push('\n');
        s
    }
}

impl ModelCard {
    /// Parses and validates a model card on its own (a seller's `card.json`, before it goes into a manifest).
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::Json { what: "model card", detail: e.to_string() })?;
        let mut problems = Vec::new();
        check_card(&value, "", &mut problems);
        if !problems.is_empty() {
            return Err(Error::Invalid { what: "model card", problems });
        }
        serde_json::from_value(value).map_err(|e| Error::Json { what: "model card", detail: e.to_string() })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks `obj[key]` is a non-empty string; returns it.
fn string<'a>(obj: &'a Value, prefix: &str, key: &str, hint: &str, problems: &mut Vec<String>) -> Option<&'a str> {
    match obj.get(key) {
        None => problems.push(format!("{prefix}{key}: missing ({hint})")),
        Some(Value::String(s)) if s.trim().is_empty() => problems.push(format!("{prefix}{key}: empty ({hint})")),
        Some(Value::String(s)) => return Some(s),
        Some(other) => problems.push(format!("{prefix}{key}: expected a string, found {} ({hint})", kind(other))),
    }
    None
}

fn unknown_keys(obj: &serde_json::Map<String, Value>, prefix: &str, known: &[&str], problems: &mut Vec<String>) {
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        problems.push(format!("{prefix}{key}: unknown field (allowed: {})", known.join(", ")));
    }
}

fn check_card(v: &Value, prefix: &str, problems: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        problems.push(format!("{}: expected an object, found {}", prefix.trim_end_matches('.'), kind(v)));
        return;
    };
    let known = ["name", "description", "license", "task", "languages", "outputDim", "source"];
    unknown_keys(obj, prefix, &known, problems);
    string(v, prefix, "name", "the model's display name", problems);
    string(v, prefix, "description", "what it does and its limits", problems);
    if let Some(license) = string(v, prefix, "license", "an SPDX id such as Apache-2.0", problems)
        && !license.chars().all(|c| c.is_ascii_alphanumeric() || "-.+ ()".contains(c))
    {
        problems.push(format!("{prefix}license: `{license}` is not an SPDX expression (e.g. Apache-2.0, MIT)"));
    }
    if let Some(task) = string(v, prefix, "task", "e.g. sentence-embedding", problems)
        && !TASKS.contains(&task)
    {
        problems.push(format!("{prefix}task: `{task}` is not supported (supported: {})", TASKS.join(", ")));
    }
    match v.get("languages") {
        None => problems.push(format!("{prefix}languages: missing (an array of BCP-47 tags, e.g. [\"en\"])")),
        Some(Value::Array(a)) if a.is_empty() => {
            problems.push(format!("{prefix}languages: empty (name at least one, e.g. [\"en\"])"))
        }
        Some(Value::Array(a)) => {
            for (i, l) in a.iter().enumerate() {
                let ok = l.as_str().is_some_and(|s| {
                    !s.is_empty() && s.len() <= 35 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
                if !ok {
                    problems.push(format!("{prefix}languages[{i}]: expected a BCP-47 tag such as \"en\", found {l}"));
                }
            }
        }
        Some(other) => problems.push(format!("{prefix}languages: expected an array of strings, found {}", kind(other))),
    }
    match v.get("outputDim") {
        None => problems.push(format!("{prefix}outputDim: missing (the width of one output row, e.g. 384)")),
        Some(d) if d.as_u64().is_some_and(|d| d > 0) => {}
        Some(d) => problems.push(format!("{prefix}outputDim: expected a positive integer, found {d}")),
    }
    if let Some(s) = v.get("source")
        && !s.is_string()
    {
        problems.push(format!("{prefix}source: expected a string (a URL), found {}", kind(s)));
    }
}

fn check_manifest(v: &Value, problems: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        problems.push(format!("(top level): expected an object, found {}", kind(v)));
        return;
    };
    unknown_keys(obj, "", &["schema", "runtime", "weights", "files", "card"], problems);
    if let Some(schema) = string(v, "", "schema", MANIFEST_SCHEMA, problems)
        && schema != MANIFEST_SCHEMA
    {
        problems.push(format!("schema: `{schema}` is not supported (expected `{MANIFEST_SCHEMA}`)"));
    }
    if let Some(runtime) = string(v, "", "runtime", "e.g. candle/bert-embed@1", problems)
        && Runtime::from_name(runtime).is_none()
    {
        let known: Vec<_> = Runtime::ALL.iter().map(|r| r.name()).collect();
        problems.push(format!("runtime: `{runtime}` is unknown (known: {})", known.join(", ")));
    }
    let weights = string(v, "", "weights", "the path of the .safetensors file", problems);
    if let Some(w) = weights
        && !w.ends_with(".safetensors")
    {
        problems.push(format!("weights: `{w}` is not a .safetensors file (only safetensors weights are accepted)"));
    }
    let mut paths = Vec::new();
    match v.get("files") {
        None => problems.push("files: missing (one entry per file: path, size, sha256)".into()),
        Some(Value::Array(files)) if files.is_empty() => problems.push("files: empty (list every model file)".into()),
        Some(Value::Array(files)) => {
            // Paths and digests follow the one set of list rules (cairn_primitives::FileDigests), shared with
            // sha256sum lists; here each missing or mistyped field is named too.
            let mut entries = Vec::new();
            for (i, f) in files.iter().enumerate() {
                let p = format!("files[{i}].");
                if !f.is_object() {
                    problems.push(format!("files[{i}]: expected an object, found {}", kind(f)));
                    continue;
                }
                let path = string(f, &p, "path", "relative, `/`-separated", problems);
                if f.get("size").and_then(Value::as_u64).is_none() {
                    problems.push(format!(
                        "{p}size: expected a byte count, found {}",
                        f.get("size").unwrap_or(&Value::Null)
                    ));
                }
                let sha256 = string(f, &p, "sha256", "64 lowercase hex digits", problems);
                if let Some(o) = f.as_object() {
                    unknown_keys(o, &p, &["path", "size", "sha256"], problems);
                }
                if let Some(path) = path {
                    paths.push(path);
                    if let Some(sha256) = sha256 {
                        entries.push((format!("files[{i}]"), path, sha256));
                    }
                }
            }
            if !entries.is_empty()
                && let Err(e) = FileDigests::from_entries(entries)
            {
                problems.extend(e.problems);
            }
        }
        Some(other) => problems.push(format!("files: expected an array, found {}", kind(other))),
    }
    if let Some(w) = weights
        && v.get("files").is_some_and(Value::is_array)
        && !paths.contains(&w)
    {
        problems.push(format!("weights: `{w}` is not among files[].path"));
    }
    match v.get("card") {
        None => problems.push("card: missing (the model card object)".into()),
        Some(card) => check_card(card, "card.", problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Value {
        serde_json::json!({
            "schema": "cairn.manifest/1",
            "runtime": "candle/bert-embed@1",
            "weights": "model.safetensors",
            "files": [
                {"path": "model.safetensors", "size": 90868376, "sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
                {"path": "tokenizer.json", "size": 466247, "sha256": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"}
            ],
            "card": {"name": "all-MiniLM-L6-v2", "description": "Sentence embeddings.", "license": "Apache-2.0",
                     "task": "sentence-embedding", "languages": ["en"], "outputDim": 384}
        })
    }

    #[test]
    fn a_good_manifest_parses_and_round_trips() {
        let m = Manifest::from_json(&good().to_string()).unwrap();
        assert_eq!(m.runtime(), Some(Runtime::BertEmbedV1));
        assert_eq!(m.weights_entry().unwrap().size, 90868376);
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut v = good();
        v["schema"] = "cairn.manifest/9".into();
        v["runtime"] = "torch/anything".into();
        v["weights"] = "model.bin".into();
        v["files"][0]["sha256"] = "XYZ".into();
        v["files"][1]["path"] = "../etc/passwd".into();
        v["files"][1].as_object_mut().unwrap().remove("size");
        v["card"].as_object_mut().unwrap().remove("license");
        v["card"]["languages"] = serde_json::json!([]);
        v["card"]["outputDim"] = 0.into();
        v["extra"] = true.into();
        let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else { panic!("accepted") };
        let all = problems.join("\n");
        for expected in [
            "schema: `cairn.manifest/9`",
            "runtime: `torch/anything` is unknown",
            "weights: `model.bin` is not a .safetensors file",
            "weights: `model.bin` is not among files[].path",
            "files[0]: sha256 `XYZ` is not 64 lowercase hex digits",
            "files[1]: path `../etc/passwd` must have no",
            "files[1].size: expected a byte count",
            "card.license: missing",
            "card.languages: empty",
            "card.outputDim: expected a positive integer",
            "extra: unknown field",
        ] {
            assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
        }
        assert_eq!(problems.len(), 11, "{all}");
    }

    #[test]
    fn a_file_without_its_digest_is_still_listed() {
        let mut v = good();
        v["files"][0].as_object_mut().unwrap().remove("sha256");
        let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else { panic!("accepted") };
        assert_eq!(problems.len(), 1, "only the missing digest, not `weights` missing from files: {problems:?}");
        assert!(problems[0].starts_with("files[0].sha256: missing"), "{problems:?}");
    }

    #[test]
    fn not_json_says_where() {
        let err = ModelCard::from_json("{\"name\": ").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = ModelCard::from_json("[]").unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
    }
}
