//! OpenSSF Model Signing bundles judged by the stock tools: PyPI `model-signing` 1.1.1's `model_signing`
//! (sign key / verify key), from the venv `make setup` installs (scripts/oms-venv.sh). The venv is
//! `$CAIRN_OMS_VENV`, else `$CAIRN_CACHE/oms-venv`, else `~/.cache/cairn/oms-venv`. Each case is judged
//! by both the stock verifier and `cairn_cli::oms::verify_folder`, which must agree.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use cairn_cli::oms::{self, BUNDLE_FILE, Error};
use cairn_primitives::{FileDigests, Sha256Digest};
use p256::{
    ecdsa::SigningKey,
    pkcs8::{EncodePrivateKey, LineEnding},
};

/// The stock `model_signing` command, or a panic that says how to install it.
pub(crate) fn model_signing() -> PathBuf {
    cairn_testkit::venv_tool("CAIRN_OMS_VENV", "oms-venv", "model_signing", "scripts/oms-venv.sh")
}

/// Runs `model_signing args…`; `Ok(stdout)` on success, `Err(stdout + stderr)` on failure.
fn run(args: &[&Path]) -> Result<String, String> {
    let out = Command::new(model_signing()).args(args).output().expect("model_signing runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(text) } else { Err(text) }
}

/// `model_signing verify key --public_key <pem> --signature <dir>/model.sig <dir>`.
pub(crate) fn stock_verify(dir: &Path, public_key: &Path) -> Result<String, String> {
    let bundle = dir.join(BUNDLE_FILE);
    run(&[
        Path::new("verify"),
        Path::new("key"),
        Path::new("--public_key"),
        public_key,
        Path::new("--signature"),
        &bundle,
        dir,
    ])
}

/// A model folder: nested, hidden and empty files, one file over the 1 MiB read size, names whose byte order
/// differs from Python's path order (`a-c` / `a/b`), and a `.git` folder verifiers leave out.
fn model_folder(root: &Path) -> PathBuf {
    let dir = root.join("tiny-model");
    let big: Vec<u8> = (0..1_572_864u32).map(|i| (i % 251) as u8).collect();
    for (path, bytes) in [
        ("config.json", &b"{\"hidden_size\": 4}"[..]),
        ("model.safetensors", &big),
        ("a/b", b"one"),
        ("a-c", b"two"),
        (".hidden", b"dot"),
        ("empty", b""),
        ("1_Pooling/config.json", b"{}"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
    ] {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    dir
}

/// The folder's digests as the CLI computes them before signing.
fn digests(dir: &Path) -> FileDigests {
    let mut files = FileDigests::new();
    for path in ["config.json", "model.safetensors", "a/b", "a-c", ".hidden", "empty", "1_Pooling/config.json"] {
        files.insert(path, Sha256Digest::of_file(&dir.join(path)).unwrap().0);
    }
    files
}

fn flip_byte(file: &Path, at: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(file, bytes).unwrap();
}

/// A refusal both verifiers must give: the stock verifier's output contains `.0`, and cairn's error satisfies
/// `.1`.
type Refusal = (&'static str, fn(&Error) -> bool);

/// Asserts that both verifiers accept the folder (`refusal` = `None`), or that both refuse it as `refusal`
/// says.
fn both(case: &str, dir: &Path, pem_file: &Path, pem: &str, refusal: Option<Refusal>) {
    let bundle = std::fs::read(dir.join(BUNDLE_FILE)).unwrap();
    let stock = stock_verify(dir, pem_file);
    let ours = oms::verify_folder(dir, &bundle, pem);
    match refusal {
        None => {
            assert!(
                stock.as_ref().is_ok_and(|o| o.contains("Verification succeeded")),
                "{case}: stock verifier: {stock:?}"
            );
            assert!(ours.is_ok(), "{case}: cairn: {ours:?}");
        }
        Some((stock_says, ours_refuses)) => {
            let stock = stock.expect_err(&format!("{case}: the stock verifier accepted"));
            assert!(stock.contains(stock_says), "{case}: the stock verifier said {stock}");
            let ours = ours.expect_err(&format!("{case}: cairn accepted"));
            assert!(ours_refuses(&ours), "{case}: cairn said {ours}");
        }
    }
}

#[test]
fn stock_verifier_accepts_what_cairn_signs_and_refuses_every_change() {
    let root = tempfile::tempdir().unwrap();
    let dir = model_folder(root.path());
    let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let signed = oms::sign_folder(&dir, &digests(&dir), &key).unwrap();
    std::fs::write(dir.join(BUNDLE_FILE), &signed.bundle).unwrap();
    let pem_file = root.path().join("oms.pub.pem");
    std::fs::write(&pem_file, &signed.public_key_pem).unwrap();
    let pem = signed.public_key_pem.as_str();

    both("as signed", &dir, &pem_file, pem, None);

    let weights = dir.join("model.safetensors");
    flip_byte(&weights, 1_300_000);
    both(
        "one byte of one file changed",
        &dir,
        &pem_file,
        pem,
        Some((
            "Hash mismatch for 'model.safetensors'",
            |e| matches!(e, Error::FolderMismatch { changed, .. } if changed == &["model.safetensors"]),
        )),
    );
    flip_byte(&weights, 1_300_000);
    both("restored", &dir, &pem_file, pem, None);

    std::fs::write(dir.join("a/extra.bin"), "x").unwrap();
    both(
        "a file added",
        &dir,
        &pem_file,
        pem,
        Some(("Extra files found", |e| matches!(e, Error::FolderMismatch { extra, .. } if extra == &["a/extra.bin"]))),
    );
    std::fs::remove_file(dir.join("a/extra.bin")).unwrap();

    std::fs::remove_file(dir.join(".hidden")).unwrap();
    both(
        "a file removed",
        &dir,
        &pem_file,
        pem,
        Some(("Missing files", |e| matches!(e, Error::FolderMismatch { missing, .. } if missing == &[".hidden"]))),
    );
    std::fs::write(dir.join(".hidden"), "dot").unwrap();

    let other_pem = oms::public_key_pem(SigningKey::from_slice(&[0x43; 32]).unwrap().verifying_key());
    let other_file = root.path().join("other.pub.pem");
    std::fs::write(&other_file, &other_pem).unwrap();
    both(
        "another key",
        &dir,
        &other_file,
        &other_pem,
        Some(("Key mismatch", |e| matches!(e, Error::KeyMismatch { .. }))),
    );

    // Git's files may change: both leave them out.
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/other\n").unwrap();
    both("a .git change", &dir, &pem_file, pem, None);
}

#[test]
fn cairn_verifies_what_the_stock_signer_signs_and_writes_the_same_statement() {
    let root = tempfile::tempdir().unwrap();
    let dir = model_folder(root.path());
    let key = SigningKey::from_slice(&[0x24; 32]).unwrap();
    let private = root.path().join("oms.key.pem");
    std::fs::write(&private, key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let bundle_path = dir.join(BUNDLE_FILE);
    let signed_by_python = run(&[
        Path::new("sign"),
        Path::new("key"),
        Path::new("--private_key"),
        &private,
        Path::new("--signature"),
        &bundle_path,
        &dir,
    ]);
    assert!(signed_by_python.is_ok(), "model_signing sign key: {signed_by_python:?}");
    let python_bundle = std::fs::read(&bundle_path).unwrap();
    let pem = oms::public_key_pem(key.verifying_key());

    let verified = oms::verify_folder(&dir, &python_bundle, &pem).unwrap();
    assert_eq!(verified.files, digests(&dir));
    assert_eq!(verified.model_name, "tiny-model");

    // Ours signs the same statement: same resources in the same order, same root digest, same key hint.
    let ours = oms::sign_folder(&dir, &digests(&dir), &key).unwrap();
    let (theirs, mine) = (statement(&python_bundle), statement(&ours.bundle));
    for field in ["_type", "predicateType", "subject"] {
        assert_eq!(theirs[field], mine[field], "{field}");
    }
    assert_eq!(theirs["predicate"]["resources"], mine["predicate"]["resources"]);
    let serialization = |s: &serde_json::Value| {
        let mut s = s["predicate"]["serialization"].clone();
        // A Python frozenset: its order changes from run to run.
        s["ignore_paths"].as_array_mut().unwrap().sort_by_key(|p| p.as_str().unwrap().to_owned());
        s
    };
    assert_eq!(serialization(&theirs), serialization(&mine));
    assert_eq!(verified.root_digest, ours.root_digest);
    let hint = |b: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(b).unwrap()["verificationMaterial"]["publicKey"]["hint"].clone()
    };
    assert_eq!(hint(&python_bundle), hint(&ours.bundle));

    // And refuses it, as the stock verifier does, once a byte changed.
    let pem_file = root.path().join("oms.pub.pem");
    std::fs::write(&pem_file, &pem).unwrap();
    flip_byte(&dir.join("config.json"), 3);
    both(
        "a Python bundle, one byte changed",
        &dir,
        &pem_file,
        &pem,
        Some((
            "Hash mismatch for 'config.json'",
            |e| matches!(e, Error::FolderMismatch { changed, .. } if changed == &["config.json"]),
        )),
    );
}

/// The in-toto statement inside a bundle.
fn statement(bundle: &[u8]) -> serde_json::Value {
    use base64::Engine as _;
    let b: serde_json::Value = serde_json::from_slice(bundle).unwrap();
    let payload = base64::engine::general_purpose::STANDARD.decode(b["dsseEnvelope"]["payload"].as_str().unwrap());
    serde_json::from_slice(&payload.unwrap()).unwrap()
}
