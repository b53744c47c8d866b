//! Keystores: the Web3 Secret Storage spec's vectors load (scrypt n=2^18, r=1, p=8 included), malformed files
//! are errors naming the field (never a panic), hostile KDF parameters are refused before any work, and
//! decryption runs off the async runtime.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy::primitives::{Address, address};
use cairn_chain::{Error, PasswordSource, SignerSource, keystore::Kdf};

/// The spec vectors' account.
const SPEC_ADDRESS: Address = address!("0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn source(file: &str) -> SignerSource {
    SignerSource::Keystore { path: data(file), password: PasswordSource::File(data("password.txt")) }
}

#[tokio::test]
async fn the_spec_vectors_load_scrypt_and_pbkdf2() {
    let scrypt = cairn_chain::Keystore::read(&data("spec-scrypt-vector.json")).unwrap();
    assert_eq!(scrypt.kdf(), Kdf::Scrypt { log_n: 18, r: 1, p: 8 }, "RFC 7914's N < 2^(16·r) bound is not applied");
    assert_eq!(source("spec-scrypt-vector.json").load().await.unwrap().address(), SPEC_ADDRESS);
    // The control.
    assert_eq!(source("spec-pbkdf2-vector.json").load().await.unwrap().address(), SPEC_ADDRESS);
}

#[tokio::test]
async fn a_wrong_password_for_the_scrypt_vector_is_named() {
    let wrong = SignerSource::Keystore {
        path: data("spec-scrypt-vector.json"),
        password: PasswordSource::Literal("testpassword!".into()),
    };
    let err = wrong.load().await.unwrap_err();
    assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
}

#[tokio::test]
async fn dklen_16_is_an_error_naming_the_field_not_a_panic() {
    let err = source("dklen_16.json").load().await.unwrap_err();
    let Error::BadKeystore { field, .. } = &err else { panic!("expected BadKeystore, got {err}") };
    assert_eq!(field, "crypto.kdfparams.dklen");
    let text = err.to_string();
    assert!(text.contains("dklen_16.json") && text.contains("is 16: expected 32"), "{text}");
}

/// A change to a keystore's JSON.
type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

/// Writes the scrypt vector with `edit` applied, into `dir`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data("spec-scrypt-vector.json")).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[tokio::test]
async fn malformed_files_fail_before_the_password_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // The password file does not exist: an error about it would mean the keystore was used before it was
    // validated.
    let no_password = PasswordSource::File(dir.path().join("no-such-password-file"));
    let cases: Vec<(&str, Edit)> = vec![
        ("crypto.cipherparams.iv", Box::new(|v| v["crypto"]["cipherparams"]["iv"] = "83dbcc02".into())),
        ("crypto.ciphertext", Box::new(|v| v["crypto"]["ciphertext"] = "d172bf743a67".into())),
        ("crypto.mac", Box::new(|v| v["crypto"]["mac"] = "xyz".into())),
        ("crypto.kdf", Box::new(|v| v["crypto"]["kdf"] = "argon2".into())),
        ("crypto.kdfparams.n", Box::new(|v| v["crypto"]["kdfparams"]["n"] = 262_143.into())),
        ("crypto.kdfparams.r", Box::new(|v| v["crypto"]["kdfparams"]["r"] = 0.into())),
        ("crypto.kdfparams.salt", Box::new(|v| v["crypto"]["kdfparams"]["salt"] = serde_json::Value::Null)),
        ("version", Box::new(|v| v["version"] = 4.into())),
    ];
    for (i, (field, edit)) in cases.into_iter().enumerate() {
        let path = edited(dir.path(), &format!("k{i}.json"), edit);
        let err = SignerSource::Keystore { path, password: no_password.clone() }.load().await.unwrap_err();
        assert!(matches!(&err, Error::BadKeystore { field: f, .. } if f == field), "{field}: {err}");
    }
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "not json").unwrap();
    let err = SignerSource::Keystore { path: not_json, password: no_password }.load().await.unwrap_err();
    assert!(matches!(&err, Error::BadKeystore { .. }), "{err}");
}

#[tokio::test]
async fn hostile_kdf_parameters_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let password = PasswordSource::File(data("password.txt"));
    // 4 GiB of scrypt memory; 2^20 · 8 · 64 block mixes (hours); 2^40 PBKDF2 rounds.
    let memory = edited(dir.path(), "memory.json", |v| {
        v["crypto"]["kdfparams"]["n"] = (1u64 << 22).into();
        v["crypto"]["kdfparams"]["r"] = 8.into();
    });
    let work = edited(dir.path(), "work.json", |v| v["crypto"]["kdfparams"]["p"] = 4096.into());
    let rounds = edited(dir.path(), "rounds.json", |v| {
        v["crypto"]["kdf"] = "pbkdf2".into();
        v["crypto"]["kdfparams"] =
            serde_json::json!({"c": 1u64 << 40, "dklen": 32, "prf": "hmac-sha256", "salt": "ab"});
    });
    for (path, field) in
        [(memory, "crypto.kdfparams.n, r"), (work, "crypto.kdfparams.n, r, p"), (rounds, "crypto.kdfparams.c")]
    {
        let started = Instant::now();
        let err = SignerSource::Keystore { path, password: password.clone() }.load().await.unwrap_err();
        // The capped derivations would take hours or exhaust memory; a refusal costs only the parse.
        assert!(started.elapsed() < Duration::from_secs(10), "refused before any derivation");
        assert!(matches!(&err, Error::KeystoreLimit { field: f, .. } if f == field), "{field}: {err}");
        assert!(err.to_string().contains("over the cap"), "{err}");
    }
}

/// On a single-threaded runtime, a ticker only advances while the runtime is free: decrypting the scrypt
/// vector (about a second) on the runtime thread would freeze it, and the ticker would not tick once.
#[tokio::test(flavor = "current_thread")]
async fn decryption_leaves_the_runtime_free() {
    let ticks = Arc::new(AtomicU64::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let signer = source("spec-scrypt-vector.json").load().await.unwrap();
    let took = started.elapsed();
    ticker.abort();
    assert_eq!(signer.address(), SPEC_ADDRESS);
    // Decryption on the runtime thread would never yield, so the ticker could not run at all (0 ticks). No
    // ratio to wall time is asserted: on a loaded machine a free runtime still ticks, only less often.
    let seen = ticks.load(Ordering::SeqCst);
    assert!(seen >= 3, "the runtime ticked {seen} times during the {took:?} of decryption: it was blocked");
}
