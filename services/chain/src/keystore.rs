//! Web3 Secret Storage (version 3) keystores, as `cast wallet new`, geth, web3.py and eth-account write them.
//!
//! Every field is validated before any of it is used, and a malformed file is [`Error::BadKeystore`] naming
//! the field (never a panic). The key-derivation cost a file may ask for is capped ([`MAX_SCRYPT_MEMORY`],
//! [`MAX_SCRYPT_BLOCKS`], [`MAX_SCRYPT_WORK`], [`MAX_PBKDF2_ROUNDS`]), so a hostile file cannot exhaust memory or run for hours; a
//! file over a cap is [`Error::KeystoreLimit`].
//!
//! The rules come from the Web3 Secret Storage Definition
//! (<https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/>):
//! derived key `DK = kdf(password, salt)` of `dklen` = 32 bytes, `mac = keccak256(DK[16..32] ++ ciphertext)`,
//! private key = AES-128-CTR(key `DK[0..16]`, `iv`) of the ciphertext. scrypt follows the scrypt paper and
//! geth (`N` a power of two, no RFC 7914 `N < 2^(16·r)` bound: the spec's own vector has `n = 2^18, r = 1`).
//!
//! Decryption costs up to about a second and [`MAX_SCRYPT_MEMORY`]: async code calls it through
//! [`crate::SignerSource::load`], which runs it on tokio's blocking pool.

use std::path::{Path, PathBuf};

use alloy::{
    primitives::{Address, hex, keccak256},
    signers::local::PrivateKeySigner,
};
use ctr::cipher::{KeyIvInit, StreamCipher};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Most bytes of scrypt memory (`128·n·r`, the table scrypt fills) a keystore may ask for: 256 MiB, geth's
/// "standard" parameters (`n = 2^18, r = 8, p = 1`, `keystore.StandardScryptN/P`).
pub const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;

/// Most bytes of scrypt's parallel blocks (`128·r·p`, held beside the table): 1 MiB, so the peak,
/// `128·r·(n + p)`, stays under 257 MiB. Real keystores use `r·p` ≤ 64 (8 KiB).
pub const MAX_SCRYPT_BLOCKS: u64 = 1024 * 1024;

/// Most scrypt work (`n·r·p`, in 128-byte block mixes) a keystore may ask for: `2^22`, twice geth's standard
/// and the spec vector's (`n = 2^18, r = 1, p = 8`), about 2 s on one core with an optimised build.
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;

/// Most PBKDF2-HMAC-SHA256 rounds (`c`) a keystore may ask for: `2^22`, 16× the spec vector's `262144`
/// (a few seconds on one core with an optimised build).
pub const MAX_PBKDF2_ROUNDS: u64 = 1 << 22;

/// Largest keystore file read, in bytes: a v3 keystore is under 1 KiB; anything far larger is not one.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Longest salt accepted, in bytes (writers use 16 or 32).
const MAX_SALT_BYTES: usize = 1024;

/// The derived key length the spec's MAC and cipher need: 16 bytes of AES key + 16 bytes of MAC key.
const DKLEN: u64 = 32;

/// The key-derivation function of a keystore and its (validated, capped) parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// scrypt with `n = 2^log_n`.
    Scrypt {
        /// log₂ of the cost `n`.
        log_n: u8,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
    },
    /// PBKDF2 with HMAC-SHA256.
    Pbkdf2 {
        /// Rounds.
        c: u32,
    },
}

/// A keystore file, parsed and validated but not decrypted.
#[derive(Clone)]
pub struct Keystore {
    path: PathBuf,
    kdf: Kdf,
    salt: Vec<u8>,
    iv: [u8; 16],
    ciphertext: [u8; 32],
    mac: [u8; 32],
    address: Option<Address>,
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field("path", &self.path)
            .field("kdf", &self.kdf)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Keystore {
    /// Reads and validates `path` (blocking file I/O; no key derivation yet).
    pub fn read(path: &Path) -> Result<Self> {
        let missing = || {
            Error::Signer(format!(
                "keystore {} does not exist; create one with `cast wallet new <dir>` or `cast wallet import`",
                path.display()
            ))
        };
        let meta = std::fs::metadata(path).map_err(|_| missing())?;
        if !meta.is_file() {
            return Err(missing());
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(bad(
                path,
                "(file)",
                format!("is {} bytes: expected a JSON keystore of under {MAX_FILE_BYTES} bytes", meta.len()),
            ));
        }
        let text = std::fs::read(path).map_err(|e| {
            Error::Signer(format!("cannot read keystore {}: {e}; check its permissions", path.display()))
        })?;
        Self::parse(path, &text)
    }

    /// Validates the JSON text of a keystore; `path` only names it in errors.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Self> {
        let root: Value = serde_json::from_slice(text)
            .map_err(|e| bad(path, "(file)", format!("is not JSON ({e}): expected a Web3 Secret Storage keystore")))?;
        let f = Fields { path };
        let root = f.object(&root, "(file)")?;
        let version = f.get(root, "", "version")?;
        if version.as_u64() != Some(3) {
            return Err(bad(path, "version", format!("is {version}: expected 3 (Web3 Secret Storage version 3)")));
        }
        // geth reads `Crypto` too (MyEtherWallet wrote it capitalised).
        let crypto = match (root.get("crypto"), root.get("Crypto")) {
            (Some(c), _) | (None, Some(c)) => f.object(c, "crypto")?,
            (None, None) => return Err(bad(path, "crypto", "is missing")),
        };
        let cipher = f.string(f.get(crypto, "crypto", "cipher")?, "crypto.cipher")?;
        if cipher != "aes-128-ctr" {
            return Err(bad(path, "crypto.cipher", format!("is {cipher:?}: expected \"aes-128-ctr\"")));
        }
        let cipherparams = f.object(f.get(crypto, "crypto", "cipherparams")?, "crypto.cipherparams")?;
        let iv = f.hex_exact::<16>(f.get(cipherparams, "crypto.cipherparams", "iv")?, "crypto.cipherparams.iv")?;
        let ciphertext = f.hex_exact::<32>(f.get(crypto, "crypto", "ciphertext")?, "crypto.ciphertext")?;
        let mac = f.hex_exact::<32>(f.get(crypto, "crypto", "mac")?, "crypto.mac")?;

        let kdf_name = f.string(f.get(crypto, "crypto", "kdf")?, "crypto.kdf")?;
        let params = f.object(f.get(crypto, "crypto", "kdfparams")?, "crypto.kdfparams")?;
        let p = "crypto.kdfparams";
        let dklen = f.uint(f.get(params, p, "dklen")?, "crypto.kdfparams.dklen")?;
        if dklen != DKLEN {
            return Err(bad(
                path,
                "crypto.kdfparams.dklen",
                format!(
                    "is {dklen}: expected {DKLEN} (the derived key is split into a 16-byte AES key and a 16-byte MAC key)"
                ),
            ));
        }
        let salt = f.hex(f.get(params, p, "salt")?, "crypto.kdfparams.salt")?;
        if salt.is_empty() || salt.len() > MAX_SALT_BYTES {
            return Err(bad(
                path,
                "crypto.kdfparams.salt",
                format!("is {} bytes: expected 1 to {MAX_SALT_BYTES} bytes of hex", salt.len()),
            ));
        }
        let kdf = match kdf_name {
            "scrypt" => {
                let n = f.uint(f.get(params, p, "n")?, "crypto.kdfparams.n")?;
                if n < 2 || !n.is_power_of_two() {
                    return Err(bad(path, "crypto.kdfparams.n", format!("is {n}: expected a power of two above 1")));
                }
                let r = f.uint(f.get(params, p, "r")?, "crypto.kdfparams.r")?;
                let par = f.uint(f.get(params, p, "p")?, "crypto.kdfparams.p")?;
                for (name, v) in [("r", r), ("p", par)] {
                    if v == 0 || v > u64::from(u32::MAX) {
                        return Err(bad(
                            path,
                            &format!("crypto.kdfparams.{name}"),
                            format!("is {v}: expected 1 to {}", u32::MAX),
                        ));
                    }
                }
                let memory = 128u128 * u128::from(n) * u128::from(r);
                if memory > u128::from(MAX_SCRYPT_MEMORY) {
                    return Err(Error::KeystoreLimit {
                        path: path.into(),
                        field: "crypto.kdfparams.n, r".into(),
                        asked: format!("n={n}, r={r}: {} MiB of memory (128·n·r bytes)", memory >> 20),
                        limit: format!("{} MiB (geth's standard n=262144, r=8)", MAX_SCRYPT_MEMORY >> 20),
                    });
                }
                let blocks = 128u128 * u128::from(r) * u128::from(par);
                if blocks > u128::from(MAX_SCRYPT_BLOCKS) {
                    return Err(Error::KeystoreLimit {
                        path: path.into(),
                        field: "crypto.kdfparams.r, p".into(),
                        asked: format!("r={r}, p={par}: {blocks} bytes of parallel blocks (128·r·p)"),
                        limit: format!("{MAX_SCRYPT_BLOCKS} bytes"),
                    });
                }
                let work = u128::from(n) * u128::from(r) * u128::from(par);
                if work > u128::from(MAX_SCRYPT_WORK) {
                    return Err(Error::KeystoreLimit {
                        path: path.into(),
                        field: "crypto.kdfparams.n, r, p".into(),
                        asked: format!("n={n}, r={r}, p={par}: n·r·p = {work}"),
                        limit: format!("n·r·p ≤ {MAX_SCRYPT_WORK}"),
                    });
                }
                Kdf::Scrypt {
                    log_n: u8::try_from(n.trailing_zeros()).expect("a u64 has at most 63 trailing zeros here"),
                    r: u32::try_from(r).expect("checked above"),
                    p: u32::try_from(par).expect("checked above"),
                }
            }
            "pbkdf2" => {
                let prf = f.string(f.get(params, p, "prf")?, "crypto.kdfparams.prf")?;
                if prf != "hmac-sha256" {
                    return Err(bad(path, "crypto.kdfparams.prf", format!("is {prf:?}: expected \"hmac-sha256\"")));
                }
                let c = f.uint(f.get(params, p, "c")?, "crypto.kdfparams.c")?;
                if c == 0 {
                    return Err(bad(path, "crypto.kdfparams.c", "is 0: expected at least 1 round"));
                }
                if c > MAX_PBKDF2_ROUNDS {
                    return Err(Error::KeystoreLimit {
                        path: path.into(),
                        field: "crypto.kdfparams.c".into(),
                        asked: format!("{c} PBKDF2 rounds"),
                        limit: format!("{MAX_PBKDF2_ROUNDS} rounds"),
                    });
                }
                Kdf::Pbkdf2 { c: u32::try_from(c).expect("capped above") }
            }
            other => {
                return Err(bad(path, "crypto.kdf", format!("is {other:?}: expected \"scrypt\" or \"pbkdf2\"")));
            }
        };
        let address = match root.get("address") {
            None | Some(Value::Null) => None,
            Some(v) => Some(Address::from(f.hex_exact::<20>(v, "address")?)),
        };
        Ok(Self { path: path.to_path_buf(), kdf, salt, iv, ciphertext, mac, address })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key-derivation function and its parameters.
    pub fn kdf(&self) -> Kdf {
        self.kdf
    }

    /// The address the file claims (optional in the spec; checked against the key on decryption).
    pub fn address(&self) -> Option<Address> {
        self.address
    }

    /// Derives the key from `password` and decrypts the secp256k1 key (blocking: up to about a second and
    /// [`MAX_SCRYPT_MEMORY`]; async code goes through [`crate::SignerSource::load`]).
    ///
    /// Errors: as [`Keystore::decrypt_secret`]; a secret that is not a secp256k1 key, or an `address` that
    /// is not the key's, is [`Error::BadKeystore`].
    pub fn decrypt(&self, password: &str) -> Result<PrivateKeySigner> {
        let key = self.decrypt_secret(password)?;
        let signer = PrivateKeySigner::from_slice(key.as_slice()).map_err(|_| {
            bad(
                &self.path,
                "crypto.ciphertext",
                "decrypts (MAC correct) to a value that is not a secp256k1 private key",
            )
        })?;
        if let Some(claimed) = self.address
            && claimed != signer.address()
        {
            return Err(bad(
                &self.path,
                "address",
                format!("is {claimed}, but the decrypted key belongs to {}", signer.address()),
            ));
        }
        Ok(signer)
    }

    /// Derives the key from `password` and decrypts the 32-byte secret, whatever key it is (blocking, as
    /// [`Keystore::decrypt`]). The `address` field is not checked here: only a secp256k1 key has one
    /// ([`Keystore::decrypt`] checks it); other secrets, such as the OpenSSF Model Signing P-256 key of
    /// `cairn`, are stored without it ([`Keystore::encrypt_secret`]).
    ///
    /// A MAC that does not match is [`Error::WrongPassword`].
    pub fn decrypt_secret(&self, password: &str) -> Result<Zeroizing<[u8; 32]>> {
        let mut dk = Zeroizing::new([0u8; DKLEN as usize]);
        match self.kdf {
            Kdf::Scrypt { log_n, r, p } => {
                let params = scrypt::Params::new(log_n, r, p).map_err(|e| {
                    bad(&self.path, "crypto.kdfparams", format!("n=2^{log_n}, r={r}, p={p} are refused by scrypt: {e}"))
                })?;
                scrypt::scrypt(password.as_bytes(), &self.salt, &params, dk.as_mut_slice())
                    .expect("a 32-byte output is always valid");
            }
            Kdf::Pbkdf2 { c } => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &self.salt, c, dk.as_mut_slice());
            }
        }
        let mut mac_input = Zeroizing::new(Vec::with_capacity(48));
        mac_input.extend_from_slice(&dk[16..32]);
        mac_input.extend_from_slice(&self.ciphertext);
        if keccak256(mac_input.as_slice()).0 != self.mac {
            return Err(Error::WrongPassword { path: self.path.clone() });
        }
        let mut key = Zeroizing::new(self.ciphertext);
        let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&dk[..16], &self.iv)
            .expect("a 16-byte key and a 16-byte iv are AES-128-CTR's sizes");
        cipher.apply_keystream(key.as_mut_slice());
        Ok(key)
    }
}

/// `N` bytes from the operating system's random source.
fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Signer(format!("the system's random source failed: {e}")))?;
    Ok(bytes)
}

/// The key derivation new keystores get: scrypt with `n = 2^13, r = 8, p = 1`, what `cast wallet new` and
/// eth-keystore write (a fraction of a second to unlock; geth's "light" parameters are `n = 2^12, p = 6`).
pub const NEW_KEYSTORE_KDF: Kdf = Kdf::Scrypt { log_n: 13, r: 8, p: 1 };

impl Keystore {
    /// Encrypts `key` under `password` as a Web3 Secret Storage v3 JSON document (random salt, iv and UUID v4
    /// id; the address included, as geth writes it), readable by [`Keystore::parse`], `cast` and geth.
    /// Blocking: derives the key once.
    ///
    /// Errors: `kdf` parameters scrypt refuses.
    pub fn encrypt(key: &PrivateKeySigner, password: &str, kdf: Kdf) -> Result<String> {
        let secret = Zeroizing::new(key.to_bytes().0);
        encrypt_document(&secret, password, kdf, Some(key.address()))
    }

    /// Encrypts any 32-byte secret (e.g. a P-256 private scalar) under `password` in the same format as
    /// [`Keystore::encrypt`], without an `address` (the spec makes it optional; it names secp256k1 keys only).
    /// [`Keystore::decrypt_secret`] returns the secret. Blocking: derives the key once.
    ///
    /// Errors: `kdf` parameters scrypt refuses.
    pub fn encrypt_secret(secret: &[u8; 32], password: &str, kdf: Kdf) -> Result<String> {
        encrypt_document(secret, password, kdf, None)
    }
}

/// The Web3 Secret Storage v3 document of `secret` under `password`, with `address` when the secret is a
/// secp256k1 key.
fn encrypt_document(secret: &[u8; 32], password: &str, kdf: Kdf, address: Option<Address>) -> Result<String> {
    let salt: [u8; 32] = random()?;
    let iv: [u8; 16] = random()?;
    let mut dk = Zeroizing::new([0u8; DKLEN as usize]);
    let kdfparams = match kdf {
        Kdf::Scrypt { log_n, r, p } => {
            let params = scrypt::Params::new(log_n, r, p)
                .map_err(|e| Error::Signer(format!("scrypt refuses n=2^{log_n}, r={r}, p={p}: {e}")))?;
            scrypt::scrypt(password.as_bytes(), &salt, &params, dk.as_mut_slice())
                .expect("a 32-byte output is always valid");
            serde_json::json!({"dklen": DKLEN, "n": 1u64 << log_n, "p": p, "r": r, "salt": hex::encode(salt)})
        }
        Kdf::Pbkdf2 { c } => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, c, dk.as_mut_slice());
            serde_json::json!({"c": c, "dklen": DKLEN, "prf": "hmac-sha256", "salt": hex::encode(salt)})
        }
    };
    let mut ciphertext = Zeroizing::new(*secret);
    let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new_from_slices(&dk[..16], &iv)
        .expect("a 16-byte key and a 16-byte iv are AES-128-CTR's sizes");
    cipher.apply_keystream(ciphertext.as_mut_slice());
    let mut mac_input = Zeroizing::new(Vec::with_capacity(48));
    mac_input.extend_from_slice(&dk[16..32]);
    mac_input.extend_from_slice(ciphertext.as_slice());
    let mac = keccak256(mac_input.as_slice());
    // An RFC 9562 UUID version 4 from the OS's random bytes.
    let uuid = uuid::Builder::from_random_bytes(random()?).into_uuid().hyphenated().to_string();
    let kdf_name = match kdf {
        Kdf::Scrypt { .. } => "scrypt",
        Kdf::Pbkdf2 { .. } => "pbkdf2",
    };
    // Built field by field so that `address` comes first, as geth writes it, whatever map order serde_json
    // was compiled with.
    let mut doc = Map::new();
    if let Some(address) = address {
        doc.insert("address".into(), hex::encode(address).into());
    }
    doc.insert(
        "crypto".into(),
        serde_json::json!({
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": hex::encode(iv)},
            "ciphertext": hex::encode(ciphertext.as_slice()),
            "kdf": kdf_name,
            "kdfparams": kdfparams,
            "mac": hex::encode(mac),
        }),
    );
    doc.insert("id".into(), uuid.into());
    doc.insert("version".into(), 3.into());
    let doc = Value::Object(doc);
    Ok(serde_json::to_string_pretty(&doc).expect("a JSON value serialises"))
}

fn bad(path: &Path, field: &str, detail: impl Into<String>) -> Error {
    Error::BadKeystore { path: path.to_path_buf(), field: field.to_string(), detail: detail.into() }
}

/// Typed access to JSON fields with errors naming the field.
struct Fields<'p> {
    path: &'p Path,
}

impl Fields<'_> {
    fn get<'v>(&self, obj: &'v Map<String, Value>, parent: &str, key: &str) -> Result<&'v Value> {
        let name = if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") };
        obj.get(key).ok_or_else(|| bad(self.path, &name, "is missing"))
    }

    fn object<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>> {
        v.as_object()
            .ok_or_else(|| bad(self.path, field, format!("is {}: expected an object", cairn_primitives::json_kind(v))))
    }

    fn string<'v>(&self, v: &'v Value, field: &str) -> Result<&'v str> {
        v.as_str()
            .ok_or_else(|| bad(self.path, field, format!("is {}: expected a string", cairn_primitives::json_kind(v))))
    }

    fn uint(&self, v: &Value, field: &str) -> Result<u64> {
        v.as_u64().ok_or_else(|| bad(self.path, field, format!("is {v}: expected a non-negative integer")))
    }

    fn hex(&self, v: &Value, field: &str) -> Result<Vec<u8>> {
        let s = self.string(v, field)?;
        hex::decode(s).map_err(|e| bad(self.path, field, format!("is not hex ({e})")))
    }

    fn hex_exact<const N: usize>(&self, v: &Value, field: &str) -> Result<[u8; N]> {
        let bytes = self.hex(v, field)?;
        <[u8; N]>::try_from(bytes.as_slice())
            .map_err(|_| bad(self.path, field, format!("is {} bytes: expected {N} bytes of hex", bytes.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's PBKDF2 vector with its `c` lowered to 1 (the MAC no longer matches the password; only
    /// validation is exercised here — decryption is tested against the real vectors in tests/it).
    const PBKDF2: &str = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},"ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2","kdfparams":{"c":1,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},"mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;

    /// A change to a keystore's JSON.
    type Edit = Box<dyn FnOnce(&mut Value)>;

    fn with(edit: impl FnOnce(&mut Value)) -> Result<Keystore> {
        let mut v: Value = serde_json::from_str(PBKDF2).unwrap();
        edit(&mut v);
        Keystore::parse(Path::new("k.json"), v.to_string().as_bytes())
    }

    fn field_of(r: Result<Keystore>) -> String {
        match r {
            Err(Error::BadKeystore { field, .. }) => field,
            Err(Error::KeystoreLimit { field, .. }) => format!("limit {field}"),
            other => panic!("expected a keystore error, got {other:?}"),
        }
    }

    #[test]
    fn encrypted_keystores_decrypt_to_the_same_key_and_only_with_the_password() {
        let key = PrivateKeySigner::random();
        for kdf in [NEW_KEYSTORE_KDF, Kdf::Pbkdf2 { c: 1000 }] {
            let text = Keystore::encrypt(&key, "correct horse", kdf).unwrap();
            let k = Keystore::parse(Path::new("new.json"), text.as_bytes()).unwrap();
            assert_eq!(k.kdf(), kdf);
            assert_eq!(k.address(), Some(key.address()));
            assert_eq!(k.decrypt("correct horse").unwrap().address(), key.address());
            assert!(matches!(k.decrypt("wrong"), Err(Error::WrongPassword { .. })));
            let v: Value = serde_json::from_str(&text).unwrap();
            let id = v["id"].as_str().unwrap();
            assert_eq!((id.len(), &id[14..15]), (36, "4"), "a UUID version 4: {id}");
            assert!(!text.contains(&hex::encode(key.to_bytes())), "the key is never written in the clear");
        }
        // Two encryptions of one key differ (fresh salt and iv).
        let (a, b) = (
            Keystore::encrypt(&key, "p", NEW_KEYSTORE_KDF).unwrap(),
            Keystore::encrypt(&key, "p", NEW_KEYSTORE_KDF).unwrap(),
        );
        assert_ne!(a, b);
    }

    #[test]
    fn any_32_byte_secret_round_trips_without_an_address() {
        let secret = [7u8; 32];
        for kdf in [NEW_KEYSTORE_KDF, Kdf::Pbkdf2 { c: 1000 }] {
            let text = Keystore::encrypt_secret(&secret, "correct horse", kdf).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            assert!(v.get("address").is_none(), "only secp256k1 keystores name an address: {text}");
            let k = Keystore::parse(Path::new("secret.json"), text.as_bytes()).unwrap();
            assert_eq!((k.kdf(), k.address()), (kdf, None));
            assert_eq!(*k.decrypt_secret("correct horse").unwrap(), secret);
            assert!(matches!(k.decrypt_secret("wrong"), Err(Error::WrongPassword { .. })));
            assert!(!text.contains(&hex::encode(secret)), "the secret is never written in the clear");
        }
        // A secp256k1 keystore's secret is its private key, and `address` still comes first.
        let key = PrivateKeySigner::random();
        let text = Keystore::encrypt(&key, "p", Kdf::Pbkdf2 { c: 1 }).unwrap();
        assert!(text.trim_start_matches(['{', '\n', ' ']).starts_with("\"address\""), "{text}");
        let k = Keystore::parse(Path::new("k.json"), text.as_bytes()).unwrap();
        assert_eq!(*k.decrypt_secret("p").unwrap(), key.to_bytes().0);
    }

    #[test]
    fn decrypt_checks_the_address_of_a_secp256k1_key() {
        let key = PrivateKeySigner::random();
        let mut v: Value = serde_json::from_str(&Keystore::encrypt(&key, "p", Kdf::Pbkdf2 { c: 1 }).unwrap()).unwrap();
        v["address"] = hex::encode(PrivateKeySigner::random().address()).into();
        let k = Keystore::parse(Path::new("k.json"), v.to_string().as_bytes()).unwrap();
        assert_eq!(field_of(k.decrypt("p").map(|_| k.clone())), "address");
        // The secret itself is still readable: the address names secp256k1 keys only.
        assert_eq!(*k.decrypt_secret("p").unwrap(), key.to_bytes().0);
    }

    #[test]
    fn the_control_parses() {
        let k = with(|_| {}).unwrap();
        assert_eq!(k.kdf(), Kdf::Pbkdf2 { c: 1 });
        let k = with(|v| v["crypto"]["kdfparams"]["c"] = 262_144.into()).unwrap();
        assert_eq!(k.kdf(), Kdf::Pbkdf2 { c: 262_144 });
        // `Crypto` (MyEtherWallet's spelling) is read as geth reads it.
        let k = with(|v| {
            let c = v.as_object_mut().unwrap().remove("crypto").unwrap();
            v["Crypto"] = c;
        });
        assert!(k.is_ok(), "{k:?}");
    }

    #[test]
    fn every_malformed_field_is_named() {
        let cases: Vec<(&str, Edit)> = vec![
            ("version", Box::new(|v| v["version"] = 1.into())),
            ("version", Box::new(|v| v["version"] = "3".into())),
            ("version", Box::new(|v| drop(v.as_object_mut().unwrap().remove("version")))),
            ("crypto", Box::new(|v| drop(v.as_object_mut().unwrap().remove("crypto")))),
            ("crypto", Box::new(|v| v["crypto"] = "x".into())),
            ("crypto.cipher", Box::new(|v| v["crypto"]["cipher"] = "aes-256-gcm".into())),
            ("crypto.cipherparams.iv", Box::new(|v| v["crypto"]["cipherparams"]["iv"] = "6087dab2".into())),
            ("crypto.cipherparams.iv", Box::new(|v| v["crypto"]["cipherparams"]["iv"] = "zz".into())),
            ("crypto.cipherparams", Box::new(|v| v["crypto"]["cipherparams"] = Value::Null)),
            ("crypto.ciphertext", Box::new(|v| v["crypto"]["ciphertext"] = "5318b4d5bcd28de6".into())),
            ("crypto.ciphertext", Box::new(|v| v["crypto"]["ciphertext"] = "not hex".into())),
            ("crypto.mac", Box::new(|v| v["crypto"]["mac"] = "517ead92".into())),
            ("crypto.mac", Box::new(|v| v["crypto"]["mac"] = 7.into())),
            ("crypto.kdf", Box::new(|v| v["crypto"]["kdf"] = "argon2id".into())),
            ("crypto.kdfparams.dklen", Box::new(|v| v["crypto"]["kdfparams"]["dklen"] = 16.into())),
            ("crypto.kdfparams.dklen", Box::new(|v| v["crypto"]["kdfparams"]["dklen"] = 64.into())),
            ("crypto.kdfparams.dklen", Box::new(|v| v["crypto"]["kdfparams"]["dklen"] = (-32).into())),
            ("crypto.kdfparams.salt", Box::new(|v| v["crypto"]["kdfparams"]["salt"] = "".into())),
            ("crypto.kdfparams.salt", Box::new(|v| v["crypto"]["kdfparams"]["salt"] = "ab".repeat(2000).into())),
            ("crypto.kdfparams.prf", Box::new(|v| v["crypto"]["kdfparams"]["prf"] = "hmac-sha512".into())),
            ("crypto.kdfparams.c", Box::new(|v| v["crypto"]["kdfparams"]["c"] = 0.into())),
            ("crypto.kdfparams.c", Box::new(|v| v["crypto"]["kdfparams"]["c"] = 1.5.into())),
            ("limit crypto.kdfparams.c", Box::new(|v| v["crypto"]["kdfparams"]["c"] = u64::MAX.into())),
            ("address", Box::new(|v| v["address"] = "0x1234".into())),
        ];
        for (expected, edit) in cases {
            assert_eq!(field_of(with(edit)), expected);
        }
    }

    fn scrypt(n: u64, r: u64, p: u64) -> Result<Keystore> {
        with(|v| {
            v["crypto"]["kdf"] = "scrypt".into();
            v["crypto"]["kdfparams"] =
                serde_json::json!({"dklen": 32, "n": n, "r": r, "p": p, "salt": "ab0c7876052600dd703518d6fc3fe898"});
        })
    }

    #[test]
    fn scrypt_parameters_are_checked_and_capped() {
        // The spec vector, geth's standard and light parameters, cast's: all allowed.
        for (n, r, p) in [(1 << 18, 1, 8), (1 << 18, 8, 1), (1 << 12, 8, 6), (1 << 13, 8, 1)] {
            let k = scrypt(n, r, p).unwrap();
            assert_eq!(k.kdf(), Kdf::Scrypt { log_n: n.trailing_zeros() as u8, r: r as u32, p: p as u32 });
        }
        assert_eq!(field_of(scrypt(1000, 8, 1)), "crypto.kdfparams.n");
        assert_eq!(field_of(scrypt(1, 8, 1)), "crypto.kdfparams.n");
        assert_eq!(field_of(scrypt(1 << 10, 0, 1)), "crypto.kdfparams.r");
        assert_eq!(field_of(scrypt(1 << 10, 8, 0)), "crypto.kdfparams.p");
        assert_eq!(field_of(scrypt(1 << 10, 8, 1 << 33)), "crypto.kdfparams.p");
        // 512 MiB of memory; 2^63 · 2^32 would overflow a u64.
        assert_eq!(field_of(scrypt(1 << 19, 8, 1)), "limit crypto.kdfparams.n, r");
        assert_eq!(field_of(scrypt(1 << 63, u64::from(u32::MAX), 1)), "limit crypto.kdfparams.n, r");
        // 32 MiB but 2^18 · 1 · 64 block mixes.
        assert_eq!(field_of(scrypt(1 << 18, 1, 64)), "limit crypto.kdfparams.n, r, p");
        // A tiny table, but 256 MiB of parallel blocks (2 · 1 · 2^21 block mixes would pass the work cap).
        assert_eq!(field_of(scrypt(2, 1, 1 << 21)), "limit crypto.kdfparams.r, p");
        let Err(e) = scrypt(1 << 20, 8, 1) else { panic!() };
        let text = e.to_string();
        assert!(text.contains("1024 MiB") && text.contains("256 MiB") && text.contains("cast wallet"), "{text}");
    }

    #[test]
    fn not_json_and_wrong_shapes_are_errors_not_panics() {
        for text in ["", "[]", "null", "{", "{\"version\":3}", "{\"version\":3,\"crypto\":{}}"] {
            let e = Keystore::parse(Path::new("k.json"), text.as_bytes()).unwrap_err();
            assert!(matches!(e, Error::BadKeystore { .. }), "{text}: {e}");
        }
    }
}
