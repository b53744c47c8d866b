//! Loading the signing key. Production: a Web3 Secret Storage keystore (`cast wallet new`/`import` write
//! them) with its password from a file or typed at a prompt. Development: a hex private key in an
//! environment variable (`CAIRN_PRIVATE_KEY` by default). The key itself is never printed or logged.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use alloy::signers::local::{LocalSignerError, PrivateKeySigner};

use crate::{Error, Result};

/// Where the keystore's password comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The first line of this file.
    File(PathBuf),
    /// Typed at the terminal (not echoed).
    Prompt,
    /// Given directly (tests, or a caller that already read it). Never printed.
    Literal(String),
}

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "File({})", p.display()),
            Self::Prompt => f.write_str("Prompt"),
            Self::Literal(_) => f.write_str("Literal(<redacted>)"),
        }
    }
}

/// Where the signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerSource {
    /// A Web3 Secret Storage keystore file.
    Keystore {
        /// The file.
        path: PathBuf,
        /// Its password.
        password: PasswordSource,
    },
    /// A hex private key in this environment variable (development only).
    Env(String),
}

impl SignerSource {
    /// The default development source: `CAIRN_PRIVATE_KEY`.
    pub fn env_default() -> Self {
        Self::Env("CAIRN_PRIVATE_KEY".into())
    }

    /// Loads the key.
    pub fn load(&self) -> Result<PrivateKeySigner> {
        match self {
            Self::Keystore { path, password } => load_keystore(path, password),
            Self::Env(var) => {
                let value = std::env::var(var).map_err(|_| {
                    Error::Signer(format!(
                        "environment variable {var} is not set; export a hex private key in it (development), or use --keystore <file>"
                    ))
                })?;
                value.trim().parse::<PrivateKeySigner>().map_err(|_| {
                    Error::Signer(format!("{var} does not hold a hex private key (64 hex digits, optional 0x)"))
                })
            }
        }
    }
}

fn load_keystore(path: &Path, password: &PasswordSource) -> Result<PrivateKeySigner> {
    if !path.is_file() {
        return Err(Error::Signer(format!(
            "keystore {} does not exist; create one with `cast wallet new <dir>` or `cast wallet import`",
            path.display()
        )));
    }
    let password = match password {
        PasswordSource::Literal(p) => p.clone(),
        PasswordSource::File(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Error::Signer(format!("cannot read password file {}: {e}", file.display())))?;
            text.lines().next().unwrap_or_default().to_string()
        }
        PasswordSource::Prompt => {
            rpassword::prompt_password(format!("Password for {}: ", path.display())).map_err(|e| {
                Error::Signer(format!("cannot read the password from the terminal: {e}; use --password-file"))
            })?
        }
    };
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| match e {
        // eth-keystore's MacMismatch: the password does not open this file.
        LocalSignerError::EthKeystoreError(e) if e.to_string().contains("Mac Mismatch") => {
            Error::WrongPassword { path: path.to_path_buf() }
        }
        other => Error::Signer(format!("keystore {}: {other}", path.display())),
    })
}
