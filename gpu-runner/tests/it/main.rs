//! The inference engine against the real MiniLM weights: equal to sentence-transformers (reference
//! vectors made by tests/reference/make_reference.py), deterministic, and strict about bad inputs.

mod cache;
mod k8s;
mod run;
mod world;

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
    verify::Rejection,
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

const MINILM_WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

fn embed_args<'a>(model: &'a str, input: &'a str, out: &'a str, manifest: &'a str) -> Vec<&'a str> {
    vec![
        "embed",
        "--model",
        model,
        "--weights-sha256",
        MINILM_WEIGHTS_SHA256,
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

/// CPUs without AVX-512 run the AVX2 kernels (`CAIRN_NO_AVX512` makes this one take them): a verifier there
/// must write the operator's bytes, short and long inputs, several batches.
#[test]
fn the_avx2_kernels_write_the_same_bytes_as_avx512() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    let mut texts: Vec<String> = (0..40).map(|i| format!("A man is eating food at table {i}.")).collect();
    texts.push("provenance settlement verification ".repeat(60));
    std::fs::write(&input, serde_json::to_string(&texts).unwrap()).unwrap();
    let (model, manifest) = (model_dir(), repo_root().join("toolchain/all-MiniLM-L6-v2.sha256"));
    let run = |name: &str, no_avx512: &str| {
        let out = dir.path().join(name);
        let args = embed_args(
            model.to_str().unwrap(),
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            manifest.to_str().unwrap(),
        );
        let status = Command::new(env!("CARGO_BIN_EXE_cairn-runner"))
            .args(&args)
            .args(["--batch", "16"])
            .env("CAIRN_NO_AVX512", no_avx512)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        std::fs::read(&out).unwrap()
    };
    let (native, avx2) = (run("native.safetensors", "0"), run("avx2.safetensors", "1"));
    assert!(native.len() > 41 * 384 * 4, "41 rows of 384 values written");
    assert!(native == avx2, "the AVX2 kernels changed the output's bytes");
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
        ("\u{feff}[\"a BOM before the list\"]", "starts with a UTF-8 byte-order mark"),
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
    // A row's arithmetic does not depend on its batch: batches of 2 (many passes in one call; few rows, split
    // by panels or not at all) give the very bits of one batch of all (the long inputs make it hundreds of
    // rows, split by row blocks), so a verifier's batch size never changes an output.
    let small = BertEmbedder::load(
        &model_dir(),
        &digests(),
        EmbedOptions { engine: EngineKind::Fused, batch_size: 2, ..EmbedOptions::default() },
    )
    .unwrap();
    assert!(texts.len() > 4 && texts.len() <= 32, "{} texts: several batches of 2, one of 32", texts.len());
    assert_eq!(small.embed(&texts).unwrap().data, b.data, "batch 2 against one batch");
}

// ---------------------------------------------------------------------------------------------------------
// Degenerate but well-formed models (the cases of /work/shared/cases/make_models.py, written here from Rust
// so the tests need nothing outside the repository): Python's `safetensors` loads every one of them.

/// A model folder: the real MiniLM's tokenizer and sentence config, edited weights and config, and the
/// digests of all four files (also written as a `SHA256SUMS` list for the CLI).
struct Variant {
    dir: tempfile::TempDir,
    digests: cairn_primitives::FileDigests,
    weights_sha256: Sha256Digest,
}

impl Variant {
    /// `edit` changes the weights (header JSON object and data bytes) and the config.json value.
    fn new(
        edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>, &mut Vec<u8>, &mut serde_json::Value),
    ) -> Self {
        let src = model_dir();
        let raw = std::fs::read(src.join("model.safetensors")).unwrap();
        let header_len = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
        let mut header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&raw[8..8 + header_len]).unwrap();
        let mut data = raw[8 + header_len..].to_vec();
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(src.join("config.json")).unwrap()).unwrap();
        edit(&mut header, &mut data, &mut config);

        let dir = tempfile::tempdir().unwrap();
        let mut json = serde_json::to_string(&header).unwrap();
        while !json.len().is_multiple_of(8) {
            json.push(' ');
        }
        let mut weights = (json.len() as u64).to_le_bytes().to_vec();
        weights.extend_from_slice(json.as_bytes());
        weights.extend_from_slice(&data);
        std::fs::write(dir.path().join("model.safetensors"), &weights).unwrap();
        std::fs::write(dir.path().join("config.json"), serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        for file in ["tokenizer.json", "sentence_bert_config.json"] {
            std::fs::copy(src.join(file), dir.path().join(file)).unwrap();
        }
        let mut digests = cairn_primitives::FileDigests::new();
        let mut sums = String::new();
        for file in ["model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json"] {
            let digest = Sha256Digest::of(&std::fs::read(dir.path().join(file)).unwrap());
            digests.insert(file, digest);
            sums.push_str(&format!("{digest}  {file}\n"));
        }
        std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
        Self { dir, weights_sha256: Sha256Digest::of(&weights), digests }
    }

    /// make_models.py's `nan_weight`: one NaN in embeddings.LayerNorm.weight.
    fn nan_weight() -> Self {
        Self::new(|header, data, _| {
            let at = header["embeddings.LayerNorm.weight"]["data_offsets"][0].as_u64().unwrap() as usize;
            data[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        })
    }

    /// make_models.py's `type_vocab_size_0`: config and weights agree on an empty token-type table.
    fn type_vocab_size_0() -> Self {
        Self::new(|header, data, config| {
            let name = "embeddings.token_type_embeddings.weight";
            let offsets = |t: &serde_json::Value| {
                let o = &t["data_offsets"];
                (o[0].as_u64().unwrap() as usize, o[1].as_u64().unwrap() as usize)
            };
            let (a, b) = offsets(&header[name]);
            for (key, tensor) in header.iter_mut().filter(|(k, _)| *k != "__metadata__") {
                let (start, end) = offsets(tensor);
                if key == name {
                    let width = tensor["shape"][1].clone();
                    tensor["shape"] = serde_json::json!([0, width]);
                    tensor["data_offsets"] = serde_json::json!([a, a]);
                } else if start >= b {
                    tensor["data_offsets"] = serde_json::json!([start - (b - a), end - (b - a)]);
                }
            }
            data.drain(a..b);
            config["type_vocab_size"] = 0.into();
        })
    }

    /// The real weights with one config.json field changed (the weights no longer agree, but the config
    /// check must come first and name the field).
    fn config(field: &str, value: serde_json::Value) -> Self {
        Self::new(|_, _, config| config[field] = value)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn load(&self, engine: cairn_runner::bert::EngineKind) -> Result<BertEmbedExecutor, Error> {
        let options = EmbedOptions { engine, ..EmbedOptions::default() };
        BertEmbedExecutor::load(self.path(), &self.digests, options, InputLimits::default())
    }
}

const ENGINES: [cairn_runner::bert::EngineKind; 2] =
    [cairn_runner::bert::EngineKind::Fused, cairn_runner::bert::EngineKind::Candle];

/// Case `nan_weight` (sentence-transformers#2886): the runner never returns an output that fails the
/// acceptance rule; the error names the model and the row.
#[test]
fn a_model_yielding_nan_returns_no_output_and_names_the_model_and_row() {
    let model = Variant::nan_weight();
    let input = br#"["first sentence", "second sentence"]"#;
    for engine in ENGINES {
        let executor = model.load(engine).unwrap_or_else(|e| panic!("{engine:?}: a NaN weight loads: {e}"));
        let err = executor.execute(input).expect_err("execute must refuse a NaN output");
        let message = err.to_string();
        assert!(
            matches!(&err, Error::UnacceptableOutput { rejection: Rejection::NotFinite { row: 0 }, .. }),
            "{engine:?}: {message}"
        );
        assert!(message.contains(&model.path().display().to_string()), "names the model folder: {message}");
        assert!(message.contains(&model.weights_sha256.to_hex()), "names the weights: {message}");
        assert!(message.contains("row 0 holds a NaN"), "names the row: {message}");
        // A verifier running this model cannot judge anyone's claim with it either.
        let honest = BertEmbedExecutor::load(&model_dir(), &digests(), EmbedOptions::default(), InputLimits::default())
            .unwrap()
            .execute(input)
            .unwrap();
        let err = executor.verify(input, &honest.bytes, honest.sha256).expect_err("verify must refuse to judge");
        assert!(matches!(err, Error::UnacceptableOutput { .. }), "{engine:?}: {err}");
    }
}

#[test]
fn cli_embed_with_a_nan_model_fails_and_writes_nothing() {
    let model = Variant::nan_weight();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, r#"["A man is eating food."]"#).unwrap();
    let out = dir.path().join("out.safetensors");
    let (model_path, sums) = (model.path().to_str().unwrap(), model.path().join("SHA256SUMS"));
    let weights = model.weights_sha256.to_hex();
    let (ok, stdout, stderr) = cli(&[
        "embed",
        "--model",
        model_path,
        "--weights-sha256",
        &weights,
        "--manifest",
        sums.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok, "must fail: {stdout}");
    assert!(stderr.contains("row 0 holds a NaN") && stderr.contains(model_path), "{stderr}");
    assert!(!out.exists(), "no output file");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left beside the input");
}

/// Case `type_vocab_size_0` (ollama#17148): a shape the engines cannot run is a load-time error, never a
/// panic, on both engines.
#[test]
fn an_empty_token_type_table_is_a_load_error_not_a_panic() {
    let model = Variant::type_vocab_size_0();
    for engine in ENGINES {
        let err = model.load(engine).err().unwrap_or_else(|| panic!("{engine:?}: must not load"));
        assert!(matches!(err, Error::Config(_)), "{engine:?}: {err}");
        assert!(err.to_string().contains("type_vocab_size is 0"), "{engine:?}: {err}");
    }
}

#[test]
fn every_dimension_the_engines_index_is_checked_at_load() {
    for field in [
        "vocab_size",
        "type_vocab_size",
        "max_position_embeddings",
        "hidden_size",
        "num_attention_heads",
        "intermediate_size",
        "num_hidden_layers",
    ] {
        let model = Variant::config(field, 0.into());
        let err = model.load(cairn_runner::bert::EngineKind::Fused).err().unwrap_or_else(|| panic!("{field} 0 loads"));
        assert!(err.to_string().contains(&format!("{field} is 0")), "{field}: {err}");
    }
    let model = Variant::config("num_attention_heads", 5.into());
    let err = model.load(cairn_runner::bert::EngineKind::Fused).err().unwrap().to_string();
    assert!(err.contains("not a multiple of num_attention_heads 5"), "{err}");
    // More layers than the weights hold: the missing tensor is named; nothing is sized from the config alone.
    let model = Variant::config("num_hidden_layers", (1u64 << 60).into());
    for engine in ENGINES {
        let err = model.load(engine).err().unwrap_or_else(|| panic!("{engine:?}: loads"));
        assert!(err.to_string().contains("encoder.layer.6"), "{engine:?}: {err}");
    }
    // A table smaller than the config says: both shapes named.
    let model = Variant::config("type_vocab_size", 3.into());
    let err = model.load(cairn_runner::bert::EngineKind::Fused).err().unwrap().to_string();
    assert!(err.contains("token_type_embeddings.weight` has shape [2, 384]") && err.contains("[3, 384]"), "{err}");
    assert_eq!(err.matches("model configuration error").count(), 1, "one prefix: {err}");
}

/// The bytes that run are the bytes that were hashed: a loaded model does not read its file again, so
/// rewriting the file under a running model changes nothing.
#[test]
fn a_loaded_model_does_not_see_its_file_change() {
    let model = Variant::new(|_, _, _| {});
    let input = br#"["The weights were verified once."]"#;
    for engine in ENGINES {
        let executor = model.load(engine).unwrap();
        let before = executor.execute(input).unwrap();
        let path = model.path().join("model.safetensors");
        let original = std::fs::read(&path).unwrap();
        let mut zeroed = original.clone();
        let header_end = 8 + u64::from_le_bytes(original[..8].try_into().unwrap()) as usize;
        zeroed[header_end..].fill(0);
        std::fs::write(&path, &zeroed).unwrap();
        assert_eq!(executor.execute(input).unwrap().bytes, before.bytes, "{engine:?}");
        std::fs::write(&path, &original).unwrap();
    }
}

#[test]
fn cli_bench_json_has_each_key_once_and_names_the_engine_that_ran() {
    /// Every key bench prints; serde refuses a duplicated field, so a repeated key fails here.
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Report {
        runner: String,
        engine: String,
        device: String,
        threads: usize,
        batch: usize,
        texts: usize,
        mean_tokens: f64,
        mean_square_tokens: f64,
        seconds: f64,
        sentences_per_s: f64,
        peak_rss_mib: Option<f64>,
        latency_p50_ms: Option<f64>,
        latency_p99_ms: Option<f64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("texts.json");
    std::fs::write(&input, r#"["one", "one two", "one two three"]"#).unwrap();
    let (model, manifest) = (model_dir(), repo_root().join("toolchain/all-MiniLM-L6-v2.sha256"));
    let args = [
        "bench",
        "--model",
        model.to_str().unwrap(),
        "--weights-sha256",
        MINILM_WEIGHTS_SHA256,
        "--manifest",
        manifest.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--rounds",
        "1",
        "--threads",
        "2",
        "--json",
    ];
    let (ok, stdout, stderr) = cli(&args);
    assert!(ok, "{stderr}");
    let report: Report = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!((report.runner.as_str(), report.engine.as_str()), ("cairn-runner", "fused"));
    assert_eq!((report.device.as_str(), report.threads, report.texts), ("cpu", 2, 3));
    // [CLS] and [SEP] around 1, 2 and 3 word pieces: 3, 4 and 5 tokens.
    assert_eq!((report.mean_tokens, report.mean_square_tokens), (4.0, 50.0 / 3.0), "token counts: {stdout}");
    assert!(report.sentences_per_s > 0.0 && report.peak_rss_mib.is_some_and(|m| m > 0.0), "{stdout}");
    assert_eq!((report.latency_p50_ms, report.latency_p99_ms), (None, None), "no --latency, no figures");

    // --latency N: N one-sentence requests through the executor, p50 ≤ p99.
    let (ok, stdout, stderr) = cli(&[&args[..], &["--latency", "5"]].concat());
    assert!(ok, "{stderr}");
    let report: Report = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let (p50, p99) = (report.latency_p50_ms.unwrap(), report.latency_p99_ms.unwrap());
    assert!(0.0 < p50 && p50 <= p99, "{stdout}");
}
