//! A card from a model folder as Hugging Face publishes it, with a seller's `card.json` over it.
//!
//! What is read (each optional; what none of them gives must come from `card.json`):
//! - `README.md`: the YAML front matter (`license`, `language`, `pipeline_tag`, `tags`, `datasets`,
//!   `model-index`, `co2_eq_emissions`) and the prose under these headings (any level, any case; Hugging
//!   Face's model card template and older sentence-transformers cards): the first `#` heading → `name`; the
//!   first paragraph after it or "Model Description" → `description`; "Intended uses", "Intended use",
//!   "Direct Use", "Intended uses & limitations", "Uses" → `intendedUse`; "Out-of-Scope Use" and variants →
//!   `outOfScopeUse`; "Bias, Risks, and Limitations", "Limitations and bias", "Limitations" → `limitations`;
//!   "Training data" → `trainingData.description`. A section's text is its paragraphs, lists and quotes
//!   (code blocks, tables and HTML left out; the template's "[More Information Needed]" counts as nothing).
//! - `data_config.json` (sentence-transformers' training mix: `[{"name", "lines", "weight"}]`): one dataset
//!   per entry, its size in lines.
//! - `modules.json` and the pooling module's `config.json` (or the last Dense module's): `outputDim`.
//!
//! Hugging Face's vocabulary is mapped: `pipeline_tag: sentence-similarity` or `feature-extraction` is the
//! task `sentence-embedding`; a scalar `language` is a one-item list; licence ids in any case become SPDX's
//! (`apache-2.0` → `Apache-2.0`); `datasets` (hub ids) become `trainingData.references`; each
//! `model-index` metric an evaluation result (measured by its `source`, else "Hugging Face (verified)" when
//! `verified`, else "self-reported"); `co2_eq_emissions` (grams) the environmental impact in kg.
//! Sections found nowhere are stated `"unknown"` (`environmentalImpact` is left out).
//!
//! `card.json` is applied as a JSON Merge Patch (RFC 7396): its fields win field by field, objects merge
//! recursively, arrays and strings are replaced whole, and `null` removes a field.

use std::{fs, path::Path};

use serde_json::{Map, Number, Value, json};

use super::{CardProblems, ModelCard, Problem, UNKNOWN, license, validate};

/// Applies `patch` to `target` as a JSON Merge Patch (RFC 7396).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Builds the card of the model in `dir`, merges `overrides` (a seller's `card.json`, parsed) over it and
/// validates the result. Every problem is reported at once, each with its JSON pointer and the file the
/// value came from (or, for a missing field, where it was looked for).
pub fn from_folder(dir: &Path, overrides: Option<&Value>) -> Result<ModelCard, CardProblems> {
    if !dir.is_dir() {
        return Err(CardProblems {
            problems: vec![Problem::new("", format!("`{}` is not a folder (expected a model folder)", dir.display()))],
        });
    }
    let mut draft = Draft::default();
    draft.readme(dir);
    draft.data_config(dir);
    draft.output_dim(dir);
    draft.state_the_unknown();

    let mut card = Value::Object(std::mem::take(&mut draft.card));
    let mut overridden: Vec<String> = Vec::new();
    match overrides {
        None => {}
        Some(Value::Object(fields)) => {
            overridden.extend(fields.keys().cloned());
            record_overrides("", &Value::Object(fields.clone()), &mut draft.origins);
            merge_patch(&mut card, &Value::Object(fields.clone()));
        }
        Some(other) => draft.problems.push((
            String::new(),
            Problem::new(
                "",
                format!(
                    "the card file: expected a JSON object of card fields, found {}",
                    cairn_primitives::json_kind(other)
                ),
            ),
        )),
    }
    normalize_licenses(&mut card);

    // A file that could not be read only matters for the fields the card file did not set.
    let mut problems: Vec<Problem> = draft
        .problems
        .into_iter()
        .filter(|(field, _)| field.is_empty() || !overridden.contains(field))
        .map(|(_, p)| p)
        .collect();
    problems.extend(validate(&card));
    if !problems.is_empty() {
        for p in &mut problems {
            annotate(p, &draft.origins);
        }
        return Err(CardProblems { problems });
    }
    ModelCard::from_value(&card)
}

/// Where [`from_folder`] looks for each field, for the message when it is missing.
const LOOKED_FOR: &[(&str, &str)] = &[
    ("/name", "the first `#` heading of README.md"),
    ("/description", "the first paragraph after README.md's title, or its \"Model Description\" section"),
    ("/license", "`license` in README.md's front matter"),
    ("/task", "`pipeline_tag` in README.md's front matter"),
    ("/languages", "`language` in README.md's front matter"),
    ("/outputDim", "modules.json and the pooling module's config.json"),
    ("/intendedUse", "an \"Intended uses\", \"Direct Use\" or \"Uses\" section in README.md"),
];

fn annotate(problem: &mut Problem, origins: &[(String, String)]) {
    // The longest matching prefix; among equals the last recorded (a later source overrode an earlier one).
    let from = origins
        .iter()
        .filter(|(prefix, _)| problem.pointer == *prefix || problem.pointer.starts_with(&format!("{prefix}/")))
        .max_by_key(|(prefix, _)| prefix.len());
    if let Some((_, origin)) = from {
        problem.message.push_str(&format!(" [from {origin}]"));
    } else if problem.message.starts_with("missing")
        && let Some((_, place)) = LOOKED_FOR.iter().find(|(p, _)| *p == problem.pointer)
    {
        problem.message.push_str(&format!(" [looked for {place}; or set it in the card file]"));
    }
}

/// Notes the card file as the origin of every value it sets (objects merge, so their members are what it sets).
fn record_overrides(prefix: &str, patch: &Value, origins: &mut Vec<(String, String)>) {
    let Value::Object(fields) = patch else { return };
    for (key, value) in fields {
        let pointer = format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1"));
        if value.is_object() {
            record_overrides(&pointer, value, origins);
        } else {
            origins.retain(|(p, _)| !p.starts_with(&format!("{pointer}/")));
            let origin = format!("the card file's `{}`", &pointer[1..]);
            origins.push((pointer, origin));
        }
    }
}

/// SPDX's case for the card's licence and every dataset's (Hugging Face writes `apache-2.0`).
fn normalize_licenses(card: &mut Value) {
    if let Some(Value::String(l)) = card.get_mut("license") {
        *l = license::normalize(l);
    }
    if let Some(Value::Array(datasets)) = card.pointer_mut("/trainingData/datasets") {
        for d in datasets {
            if let Some(Value::String(l)) = d.get_mut("license")
                && l != UNKNOWN
            {
                *l = license::normalize(l);
            }
        }
    }
}

/// The card as derived so far.
#[derive(Default)]
struct Draft {
    card: Map<String, Value>,
    /// JSON pointer prefix → where its value came from.
    origins: Vec<(String, String)>,
    /// Problems reading the folder, with the top-level field they feed ("" for the whole card).
    problems: Vec<(String, Problem)>,
}

impl Draft {
    fn set(&mut self, field: &str, value: Value, origin: String) {
        self.origins.push((format!("/{field}"), origin));
        self.card.insert(field.to_owned(), value);
    }

    fn problem(&mut self, field: &str, message: String) {
        let pointer = if field.is_empty() { String::new() } else { format!("/{field}") };
        self.problems.push((field.to_owned(), Problem::new(pointer, message)));
    }

    /// Reads a file if it exists; a file that exists but cannot be read is a problem for `field`.
    fn read(&mut self, dir: &Path, name: &str, field: &str) -> Option<String> {
        let path = dir.join(name);
        if !path.is_file() {
            return None;
        }
        match fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) => {
                self.problem(field, format!("cannot read {name}: {e}"));
                None
            }
        }
    }

    fn readme(&mut self, dir: &Path) {
        let Some(text) = self.read(dir, "README.md", "") else { return };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let (front, body) = match split_front_matter(text) {
            Ok(split) => split,
            Err(message) => {
                self.problem("", format!("README.md: {message}"));
                (None, text)
            }
        };
        if let Some(yaml) = front {
            match serde_saphyr::from_str::<Value>(yaml) {
                Ok(Value::Object(meta)) => self.front_matter(&meta),
                Ok(Value::Null) => {}
                Ok(other) => self.problem(
                    "",
                    format!(
                        "README.md: the front matter is {}, expected a mapping of fields",
                        cairn_primitives::json_kind(&other)
                    ),
                ),
                Err(e) => {
                    // One line: what, at README.md's line (the YAML starts on line 2), without the rendered snippet.
                    let text = e.without_snippet().to_string();
                    let mut what = text.lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned();
                    let mut place = String::new();
                    if let Some(at) = e.location() {
                        let prefix = format!("line {} column {}: ", at.line(), at.column());
                        what = what.strip_prefix(&prefix).map(str::to_owned).unwrap_or(what);
                        place = format!(" (line {}, column {})", at.line() + 1, at.column());
                    }
                    self.problem("", format!("README.md: the front matter is not valid YAML{place}: {what}"));
                }
            }
        }
        self.prose(body);
    }

    fn front_matter(&mut self, meta: &Map<String, Value>) {
        let origin = |key: &str| format!("README.md front matter `{key}`");
        if let Some(license) = meta.get("license") {
            self.set("license", license.clone(), origin("license"));
        }
        if let Some(language) = meta.get("language") {
            // YAML 1.1 (PyYAML, which the Hub uses, and serde-saphyr's compatible reading) takes Norwegian's
            // `no` for false.
            let norwegian = |v: &Value| if *v == Value::Bool(false) { json!("no") } else { v.clone() };
            let languages = match language {
                Value::Array(items) => Value::Array(items.iter().map(norwegian).collect()),
                other => Value::Array(vec![norwegian(other)]),
            };
            self.set("languages", languages, origin("language"));
        }
        if let Some(tag) = meta.get("pipeline_tag") {
            let task = match tag.as_str() {
                Some("sentence-similarity" | "feature-extraction") => json!("sentence-embedding"),
                _ => tag.clone(),
            };
            self.set("task", task, origin("pipeline_tag"));
        }
        if let Some(tags) = meta.get("tags") {
            let tags = match tags {
                Value::String(_) => Value::Array(vec![tags.clone()]),
                other => other.clone(),
            };
            self.set("tags", tags, origin("tags"));
        }
        if let Some(datasets) = meta.get("datasets") {
            let references = match datasets {
                Value::String(_) => Value::Array(vec![datasets.clone()]),
                other => other.clone(),
            };
            self.origins.push(("/trainingData/references".into(), origin("datasets")));
            self.training_data().insert("references".into(), references);
        }
        if let Some(index) = meta.get("model-index") {
            match evaluation_from_model_index(index) {
                Ok(results) if results.is_empty() => {}
                Ok(results) => self.set("evaluation", Value::Array(results), origin("model-index")),
                Err(e) => self.problem("evaluation", format!("README.md front matter `model-index`: {e}")),
            }
            if self.card.get("name").is_none()
                && let Some(name) = index.pointer("/0/name").and_then(Value::as_str)
            {
                self.set("name", json!(name), origin("model-index[0].name"));
            }
        }
        if let Some(co2) = meta.get("co2_eq_emissions") {
            match environmental_impact(co2) {
                Ok(impact) => self.set("environmentalImpact", impact, origin("co2_eq_emissions")),
                Err(e) => {
                    self.problem("environmentalImpact", format!("README.md front matter `co2_eq_emissions`: {e}"))
                }
            }
        }
    }

    fn training_data(&mut self) -> &mut Map<String, Value> {
        let entry = self.card.entry("trainingData").or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        entry.as_object_mut().expect("made an object above")
    }

    fn prose(&mut self, body: &str) {
        let doc = Markdown::parse(body);
        let origin = |title: &str| format!("README.md section \"{title}\"");
        if let Some(title) = doc.title() {
            // The model-index name (already set) loses to the document's own title.
            self.set("name", json!(title), "README.md title".into());
        }
        if let Some((title, text)) = doc.section(&["model description"]).or_else(|| doc.lead()) {
            self.set("description", json!(text), origin(&title));
        }
        let intended = ["intended uses", "intended use", "direct use", "intended uses limitations", "uses"];
        if let Some((title, text)) = doc.section(&intended) {
            self.set("intendedUse", json!(text), origin(&title));
        }
        let out_of_scope = [
            "out of scope use",
            "out of scope uses",
            "misuse and out of scope use",
            "misuse malicious use and out of scope use",
            "out of scope",
        ];
        if let Some((title, text)) = doc.section(&out_of_scope) {
            self.set("outOfScopeUse", json!(text), origin(&title));
        }
        let limitations = [
            "bias risks and limitations",
            "limitations and bias",
            "limitations and biases",
            "biases and limitations",
            "risks and limitations",
            "limitations and risks",
            "limitations",
            "bias",
        ];
        if let Some((title, text)) = doc.section(&limitations) {
            self.set("limitations", json!(text), origin(&title));
        }
        if let Some((title, text)) = doc.section(&["training data", "training dataset", "training datasets"]) {
            self.origins.push(("/trainingData/description".into(), origin(&title)));
            self.training_data().insert("description".into(), json!(text));
        }
    }

    fn data_config(&mut self, dir: &Path) {
        const FILE: &str = "data_config.json";
        let Some(text) = self.read(dir, FILE, "trainingData") else { return };
        let entries = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(entries)) => entries,
            Ok(other) => {
                return self.problem(
                    "trainingData",
                    format!("{FILE}: expected an array of datasets, found {}", cairn_primitives::json_kind(&other)),
                );
            }
            Err(e) => return self.problem("trainingData", format!("{FILE} is not valid JSON: {e}")),
        };
        let mut datasets = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let name = entry.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty());
            let lines = entry.get("lines").and_then(Value::as_u64);
            match (name, lines) {
                (Some(name), Some(lines)) => datasets.push(json!({
                    "name": name,
                    "source": UNKNOWN,
                    "size": {"count": lines, "unit": "lines"},
                    "license": UNKNOWN,
                    "personalData": UNKNOWN,
                })),
                _ => self.problem(
                    "trainingData",
                    format!("{FILE}[{i}]: expected {{\"name\": a file name, \"lines\": a line count}}, found {entry}"),
                ),
            }
        }
        self.origins.push(("/trainingData/datasets".into(), FILE.into()));
        self.training_data().insert("datasets".into(), Value::Array(datasets));
    }

    /// sentence-transformers: the pooled width (times the pooling modes combined), or the last Dense layer's.
    fn output_dim(&mut self, dir: &Path) {
        let Some(text) = self.read(dir, "modules.json", "outputDim") else { return };
        let Ok(Value::Array(modules)) = serde_json::from_str::<Value>(&text) else {
            return self
                .problem("outputDim", "modules.json: expected an array of sentence-transformers modules".into());
        };
        let path_of = |kind: &str| {
            modules
                .iter()
                .rev()
                .find(|m| m.get("type").and_then(Value::as_str).is_some_and(|t| t.ends_with(kind)))
                .and_then(|m| m.get("path").and_then(Value::as_str))
                .map(str::to_owned)
        };
        let (file, dim) = if let Some(dense) = path_of("models.Dense") {
            let file = format!("{dense}/config.json");
            let dim = self.read_json(dir, &file).and_then(|c| c.get("out_features").and_then(Value::as_u64));
            (file, dim)
        } else if let Some(pooling) = path_of("models.Pooling") {
            let file = format!("{pooling}/config.json");
            let dim = self.read_json(dir, &file).and_then(|c| {
                let width = c.get("word_embedding_dimension").and_then(Value::as_u64)?;
                let modes = c
                    .as_object()?
                    .iter()
                    .filter(|(k, v)| k.starts_with("pooling_mode_") && v.as_bool() == Some(true))
                    .count() as u64;
                Some(width * modes.max(1))
            });
            (file, dim)
        } else {
            return;
        };
        match dim {
            Some(dim) => self.set("outputDim", json!(dim), file),
            None => self.problem("outputDim", format!("{file}: no output width found in it")),
        }
    }

    fn read_json(&mut self, dir: &Path, name: &str) -> Option<Value> {
        let text = self.read(dir, name, "outputDim")?;
        serde_json::from_str(&text).ok()
    }

    /// Every section the folder said nothing about is stated as not known.
    fn state_the_unknown(&mut self) {
        if let Some(training) = self.card.get_mut("trainingData").and_then(Value::as_object_mut) {
            training.entry("description").or_insert(json!(UNKNOWN));
            training.entry("datasets").or_insert(json!([]));
        }
        for section in ["outOfScopeUse", "limitations", "trainingData", "evaluation", "restrictedJurisdictions"] {
            self.card.entry(section).or_insert(json!(UNKNOWN));
        }
    }
}

/// Splits `---`-fenced YAML front matter from the Markdown after it.
fn split_front_matter(text: &str) -> Result<(Option<&str>, &str), &'static str> {
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else { return Ok((None, text)) };
    if first.trim_end() != "---" {
        return Ok((None, text));
    }
    let start = first.len();
    let mut at = start;
    for line in lines {
        if matches!(line.trim_end(), "---" | "...") {
            return Ok((Some(&text[start..at]), &text[at + line.len()..]));
        }
        at += line.len();
    }
    Err("the front matter opened by `---` is never closed")
}

/// `model-index` (Hugging Face's evaluation results) → evaluation results.
fn evaluation_from_model_index(index: &Value) -> Result<Vec<Value>, String> {
    let models = index.as_array().ok_or("expected a list of models")?;
    let mut out = Vec::new();
    for (m, model) in models.iter().enumerate() {
        let Some(results) = model.get("results") else { continue };
        let results = results.as_array().ok_or(format!("[{m}].results: expected a list"))?;
        for (r, result) in results.iter().enumerate() {
            let at = format!("[{m}].results[{r}]");
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let dataset = result.get("dataset");
            let mut dataset_name = text(dataset.and_then(|d| d.get("name")))
                .or_else(|| text(dataset.and_then(|d| d.get("type"))))
                .ok_or(format!("{at}.dataset: expected a name or a type"))?;
            if let Some(split) = text(dataset.and_then(|d| d.get("split"))) {
                dataset_name = format!("{dataset_name} ({split})");
            }
            let source = result.get("source");
            let measured_by = match (text(source.and_then(|s| s.get("name"))), text(source.and_then(|s| s.get("url"))))
            {
                (Some(name), Some(url)) => format!("{name} ({url})"),
                (Some(name), None) => name,
                (None, Some(url)) => url,
                (None, None) => String::new(),
            };
            let metrics =
                result.get("metrics").and_then(Value::as_array).ok_or(format!("{at}.metrics: expected a list"))?;
            for (k, metric) in metrics.iter().enumerate() {
                let name = text(metric.get("name"))
                    .or_else(|| text(metric.get("type")))
                    .ok_or(format!("{at}.metrics[{k}]: expected a type or a name"))?;
                let value = match metric.get("value") {
                    Some(Value::Number(n)) => n.clone(),
                    Some(Value::String(s)) => s
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(Number::from_f64)
                        .ok_or(format!("{at}.metrics[{k}].value: `{s}` is not a number"))?,
                    other => return Err(format!("{at}.metrics[{k}].value: expected a number, found {other:?}")),
                };
                let measured_by = if !measured_by.is_empty() {
                    measured_by.clone()
                } else if metric.get("verified").and_then(Value::as_bool) == Some(true) {
                    "Hugging Face (verified)".to_owned()
                } else {
                    "self-reported".to_owned()
                };
                out.push(json!({"metric": name, "dataset": dataset_name, "value": value, "measuredBy": measured_by}));
            }
        }
    }
    Ok(out)
}

/// `co2_eq_emissions` (grams, or {emissions, hardware_used, geographical_location, …}) → environmental impact.
fn environmental_impact(co2: &Value) -> Result<Value, String> {
    let (grams, hardware, region) = match co2 {
        Value::Number(n) => (n.as_f64(), None, None),
        Value::Object(o) => (
            o.get("emissions").and_then(Value::as_f64),
            o.get("hardware_used").and_then(Value::as_str),
            o.get("geographical_location").and_then(Value::as_str),
        ),
        other => {
            return Err(format!("expected grams of CO2 or a mapping, found {}", cairn_primitives::json_kind(other)));
        }
    };
    let kg = match grams {
        Some(g) if g.is_finite() && g >= 0.0 => json!(Number::from_f64(g / 1000.0).ok_or("not a finite number")?),
        Some(g) => return Err(format!("emissions: expected grams ≥ 0, found {g}")),
        None => json!(UNKNOWN),
    };
    Ok(json!({
        "hardware": hardware.unwrap_or(UNKNOWN),
        "hours": UNKNOWN,
        "region": region.unwrap_or(UNKNOWN),
        "co2eKg": kg,
    }))
}

/// README.md's body as headings and the prose under them.
struct Markdown {
    /// (level, title, prose blocks under it up to the next heading); index 0 is the text before any heading.
    sections: Vec<(u8, String, Vec<String>)>,
}

impl Markdown {
    fn parse(body: &str) -> Self {
        use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

        let mut sections = vec![(0u8, String::new(), Vec::new())];
        let mut depth = 0usize;
        let mut in_heading = false;
        for (event, range) in Parser::new_ext(body, Options::ENABLE_TABLES).into_offset_iter() {
            match event {
                Event::Start(tag) => {
                    if depth == 0 {
                        match tag {
                            Tag::Heading { level, .. } => {
                                let level = match level {
                                    HeadingLevel::H1 => 1,
                                    HeadingLevel::H2 => 2,
                                    HeadingLevel::H3 => 3,
                                    HeadingLevel::H4 => 4,
                                    HeadingLevel::H5 => 5,
                                    HeadingLevel::H6 => 6,
                                };
                                sections.push((level, String::new(), Vec::new()));
                                in_heading = true;
                            }
                            Tag::Paragraph => push_prose(&mut sections, collapse(&body[range])),
                            Tag::List(_) | Tag::BlockQuote(_) => push_prose(&mut sections, trim_lines(&body[range])),
                            _ => {}
                        }
                    }
                    depth += 1;
                }
                Event::End(end) => {
                    depth = depth.saturating_sub(1);
                    if matches!(end, TagEnd::Heading(_)) {
                        in_heading = false;
                    }
                }
                Event::Text(t) | Event::Code(t) if in_heading => {
                    sections.last_mut().expect("a heading was pushed").1.push_str(&t);
                }
                _ => {}
            }
        }
        for section in &mut sections {
            section.1 = section.1.trim().to_owned();
        }
        Self { sections }
    }

    /// The first `#` heading's text.
    fn title(&self) -> Option<&str> {
        self.sections.iter().find(|s| s.0 == 1 && !s.1.is_empty()).map(|s| s.1.as_str())
    }

    /// The first prose block under the title (or before any heading).
    fn lead(&self) -> Option<(String, String)> {
        let title = self.sections.iter().position(|s| s.0 == 1).unwrap_or(0);
        self.sections[title].2.first().map(|p| (self.sections[title].1.clone(), p.clone()))
    }

    /// The first section whose normalised title is one of `names`, in the order of `names`: (title, text).
    fn section(&self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|name| {
            self.sections
                .iter()
                .skip(1)
                .find(|s| normalize_title(&s.1) == *name && !s.2.is_empty())
                .map(|s| (s.1.clone(), s.2.join("\n\n")))
        })
    }
}

fn push_prose(sections: &mut [(u8, String, Vec<String>)], text: String) {
    let placeholder = text.is_empty() || text.trim_matches(|c: char| c == '[' || c == ']') == "More Information Needed";
    if !placeholder {
        sections.last_mut().expect("there is always a section").2.push(text);
    }
}

/// Lower case, every run of other characters one space: "Bias, Risks, and Limitations" → "bias risks and
/// limitations", "Out-of-Scope Use" → "out of scope use".
fn normalize_title(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A paragraph on one line: soft line breaks and runs of spaces become one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A list or quote as written, without trailing spaces.
fn trim_lines(text: &str) -> String {
    text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_from_the_body() {
        assert_eq!(split_front_matter("---\na: 1\n---\n# T\n"), Ok((Some("a: 1\n"), "# T\n")));
        assert_eq!(split_front_matter("# T\n---\n"), Ok((None, "# T\n---\n")));
        assert_eq!(split_front_matter("---\na: 1\n...\nbody"), Ok((Some("a: 1\n"), "body")));
        assert!(split_front_matter("---\na: 1\n").is_err());
    }

    #[test]
    fn norwegian_is_not_false() {
        let mut draft = Draft::default();
        let meta: Value = serde_saphyr::from_str("language: no\n").unwrap();
        draft.front_matter(meta.as_object().unwrap());
        assert_eq!(draft.card["languages"], json!(["no"]));
        let meta: Value = serde_saphyr::from_str("language: [en, no]\n").unwrap();
        draft.front_matter(meta.as_object().unwrap());
        assert_eq!(draft.card["languages"], json!(["en", "no"]));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The RFC's own example (section 3).
        let mut target = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
                                "tags": ["example", "sample"], "content": "This will be unchanged"});
        let patch = json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null},
                           "tags": ["example"]});
        merge_patch(&mut target, &patch);
        assert_eq!(
            target,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
                   "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
        );
    }

    #[test]
    fn sections_are_found_by_title_and_code_is_not_prose() {
        let doc = Markdown::parse(
            "# My model\nIt embeds.\n\n```python\n# not a heading\n```\n\n## Uses\n\n### Direct Use\n\n\
             [More Information Needed]\n\n## Intended uses & limitations\n\nFor search\nand   clustering.\n\n\
             - short texts\n- English\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert_eq!(doc.title(), Some("My model"));
        assert_eq!(doc.lead(), Some(("My model".into(), "It embeds.".into())));
        assert_eq!(doc.section(&["direct use"]), None, "a placeholder is no text");
        assert_eq!(
            doc.section(&["intended uses", "intended uses limitations"]),
            Some((
                "Intended uses & limitations".into(),
                "For search and clustering.\n\n- short texts\n- English".into()
            ))
        );
    }
}
