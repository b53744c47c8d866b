//! The model card built from model folders: the real all-MiniLM-L6-v2 folder from its own README.md and
//! data_config.json, a seller's card.json over it, and folders written by the tests for what goes wrong.

use std::{fs, path::Path};

use cairn_primitives::Sha256Digest;
use cairn_protocol::{
    Runtime,
    card::{self, ModelCard, SizeUnit, Stated},
    manifest::{Card, FileEntry, Manifest},
};
use serde_json::{Value, json};

fn minilm() -> std::path::PathBuf {
    cairn_testkit::model_dir()
}

#[test]
fn the_minilm_folder_gives_a_valid_card_from_its_own_files() {
    let card = card::from_folder(&minilm(), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(card.name, "all-MiniLM-L6-v2");
    assert!(card.description.contains("384 dimensional dense vector space"), "{}", card.description);
    assert_eq!(card.license, "Apache-2.0", "README.md says `apache-2.0`; SPDX writes Apache-2.0");
    assert_eq!(card.task, "sentence-embedding", "pipeline_tag: sentence-similarity");
    assert_eq!(card.languages, ["en"], "`language: en` is a scalar");
    assert_eq!(card.output_dim, 384, "1_Pooling/config.json, mean pooling");
    assert_eq!(card.tags, ["sentence-transformers", "feature-extraction", "sentence-similarity", "transformers"]);
    // The README's "Intended uses" section, not a hand-written card.
    assert!(
        card.intended_use.starts_with(
            "Our model is intended to be used as a sentence and short paragraph encoder. Given an input text, it \
             outputs a vector which captures the semantic information."
        ),
        "{}",
        card.intended_use
    );
    assert!(card.intended_use.ends_with("By default, input text longer than 256 word pieces is truncated."));
    assert_eq!(card.out_of_scope_use, Stated::Unknown);
    assert_eq!(card.limitations, Stated::Unknown);
    assert_eq!(card.evaluation, Stated::Unknown);
    assert_eq!(card.environmental_impact, None);
    assert_eq!(card.restricted_jurisdictions, Stated::Unknown);

    let training = card.training_data.known().expect("README.md and data_config.json describe the training data");
    assert!(
        training.description.known().unwrap().starts_with("We use the concatenation from multiple datasets"),
        "{:?}",
        training.description
    );
    // Every entry of data_config.json, in its order, with its line count.
    let config: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(minilm().join("data_config.json")).unwrap()).unwrap();
    assert_eq!(training.datasets.len(), config.len());
    assert!(training.datasets.len() >= 21);
    for (dataset, entry) in training.datasets.iter().zip(&config) {
        assert_eq!(dataset.name, entry["name"].as_str().unwrap());
        let size = dataset.size.known().unwrap();
        assert_eq!((size.count, size.unit), (entry["lines"].as_u64().unwrap(), SizeUnit::Lines));
        assert!(dataset.license.is_unknown() && dataset.source.is_unknown() && dataset.personal_data.is_unknown());
    }
    let lines = |name: &str| training.datasets.iter().find(|d| d.name == name).unwrap().size.known().unwrap().count;
    assert_eq!(lines("stackexchange_title_body/skeptics.stackexchange.com.jsonl.gz"), 10_009);
    assert_eq!(lines("reddit/reddit_2018.jsonl.gz"), 240_726_659);
    assert_eq!(lines("S2ORC_citation_pairs_abstract.jsonl.gz"), 116_288_806);
    assert_eq!(lines("AllNLI.jsonl.gz"), 277_230);
    // The same total as the README's table of training tuples.
    let total: u64 = training.datasets.iter().map(|d| d.size.known().unwrap().count).sum();
    assert_eq!(total, 1_170_060_424);
    // The front matter's 21 hub datasets are kept as references.
    assert_eq!(training.references.len(), 21);
    assert_eq!(training.references[0], "s2orc");
    assert_eq!(training.references[20], "embedding-data/WikiAnswers");

    // It goes into a v2 manifest, which reads back the same.
    let weights = FileEntry { path: "model.safetensors".into(), size: 90_868_376, sha256: Sha256Digest([7; 32]) };
    let root: cairn_primitives::Cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".parse().unwrap();
    let manifest = Manifest::new(Runtime::BertEmbedV1, "model.safetensors", root.clone(), vec![weights], card.clone());
    manifest.check().unwrap();
    let read = Manifest::from_json(&manifest.to_json()).unwrap();
    assert_eq!(read.schema, "cairn.manifest/2");
    assert_eq!(read.root, Some(root));
    // A v2 manifest without its root folder, or with a root that is not a CID, is refused by name.
    let mut v: serde_json::Value = serde_json::from_str(&manifest.to_json()).unwrap();
    v["root"] = "not-a-cid".into();
    assert!(Manifest::from_json(&v.to_string()).unwrap_err().to_string().contains("root:"));
    v.as_object_mut().unwrap().remove("root");
    assert!(Manifest::from_json(&v.to_string()).unwrap_err().to_string().contains("root: missing"));
    assert_eq!(read.card, Card::V2(Box::new(card)));
    assert_eq!(read, manifest);
}

#[test]
fn a_card_file_wins_field_by_field() {
    let overrides = json!({
        "license": "mit",
        "limitations": "Truncates input at 256 word pieces; English only.",
        "trainingData": {"description": "About 1.17 billion pairs."},
        "restrictedJurisdictions": [],
        "environmentalImpact": {"hardware": "TPU v3-8", "hours": "unknown", "region": "unknown", "co2eKg": "unknown"},
        "tags": null,
    });
    let folder = card::from_folder(&minilm(), None).unwrap();
    let card = card::from_folder(&minilm(), Some(&overrides)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(card.license, "MIT", "normalised like the README's");
    assert_eq!(card.limitations, Stated::Known("Truncates input at 256 word pieces; English only.".into()));
    assert_eq!(card.restricted_jurisdictions, Stated::Known(vec![]));
    assert!(card.tags.is_empty(), "null removes a field");
    assert_eq!(card.environmental_impact.unwrap().known().unwrap().hardware, Stated::Known("TPU v3-8".into()));
    // Objects merge: the description is the file's, the datasets still data_config.json's.
    let (training, from_folder) = (card.training_data.known().unwrap(), folder.training_data.known().unwrap());
    assert_eq!(training.description, Stated::Known("About 1.17 billion pairs.".into()));
    assert_eq!(training.datasets, from_folder.datasets);
    // Everything else is the folder's.
    assert_eq!((card.name, card.intended_use, card.languages), (folder.name, folder.intended_use, folder.languages));
}

/// A model folder holding `files` (name, content).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

fn problems(dir: &Path, overrides: Option<&Value>) -> String {
    match card::from_folder(dir, overrides) {
        Ok(card) => panic!("accepted: {card:#?}"),
        Err(e) => e.to_string(),
    }
}

const POOLING: (&str, &str) =
    ("1_Pooling/config.json", r#"{"word_embedding_dimension": 768, "pooling_mode_mean_tokens": true}"#);
const MODULES: (&str, &str) = (
    "modules.json",
    r#"[{"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#,
);

#[test]
fn a_card_missing_fields_names_every_one_at_once() {
    let dir = folder(&[
        (
            "README.md",
            "---\nlanguage: en\npipeline_tag: sentence-similarity\n---\n# tiny\n\nEmbeds text.\n\n## Training\n\nSome.\n",
        ),
        MODULES,
        POOLING,
    ]);
    let text = problems(dir.path(), None);
    assert!(text.starts_with("the model card is invalid (2 problems):\n"), "{text}");
    assert!(
        text.contains(
            "/license: missing (the licence of the weights: an SPDX licence id or expression, such as Apache-2.0 or \
             MIT OR Apache-2.0) [looked for `license` in README.md's front matter; or set it in the card file]"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "/intendedUse: missing (what the model is for and for whom) [looked for an \"Intended uses\", \"Direct \
             Use\" or \"Uses\" section in README.md; or set it in the card file]"
        ),
        "{text}"
    );
    // The card file fills both in.
    let card =
        card::from_folder(dir.path(), Some(&json!({"license": "Apache-2.0", "intendedUse": "Search."}))).unwrap();
    assert_eq!((card.name.as_str(), card.output_dim, card.intended_use.as_str()), ("tiny", 768, "Search."));
    assert_eq!(card.training_data, Stated::Unknown, "\"Training\" is not a training data section");
}

#[test]
fn an_unknown_licence_id_is_refused_naming_it_and_its_source() {
    let dir = folder(&[
        (
            "README.md",
            "---\nlicense: apache-3.0\nlanguage: [en]\npipeline_tag: feature-extraction\n---\n# m\n\nX.\n\n## Intended uses\n\nSearch.\n",
        ),
        MODULES,
        POOLING,
    ]);
    let text = problems(dir.path(), None);
    assert!(text.starts_with("the model card is invalid (1 problem):\n"), "{text}");
    assert!(text.contains("/license: `apache-3.0` is not a licence id on the SPDX License List 3."), "{text}");
    assert!(text.contains("closest: Apache-1.0, Apache-2.0"), "{text}");
    assert!(text.ends_with("[from README.md front matter `license`]"), "{text}");
    // From a card file, the file is named instead.
    let text = problems(dir.path(), Some(&json!({"license": "LicenseRef-mine"})));
    assert!(text.contains("custom licences are not accepted"), "{text}");
    assert!(text.ends_with("[from the card file's `license`]"), "{text}");
}

#[test]
fn hugging_face_vocabulary_is_mapped() {
    let readme = r#"---
license: CC-BY-4.0
language:
- de
- fr
pipeline_tag: feature-extraction
co2_eq_emissions:
  emissions: 1500
  hardware_used: 8 x A100
  geographical_location: Frankfurt, Germany
model-index:
- name: tiny-de
  results:
  - task: {type: sentence-similarity}
    dataset: {type: mteb/sts22-crosslingual-sts, name: MTEB STS22 (de), split: test}
    metrics:
    - {type: cos_sim_spearman, value: 55.2}
    - {type: cos_sim_pearson, value: "51.5", verified: true}
    source: {name: MTEB Leaderboard, url: https://huggingface.co/spaces/mteb/leaderboard}
  - task: {type: sentence-similarity}
    dataset: {type: stsb, name: STS-B}
    metrics:
    - {type: spearman, value: 0.8}
---

## Model Description

Embeds German and French.

## Uses

### Direct Use

Semantic search over German and French documents.

### Out-of-Scope Use

- legal advice
- medical triage

## Bias, Risks, and Limitations

[More Information Needed]

## Limitations

Trained on news text.

## Training Data

<!-- a comment -->
Wikipedia dumps.
"#;
    let dir = folder(&[("README.md", readme), MODULES, POOLING]);
    let card = card::from_folder(dir.path(), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(card.name, "tiny-de", "no `#` title: the model-index name");
    assert_eq!(card.description, "Embeds German and French.");
    assert_eq!(card.license, "CC-BY-4.0");
    assert_eq!(card.languages, ["de", "fr"]);
    assert_eq!(card.task, "sentence-embedding");
    assert_eq!(card.intended_use, "Semantic search over German and French documents.");
    assert_eq!(card.out_of_scope_use, Stated::Known("- legal advice\n- medical triage".into()));
    assert_eq!(card.limitations, Stated::Known("Trained on news text.".into()), "a placeholder is no text");
    let training = card.training_data.known().unwrap();
    assert_eq!(training.description, Stated::Known("Wikipedia dumps.".into()));
    assert!(training.datasets.is_empty());
    let evaluation: Vec<_> = card
        .evaluation
        .known()
        .unwrap()
        .iter()
        .map(|r| {
            (r.metric.as_str(), r.dataset.as_str(), r.value.as_f64().unwrap(), r.measured_by.known().unwrap().as_str())
        })
        .collect();
    let mteb = "MTEB Leaderboard (https://huggingface.co/spaces/mteb/leaderboard)";
    assert_eq!(
        evaluation,
        [
            ("cos_sim_spearman", "MTEB STS22 (de) (test)", 55.2, mteb),
            ("cos_sim_pearson", "MTEB STS22 (de) (test)", 51.5, mteb),
            ("spearman", "STS-B", 0.8, "self-reported"),
        ]
    );
    let impact = card.environmental_impact.unwrap();
    let impact = impact.known().unwrap();
    assert_eq!(impact.co2e_kg.known().unwrap().as_f64(), Some(1.5), "1500 g");
    assert_eq!(impact.hardware, Stated::Known("8 x A100".into()));
    assert_eq!(impact.region, Stated::Known("Frankfurt, Germany".into()));
    assert!(impact.hours.is_unknown());
}

#[test]
fn unreadable_sources_are_named() {
    let dir = folder(&[
        ("README.md", "---\nlicense: [mit\n---\n# m\n"),
        ("data_config.json", r#"[{"name": "a.jsonl", "lines": 3}, {"name": "b.jsonl"}]"#),
    ]);
    let text = problems(dir.path(), None);
    assert!(
        text.contains("README.md: the front matter is not valid YAML (line 2, column 10): unclosed bracket '['"),
        "{text}"
    );
    assert!(!text.contains("-->"), "one line, no rendered snippet: {text}");
    assert!(
        text.contains("/trainingData: data_config.json[1]: expected {\"name\": a file name, \"lines\": a line count}"),
        "{text}"
    );
    // A field the card file sets no longer depends on the file that could not be read.
    let text = problems(dir.path(), Some(&json!({"trainingData": "unknown"})));
    assert!(!text.contains("data_config.json"), "{text}");
    // Not a folder at all.
    let text = problems(&dir.path().join("nowhere"), None);
    assert!(text.contains("is not a folder"), "{text}");
    let text = problems(dir.path(), Some(&json!(["not", "an", "object"])));
    assert!(text.contains("the card file: expected a JSON object of card fields, found an array"), "{text}");
}

#[test]
fn a_card_file_alone_is_checked_like_one_from_a_folder() {
    let empty = folder(&[]);
    let text = problems(empty.path(), Some(&json!({"name": "m"})));
    for field in ["/description", "/license", "/task", "/languages", "/outputDim", "/intendedUse"] {
        assert!(text.contains(&format!("{field}: missing")), "{field} in {text}");
    }
    // Sections the card file leaves out are stated unknown, not missing.
    assert!(!text.contains("/limitations"), "{text}");
    let full = json!({"name": "m", "description": "d", "license": "MIT", "task": "sentence-embedding",
                      "languages": ["en"], "outputDim": 8, "intendedUse": "Tests."});
    let card = card::from_folder(empty.path(), Some(&full)).unwrap();
    assert_eq!(ModelCard::from_json(&card.to_value().to_string()).unwrap(), card);
}
