//! Where the signing key comes from. Production: a Web3 Secret Storage keystore (`cast wallet new`/`import`
//! write them; see [`crate::keystore`]) with its password from a file or typed at a prompt. Development: a
//! hex private key in an environment variable (`CAIRN_PRIVATE_KEY` by default). The key itself is never
//! printed or logged.
//!
//! Binaries take a source from the command line ([`crate::args::SignerArgs`]) or from a config file: a
//! [`SignerSource`] deserialises from `{ keystore = "<file>", password_file = "<file>" }` (no
//! `password_file`: typed at a prompt) or `{ env = "<VARIABLE>" }`, so one config can hold several keys
//! (the runner's hot signer and stake owner).

use std::{
    fmt,
    path::{Path, PathBuf},
};

use alloy::signers::local::PrivateKeySigner;
use serde::Deserialize;

use crate::{Error, Result, keystore::Keystore};

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
///
/// In a config file (serde): `{ keystore = "<file>", password_file = "<file>" }`, `{ keystore = "<file>" }`
/// (password typed at a prompt) or `{ env = "<VARIABLE>" }`. Relative paths are relative to the working
/// directory; [`SignerSource::relative_to`] makes them relative to the config file's folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "SignerSourceConfig")]
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

/// The config-file form of a [`SignerSource`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerSourceConfig {
    keystore: Option<PathBuf>,
    password_file: Option<PathBuf>,
    env: Option<String>,
}

const SHAPES: &str = "a signer is `{ keystore = \"<file>\", password_file = \"<file>\" }` (password_file optional: prompt) or `{ env = \"<VARIABLE>\" }`";

impl TryFrom<SignerSourceConfig> for SignerSource {
    type Error = String;

    fn try_from(c: SignerSourceConfig) -> Result<Self, String> {
        match (c.keystore, c.password_file, c.env) {
            (Some(path), password_file, None) => Ok(Self::Keystore {
                path,
                password: password_file.map_or(PasswordSource::Prompt, PasswordSource::File),
            }),
            (None, None, Some(var)) if !var.trim().is_empty() => Ok(Self::Env(var)),
            (None, None, Some(_)) => Err(format!("`env` is empty: expected a variable name; {SHAPES}")),
            (Some(_), _, Some(_)) => Err(format!("both `keystore` and `env` are given: choose one; {SHAPES}")),
            (None, Some(_), _) => Err(format!("`password_file` is given without `keystore`; {SHAPES}")),
            (None, None, None) => Err(format!("neither `keystore` nor `env` is given; {SHAPES}")),
        }
    }
}

impl SignerSource {
    /// The default development source: `CAIRN_PRIVATE_KEY`.
    pub fn env_default() -> Self {
        Self::Env("CAIRN_PRIVATE_KEY".into())
    }

    /// Makes relative keystore and password paths relative to `dir` (a config file's folder).
    pub fn relative_to(self, dir: &Path) -> Self {
        match self {
            Self::Keystore { path, password } => Self::Keystore {
                path: dir.join(path),
                password: match password {
                    PasswordSource::File(p) => PasswordSource::File(dir.join(p)),
                    other => other,
                },
            },
            env => env,
        }
    }

    /// Loads the key on tokio's blocking pool: keystore decryption takes up to about a second and 256 MiB
    /// (see [`crate::keystore`]), and a prompt waits for the terminal; neither may stall the async runtime.
    pub async fn load(&self) -> Result<PrivateKeySigner> {
        let source = self.clone();
        tokio::task::spawn_blocking(move || source.load_blocking())
            .await
            .map_err(|e| Error::Signer(format!("loading the signing key stopped before it finished: {e}")))?
    }

    /// Loads the key on the current thread (blocking; from async code use [`SignerSource::load`]).
    ///
    /// A keystore is read and validated before its password is read, so a malformed file fails without a
    /// prompt.
    pub fn load_blocking(&self) -> Result<PrivateKeySigner> {
        match self {
            Self::Keystore { path, password } => {
                let keystore = Keystore::read(path)?;
                let password = read_password(path, password)?;
                keystore.decrypt(&password)
            }
            Self::Env(var) => {
                let value = std::env::var(var).map_err(|_| {
                    Error::Signer(format!(
                        "environment variable {var} is not set; export a hex private key in it (development), or use a keystore: --keystore <file> on the command line, `{{ keystore = \"…\", password_file = \"…\" }}` in a config file"
                    ))
                })?;
                value.trim().parse::<PrivateKeySigner>().map_err(|_| {
                    Error::Signer(format!("{var} does not hold a hex private key (64 hex digits, optional 0x)"))
                })
            }
        }
    }
}

/// The password in `file`: its first line (a trailing newline is not part of it).
///
/// Errors: [`Error::Signer`] naming the file when it cannot be read.
pub fn read_password_file(file: &Path) -> Result<String> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(file)
            .map_err(|e| Error::Signer(format!("cannot read password file {}: {e}", file.display())))?,
    );
    Ok(text.lines().next().unwrap_or_default().to_string())
}

fn read_password(keystore: &Path, password: &PasswordSource) -> Result<zeroize::Zeroizing<String>> {
    Ok(zeroize::Zeroizing::new(match password {
        PasswordSource::Literal(p) => p.clone(),
        PasswordSource::File(file) => read_password_file(file)?,
        PasswordSource::Prompt => rpassword::prompt_password(format!("Password for {}: ", keystore.display()))
            .map_err(|e| {
                Error::Signer(format!("cannot read the password from the terminal: {e}; use --password-file"))
            })?,
    }))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::RpcArgs;

    /// The operators' runner's shape: one chain, two keys.
    #[derive(Debug, Deserialize)]
    struct RunnerConfig {
        hot_signer: SignerSource,
        stake_owner: SignerSource,
        chain: RpcArgs,
    }

    #[test]
    fn a_config_file_holds_two_signers() {
        let config: RunnerConfig = toml::from_str(
            r#"
            hot_signer = { env = "CAIRN_OPERATOR_KEY" }
            stake_owner = { keystore = "keys/owner.json", password_file = "keys/owner.pass" }
            [chain]
            rpc_url = "https://l2.example"
            "#,
        )
        .unwrap();
        assert_eq!(config.hot_signer, SignerSource::Env("CAIRN_OPERATOR_KEY".into()));
        assert_eq!(
            config.stake_owner.clone().relative_to(Path::new("/etc/cairn")),
            SignerSource::Keystore {
                path: "/etc/cairn/keys/owner.json".into(),
                password: PasswordSource::File("/etc/cairn/keys/owner.pass".into()),
            }
        );
        assert_eq!(config.chain.rpc_url, "https://l2.example");
        let prompt: SignerSource = toml::from_str("keystore = \"/k.json\"").unwrap();
        assert_eq!(prompt, SignerSource::Keystore { path: "/k.json".into(), password: PasswordSource::Prompt });
    }

    #[test]
    fn ambiguous_or_unknown_signer_entries_are_refused_with_the_shapes() {
        for (text, says) in [
            ("keystore = \"k\"\nenv = \"K\"", "both `keystore` and `env`"),
            ("", "neither `keystore` nor `env`"),
            ("password_file = \"p\"", "without `keystore`"),
            ("env = \" \"", "`env` is empty"),
            ("keystore = \"k\"\npasswd_file = \"p\"", "passwd_file"),
        ] {
            let err = toml::from_str::<SignerSource>(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
        let err = toml::from_str::<SignerSource>("env = \"K\"\npassword_file = \"p\"").unwrap_err().to_string();
        assert!(err.contains("without `keystore`"), "{err}");
    }

    #[test]
    fn an_unset_key_variable_names_both_keystore_forms() {
        let var = "CAIRN_TEST_KEY_THAT_IS_NEVER_SET";
        let err = SignerSource::Env(var.into()).load_blocking().unwrap_err().to_string();
        assert!(err.contains(&format!("environment variable {var} is not set")), "{err}");
        // A CLI user and a config file's user (cairn-runner) each find their own form.
        assert!(err.contains("--keystore <file>") && err.contains("{ keystore = "), "{err}");
    }
}
