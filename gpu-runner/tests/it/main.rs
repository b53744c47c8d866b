//! The inference engine against the real MiniLM weights: equal to sentence-transformers (reference
//! vectors made by tests/reference/make_reference.py), deterministic, and strict about bad inputs.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use cairn_primitives::Sha256Digest;
use cairn_runner::{
    BertEmbedExecutor, Error, Executor, Executors,
    bert::{BertEmbedder, EmbedOptions},
    input::InputLimits,
    model_files::parse_digest_list,
    output::Embeddings,
};
use cairn_testkit::{model_dir, repo_root};

fn digests() -> cairn_primitives::FileDigests {
    let path = repo_root().join("toolchain/all-MiniLM-L6-v2.sha256");
    parse_digest_list(&std::fs::read_to_string(&path).unwrap(), &path).unwrap()
}

fn embedder() -> &'static BertEmbedder {
    static EMBEDDER: OnceLock<BertEmbedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| BertEmbedder::load(&model_dir(), &digests(), EmbedOptions::default()).unwrap())
}

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// Every case, every row: cosine >= 0.9999 with sentence-transformers.
fn check_case(name: &str) {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference_dir().join("cases.json")).unwrap()).unwrap();
    let texts: Vec<String> = serde_json::from_value(meta["cases"][name].clone()).unwrap();
    let tensors =
        candle_core::safetensors::load(reference_dir().join("minilm.safetensors"), &candle_core::Device::Cpu).unwrap();
    let expected = tensors[name].to_vec2::<f32>().unwrap();
    assert_eq!(expected.len(), texts.len(), "{name}: reference rows");
    let got = embedder().embed(&texts).unwrap();
    assert_eq!((got.rows, got.dim), (texts.len(), 384), "{name}: shape");
    for (i, row) in expected.iter().enumerate() {
        let cos = cosine(got.row(i), row);
        assert!(cos >= 0.9999, "{name}[{i}] ({:?}): cosine {cos}", texts[i].chars().take(40).collect::<String>());
        let norm: f32 = got.row(i).iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{name}[{i}]: norm {norm}");
    }
}

#[test]
fn ordinary_sentences_match_sentence_transformers() {
    check_case("ordinary");
    let e = embedder().embed(&["A man is eating food.".into(), "A man is eating a piece of bread.".into()]).unwrap();
    let cos = cosine(e.row(0), e.row(1));
    assert!((cos - 0.7553).abs() < 5e-4, "the known pair: {cos}");
}

#[test]
fn empty_and_whitespace_only() {
    check_case("empty");
    check_case("whitespace");
}

#[test]
fn non_latin_scripts_and_emoji() {
    check_case("scripts_and_emoji");
}

#[test]
fn text_far_beyond_256_tokens_is_truncated_like_sentence_transformers() {
    check_case("long");
    let long: Vec<String> = vec![(0..700).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ")];
    assert_eq!(embedder().tokenize(&long).unwrap()[0].len(), 256, "truncated at max_seq_length, not 128");
}

#[test]
fn batches_of_1_and_300() {
    check_case("batch_1");
    check_case("batch_300");
}

#[test]
fn duplicates_in_one_batch_get_identical_rows() {
    check_case("duplicates");
    let texts: Vec<String> = ["same text", "other text", "same text"].map(String::from).to_vec();
    let e = embedder().embed(&texts).unwrap();
    assert_eq!(e.row(0), e.row(2));
}

#[test]
fn output_is_byte_identical_across_runs_and_batch_sizes_agree() {
    let executor =
        BertEmbedExecutor::load(&model_dir(), &digests(), EmbedOptions::default(), InputLimits::default()).unwrap();
    let input = br#"["Deterministic output.", "", "Another, somewhat longer sentence for the batch."]"#;
    let first = executor.execute(input).unwrap();
    let second = executor.execute(input).unwrap();
    assert_eq!(first.bytes, second.bytes);
    assert_eq!(first.sha256, Sha256Digest::of(&first.bytes));
    assert_eq!(first.shape, vec![3, 384]);
    let parsed = Embeddings::from_safetensors(&first.bytes).unwrap();
    // The safetensors reader candle uses reads our hand-written canonical bytes.
    let tensors = candle_core::safetensors::load_buffer(&first.bytes, &candle_core::Device::Cpu).unwrap();
    assert_eq!(tensors["embeddings"].dims(), &[3, 384]);
    // A verifier re-executing with another batch size accepts the claimed output.
    let other = BertEmbedExecutor::load(
        &model_dir(),
        &digests(),
        EmbedOptions { batch_size: 1, ..EmbedOptions::default() },
        InputLimits::default(),
    )
    .unwrap();
    let report = other.verify(input, &first.bytes, first.sha256).unwrap();
    assert!(report.acceptable(), "{report}");
    assert_eq!(parsed.rows, 3);
    // And rejects a claim for different inputs.
    let report = other.verify(br#"["x", "y", "z"]"#, &first.bytes, first.sha256).unwrap();
    assert!(!report.acceptable());
    let mut executors = Executors::new();
    executors.register(Box::new(executor));
    assert_eq!(executors.get("candle/bert-embed@1").unwrap().runtime(), "candle/bert-embed@1");
    let err = executors.get("candle/llama@1").err().unwrap().to_string();
    assert!(err.contains("candle/bert-embed@1"), "{err}");
}

/// A copy of the model folder to tamper with.
fn model_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model_dir()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn load_err(dir: &Path) -> Error {
    BertEmbedder::load(dir, &digests(), EmbedOptions::default()).err().expect("load must fail")
}

#[test]
fn tampered_weights_are_refused_before_use() {
    let dir = model_copy();
    let path = dir.path().join("model.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("53aa5117"), "names the expected digest: {err}");
}

#[test]
fn a_pickle_is_refused_with_the_reason() {
    let dir = model_copy();
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    std::fs::write(dir.path().join("pytorch_model.bin"), b"PK\x03\x04 torch zip").unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, Error::UnsafeWeights { .. }), "{err}");
    assert!(err.to_string().contains("can execute code"), "{err}");
}

#[test]
fn a_missing_tokenizer_is_a_clear_error() {
    let dir = model_copy();
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, Error::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn a_config_that_does_not_fit_the_weights_is_an_error_not_a_panic() {
    let dir = model_copy();
    let config_path = dir.path().join("config.json");
    let config = std::fs::read_to_string(&config_path).unwrap().replace("\"hidden_size\": 384", "\"hidden_size\": 768");
    std::fs::write(&config_path, &config).unwrap();
    let mut digests = digests();
    digests.insert("config.json", Sha256Digest::of(config.as_bytes()));
    let err = BertEmbedder::load(dir.path(), &digests, EmbedOptions::default()).err().unwrap();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("does not fit the weights"), "{err}");
}

/// Runs the real binary; returns (success, stdout, stderr).
fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn-runner")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn embed_args<'a>(model: &'a str, input: &'a str, out: &'a str, manifest: &'a str) -> Vec<&'a str> {
    vec![
        "embed",
        "--model",
        model,
        "--weights-sha256",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "--manifest",
        manifest,
        "--input",
        input,
        "--out",
        out,
    ]
}

#[test]
fn cli_embeds_and_prints_shape_digest_and_timing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, r#"["A man is eating food.", "Ünïcödé 🚀"]"#).unwrap();
    let out = dir.path().join("out.safetensors");
    let (model, manifest) = (model_dir(), repo_root().join("toolchain/all-MiniLM-L6-v2.sha256"));
    let args =
        embed_args(model.to_str().unwrap(), input.to_str().unwrap(), out.to_str().unwrap(), manifest.to_str().unwrap());
    let (ok, stdout, stderr) = cli(&args);
    assert!(ok, "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(stdout.contains("[2, 384]"), "{stdout}");
    assert!(stdout.contains(&Sha256Digest::of(&bytes).to_hex()), "{stdout}");
    assert!(stdout.contains("inputs/s"), "{stdout}");
}

#[test]
fn cli_bad_inputs_fail_clearly_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let (model, manifest) = (model_dir(), repo_root().join("toolchain/all-MiniLM-L6-v2.sha256"));
    let too_many = format!("[{}]", vec!["\"x\""; 5000].join(","));
    let too_large = format!("[\"{}\"]", "x".repeat(20_000));
    for (content, expected) in [
        ("not json at all", "not JSON"),
        (r#"{"texts": ["a"]}"#, "expected a JSON list of strings"),
        (r#"["ok", 7]"#, "item 1 is a number"),
        (too_many.as_str(), "5000 items"),
        (too_large.as_str(), "item 0 is 20000 bytes"),
    ] {
        let input = dir.path().join("in.json");
        std::fs::write(&input, content).unwrap();
        let args = embed_args(
            model.to_str().unwrap(),
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            manifest.to_str().unwrap(),
        );
        let (ok, _, stderr) = cli(&args);
        assert!(!ok, "{expected}: must fail");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!out.exists(), "{expected}: no output file");
    }
    let (ok, _, stderr) = cli(&["embed", "--model", "x", "--weights-sha256", "zz", "--input", "i", "--out", "o"]);
    assert!(!ok && stderr.contains("not a sha256 digest"), "{stderr}");
}

#[test]
fn fused_engine_agrees_with_candle_transformers() {
    use cairn_runner::bert::EngineKind;
    let candle = BertEmbedder::load(
        &model_dir(),
        &digests(),
        EmbedOptions { engine: EngineKind::Candle, batch_size: 7, ..EmbedOptions::default() },
    )
    .unwrap();
    let fused = BertEmbedder::load(
        &model_dir(),
        &digests(),
        EmbedOptions { engine: EngineKind::Fused, batch_size: 32, ..EmbedOptions::default() },
    )
    .unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference_dir().join("cases.json")).unwrap()).unwrap();
    let mut texts: Vec<String> = Vec::new();
    for case in ["ordinary", "scripts_and_emoji", "long", "empty", "duplicates"] {
        texts.extend(serde_json::from_value::<Vec<String>>(meta["cases"][case].clone()).unwrap());
    }
    let (a, b) = (candle.embed(&texts).unwrap(), fused.embed(&texts).unwrap());
    for i in 0..texts.len() {
        let cos = cosine(a.row(i), b.row(i));
        assert!(cos >= 0.99999, "row {i}: cosine {cos} between the engines");
    }
}
