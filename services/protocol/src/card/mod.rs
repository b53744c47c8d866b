//! The model card of a `cairn.manifest/2`: what a buyer reads before paying.
//!
//! The sections follow "Model Cards for Model Reporting" (Mitchell et al., 2019) and, for each training set,
//! "Datasheets for Datasets" (Gebru et al., 2021): intended use, out-of-scope use, limitations and bias,
//! training data (each dataset's name, source, size, licence and personal data with its legal basis),
//! evaluation (metric, dataset, value, who measured it), environmental impact (optional) and the
//! jurisdictions where use is restricted. License, task, languages and intended use must be stated (with the
//! name, description and output width that v1 already required); every other section is present with its
//! content or with the string `"unknown"`, so a card always says what it does not know.
//!
//! **One definition of the shape**: the committed JSON Schema `services/protocol/schema/model-card.schema.json`
//! ([`SCHEMA_JSON`]), which sellers' tools in other languages can run too. [`validate`] runs it with the
//! `jsonschema` crate and adds the checks a schema cannot express: every licence id is on the SPDX License
//! List as SPDX writes it ([`license`]). Every problem is reported at once with its JSON pointer.
//!
//! [`from_folder`] builds a card from a Hugging Face model folder (`README.md` front matter and prose
//! sections, `data_config.json`, the sentence-transformers pooling config) and merges a seller's `card.json`
//! over it, the file winning field by field.

mod folder;
pub mod license;
mod schema;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::{Number, Value};

pub use folder::{from_folder, merge_patch};
pub use schema::{SCHEMA_JSON, schema};

/// The tasks a card may declare (the schema's `task` enum; a test keeps the two equal).
pub const TASKS: &[&str] = &["sentence-embedding"];

/// The text that states a section as not known.
pub const UNKNOWN: &str = "unknown";

/// A section stated with its content, or stated as not known (`"unknown"` in JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stated<T> {
    /// `"unknown"`: the seller says this is not known.
    Unknown,
    /// The content.
    Known(T),
}

impl<T> Stated<T> {
    /// The content, if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(t) => Some(t),
            Self::Unknown => None,
        }
    }

    /// Whether this is `"unknown"`.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown)
    }
}

impl<T: Serialize> Serialize for Stated<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unknown => s.serialize_str(UNKNOWN),
            Self::Known(t) => t.serialize(s),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Stated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a JSON value: `"unknown"` is also a valid `String`, so it has to be looked at first.
        match Value::deserialize(d)? {
            Value::String(s) if s == UNKNOWN => Ok(Self::Unknown),
            other => T::deserialize(other).map(Self::Known).map_err(serde::de::Error::custom),
        }
    }
}

/// The model card (v2). Field order is the order of the canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelCard {
    /// Display name.
    pub name: String,
    /// What the model does, in a sentence or a paragraph.
    pub description: String,
    /// The licence of the weights: an SPDX licence id or expression (`Apache-2.0`).
    pub license: String,
    /// One of [`TASKS`].
    pub task: String,
    /// BCP 47 language tags the model was trained for.
    pub languages: Vec<String>,
    /// Width of one output row.
    pub output_dim: u64,
    /// Where the weights come from (paper, upstream repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free keywords (Hugging Face `tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What the model is for and for whom; always stated.
    pub intended_use: String,
    /// Uses the model is not meant or fit for.
    pub out_of_scope_use: Stated<String>,
    /// Known limitations, biases and risks.
    pub limitations: Stated<String>,
    /// What the model was trained on.
    pub training_data: Stated<TrainingData>,
    /// Evaluation results.
    pub evaluation: Stated<Vec<EvaluationResult>>,
    /// The cost of training; the one section that may be left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environmental_impact: Option<Stated<EnvironmentalImpact>>,
    /// Where using the model is restricted (`Known(vec![])`: nowhere).
    pub restricted_jurisdictions: Stated<Vec<JurisdictionRestriction>>,
}

/// The training data section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainingData {
    /// How the training data was put together.
    pub description: Stated<String>,
    /// Each training set, itemised.
    pub datasets: Vec<Dataset>,
    /// Datasets the model's documentation names without detail (Hugging Face dataset ids, URLs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// One training set (the questions of "Datasheets for Datasets" a buyer needs answered first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dataset {
    /// The dataset's name (or its file's).
    pub name: String,
    /// Where it comes from: a URL or a citation.
    pub source: Stated<String>,
    /// How large it is.
    pub size: Stated<DatasetSize>,
    /// Its licence, an SPDX id or expression.
    pub license: Stated<String>,
    /// Whether it holds personal data, and on what legal basis.
    pub personal_data: Stated<PersonalData>,
}

/// A dataset's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSize {
    /// How many units.
    pub count: u64,
    /// What is counted.
    pub unit: SizeUnit,
}

/// What a [`DatasetSize`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeUnit {
    /// Lines of a file (JSON Lines: one example a line).
    Lines,
    /// Examples (rows, pairs, documents).
    Examples,
    /// Tokens.
    Tokens,
    /// Bytes.
    Bytes,
    /// Files.
    Files,
}

/// Personal data in a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonalData {
    /// Whether the dataset holds personal data.
    pub contains: bool,
    /// The legal basis for processing it (required when `contains`), e.g. GDPR Art. 6(1)(f).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<Stated<String>>,
}

/// One evaluation result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvaluationResult {
    /// The metric (`spearman_cosine`, `accuracy`).
    pub metric: String,
    /// The dataset (and split) it was measured on.
    pub dataset: String,
    /// The measured value, exactly as written.
    pub value: Number,
    /// Who measured it (`self-reported`, or a name and URL).
    pub measured_by: Stated<String>,
}

/// The cost of training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentalImpact {
    /// The training hardware.
    pub hardware: Stated<String>,
    /// Training time in hours.
    pub hours: Stated<Number>,
    /// Where it was trained (cloud region or country).
    pub region: Stated<String>,
    /// Emissions in kg CO2-equivalent.
    pub co2e_kg: Stated<Number>,
}

/// A jurisdiction where using the model is restricted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionRestriction {
    /// ISO 3166-1 alpha-2 (EU and UK too) or an ISO 3166-2 subdivision (`US-CA`).
    pub jurisdiction: String,
    /// Why and how use is restricted there.
    pub reason: String,
}

/// One thing wrong with a card: where (a JSON pointer into the card; empty for the whole card or a file
/// it was read from) and what, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer (RFC 6901) of the field, e.g. `/trainingData/datasets/3/license`.
    pub pointer: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// Why a card was refused: every problem found, each with its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the model card is invalid ({} problem{}):\n  - {}",
    .problems.len(), if .problems.len() == 1 { "" } else { "s" },
    .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - "))]
pub struct CardProblems {
    /// One entry per problem, in the order found.
    pub problems: Vec<Problem>,
}

impl From<CardProblems> for crate::Error {
    fn from(p: CardProblems) -> Self {
        crate::Error::Invalid { what: "model card", problems: p.problems.iter().map(ToString::to_string).collect() }
    }
}

/// Checks a card (as JSON) against the committed schema and the SPDX License List; every problem at once.
/// An empty list means [`ModelCard::from_value`] accepts it.
pub fn validate(card: &Value) -> Vec<Problem> {
    let mut problems = schema::problems(card);
    // Semantic checks only where the schema found the field well-formed, so nothing is reported twice.
    let clean = |pointer: &str| !problems.iter().any(|p: &Problem| p.pointer.starts_with(pointer));
    let mut more = Vec::new();
    if let Some(license) = card.get("license").and_then(Value::as_str)
        && clean("/license")
    {
        more.extend(license::check(license).into_iter().map(|m| Problem::new("/license", m)));
    }
    if let Some(datasets) = card.pointer("/trainingData/datasets").and_then(Value::as_array) {
        for (i, dataset) in datasets.iter().enumerate() {
            let pointer = format!("/trainingData/datasets/{i}/license");
            if let Some(license) = dataset.get("license").and_then(Value::as_str)
                && license != UNKNOWN
                && clean(&pointer)
            {
                more.extend(license::check(license).into_iter().map(|m| Problem::new(pointer.clone(), m)));
            }
        }
    }
    problems.extend(more);
    problems
}

impl ModelCard {
    /// Parses and validates a card's JSON text; the error names every problem.
    pub fn from_json(text: &str) -> Result<Self, CardProblems> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| CardProblems { problems: vec![Problem::new("", format!("not valid JSON: {e}"))] })?;
        Self::from_value(&value)
    }

    /// Validates a card's JSON value ([`validate`]) and converts it.
    pub fn from_value(value: &Value) -> Result<Self, CardProblems> {
        let problems = validate(value);
        if !problems.is_empty() {
            return Err(CardProblems { problems });
        }
        // The schema and these types describe one shape (a test round-trips a full card), so this only fails
        // if they drift apart; it is still reported, never a panic.
        Self::deserialize(value).map_err(|e| CardProblems {
            problems: vec![Problem::new("", format!("does not match cairn-protocol's card type: {e}"))],
        })
    }

    /// The card as JSON (the form that goes into a manifest).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a model card always serialises")
    }

    /// The sections stated as `"unknown"` (and `environmentalImpact` when left out), by JSON name, for a tool
    /// to show the seller what is left to tell.
    pub fn unknown_sections(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut note = |name, unknown: bool| {
            if unknown {
                out.push(name);
            }
        };
        note("outOfScopeUse", self.out_of_scope_use.is_unknown());
        note("limitations", self.limitations.is_unknown());
        note("trainingData", self.training_data.is_unknown());
        note("evaluation", self.evaluation.is_unknown());
        note("environmentalImpact", self.environmental_impact.as_ref().is_none_or(Stated::is_unknown));
        note("restrictedJurisdictions", self.restricted_jurisdictions.is_unknown());
        out
    }
}

#[cfg(test)]
mod tests;
