//! OpenSSF Model Signing (OMS) v1.0 bundles for model folders: `publish` writes `model.sig` beside the files,
//! and anyone can check the folder with the stock verifier (PyPI `model-signing`,
//! `model_signing verify key --public_key key.pem --signature model.sig <folder>`) or with
//! [`verify_folder`]. Key-based signing only: no Sigstore, no transparency log, no network.
//!
//! **Keys.** OMS accepts NIST P-256/384/521 keys; the seller's Ethereum key is secp256k1, so a seller has a
//! second key, P-256 only here ([`load_or_create_signing_key`]: created on first use and stored encrypted as
//! a Web3 Secret Storage v3 file, like the Ethereum keystores). The seller binds it to their address by
//! putting [`ModelSigning`] (the bundle's file name, CID and sha256, the public key and the statement digest) into the
//! manifest, which their EIP-712 signature covers.
//!
//! **Format** (read from `model-signing` 1.1.1's `sign key` and `verify key`; every field below is one its
//! verifier reads):
//! - the file is a Sigstore bundle, JSON: `mediaType` = [`BUNDLE_MEDIA_TYPE`] (checked);
//!   `verificationMaterial.publicKey.hint` = hex sha256 of the public key's PEM (SubjectPublicKeyInfo, LF
//!   line ends; checked against the verifier's key when present), `tlogEntries` = `[]`;
//!   `dsseEnvelope` = `{payload, payloadType, signatures: [{sig, keyid: ""}]}`, `payloadType` =
//!   [`PAYLOAD_TYPE`] (checked), `payload` = base64 of the statement's JSON bytes, `sig` = base64 of the
//!   DER ECDSA signature (SHA-256 for P-256) over DSSE's pre-authentication encoding ([`pae`]) of the payload;
//! - the statement is in-toto v1: `_type` = [`STATEMENT_TYPE`], `predicateType` = [`PREDICATE_TYPE`], one
//!   `subject` `{name: <folder name>, digest: {sha256: <root digest>}}`, and a predicate
//!   `{resources: [{name, algorithm: "sha256", digest}], serialization: {method: "files", hash_type:
//!   "sha256", allow_symlinks: false, ignore_paths: [...]}}`;
//! - `resources` lists every file of the folder by `/`-separated relative path (hidden files included,
//!   empty folders not), sorted as Python sorts paths: component by component, so `a/b` comes before `a-c`;
//! - the root digest is the sha256 of the concatenated 32-byte file digests in the listed order (the
//!   verifier recomputes it in the order it reads them);
//! - the verifier hashes the folder again, skipping the `ignore_paths` of the statement (a path and
//!   everything under it, from the folder's top) and, by default, `.git`, `.github`, `.gitattributes`,
//!   `.gitignore` and the signature file; every other file must be listed with the same digest, and every
//!   listed file must exist. Symbolic links and special files make it fail (`allow_symlinks` false).
//!
//! [`verify_folder`] checks all of that and is stricter in a few places: P-256 keys only, exactly one
//! signature, the `files` serialization with sha256 only (no `shards`, no BLAKE), canonical digests and
//! paths, never a symbolic link (even where a bundle says `allow_symlinks: true`), and no pre-1.0 formats
//! (the stock verifier still reads v0.2's predicate and its faulty PAE).
//!
//! Everything here blocks (hashing, folder walks, key derivation): async code calls it through
//! `tokio::task::spawn_blocking`.

use std::{
    cmp::Ordering,
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use cairn_chain::{Keystore, keystore::NEW_KEYSTORE_KDF};
use cairn_primitives::{Cid, FileDigests, Sha256Digest, Sha256Hasher, check_relative_path};
pub use cairn_protocol::manifest::ModelSigning;
use p256::{
    ecdsa::{
        Signature, SigningKey, VerifyingKey,
        signature::{Signer as _, Verifier as _},
    },
    pkcs8::{DecodePublicKey as _, EncodePublicKey as _, LineEnding},
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The bundle's file name inside the model folder (`model_signing`'s default).
pub const BUNDLE_FILE: &str = "model.sig";

/// The Sigstore bundle media type OMS writes and its verifier requires.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The OMS v1.0 predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// The paths, relative to the folder's top, that a signature never covers: what `model_signing sign key`
/// leaves out by default (git's files and the signature itself). Written into every statement's
/// `ignore_paths`, so a verifier leaves them out too.
pub const IGNORED_PATHS: [&str; 5] = [".git", ".gitattributes", ".github", ".gitignore", BUNDLE_FILE];

/// What went wrong signing or verifying a model folder. Each message says what was expected, what was found
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder cannot be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The model folder is not a folder.
    #[error("{} is not a folder: expected the model folder", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// A symbolic link inside the model folder.
    #[error(
        "{} is a symbolic link: model signatures are made with allow_symlinks = false, so verifiers refuse the folder; replace the link with a copy of its target",
        path.display()
    )]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A socket, pipe or device inside the model folder.
    #[error("{} is neither a file nor a folder (a socket, pipe or device); remove it from the model folder", path.display())]
    SpecialFile {
        /// The path.
        path: PathBuf,
    },
    /// A file name that is not UTF-8.
    #[error("{} has a name that is not UTF-8; rename it (signed paths are JSON strings)", path.display())]
    NotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// Nothing to sign.
    #[error("the list of files to sign is empty: a model folder has at least one file")]
    NoFiles,
    /// A listed path that cannot be signed.
    #[error("cannot sign `{path}`: it {why}")]
    BadPath {
        /// The path as listed.
        path: String,
        /// Why.
        why: String,
    },
    /// The list of files to sign differs from the folder: the verifier would refuse the bundle.
    #[error(
        "the file list does not match the folder {}: {}; list exactly the folder's files (all but {})",
        dir.display(), differences(extra, missing, &[]), IGNORED_PATHS.join(", ")
    )]
    ListMismatch {
        /// The folder.
        dir: PathBuf,
        /// Files in the folder but not in the list.
        extra: Vec<String>,
        /// Files in the list but not in the folder.
        missing: Vec<String>,
    },
    /// The bundle is not well-formed.
    #[error("the model signature is malformed: {0}; expected an OpenSSF Model Signing v1.0 bundle")]
    BadBundle(String),
    /// The bundle is well-formed but uses a feature this verifier does not check.
    #[error(
        "the model signature uses {0}, which cairn does not verify (it reads OpenSSF Model Signing v1.0 bundles of whole files hashed with sha256 and signed by one P-256 key); check it with `model_signing verify`"
    )]
    Unsupported(String),
    /// The public key is not a P-256 key in PEM.
    #[error(
        "the public key is not a P-256 key in PEM (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`): {0}; cairn signs models with P-256 keys only"
    )]
    BadPublicKey(String),
    /// The bundle names another public key.
    #[error(
        "the model signature was made by another key: its key hint is {bundle}, the given public key's is {given}; use the public key from the model's manifest"
    )]
    KeyMismatch {
        /// The hint in the bundle.
        bundle: String,
        /// The hint of the key given.
        given: String,
    },
    /// The signature does not verify.
    #[error(
        "the model signature does not verify with the given public key: the signed statement or the signature was changed, or another key signed it"
    )]
    BadSignature,
    /// The folder differs from what was signed.
    #[error("the folder {} is not what was signed: {}", dir.display(), differences(extra, missing, changed))]
    FolderMismatch {
        /// The folder.
        dir: PathBuf,
        /// Files in the folder that were not signed.
        extra: Vec<String>,
        /// Signed files that are not in the folder.
        missing: Vec<String>,
        /// Files whose sha256 differs from the signed one.
        changed: Vec<String>,
    },
    /// The bundle's statement is not the one the manifest names.
    #[error(
        "the model signature's statement has sha256 {found}, but the manifest names {expected}: this is not the bundle the seller published"
    )]
    StatementMismatch {
        /// The digest in the manifest.
        expected: Sha256Digest,
        /// The digest of the bundle's statement.
        found: Sha256Digest,
    },
    /// The key file is an Ethereum keystore, not a model-signing key.
    #[error(
        "{} is the Ethereum keystore of {address}, not a model-signing key (P-256, stored without an address); give another path",
        path.display()
    )]
    NotSigningKey {
        /// The file.
        path: PathBuf,
        /// The address it names.
        address: String,
    },
    /// The key file decrypts to something that is not a P-256 private key.
    #[error("{} decrypts to a value that is not a P-256 private key; it is not a model-signing key", path.display())]
    NotP256 {
        /// The file.
        path: PathBuf,
    },
    /// The key file cannot be read or decrypted (wrong password, malformed file).
    #[error(transparent)]
    Keystore(#[from] cairn_chain::Error),
    /// The operating system's random source failed.
    #[error("the system's random source failed: {0}")]
    Random(String),
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `extra files: a, b; missing files: c; changed files: d`, for the messages above.
fn differences(extra: &[String], missing: &[String], changed: &[String]) -> String {
    [("extra files", extra), ("missing files", missing), ("changed files", changed)]
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(what, list)| format!("{what}: {}", list.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What [`sign_folder`] produced.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The bundle, to be written as [`BUNDLE_FILE`] in the folder.
    pub bundle: Vec<u8>,
    /// The sha256 of the signed statement (the DSSE payload's bytes).
    pub statement_digest: Sha256Digest,
    /// The statement's subject digest: sha256 over every file digest, in the listed order.
    pub root_digest: Sha256Digest,
    /// The signing key's public key, PEM (what `model_signing verify key --public_key` reads).
    pub public_key_pem: String,
}

impl Signed {
    /// The manifest's `modelSigning` entry for this bundle, pinned at `bundle_cid`.
    pub fn model_signing(&self, bundle_cid: Cid) -> ModelSigning {
        ModelSigning {
            bundle: BUNDLE_FILE.to_owned(),
            bundle_cid,
            bundle_sha256: Sha256Digest::of(&self.bundle),
            public_key_pem: self.public_key_pem.clone(),
            statement_digest: self.statement_digest,
        }
    }
}

/// What [`verify_folder`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The subject's name (the folder's name when it was signed; informative only).
    pub model_name: String,
    /// The subject's digest.
    pub root_digest: Sha256Digest,
    /// The sha256 of the statement.
    pub statement_digest: Sha256Digest,
    /// Every signed file (for [`verify_folder`]: each of which the folder holds with this digest).
    pub files: FileDigests,
    /// The statement's `ignore_paths`.
    pub ignore_paths: Vec<String>,
}

/// Signs the files of the model folder `dir` with `key`: `files` are their paths (relative, `/`-separated)
/// and sha256 digests, already computed by the caller (they are not hashed again). The folder is walked, not
/// read, to check that `files` names exactly the files a verifier will find there (all but
/// [`IGNORED_PATHS`]), so the bundle verifies once written to `dir`/[`BUNDLE_FILE`]; files added to the
/// folder afterwards make verification fail.
///
/// Errors: an empty list, a path a verifier ignores, a list that differs from the folder
/// ([`Error::ListMismatch`]), a symbolic link or special file in the folder, an unreadable folder.
pub fn sign_folder(dir: &Path, files: &FileDigests, key: &SigningKey) -> Result<Signed> {
    sign_folder_as(dir, &model_name(dir), files, key, &[])
}

/// [`sign_folder`] with the subject named `name` (informative only, but part of the signed bytes: a name
/// that does not depend on the local folder's keeps the bundle, and so the manifest, the same on every
/// machine), and `also_ignored` (relative paths of files or folders, e.g. a tool cache the publisher leaves
/// out) added to the statement's `ignore_paths`, so that verifiers skip them too.
///
/// Errors: as [`sign_folder`].
pub fn sign_folder_as(
    dir: &Path,
    name: &str,
    files: &FileDigests,
    key: &SigningKey,
    also_ignored: &[String],
) -> Result<Signed> {
    let ignore_paths: Vec<String> =
        IGNORED_PATHS.iter().map(|p| (*p).to_owned()).chain(also_ignored.iter().cloned()).collect();
    let ignored = Ignored::new(ignore_paths.iter().map(String::as_str));
    if files.is_empty() {
        return Err(Error::NoFiles);
    }
    for (path, _) in files.iter() {
        check_relative_path(path).map_err(|why| Error::BadPath { path: path.to_owned(), why: why.to_owned() })?;
        if ignored.covers(path) {
            return Err(Error::BadPath {
                path: path.to_owned(),
                why: format!(
                    "is one of the paths verifiers leave out ({}); move or rename it",
                    ignore_paths.join(", ")
                ),
            });
        }
    }
    let found = walk(dir, &ignored)?;
    let extra: Vec<String> = found.keys().filter(|p| files.get(p).is_none()).cloned().collect();
    let missing: Vec<String> =
        files.iter().map(|(p, _)| p).filter(|p| !found.contains_key(*p)).map(str::to_owned).collect();
    if !extra.is_empty() || !missing.is_empty() {
        return Err(Error::ListMismatch { dir: dir.to_path_buf(), extra, missing });
    }

    let mut sorted: Vec<(&str, Sha256Digest)> = files.iter().collect();
    sorted.sort_by(|a, b| python_path_order(a.0, b.0));
    let root_digest = root_digest(sorted.iter().map(|(_, d)| d));
    let statement = Statement {
        kind: STATEMENT_TYPE.to_owned(),
        subject: vec![Subject {
            name: name.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), root_digest.to_hex())]),
        }],
        predicate_type: PREDICATE_TYPE.to_owned(),
        predicate: Predicate {
            resources: sorted
                .iter()
                .map(|(name, digest)| Resource {
                    name: (*name).to_owned(),
                    algorithm: "sha256".to_owned(),
                    digest: digest.to_hex(),
                })
                .collect(),
            serialization: Serialization {
                method: "files".to_owned(),
                hash_type: "sha256".to_owned(),
                allow_symlinks: false,
                ignore_paths,
            },
        },
    };
    // Two-space indentation, as the reference signer writes its statements.
    let payload = serde_json::to_vec_pretty(&statement).expect("a statement serialises");
    let signature: Signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let public_key_pem = public_key_pem(key.verifying_key());
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_owned(),
        verification_material: VerificationMaterial {
            public_key: PublicKeyIdentifier { hint: Some(key_hint(key.verifying_key())) },
            tlog_entries: Vec::new(),
        },
        dsse_envelope: Envelope {
            payload: BASE64.encode(&payload),
            payload_type: PAYLOAD_TYPE.to_owned(),
            signatures: vec![EnvelopeSignature {
                sig: BASE64.encode(signature.to_der().as_bytes()),
                keyid: String::new(),
            }],
        },
    };
    Ok(Signed {
        bundle: serde_json::to_vec(&bundle).expect("a bundle serialises"),
        statement_digest: Sha256Digest::of(&payload),
        root_digest,
        public_key_pem,
    })
}

/// Checks `bundle` against `public_key_pem` without a folder: the key hint, the signature over the statement,
/// the statement's types and root digest. Returns the signed file list, to compare with digests checked
/// elsewhere (e.g. a manifest's, fetched from IPFS).
///
/// Errors: [`Error::BadPublicKey`], [`Error::BadBundle`], [`Error::Unsupported`], [`Error::KeyMismatch`],
/// [`Error::BadSignature`].
pub fn verify_statement(bundle: &[u8], public_key_pem: &str) -> Result<Verified> {
    let key = VerifyingKey::from_public_key_pem(public_key_pem.trim_start())
        .map_err(|e| Error::BadPublicKey(e.to_string()))?;
    let bundle: Bundle = serde_json::from_slice(bundle).map_err(|e| Error::BadBundle(e.to_string()))?;
    if bundle.media_type != BUNDLE_MEDIA_TYPE {
        return Err(Error::Unsupported(format!("the bundle media type {:?}", bundle.media_type)));
    }
    let given = key_hint(&key);
    if let Some(hint) = bundle.verification_material.public_key.hint.filter(|h| !h.is_empty())
        && hint != given
    {
        return Err(Error::KeyMismatch { bundle: hint, given });
    }
    let envelope = bundle.dsse_envelope;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(Error::BadBundle(format!(
            "dsseEnvelope.payloadType is {:?}: expected {PAYLOAD_TYPE:?}",
            envelope.payload_type
        )));
    }
    let [signature] = envelope.signatures.as_slice() else {
        return Err(Error::Unsupported(format!("{} signatures (one expected)", envelope.signatures.len())));
    };
    let payload = decode_base64(&envelope.payload, "dsseEnvelope.payload")?;
    let der = decode_base64(&signature.sig, "dsseEnvelope.signatures[0].sig")?;
    let signature = Signature::from_der(&der).map_err(|_| {
        Error::BadBundle("dsseEnvelope.signatures[0].sig is not a DER-encoded P-256 ECDSA signature".into())
    })?;
    key.verify(&pae(PAYLOAD_TYPE, &payload), &signature).map_err(|_| Error::BadSignature)?;

    let statement = parse_statement(&payload)?;
    let [subject] = statement.subject.as_slice() else {
        return Err(Error::BadBundle(format!("the statement has {} subjects: expected one", statement.subject.len())));
    };
    let serialization = &statement.predicate.serialization;
    if serialization.method != "files" {
        return Err(Error::Unsupported(format!("the serialization method {:?}", serialization.method)));
    }
    if serialization.hash_type != "sha256" {
        return Err(Error::Unsupported(format!("the hash {:?}", serialization.hash_type)));
    }
    let resources = &statement.predicate.resources;
    if let Some((i, r)) = resources.iter().enumerate().find(|(_, r)| r.algorithm != "sha256") {
        return Err(Error::Unsupported(format!("the hash {:?} in predicate.resources[{i}]", r.algorithm)));
    }
    let signed = FileDigests::from_entries(
        resources
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("predicate.resources[{i}]"), r.name.as_str(), r.digest.as_str())),
    )
    .map_err(|e| Error::BadBundle(format!("the statement's resources: {e}")))?;
    // In the listed order, as the reference verifier recomputes it.
    let listed: Vec<Sha256Digest> = resources.iter().map(|r| signed.get(&r.name).expect("parsed above")).collect();
    let root = root_digest(listed.iter());
    let claimed = subject.digest.get("sha256").map(String::as_str).unwrap_or_default();
    if claimed != root.to_hex() {
        return Err(Error::BadBundle(format!(
            "the subject's sha256 is {claimed:?}, but the listed files hash to {root}: the statement is inconsistent"
        )));
    }
    Ok(Verified {
        model_name: subject.name.clone(),
        root_digest: root,
        statement_digest: Sha256Digest::of(&payload),
        files: signed,
        ignore_paths: serialization.ignore_paths.clone(),
    })
}

/// Checks the model folder `dir` against `bundle` and `public_key_pem` as the stock verifier does (see the
/// module docs): [`verify_statement`], then every file of the folder hashed again against the signed list.
///
/// Errors: [`verify_statement`]'s, and [`Error::FolderMismatch`] naming every extra, missing and changed file.
pub fn verify_folder(dir: &Path, bundle: &[u8], public_key_pem: &str) -> Result<Verified> {
    let verified = verify_statement(bundle, public_key_pem)?;
    let signed = &verified.files;
    let ignored = Ignored::new(IGNORED_PATHS.iter().copied().chain(verified.ignore_paths.iter().map(String::as_str)));
    let found = walk(dir, &ignored)?;
    let (mut extra, mut changed) = (Vec::new(), Vec::new());
    for (path, file) in &found {
        match signed.get(path) {
            None => extra.push(path.clone()),
            Some(expected) => {
                let (actual, _) =
                    Sha256Digest::of_file(file).map_err(|source| Error::Io { path: file.clone(), source })?;
                if actual != expected {
                    changed.push(path.clone());
                }
            }
        }
    }
    let missing: Vec<String> =
        signed.iter().map(|(p, _)| p).filter(|p| !found.contains_key(*p)).map(str::to_owned).collect();
    if !extra.is_empty() || !missing.is_empty() || !changed.is_empty() {
        return Err(Error::FolderMismatch { dir: dir.to_path_buf(), extra, missing, changed });
    }
    Ok(verified)
}

/// Verifies `dir` against a manifest's `modelSigning` entry: reads the bundle it names from the folder,
/// checks that its statement is the one named, then [`verify_folder`] with its public key.
///
/// Errors: a bundle path that is not a plain relative path, an unreadable bundle,
/// [`Error::StatementMismatch`], and [`verify_folder`]'s.
pub fn verify_model_signing(dir: &Path, entry: &ModelSigning) -> Result<Verified> {
    check_relative_path(&entry.bundle)
        .map_err(|why| Error::BadBundle(format!("the manifest's modelSigning.bundle `{}` {why}", entry.bundle)))?;
    let path = dir.join(&entry.bundle);
    let bundle = std::fs::read(&path).map_err(|source| Error::Io { path, source })?;
    let found = statement_digest(&bundle)?;
    if found != entry.statement_digest {
        return Err(Error::StatementMismatch { expected: entry.statement_digest, found });
    }
    verify_folder(dir, &bundle, &entry.public_key_pem)
}

/// The sha256 of a bundle's statement (its DSSE payload bytes), read without verifying anything.
///
/// Errors: [`Error::BadBundle`].
pub fn statement_digest(bundle: &[u8]) -> Result<Sha256Digest> {
    let bundle: Bundle = serde_json::from_slice(bundle).map_err(|e| Error::BadBundle(e.to_string()))?;
    Ok(Sha256Digest::of(&decode_base64(&bundle.dsse_envelope.payload, "dsseEnvelope.payload")?))
}

/// The public key as PEM (SubjectPublicKeyInfo, uncompressed point, LF line ends, a final newline): the
/// bytes OpenSSL and Python's `cryptography` write, so its sha256 is the bundle's key hint.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF).expect("a P-256 public key encodes as SubjectPublicKeyInfo")
}

/// The key hint OMS records in a bundle: the hex sha256 of [`public_key_pem`].
pub fn key_hint(key: &VerifyingKey) -> String {
    Sha256Digest::of(public_key_pem(key).as_bytes()).to_hex()
}

/// DSSE v1's pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(payload)> <payload>`, lengths in
/// ASCII decimal bytes; the signature covers these bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A model-signing key and whether it was just made.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    /// The P-256 key.
    pub key: SigningKey,
    /// True when the file did not exist and was created now.
    pub created: bool,
}

/// Loads the P-256 model-signing key stored at `path` (Web3 Secret Storage v3, see
/// [`Keystore::encrypt_secret`]), or, when no file is there, makes a new random key, stores it there
/// encrypted under `password` (scrypt as new Ethereum keystores get, file mode 0600, written atomically;
/// parent folders created) and returns it. Blocking: key derivation takes a fraction of a second.
///
/// Two processes creating the key at the same moment each write a file and the last one stays; the other's
/// signatures then name a key that is no longer stored. Create the key once (e.g. at `wallet` setup) before
/// publishing in parallel.
///
/// Errors: a wrong password ([`cairn_chain::Error::WrongPassword`] inside [`Error::Keystore`]), a malformed
/// file, an Ethereum keystore ([`Error::NotSigningKey`]), a secret that is not a P-256 key, an unwritable
/// folder.
pub fn load_or_create_signing_key(path: &Path, password: &str) -> Result<LoadedKey> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => {
            let keystore = Keystore::read(path)?;
            if let Some(address) = keystore.address() {
                return Err(Error::NotSigningKey { path: path.to_path_buf(), address: address.to_string() });
            }
            let secret = keystore.decrypt_secret(password)?;
            let key =
                SigningKey::from_slice(secret.as_slice()).map_err(|_| Error::NotP256 { path: path.to_path_buf() })?;
            Ok(LoadedKey { key, created: false })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_key()?;
            let mut secret = Zeroizing::new([0u8; 32]);
            secret.copy_from_slice(&key.to_bytes());
            let text = Keystore::encrypt_secret(&secret, password, NEW_KEYSTORE_KDF)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| Error::Io { path: parent.to_path_buf(), source })?;
            }
            cairn_primitives::fs::write_atomic_private(path, text.as_bytes())
                .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
            Ok(LoadedKey { key, created: true })
        }
        Err(source) => Err(Error::Io { path: path.to_path_buf(), source }),
    }
}

/// A uniformly random P-256 key from the operating system's random source (32 random bytes, drawn again in
/// the ~2^-32 case that they are zero or not below the group order).
fn random_key() -> Result<SigningKey> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|e| Error::Random(e.to_string()))?;
        if let Ok(key) = SigningKey::from_slice(bytes.as_slice()) {
            return Ok(key);
        }
    }
}

/// Python's order of `pathlib.PurePosixPath`s, which OMS sorts its resources by: component by component
/// (`a/b` < `a-c`, where byte order says `a-c` < `a/b`).
fn python_path_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// sha256 over the concatenated 32-byte digests.
fn root_digest<'a>(digests: impl Iterator<Item = &'a Sha256Digest>) -> Sha256Digest {
    let mut hasher = Sha256Hasher::default();
    for d in digests {
        hasher.update(&d.0);
    }
    hasher.finish()
}

/// The subject's name: the folder's last component, as the reference signer names it.
fn model_name(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    name.or_else(|| std::fs::canonicalize(dir).ok()?.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "model".to_owned())
}

fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>> {
    BASE64.decode(text).map_err(|e| Error::BadBundle(format!("{field} is not base64 ({e})")))
}

/// Reads the statement, checking its types before its shape, so that another predicate is named as such.
fn parse_statement(payload: &[u8]) -> Result<Statement> {
    #[derive(Deserialize)]
    struct Types {
        #[serde(rename = "_type")]
        kind: String,
        #[serde(rename = "predicateType")]
        predicate_type: String,
    }
    let types: Types = serde_json::from_slice(payload)
        .map_err(|e| Error::BadBundle(format!("the statement is not an in-toto statement ({e})")))?;
    if types.kind != STATEMENT_TYPE {
        return Err(Error::Unsupported(format!("the statement type {:?}", types.kind)));
    }
    if types.predicate_type != PREDICATE_TYPE {
        return Err(Error::Unsupported(format!("the predicate type {:?}", types.predicate_type)));
    }
    serde_json::from_slice(payload).map_err(|e| Error::BadBundle(format!("the statement: {e}")))
}

/// Which paths, relative to the folder's top, a walk skips: each path and everything under it (Python's
/// `is_relative_to` on the joined paths). Absolute paths and paths through `..` never match, as in the
/// reference verifier.
struct Ignored(Vec<Vec<String>>);

impl Ignored {
    fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            paths
                .into_iter()
                .filter(|p| !p.starts_with('/'))
                .map(|p| p.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_owned).collect::<Vec<_>>())
                .filter(|parts| !parts.iter().any(|c| c == ".."))
                .collect(),
        )
    }

    fn covers(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().any(|ignored| parts.len() >= ignored.len() && parts.iter().zip(ignored).all(|(a, b)| a == b))
    }
}

/// Every regular file under `dir` that `ignored` does not cover, by `/`-separated relative path. Symbolic
/// links and special files are errors (nothing is followed); ignored folders are not entered.
fn walk(dir: &Path, ignored: &Ignored) -> Result<BTreeMap<String, PathBuf>> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    if !std::fs::metadata(dir).map_err(io(dir))?.is_dir() {
        return Err(Error::NotAFolder { path: dir.to_path_buf() });
    }
    let mut files = BTreeMap::new();
    let mut folders = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(io(&folder))? {
            let entry = entry.map_err(io(&folder))?;
            let path = entry.path();
            let name = entry.file_name().into_string().map_err(|_| Error::NotUtf8 { path: path.clone() })?;
            let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if ignored.covers(&relative) {
                continue;
            }
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_symlink() {
                return Err(Error::Symlink { path });
            } else if kind.is_dir() {
                folders.push((path, relative));
            } else if kind.is_file() {
                files.insert(relative, path);
            } else {
                return Err(Error::SpecialFile { path });
            }
        }
    }
    Ok(files)
}

// --- the JSON documents -------------------------------------------------------------------------------
// Field order follows the reference signer's output. Unknown fields are ignored on reading: v1.0 tells
// verifiers to ignore predicate fields they do not know.

/// A Sigstore bundle (v0.3) holding a DSSE envelope.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    verification_material: VerificationMaterial,
    dsse_envelope: Envelope,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerificationMaterial {
    public_key: PublicKeyIdentifier,
    #[serde(default)]
    tlog_entries: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PublicKeyIdentifier {
    #[serde(default)]
    hint: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Serialize, Deserialize)]
struct EnvelopeSignature {
    sig: String,
    #[serde(default)]
    keyid: String,
}

/// An in-toto v1 statement with the OMS v1.0 predicate.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    predicate_type: String,
    predicate: Predicate,
}

#[derive(Debug, Serialize, Deserialize)]
struct Subject {
    name: String,
    digest: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Predicate {
    resources: Vec<Resource>,
    serialization: Serialization,
}

#[derive(Debug, Serialize, Deserialize)]
struct Resource {
    name: String,
    algorithm: String,
    digest: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Serialization {
    method: String,
    hash_type: String,
    allow_symlinks: bool,
    #[serde(default)]
    ignore_paths: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-384 public key (made with `openssl ecparam -name secp384r1`): valid for OMS, refused here.
    const P384_PEM: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEcvqPZwvTMuNDfKVK7wyt+hMV23XkfsL4
5IBG56DSejR72+nUkMxsBjwtdcWg3Gu5FJLVF8o0UgyXMNBfNzgcqY8Pf0D4V1vk
6eLLMmFNNit+8hrNWxNfaxWiu2pnqQwQ
-----END PUBLIC KEY-----
";

    /// A change to a statement.
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_slice(&[byte; 32]).unwrap()
    }

    /// A folder with nested, hidden and empty files, a `.git` folder and an old `model.sig`.
    fn folder() -> (tempfile::TempDir, FileDigests) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (path, bytes) in
            [("a/b", &b"one"[..]), ("a-c", b"two"), (".env", b"hidden"), ("empty", b""), ("w/x/y.bin", &[0u8; 3000])]
        {
            let file = d.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, bytes).unwrap();
        }
        std::fs::create_dir_all(d.join(".git/objects")).unwrap();
        std::fs::write(d.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(d.join(BUNDLE_FILE), "an old bundle").unwrap();
        std::fs::create_dir_all(d.join("empty-folder")).unwrap();
        let files = digests_of(d);
        (dir, files)
    }

    fn digests_of(d: &Path) -> FileDigests {
        let mut files = FileDigests::new();
        for (path, file) in walk(d, &Ignored::new(IGNORED_PATHS)).unwrap() {
            files.insert(path, Sha256Digest::of_file(&file).unwrap().0);
        }
        files
    }

    fn statement_of(bundle: &[u8]) -> serde_json::Value {
        let b: serde_json::Value = serde_json::from_slice(bundle).unwrap();
        serde_json::from_slice(&BASE64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap()).unwrap()
    }

    /// Re-signs an edited statement with `key`, keeping everything else of the bundle.
    fn resign(bundle: &[u8], key: &SigningKey, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut statement = statement_of(bundle);
        edit(&mut statement);
        let payload = serde_json::to_vec(&statement).unwrap();
        let sig: Signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
        let mut b: serde_json::Value = serde_json::from_slice(bundle).unwrap();
        b["dsseEnvelope"]["payload"] = BASE64.encode(&payload).into();
        b["dsseEnvelope"]["signatures"][0]["sig"] = BASE64.encode(sig.to_der().as_bytes()).into();
        serde_json::to_vec(&b).unwrap()
    }

    #[test]
    fn pae_is_dsse_v1s() {
        // The example of the DSSE v1.0 protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn a_signed_folder_verifies_and_lists_its_files_in_pythons_order() {
        let (dir, files) = folder();
        let signed = sign_folder(dir.path(), &files, &key(1)).unwrap();
        let verified = verify_folder(dir.path(), &signed.bundle, &signed.public_key_pem).unwrap();
        assert_eq!(verified.files, files);
        assert_eq!((verified.root_digest, verified.statement_digest), (signed.root_digest, signed.statement_digest));
        assert_eq!(statement_digest(&signed.bundle).unwrap(), signed.statement_digest);
        assert_eq!(verified.model_name, dir.path().file_name().unwrap().to_str().unwrap());

        let statement = statement_of(&signed.bundle);
        let names: Vec<&str> = statement["predicate"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [".env", "a/b", "a-c", "empty", "w/x/y.bin"]);
        assert_eq!(statement["predicateType"], PREDICATE_TYPE);
        assert_eq!(statement["predicate"]["serialization"]["ignore_paths"].as_array().unwrap().len(), 5);
        let mut concatenated = Vec::new();
        for name in names {
            concatenated.extend_from_slice(&files.get(name).unwrap().0);
        }
        assert_eq!(signed.root_digest, Sha256Digest::of(&concatenated));
        assert_eq!(statement["subject"][0]["digest"]["sha256"], signed.root_digest.to_hex());

        // The manifest entry verifies too, and names the statement.
        let cid: Cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku".parse().unwrap();
        let entry = signed.model_signing(cid);
        std::fs::write(dir.path().join(BUNDLE_FILE), &signed.bundle).unwrap();
        assert_eq!(verify_model_signing(dir.path(), &entry).unwrap(), verified);
        let other = ModelSigning { statement_digest: Sha256Digest::of(b"x"), ..entry };
        assert!(matches!(verify_model_signing(dir.path(), &other), Err(Error::StatementMismatch { .. })));
    }

    #[test]
    fn every_change_to_the_folder_is_named() {
        let (dir, files) = folder();
        let d = dir.path();
        let signed = sign_folder(d, &files, &key(1)).unwrap();
        let verify = || verify_folder(d, &signed.bundle, &signed.public_key_pem);
        let mismatch = |r: Result<Verified>| match r {
            Err(Error::FolderMismatch { extra, missing, changed, .. }) => (extra, missing, changed),
            other => panic!("expected a folder mismatch, got {other:?}"),
        };
        let mut bytes = std::fs::read(d.join("w/x/y.bin")).unwrap();
        bytes[1234] ^= 1;
        std::fs::write(d.join("w/x/y.bin"), &bytes).unwrap();
        let e = verify();
        assert!(e.as_ref().unwrap_err().to_string().contains("changed files: w/x/y.bin"), "{e:?}");
        assert_eq!(mismatch(e), (vec![], vec![], vec!["w/x/y.bin".to_owned()]));
        bytes[1234] ^= 1;
        std::fs::write(d.join("w/x/y.bin"), &bytes).unwrap();
        verify().unwrap();

        std::fs::write(d.join("a/new"), "").unwrap();
        assert_eq!(mismatch(verify()), (vec!["a/new".to_owned()], vec![], vec![]));
        std::fs::remove_file(d.join("a/new")).unwrap();
        std::fs::remove_file(d.join(".env")).unwrap();
        assert_eq!(mismatch(verify()), (vec![], vec![".env".to_owned()], vec![]));
        std::fs::write(d.join(".env"), "hidden").unwrap();
        // Files verifiers leave out may come and go.
        std::fs::write(d.join(".gitignore"), "target\n").unwrap();
        std::fs::write(d.join(".git/objects/x"), "").unwrap();
        verify().unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("a-c", d.join("link")).unwrap();
            assert!(matches!(verify(), Err(Error::Symlink { .. })));
        }
    }

    #[test]
    fn another_key_or_an_edited_statement_is_refused() {
        let (dir, files) = folder();
        let d = dir.path();
        let signed = sign_folder(d, &files, &key(1)).unwrap();
        let other = public_key_pem(key(2).verifying_key());
        assert!(matches!(verify_folder(d, &signed.bundle, &other), Err(Error::KeyMismatch { .. })));
        // Without the hint, the signature itself fails.
        let mut b: serde_json::Value = serde_json::from_slice(&signed.bundle).unwrap();
        b["verificationMaterial"]["publicKey"] = serde_json::json!({});
        let no_hint = serde_json::to_vec(&b).unwrap();
        verify_folder(d, &no_hint, &signed.public_key_pem).unwrap();
        assert!(matches!(verify_folder(d, &no_hint, &other), Err(Error::BadSignature)));

        // An edited statement under the old signature.
        let mut b: serde_json::Value = serde_json::from_slice(&signed.bundle).unwrap();
        let mut statement = statement_of(&signed.bundle);
        statement["subject"][0]["name"] = "renamed".into();
        b["dsseEnvelope"]["payload"] = BASE64.encode(serde_json::to_vec(&statement).unwrap()).into();
        assert!(matches!(
            verify_folder(d, &serde_json::to_vec(&b).unwrap(), &signed.public_key_pem),
            Err(Error::BadSignature)
        ));

        // Re-signed but inconsistent, or of another kind.
        let cases: Vec<(&str, Edit)> = vec![
            ("inconsistent", Box::new(|s| s["subject"][0]["digest"]["sha256"] = "00".repeat(32).into())),
            ("predicate type", Box::new(|s| s["predicateType"] = "https://model_signing/Digests/v0.1".into())),
            ("method", Box::new(|s| s["predicate"]["serialization"]["method"] = "shards".into())),
            ("hash", Box::new(|s| s["predicate"]["serialization"]["hash_type"] = "blake3".into())),
            ("subjects", Box::new(|s| s["subject"] = serde_json::json!([]))),
            ("resources", Box::new(|s| s["predicate"]["resources"][0]["name"] = "../x".into())),
        ];
        for (what, edit) in cases {
            let e = verify_folder(d, &resign(&signed.bundle, &key(1), edit), &signed.public_key_pem).unwrap_err();
            assert!(matches!(e, Error::BadBundle(_) | Error::Unsupported(_)), "{what}: {e}");
            assert!(e.to_string().contains(what), "{what}: {e}");
        }
        // A signed `ignore_paths` is honoured, as the reference verifier honours it.
        let ignoring = resign(&signed.bundle, &key(1), |s| {
            s["predicate"]["serialization"]["ignore_paths"].as_array_mut().unwrap().push("scratch".into())
        });
        std::fs::create_dir_all(d.join("scratch")).unwrap();
        std::fs::write(d.join("scratch/notes"), "").unwrap();
        verify_folder(d, &ignoring, &signed.public_key_pem).unwrap();
        assert!(matches!(verify_folder(d, &signed.bundle, &signed.public_key_pem), Err(Error::FolderMismatch { .. })));
    }

    #[test]
    fn a_high_s_signature_verifies() {
        // OpenSSL (the reference signer) does not normalise s; p256 must accept both halves.
        let (dir, files) = folder();
        let signed = sign_folder(dir.path(), &files, &key(1)).unwrap();
        let mut b: serde_json::Value = serde_json::from_slice(&signed.bundle).unwrap();
        let der = BASE64.decode(b["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        let sig = Signature::from_der(&der).unwrap();
        let (r, s) = sig.split_scalars();
        let flipped = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        assert_ne!(flipped, sig);
        b["dsseEnvelope"]["signatures"][0]["sig"] = BASE64.encode(flipped.to_der().as_bytes()).into();
        verify_folder(dir.path(), &serde_json::to_vec(&b).unwrap(), &signed.public_key_pem).unwrap();
    }

    #[test]
    fn signing_refuses_a_list_that_is_not_the_folder() {
        let (dir, files) = folder();
        let d = dir.path();
        let mut more = files.clone();
        more.insert("not/there", Sha256Digest::of(b""));
        let e = sign_folder(d, &more, &key(1)).unwrap_err();
        assert!(matches!(&e, Error::ListMismatch { missing, .. } if missing == &["not/there"]), "{e}");
        std::fs::write(d.join("unlisted"), "").unwrap();
        let e = sign_folder(d, &files, &key(1)).unwrap_err();
        assert!(matches!(&e, Error::ListMismatch { extra, .. } if extra == &["unlisted"]), "{e}");
        std::fs::remove_file(d.join("unlisted")).unwrap();
        let mut git = files.clone();
        git.insert(".git/HEAD", Sha256Digest::of(b""));
        assert!(matches!(sign_folder(d, &git, &key(1)), Err(Error::BadPath { .. })));
        let mut bad = files;
        bad.insert("a/../b", Sha256Digest::of(b""));
        assert!(matches!(sign_folder(d, &bad, &key(1)), Err(Error::BadPath { .. })));
        assert!(matches!(sign_folder(d, &FileDigests::new(), &key(1)), Err(Error::NoFiles)));
        let one = digests_of(&d.join("w"));
        assert!(matches!(sign_folder(&d.join("a-c"), &one, &key(1)), Err(Error::NotAFolder { .. })));
    }

    #[test]
    fn public_keys_are_pem_spki_and_p256_only() {
        let pem = public_key_pem(key(1).verifying_key());
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"), "{pem}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
        assert_eq!(key_hint(key(1).verifying_key()), Sha256Digest::of(pem.as_bytes()).to_hex());
        let (dir, files) = folder();
        let signed = sign_folder(dir.path(), &files, &key(1)).unwrap();
        for bad in [P384_PEM, "not a key", ""] {
            let e = verify_folder(dir.path(), &signed.bundle, bad).unwrap_err();
            assert!(matches!(e, Error::BadPublicKey(_)), "{e}");
        }
        // CRLF line ends are the same key (the hint is of the canonical PEM).
        verify_folder(dir.path(), &signed.bundle, &pem.replace('\n', "\r\n")).unwrap();
    }

    #[test]
    fn the_signing_key_is_created_once_encrypted_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/oms.json");
        let made = load_or_create_signing_key(&path, "correct horse").unwrap();
        assert!(made.created);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex_of(&made.key.to_bytes())), "the key is never written in the clear");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let again = load_or_create_signing_key(&path, "correct horse").unwrap();
        assert!(!again.created);
        assert_eq!(again.key, made.key);
        let e = load_or_create_signing_key(&path, "wrong").unwrap_err();
        assert!(matches!(e, Error::Keystore(cairn_chain::Error::WrongPassword { .. })), "{e}");

        // An Ethereum keystore is not taken for it.
        let eth = dir.path().join("eth.json");
        let signer = alloy::signers::local::PrivateKeySigner::random();
        std::fs::write(&eth, Keystore::encrypt(&signer, "p", cairn_chain::keystore::Kdf::Pbkdf2 { c: 1 }).unwrap())
            .unwrap();
        assert!(matches!(load_or_create_signing_key(&eth, "p"), Err(Error::NotSigningKey { .. })));
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
