//! The card's types against its committed schema, and the problems it reports (the MiniLM folder is tested
//! in tests/it/card.rs).

use serde_json::{Value, json};

use super::*;

/// A card with every section stated, every optional field set.
fn full() -> ModelCard {
    ModelCard {
        name: "all-MiniLM-L6-v2".into(),
        description: "Sentence embeddings.".into(),
        license: "Apache-2.0".into(),
        task: "sentence-embedding".into(),
        languages: vec!["en".into(), "de-CH".into()],
        output_dim: 384,
        source: Some("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2".into()),
        tags: vec!["sentence-transformers".into()],
        intended_use: "Search and clustering of short English texts.".into(),
        out_of_scope_use: Stated::Known("Texts over 256 word pieces.".into()),
        limitations: Stated::Known("English only; trained on web text with its biases.".into()),
        training_data: Stated::Known(TrainingData {
            description: Stated::Known("1B sentence pairs.".into()),
            datasets: vec![
                Dataset {
                    name: "reddit/reddit_2015.jsonl.gz".into(),
                    source: Stated::Known("https://github.com/PolyAI-LDN/conversational-datasets".into()),
                    size: Stated::Known(DatasetSize { count: 135_108_166, unit: SizeUnit::Lines }),
                    license: Stated::Known("CC-BY-4.0".into()),
                    personal_data: Stated::Known(PersonalData {
                        contains: true,
                        legal_basis: Some(Stated::Known("GDPR Art. 6(1)(f) legitimate interests".into())),
                    }),
                },
                Dataset {
                    name: "SimpleWiki".into(),
                    source: Stated::Unknown,
                    size: Stated::Unknown,
                    license: Stated::Unknown,
                    personal_data: Stated::Known(PersonalData { contains: false, legal_basis: None }),
                },
            ],
            references: vec!["s2orc".into()],
        }),
        evaluation: Stated::Known(vec![EvaluationResult {
            metric: "spearman_cosine".into(),
            dataset: "STS Benchmark (test)".into(),
            value: Number::from_f64(0.8203).unwrap(),
            measured_by: Stated::Known("self-reported".into()),
        }]),
        environmental_impact: Some(Stated::Known(EnvironmentalImpact {
            hardware: Stated::Known("TPU v3-8".into()),
            hours: Stated::Known(Number::from(20)),
            region: Stated::Unknown,
            co2e_kg: Stated::Known(Number::from_f64(1.5).unwrap()),
        })),
        restricted_jurisdictions: Stated::Known(vec![JurisdictionRestriction {
            jurisdiction: "US-CA".into(),
            reason: "Example restriction.".into(),
        }]),
    }
}

/// The same card with every section that may be unknown stated `"unknown"`.
fn minimal() -> ModelCard {
    ModelCard {
        source: None,
        tags: vec![],
        out_of_scope_use: Stated::Unknown,
        limitations: Stated::Unknown,
        training_data: Stated::Unknown,
        evaluation: Stated::Unknown,
        environmental_impact: None,
        restricted_jurisdictions: Stated::Unknown,
        ..full()
    }
}

fn messages(value: &Value) -> String {
    validate(value).iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_schema_compiles_and_its_tasks_are_ours() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let tasks: Vec<&str> =
        schema["properties"]["task"]["enum"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(tasks, TASKS);
    // The schema is itself a valid draft 2020-12 schema.
    assert!(jsonschema::meta::is_valid(schema));
}

#[test]
fn a_full_and_a_minimal_card_round_trip_through_the_schema() {
    for card in [full(), minimal()] {
        let value = card.to_value();
        assert_eq!(messages(&value), "", "{value:#}");
        assert_eq!(ModelCard::from_value(&value).unwrap(), card);
        assert_eq!(ModelCard::from_json(&value.to_string()).unwrap(), card);
    }
    assert_eq!(minimal().to_value()["trainingData"], "unknown");
    assert_eq!(
        minimal().unknown_sections(),
        [
            "outOfScopeUse",
            "limitations",
            "trainingData",
            "evaluation",
            "environmentalImpact",
            "restrictedJurisdictions"
        ]
    );
    assert!(full().unknown_sections().is_empty());
}

/// Every object of the schema names exactly the fields the Rust types write (and so read: they deny unknown
/// fields), so neither can gain a field the other lacks.
#[test]
fn the_schema_and_the_types_have_the_same_fields() {
    let card = full().to_value();
    let schema = schema();
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let pairs = [
        (&card, "/properties"),
        (&card["trainingData"], "/$defs/trainingData/properties"),
        (&card["trainingData"]["datasets"][0], "/$defs/dataset/properties"),
        (&card["trainingData"]["datasets"][0]["size"], "/$defs/dataset/properties/size/else/properties"),
        (
            &card["trainingData"]["datasets"][0]["personalData"],
            "/$defs/dataset/properties/personalData/else/properties",
        ),
        (&card["evaluation"][0], "/$defs/evaluationResult/properties"),
        (&card["environmentalImpact"], "/$defs/environmentalImpact/properties"),
        (&card["restrictedJurisdictions"][0], "/$defs/jurisdictionRestriction/properties"),
    ];
    for (value, pointer) in pairs {
        assert_eq!(keys(value), keys(schema.pointer(pointer).unwrap()), "{pointer}");
    }
    // And what the schema requires is what the types cannot do without.
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    let mut without_optional = keys(&minimal().to_value());
    without_optional.sort();
    let mut required_sorted: Vec<String> = required.iter().map(|r| r.to_string()).collect();
    required_sorted.sort();
    assert_eq!(without_optional, required_sorted);
}

#[test]
fn a_card_missing_its_licence_and_intended_use_names_both_at_once() {
    let mut value = minimal().to_value();
    let obj = value.as_object_mut().unwrap();
    obj.remove("license");
    obj.remove("intendedUse");
    obj.remove("limitations");
    let err = ModelCard::from_value(&value).unwrap_err();
    let pointers: Vec<&str> = err.problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/license", "/intendedUse", "/limitations"], "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("the model card is invalid (3 problems):\n  - /license: missing (the licence of the weights"),
        "{text}"
    );
    assert!(text.contains("/intendedUse: missing (what the model is for and for whom)"), "{text}");
    assert!(text.contains("/limitations: missing (known limitations, biases and risks, or \"unknown\")"), "{text}");
}

#[test]
fn required_sections_cannot_be_unknown_and_the_others_must_be_stated() {
    let mut value = minimal().to_value();
    value["intendedUse"] = json!("unknown");
    value["license"] = json!("unknown");
    value["languages"] = json!([]);
    value["trainingData"] = json!("lots of text");
    value["evaluation"] = json!({"metric": "x"});
    let all = messages(&value);
    for expected in [
        "/intendedUse: must be stated, \"unknown\" is not allowed here (what the model is for and for whom)",
        "/license: must be stated, \"unknown\" is not allowed here",
        "/languages: empty (the languages the model was trained for",
        "/trainingData: \"lots of text\" is neither \"unknown\" nor the section itself (what the model was trained on",
        "/evaluation: expected an array, found an object (evaluation results",
    ] {
        assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
    }
    assert_eq!(validate(&value).len(), 5, "{all}");
}

#[test]
fn an_unknown_licence_id_is_named_with_the_closest_valid_ones() {
    let mut value = minimal().to_value();
    value["license"] = json!("Apache-2.1");
    let problems = validate(&value);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].pointer, "/license");
    assert!(
        problems[0].message.starts_with("`Apache-2.1` is not a licence id on the SPDX License List 3."),
        "{}",
        problems[0]
    );
    assert!(problems[0].message.contains("closest: Apache-1.1, Apache-2.0"), "{}", problems[0]);
    // A dataset's licence is checked the same way, "unknown" aside.
    let mut value = full().to_value();
    value["trainingData"]["datasets"][0]["license"] = json!("CC-BY-4");
    value["trainingData"]["datasets"][1]["license"] = json!("unknown");
    let problems = validate(&value);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].pointer, "/trainingData/datasets/0/license");
}

#[test]
fn nested_sections_name_their_fields_by_json_pointer() {
    let mut value = full().to_value();
    value["trainingData"]["datasets"][0]["personalData"] = json!({"contains": true});
    value["trainingData"]["datasets"][1]["size"] = json!({"count": 10, "unit": "rows"});
    value["restrictedJurisdictions"][0]["jurisdiction"] = json!("Germany");
    value["environmentalImpact"]["co2eKg"] = json!(-1);
    value["evaluation"][0]["value"] = json!("82%");
    value["languages"] = json!(["en", "English"]);
    value["tags"] = json!(["a", "a"]);
    value["extra"] = json!(true);
    let all = messages(&value);
    for expected in [
        "/trainingData/datasets/0/personalData/legalBasis: missing (the legal basis for processing it",
        "/trainingData/datasets/1/size/unit: \"rows\" is not supported: expected one of \"lines\", \"examples\"",
        "/restrictedJurisdictions/0/jurisdiction: \"Germany\" is not an ISO 3166-1 alpha-2 code",
        "/environmentalImpact/co2eKg: -1 is less than the minimum of 0",
        "/evaluation/0/value: expected a number, found a string (the measured value)",
        "/languages/1: \"English\" is not a BCP 47 language tag",
        "/tags: has duplicates",
        "/extra: unknown field (allowed here: description, environmentalImpact,",
    ] {
        assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
    }
    assert_eq!(validate(&value).len(), 8, "{all}");
}

#[test]
fn not_json_and_not_an_object_say_so() {
    let err = ModelCard::from_json("{\"name\": ").unwrap_err();
    assert!(err.to_string().contains("not valid JSON") && err.to_string().contains("line 1"), "{err}");
    let err = ModelCard::from_json("[]").unwrap_err();
    assert_eq!(err.problems.len(), 1, "{err}");
    assert!(err.problems[0].message.starts_with("expected an object, found an array"), "{err}");
}

#[test]
fn stated_reads_unknown_before_the_content() {
    let s: Stated<String> = serde_json::from_value(json!("unknown")).unwrap();
    assert_eq!(s, Stated::Unknown);
    let s: Stated<String> = serde_json::from_value(json!("Known text")).unwrap();
    assert_eq!(s.known().map(String::as_str), Some("Known text"));
    let s: Stated<Vec<u8>> = serde_json::from_value(json!([1, 2])).unwrap();
    assert_eq!(s, Stated::Known(vec![1, 2]));
    assert!(serde_json::from_value::<Stated<Vec<u8>>>(json!("nope")).is_err());
    assert_eq!(serde_json::to_value(Stated::<u8>::Unknown).unwrap(), json!("unknown"));
}

#[test]
fn problems_convert_into_the_crate_error() {
    let err: crate::Error = ModelCard::from_value(&json!({})).unwrap_err().into();
    let crate::Error::Invalid { what, problems } = err else { panic!("not Invalid") };
    assert_eq!(what, "model card");
    assert!(problems.iter().any(|p| p.starts_with("/license: missing")), "{problems:?}");
}
