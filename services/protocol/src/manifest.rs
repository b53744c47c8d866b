//! The manifest a seller pins next to the weights (its sha256 is `manifestDigest`, its CID `manifestCid`)
//! and the model card inside it. Validation reports every problem at once, each naming its field.
//!
//! Writers write `cairn.manifest/2` ([`MANIFEST_SCHEMA`]): v1's fields, the extended card of [`crate::card`]
//! (validated by the committed JSON Schema; its problems are named by JSON pointer, `/card/…`) and an optional
//! `modelSigning` object binding an OpenSSF Model Signing bundle. Readers accept `cairn.manifest/1` too,
//! with v1's rules and v1's card ([`ModelCardV1`]), and keep it v1 when they write it back, so a pinned v1
//! manifest's bytes and digest never change.
//!
//! ```json
//! {
//!   "schema": "cairn.manifest/2",
//!   "runtime": "candle/bert-embed@1",
//!   "weights": "model.safetensors",
//!   "root": "bafybei…",
//!   "files": [{ "path": "model.safetensors", "size": 90868376, "sha256": "53aa5117…d9db" }, …],
//!   "card": { "name": "all-MiniLM-L6-v2", "description": "…", "license": "Apache-2.0",
//!             "task": "sentence-embedding", "languages": ["en"], "outputDim": 384,
//!             "intendedUse": "…", "outOfScopeUse": "unknown", "limitations": "unknown",
//!             "trainingData": { "description": "…", "datasets": [ … ] }, "evaluation": "unknown",
//!             "restrictedJurisdictions": "unknown" },
//!   "modelSigning": { "bundle": "model.sig", "bundleCid": "bafkrei…", "bundleSha256": "…64 hex…",
//!                     "publicKeyPem": "-----BEGIN PUBLIC KEY-----…", "statementDigest": "…64 hex…" }
//! }
//! ```

use base64::Engine as _;
use cairn_primitives::{Cid, FileDigests, Sha256Digest, check_relative_path};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::card::{ModelCard, TASKS};
use crate::{Error, Result, Runtime, card};

/// The `schema` value writers write.
pub const MANIFEST_SCHEMA: &str = MANIFEST_SCHEMA_V2;

/// The first manifest version: v1's card, no `modelSigning`.
pub const MANIFEST_SCHEMA_V1: &str = "cairn.manifest/1";

/// The extended card ([`ModelCard`]) and `modelSigning`.
pub const MANIFEST_SCHEMA_V2: &str = "cairn.manifest/2";

/// Largest manifest a reader fetches, in bytes (a manifest lists files and a card: kilobytes); the CLI's
/// `model verify` and the runner stop a download past it.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Every `schema` value readers accept.
pub const MANIFEST_SCHEMAS: &[&str] = &[MANIFEST_SCHEMA_V1, MANIFEST_SCHEMA_V2];

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

/// The model card of a `cairn.manifest/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCardV1 {
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

/// A manifest's card, of the manifest's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Card {
    /// The card of a `cairn.manifest/2` (first: a v2 card also has every v1 field).
    V2(Box<ModelCard>),
    /// The card of a `cairn.manifest/1`.
    V1(ModelCardV1),
}

impl Card {
    /// The extended card, when the manifest is v2.
    pub fn v2(&self) -> Option<&ModelCard> {
        match self {
            Self::V2(card) => Some(card),
            Self::V1(_) => None,
        }
    }

    /// Display name.
    pub fn name(&self) -> &str {
        match self {
            Self::V2(c) => &c.name,
            Self::V1(c) => &c.name,
        }
    }

    /// SPDX licence of the weights.
    pub fn license(&self) -> &str {
        match self {
            Self::V2(c) => &c.license,
            Self::V1(c) => &c.license,
        }
    }

    /// The task (one of [`TASKS`]).
    pub fn task(&self) -> &str {
        match self {
            Self::V2(c) => &c.task,
            Self::V1(c) => &c.task,
        }
    }

    /// BCP 47 language tags.
    pub fn languages(&self) -> &[String] {
        match self {
            Self::V2(c) => &c.languages,
            Self::V1(c) => &c.languages,
        }
    }

    /// Width of one output row.
    pub fn output_dim(&self) -> u64 {
        match self {
            Self::V2(c) => c.output_dim,
            Self::V1(c) => c.output_dim,
        }
    }
}

/// The binding to an OpenSSF Model Signing bundle (v2, optional). Only its shape is checked here; the
/// signature is verified by whoever reads the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelSigning {
    /// The bundle's file name in a pulled folder, e.g. `model.sig`.
    pub bundle: String,
    /// The bundle's CID (pinned beside the folder: it signs the folder's files, so it is not one of them).
    pub bundle_cid: Cid,
    /// sha256 of the bundle's bytes.
    pub bundle_sha256: Sha256Digest,
    /// The signer's public key: PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of an ECDSA P-256, P-384 or P-521 key.
    pub public_key_pem: String,
    /// sha256 of the in-toto statement payload the bundle signs.
    pub statement_digest: Sha256Digest,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// One of [`MANIFEST_SCHEMAS`]; [`Manifest::new`] writes [`MANIFEST_SCHEMA`].
    pub schema: String,
    /// Runtime name (see [`Runtime`]).
    pub runtime: String,
    /// Path of the weights file (safetensors) among `files`.
    pub weights: String,
    /// The CID of the folder holding `files` (v2; a file is fetched as `<root>/<path>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Cid>,
    /// Every file of the model directory.
    pub files: Vec<FileEntry>,
    /// The model card, of the manifest's version.
    pub card: Card,
    /// The OpenSSF Model Signing binding (v2 only).
    #[serde(rename = "modelSigning", default, skip_serializing_if = "Option::is_none")]
    pub model_signing: Option<ModelSigning>,
}

impl Manifest {
    /// A `cairn.manifest/2` (what writers write). [`Manifest::check`] validates it.
    /// `root` is the CID of the folder holding `files`.
    pub fn new(
        runtime: Runtime,
        weights: impl Into<String>,
        root: Cid,
        files: Vec<FileEntry>,
        card: ModelCard,
    ) -> Self {
        Self {
            schema: MANIFEST_SCHEMA.to_owned(),
            runtime: runtime.name().to_owned(),
            weights: weights.into(),
            root: Some(root),
            files,
            card: Card::V2(Box::new(card)),
            model_signing: None,
        }
    }

    /// Parses and validates manifest JSON (`cairn.manifest/1` or `/2`); the error lists every problem found.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::Json { what: "manifest", detail: e.to_string() })?;
        let mut problems = Vec::new();
        let version = check_manifest(&value, &mut problems);
        if !problems.is_empty() {
            return Err(Error::Invalid { what: "manifest", problems });
        }
        let json = |e: serde_json::Error| Error::Json { what: "manifest", detail: e.to_string() };
        let mut raw = value;
        let card = raw.as_object_mut().and_then(|o| o.remove("card")).unwrap_or_default();
        let card = match version {
            Some(Version::V1) => Card::V1(serde_json::from_value(card).map_err(json)?),
            _ => Card::V2(Box::new(serde_json::from_value(card).map_err(json)?)),
        };
        let raw: RawManifest = serde_json::from_value(raw).map_err(json)?;
        Ok(Self {
            schema: raw.schema,
            runtime: raw.runtime,
            weights: raw.weights,
            root: raw.root,
            files: raw.files,
            card,
            model_signing: raw.model_signing,
        })
    }

    /// Validates this manifest as a reader will ([`Manifest::from_json`] of [`Manifest::to_json`]).
    pub fn check(&self) -> Result<()> {
        Self::from_json(&self.to_json()).map(drop)
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

/// The manifest without its card, which is read by the manifest's version.
#[derive(Deserialize)]
struct RawManifest {
    schema: String,
    runtime: String,
    weights: String,
    #[serde(default)]
    root: Option<Cid>,
    files: Vec<FileEntry>,
    #[serde(rename = "modelSigning", default)]
    model_signing: Option<ModelSigning>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl ModelCardV1 {
    /// Parses and validates a v1 model card on its own.
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

/// Checks `obj[key]` is a non-empty string; returns it.
fn string<'a>(obj: &'a Value, prefix: &str, key: &str, hint: &str, problems: &mut Vec<String>) -> Option<&'a str> {
    match obj.get(key) {
        None => problems.push(format!("{prefix}{key}: missing ({hint})")),
        Some(Value::String(s)) if s.trim().is_empty() => problems.push(format!("{prefix}{key}: empty ({hint})")),
        Some(Value::String(s)) => return Some(s),
        Some(other) => problems
            .push(format!("{prefix}{key}: expected a string, found {} ({hint})", cairn_primitives::json_kind(other))),
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
        problems.push(format!(
            "{}: expected an object, found {}",
            prefix.trim_end_matches('.'),
            cairn_primitives::json_kind(v)
        ));
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
        Some(other) => problems.push(format!(
            "{prefix}languages: expected an array of strings, found {}",
            cairn_primitives::json_kind(other)
        )),
    }
    match v.get("outputDim") {
        None => problems.push(format!("{prefix}outputDim: missing (the width of one output row, e.g. 384)")),
        Some(d) if d.as_u64().is_some_and(|d| d > 0) => {}
        Some(d) => problems.push(format!("{prefix}outputDim: expected a positive integer, found {d}")),
    }
    if let Some(s) = v.get("source")
        && !s.is_string()
    {
        problems.push(format!("{prefix}source: expected a string (a URL), found {}", cairn_primitives::json_kind(s)));
    }
}

/// Checks a manifest of any version; returns the version when `schema` names one.
fn check_manifest(v: &Value, problems: &mut Vec<String>) -> Option<Version> {
    let Some(obj) = v.as_object() else {
        problems.push(format!("(top level): expected an object, found {}", cairn_primitives::json_kind(v)));
        return None;
    };
    let version = match string(v, "", "schema", MANIFEST_SCHEMA, problems) {
        Some(MANIFEST_SCHEMA_V1) => Some(Version::V1),
        Some(MANIFEST_SCHEMA_V2) => Some(Version::V2),
        Some(schema) => {
            problems.push(format!(
                "schema: `{schema}` is not supported (supported: {}; the card is checked as {MANIFEST_SCHEMA})",
                MANIFEST_SCHEMAS.join(", ")
            ));
            None
        }
        None => None,
    };
    let mut known = vec!["schema", "runtime", "weights", "files", "card"];
    if version != Some(Version::V1) {
        known.extend(["root", "modelSigning"]);
        if let Some(root) = string(v, "", "root", "the CID of the folder holding the files", problems)
            && let Err(e) = root.parse::<Cid>()
        {
            problems.push(format!("root: {e}"));
        }
    }
    unknown_keys(obj, "", &known, problems);
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
                    problems.push(format!("files[{i}]: expected an object, found {}", cairn_primitives::json_kind(f)));
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
        Some(other) => problems.push(format!("files: expected an array, found {}", cairn_primitives::json_kind(other))),
    }
    if let Some(w) = weights
        && v.get("files").is_some_and(Value::is_array)
        && !paths.contains(&w)
    {
        problems.push(format!("weights: `{w}` is not among files[].path"));
    }
    match (v.get("card"), version) {
        (None, _) => problems.push("card: missing (the model card object)".into()),
        (Some(card), Some(Version::V1)) => check_card(card, "card.", problems),
        // An unknown version's card is held to the current rules: that is what its writer most likely meant.
        (Some(card), _) => {
            problems.extend(card::validate(card).into_iter().map(|p| format!("/card{}: {}", p.pointer, p.message)));
        }
    }
    if let Some(signing) = v.get("modelSigning")
        && version != Some(Version::V1)
    {
        check_model_signing(signing, problems);
    }
    version
}

/// `modelSigning`: `{ bundle, publicKeyPem, statementDigest }`, each of the right shape.
fn check_model_signing(v: &Value, problems: &mut Vec<String>) {
    let p = "modelSigning.";
    let Some(obj) = v.as_object() else {
        problems.push(format!(
            "modelSigning: expected an object {{bundle, bundleCid, bundleSha256, publicKeyPem, statementDigest}}, found {}",
            cairn_primitives::json_kind(v)
        ));
        return;
    };
    unknown_keys(obj, p, &["bundle", "bundleCid", "bundleSha256", "publicKeyPem", "statementDigest"], problems);
    if let Some(cid) = string(v, p, "bundleCid", "the bundle's CID", problems)
        && let Err(e) = cid.parse::<Cid>()
    {
        problems.push(format!("{p}bundleCid: {e}"));
    }
    if let Some(digest) = string(v, p, "bundleSha256", "sha256 of the bundle, 64 lowercase hex digits", problems)
        && digest.parse::<Sha256Digest>().is_err()
    {
        problems.push(format!("{p}bundleSha256: `{digest}` is not 64 lowercase hex digits"));
    }
    if let Some(bundle) = string(v, p, "bundle", "the Sigstore bundle's path among the files, e.g. model.sig", problems)
        && let Err(why) = check_relative_path(bundle)
    {
        problems.push(format!("{p}bundle: path `{bundle}` {why}"));
    }
    if let Some(pem) = string(v, p, "publicKeyPem", "a PEM PUBLIC KEY of an ECDSA P-256, P-384 or P-521 key", problems)
        && let Err(why) = check_public_key_pem(pem)
    {
        problems.push(format!("{p}publicKeyPem: {why}"));
    }
    if let Some(digest) =
        string(v, p, "statementDigest", "sha256 of the in-toto statement, 64 lowercase hex digits", problems)
        && !(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    {
        problems.push(format!(
            "{p}statementDigest: `{digest}` is not 64 lowercase hex digits (sha256 of the in-toto statement)"
        ));
    }
}

/// DER of the SubjectPublicKeyInfo prefix of an uncompressed EC point, for each named curve, and the point's length.
/// (RFC 5480: SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING 0x00 0x04 X Y }.)
const EC_CURVES: &[(&str, &[u8], usize)] = &[
    ("P-256", &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], 65),
    ("P-384", &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], 97),
    ("P-521", &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], 133),
];

/// id-ecPublicKey (1.2.840.10045.2.1).
const ID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// Checks a PEM `PUBLIC KEY` holds an ECDSA key on P-256, P-384 or P-521 (uncompressed or compressed point).
fn check_public_key_pem(pem: &str) -> std::result::Result<(), String> {
    let body = pem.trim();
    if body.contains("PRIVATE KEY") {
        return Err("holds a PRIVATE key: publish only the public key (and keep that private key secret)".into());
    }
    let body = body
        .strip_prefix("-----BEGIN PUBLIC KEY-----")
        .and_then(|b| b.strip_suffix("-----END PUBLIC KEY-----"))
        .ok_or("expected `-----BEGIN PUBLIC KEY-----` … `-----END PUBLIC KEY-----` (PEM SubjectPublicKeyInfo)")?;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|e| format!("the PEM body is not base64: {e}"))?;
    // SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID curve }, BIT STRING { 0x00, point } }, all short lengths
    // except P-521's outer SEQUENCE (length 155 ≥ 128: 0x81 0x9b).
    let (outer, rest) = der_take(&der, 0x30).ok_or("not a DER SubjectPublicKeyInfo")?;
    if !rest.is_empty() {
        return Err("bytes after the SubjectPublicKeyInfo".into());
    }
    let (algorithm, rest) = der_take(outer, 0x30).ok_or("not a DER SubjectPublicKeyInfo")?;
    let (bits, tail) = der_take(rest, 0x03).ok_or("no public key BIT STRING")?;
    if !tail.is_empty() {
        return Err("bytes after the public key".into());
    }
    let curve_oid = algorithm
        .strip_prefix(ID_EC_PUBLIC_KEY)
        .ok_or("not an elliptic-curve key (ECDSA P-256, P-384 or P-521 expected)")?;
    let (name, _, uncompressed) = EC_CURVES
        .iter()
        .find(|(_, oid, _)| *oid == curve_oid)
        .ok_or("an elliptic-curve key on another curve (P-256, P-384 or P-521 expected)")?;
    let point = bits.strip_prefix(&[0x00]).ok_or("the public key BIT STRING has unused bits")?;
    let compressed = (uncompressed - 1) / 2 + 1;
    let ok = match point.first() {
        Some(0x04) => point.len() == *uncompressed,
        Some(0x02 | 0x03) => point.len() == compressed,
        _ => false,
    };
    if !ok {
        return Err(format!("not a valid {name} point encoding ({} bytes)", point.len()));
    }
    Ok(())
}

/// One DER element with tag `tag` at the start of `der`: (its contents, what follows).
fn der_take(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = der.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => {
            let (&n, rest) = rest.split_first()?;
            (usize::from(n), rest)
        }
        0x82 => {
            let (hi, rest) = rest.split_first()?;
            let (lo, rest) = rest.split_first()?;
            (usize::from(*hi) << 8 | usize::from(*lo), rest)
        }
        _ => return None,
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 manifest, as v1 writers wrote them.
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

    /// The same manifest in v2: the extended card and a model signing binding.
    fn good_v2() -> Value {
        let mut v = good();
        v["schema"] = MANIFEST_SCHEMA_V2.into();
        let card = v["card"].as_object_mut().unwrap();
        card.insert("intendedUse".into(), "Search and clustering.".into());
        for section in ["outOfScopeUse", "limitations", "trainingData", "evaluation", "restrictedJurisdictions"] {
            card.insert(section.into(), "unknown".into());
        }
        v["root"] = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".into();
        v["modelSigning"] = serde_json::json!({"bundle": "model.sig",
            "bundleCid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "bundleSha256": "1e".repeat(32),
            "publicKeyPem": P256, "statementDigest": "0f".repeat(32)});
        v
    }

    const P256: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQC4boWSqpB9xtr7j1jeTkLp5mRef
4hPUlbZieJY++qRTgIkYRno0fzM2ykOH+H2deQDDIgVp1JFKRRtktp5nXw==
-----END PUBLIC KEY-----
";
    const P384: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEE9VbFl2VB2V/VqiieprC9H+3HQ4r9Gwq
UZ/GOO5lOsf351omiI18GB2O40ZTUMHjnyLLf3zv/P6mWlbnaBkdMnB9eGvT/a3r
RMbUXmfb0U38lZV8GMb3pwOW1H0joIMb
-----END PUBLIC KEY-----";
    const P521: &str = "-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBpa+pkKurXQsL9IVnwU7QPVg5Q3dR
yAi0t0kd0cbSoi2WuiB7NYEXQAX+Xh9TulwcJuYDyOcur8B7UmKKF8aGf6AAtnbo
hgyfrzIz7+yJ1lqHTh5lUB7iJCbweMa1P5tJ4E6Br5Ivkxz+7b1gzLXFgbEm/CrB
Hl4BUb7/qFc2itB6+fA=
-----END PUBLIC KEY-----";
    const ED25519: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAaa74ccrOHKdQ80CWjV+yKOwU3cxtVyBakvOX2Dm2AdY=
-----END PUBLIC KEY-----";
    const SECP256K1: &str = "-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEJ932o+3dUfJbSuW4yA75TrU4P7oJzy0R
19S3lbt0iwhFNgN8jgoipe+zflCvwC87ZY05ihvnW9F5B9gtiMwB4Q==
-----END PUBLIC KEY-----";

    #[test]
    fn a_v1_manifest_still_parses_and_stays_v1() {
        let m = Manifest::from_json(&good().to_string()).unwrap();
        assert_eq!(m.runtime(), Some(Runtime::BertEmbedV1));
        assert_eq!(m.weights_entry().unwrap().size, 90868376);
        assert!(matches!(&m.card, Card::V1(c) if c.name == "all-MiniLM-L6-v2"));
        assert_eq!((m.card.license(), m.card.output_dim(), m.card.v2()), ("Apache-2.0", 384, None));
        // Written back, it is the same v1 document (its digest is on chain).
        let again = Manifest::from_json(&m.to_json()).unwrap();
        assert_eq!(again, m);
        assert_eq!(serde_json::from_str::<Value>(&m.to_json()).unwrap(), good());
    }

    #[test]
    fn a_v2_manifest_parses_and_round_trips() {
        let m = Manifest::from_json(&good_v2().to_string()).unwrap();
        let card = m.card.v2().expect("a v2 card");
        assert_eq!(card.intended_use, "Search and clustering.");
        assert!(card.limitations.is_unknown());
        assert_eq!(m.model_signing.as_ref().unwrap().bundle, "model.sig");
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        assert_eq!(serde_json::from_str::<Value>(&m.to_json()).unwrap(), good_v2());
        m.check().unwrap();
        for key in [P384, P521] {
            let mut v = good_v2();
            v["modelSigning"]["publicKeyPem"] = key.into();
            Manifest::from_json(&v.to_string()).unwrap();
        }
        let mut v = good_v2();
        v.as_object_mut().unwrap().remove("modelSigning");
        assert_eq!(Manifest::from_json(&v.to_string()).unwrap().model_signing, None, "modelSigning is optional");
    }

    #[test]
    fn a_v2_manifest_holds_the_extended_card() {
        let mut v = good();
        v["schema"] = MANIFEST_SCHEMA_V2.into();
        v["card"]["license"] = "apache-2.0".into();
        let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else { panic!("accepted") };
        let all = problems.join("\n");
        for expected in [
            "/card/intendedUse: missing (what the model is for and for whom)",
            "/card/outOfScopeUse: missing",
            "/card/limitations: missing",
            "/card/trainingData: missing",
            "/card/evaluation: missing",
            "/card/restrictedJurisdictions: missing",
            "/card/license: `apache-2.0` is written `Apache-2.0` in SPDX",
            "root: missing (the CID of the folder holding the files)",
        ] {
            assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
        }
        assert_eq!(problems.len(), 8, "{all}");
    }

    #[test]
    fn model_signing_is_checked_for_shape() {
        let cases = [
            ("bundle", Value::from("../model.sig"), "modelSigning.bundle: path `../model.sig` must have no"),
            ("publicKeyPem", Value::from(ED25519), "modelSigning.publicKeyPem: not an elliptic-curve key"),
            (
                "publicKeyPem",
                Value::from(SECP256K1),
                "modelSigning.publicKeyPem: an elliptic-curve key on another curve",
            ),
            (
                "publicKeyPem",
                Value::from("-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----"),
                "modelSigning.publicKeyPem: holds a PRIVATE key",
            ),
            (
                "publicKeyPem",
                Value::from("MFkwEwYHKoZIzj0CAQYI"),
                "modelSigning.publicKeyPem: expected `-----BEGIN PUBLIC KEY-----`",
            ),
            (
                "publicKeyPem",
                Value::from(P256.replace("MFkw", "MF!w")),
                "modelSigning.publicKeyPem: the PEM body is not base64",
            ),
            ("statementDigest", Value::from("0F".repeat(32)), "modelSigning.statementDigest: `0F0F"),
            ("statementDigest", Value::from(7), "modelSigning.statementDigest: expected a string"),
            ("extra", Value::from(1), "modelSigning.extra: unknown field"),
        ];
        for (field, value, expected) in cases {
            let mut v = good_v2();
            v["modelSigning"][field] = value;
            let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else {
                panic!("accepted {field}")
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].starts_with(expected), "expected `{expected}`, got {problems:?}");
        }
        // A v1 manifest has no such field.
        let mut v = good();
        v["modelSigning"] = good_v2()["modelSigning"].clone();
        let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else { panic!("accepted") };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("modelSigning: unknown field"), "{problems:?}");
    }

    #[test]
    fn an_unknown_version_is_named_and_its_card_held_to_the_current_rules() {
        let mut v = good_v2();
        v["schema"] = "cairn.manifest/9".into();
        let Err(Error::Invalid { problems, .. }) = Manifest::from_json(&v.to_string()) else { panic!("accepted") };
        assert_eq!(
            problems,
            [
                "schema: `cairn.manifest/9` is not supported (supported: cairn.manifest/1, cairn.manifest/2; the card is \
              checked as cairn.manifest/2)"
            ]
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut v = good();
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
        assert_eq!(problems.len(), 10, "{all}");
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
        let err = ModelCardV1::from_json("{\"name\": ").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = ModelCardV1::from_json("[]").unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
    }
}
