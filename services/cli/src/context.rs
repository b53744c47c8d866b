//! The options every command shares and where their values come from.
//!
//! Precedence, highest first: a flag, its `CAIRN_*` environment variable, the config file
//! (`--config`, `CAIRN_CONFIG`, else `~/.config/cairn/config.toml` when it exists), the devnet that
//! `make devnet` started (found by walking up from the working directory to a `.devnet/state.json`), and
//! last the built-in defaults (anvil's and Kubo's local ports, `./deployments`). `cairn config show` prints
//! each resolved value with where it came from, secrets redacted.
//!
//! Who signs: `--keystore` (+ `--password-file`, else a prompt), or `--account <role>` for a key the devnet
//! seeded (`seller`, `buyer`, `operator-0`, …; devnet only: those keys are derived from public labels), or
//! a hex key in `CAIRN_PRIVATE_KEY` (development).

use std::{
    fmt,
    path::{Path, PathBuf},
};

use alloy::{
    primitives::{Address, B256},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context as _, bail};
use cairn_chain::{Chain, ChainOptions, Deployments, PasswordSource, SignerSource};
use serde::{Deserialize, Serialize};

use crate::{UsageError, output::Output};

/// The RPC URL when nothing else names one (anvil's default port).
pub const DEFAULT_RPC_URL: &str = cairn_chain::args::DEFAULT_RPC_URL;
/// Kubo's RPC API when nothing else names one (its default port).
pub const DEFAULT_IPFS_API: &str = "http://127.0.0.1:5001";
/// cairn-indexer's API when nothing else names one (`make devnet`'s port).
pub const DEFAULT_INDEXER_URL: &str = "http://127.0.0.1:8088";
/// The environment variable holding a development key.
pub const PRIVATE_KEY_ENV: &str = "CAIRN_PRIVATE_KEY";

/// Options every command takes (each may also be given after the subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Print JSON (stable field names) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not ask for confirmation before sending transactions (for scripts).
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// Config file [default: ~/.config/cairn/config.toml when it exists].
    #[arg(long, env = "CAIRN_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// JSON-RPC endpoint of the chain, http(s):// or ws(s):// [default: the devnet's, else http://127.0.0.1:8545].
    #[arg(long, env = "CAIRN_RPC_URL", global = true, value_name = "URL")]
    pub rpc_url: Option<String>,
    /// Deployments file (`<chainId>.json`, as cairn-deploy writes it) or the folder holding it
    /// [default: the devnet's, else ./deployments].
    #[arg(long, env = "CAIRN_DEPLOYMENTS", global = true, value_name = "FILE|DIR")]
    pub deployments: Option<PathBuf>,
    /// Kubo RPC API [default: the devnet's, else http://127.0.0.1:5001].
    #[arg(long, env = "CAIRN_IPFS_API", global = true, value_name = "URL")]
    pub ipfs_api: Option<String>,
    /// cairn-indexer's API, read by `job list|status` and `audit` [default: the devnet's, else
    /// http://127.0.0.1:8088].
    #[arg(long, env = "CAIRN_INDEXER_URL", global = true, value_name = "URL")]
    pub indexer_url: Option<String>,
    /// Web3 Secret Storage keystore of the sending account (`cairn wallet new` or `cast wallet new` write one).
    #[arg(long, env = "CAIRN_KEYSTORE", global = true, value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// File whose first line is the keystore's password (else you are prompted; never echoed).
    #[arg(long, env = "CAIRN_PASSWORD_FILE", global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// A key the devnet seeded, by role: seller, buyer, operator-0, verifier-0, … (devnet only).
    #[arg(long, env = "CAIRN_ACCOUNT", global = true, value_name = "ROLE")]
    pub account: Option<String>,
    /// Seconds to wait for each transaction's receipt [default: 120].
    #[arg(long, env = "CAIRN_RECEIPT_TIMEOUT", global = true, value_name = "SECONDS")]
    pub receipt_timeout: Option<u64>,
}

/// The config file: every key optional, the same names as the flags with underscores. Relative paths are
/// relative to the file's folder.
///
/// ```toml
/// rpc_url = "https://sepolia.base.org"
/// deployments = "deployments/84532.json"
/// ipfs_api = "http://127.0.0.1:5001"
/// indexer_url = "http://127.0.0.1:8088"
/// keystore = "keys/seller.json"
/// password_file = "keys/seller.pass"
/// receipt_timeout = 300
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// JSON-RPC endpoint.
    pub rpc_url: Option<String>,
    /// Deployments file or folder.
    pub deployments: Option<PathBuf>,
    /// Kubo RPC API.
    pub ipfs_api: Option<String>,
    /// cairn-indexer's API.
    pub indexer_url: Option<String>,
    /// Keystore file.
    pub keystore: Option<PathBuf>,
    /// Password file.
    pub password_file: Option<PathBuf>,
    /// Devnet role.
    pub account: Option<String>,
    /// Receipt timeout, seconds.
    pub receipt_timeout: Option<u64>,
}

impl FileConfig {
    /// Reads and parses `path`.
    ///
    /// Errors: unreadable, not TOML, an unknown key (named, with the keys that exist).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
        let mut config: Self = toml::from_str(&text).map_err(|e| {
            UsageError(format!(
                "config file {}: {}; keys are rpc_url, deployments, ipfs_api, indexer_url, keystore, password_file, account, \
                 receipt_timeout",
                path.display(),
                e.message()
            ))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in [&mut config.deployments, &mut config.keystore, &mut config.password_file].into_iter().flatten() {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(config)
    }
}

/// The devnet `make devnet` runs, found from its state file.
#[derive(Debug, Clone)]
pub struct Devnet {
    /// The checkout that runs it.
    pub root: PathBuf,
    /// anvil's URL.
    pub rpc_url: String,
    /// Kubo's RPC API.
    pub ipfs_api: String,
    /// cairn-indexer's API, when the devnet runs one.
    pub indexer_url: Option<String>,
}

#[derive(Deserialize)]
struct DevnetState {
    anvil_url: String,
    kubo_url: String,
    #[serde(default)]
    indexer_url: Option<String>,
}

/// One seeded devnet account, as `cairn-deploy seed` writes `.devnet/accounts.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetAccount {
    /// Its role: seller, buyer, operator-N, verifier-N.
    pub role: String,
    /// Its address.
    pub address: Address,
    /// Its key (devnet only).
    pub private_key: B256,
    /// An operator's signer (hot) key.
    #[serde(default)]
    pub signer_key: Option<B256>,
}

impl Devnet {
    /// The devnet whose `.devnet/state.json` is in `dir` or a folder above it.
    pub fn find(dir: &Path) -> Option<Self> {
        dir.ancestors().find_map(|d| {
            let text = std::fs::read_to_string(d.join(".devnet/state.json")).ok()?;
            let state: DevnetState = serde_json::from_str(&text).ok()?;
            Some(Self {
                root: d.to_path_buf(),
                rpc_url: state.anvil_url,
                ipfs_api: state.kubo_url,
                indexer_url: state.indexer_url,
            })
        })
    }

    /// `deployments/` of the checkout.
    pub fn deployments(&self) -> PathBuf {
        self.root.join("deployments")
    }

    /// The seeded accounts.
    ///
    /// Errors: the file is missing (the devnet was not seeded) or unreadable.
    pub fn accounts(&self) -> anyhow::Result<Vec<DevnetAccount>> {
        let path = self.root.join(".devnet/accounts.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (seeded by `make devnet`)", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A flag on the command line.
    Flag,
    /// The named environment variable.
    Env(&'static str),
    /// The config file.
    ConfigFile,
    /// The running devnet.
    Devnet,
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("flag"),
            Self::Env(name) => write!(f, "env {name}"),
            Self::ConfigFile => f.write_str("config file"),
            Self::Devnet => f.write_str("devnet"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// A resolved value and its origin.
#[derive(Debug, Clone, Serialize)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub origin: Origin,
}

/// Who signs.
#[derive(Debug, Clone)]
pub enum SignerChoice {
    /// A keystore, or a key in an environment variable.
    Source(SignerSource),
    /// A seeded devnet account.
    Devnet {
        /// Its role.
        role: String,
        /// Its address.
        address: Address,
        /// Its key.
        key: B256,
    },
    /// Nothing configured: commands that send fail with what to do.
    None,
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
    /// JSON-RPC endpoint.
    pub rpc_url: Setting<String>,
    /// Deployments file or folder.
    pub deployments: Setting<PathBuf>,
    /// Kubo RPC API.
    pub ipfs_api: Setting<String>,
    /// cairn-indexer's API.
    pub indexer_url: Setting<String>,
    /// Receipt timeout, seconds.
    pub receipt_timeout: Setting<u64>,
    /// Who signs, and where that came from.
    pub signer: Setting<SignerChoice>,
    /// The devnet found, if any.
    pub devnet: Option<Devnet>,
    /// `--password-file` (or the config file's): the keystore's password, or a new keystore's.
    pub password_file: Option<PathBuf>,
}

/// Which origin a clap value (flag or its env var) had: the env var when it is set to this very value.
fn cli_origin(env: &'static str, value: &str) -> Origin {
    match std::env::var(env) {
        Ok(v) if v == value => Origin::Env(env),
        _ => Origin::Flag,
    }
}

fn pick<T: Clone>(
    cli: Option<T>,
    env: &'static str,
    shown: impl Fn(&T) -> String,
    file: Option<T>,
    devnet: Option<T>,
    default: T,
) -> Setting<T> {
    if let Some(v) = cli {
        let origin = cli_origin(env, &shown(&v));
        return Setting { value: v, origin };
    }
    if let Some(v) = file {
        return Setting { value: v, origin: Origin::ConfigFile };
    }
    if let Some(v) = devnet {
        return Setting { value: v, origin: Origin::Devnet };
    }
    Setting { value: default, origin: Origin::Default }
}

impl Settings {
    /// Resolves `args` against the config file, the devnet found from `cwd`, and the defaults.
    ///
    /// Errors: a config file named but unreadable or invalid; `--keystore` together with `--account`;
    /// `--password-file` without a keystore; an `--account` role the devnet did not seed, or no devnet.
    pub fn resolve(args: &GlobalArgs, cwd: &Path) -> anyhow::Result<Self> {
        let (config_file, file) = match &args.config {
            Some(path) => (Some(path.clone()), FileConfig::read(path)?),
            None => match dirs::config_dir().map(|d| d.join("cairn/config.toml")).filter(|p| p.is_file()) {
                Some(path) => {
                    let config = FileConfig::read(&path)?;
                    (Some(path), config)
                }
                None => (None, FileConfig::default()),
            },
        };
        let devnet = Devnet::find(cwd);
        let show_path = |p: &PathBuf| p.display().to_string();
        let rpc_url = pick(
            args.rpc_url.clone(),
            "CAIRN_RPC_URL",
            String::clone,
            file.rpc_url.clone(),
            devnet.as_ref().map(|d| d.rpc_url.clone()),
            DEFAULT_RPC_URL.to_owned(),
        );
        let deployments = pick(
            args.deployments.clone(),
            "CAIRN_DEPLOYMENTS",
            show_path,
            file.deployments.clone(),
            devnet.as_ref().map(Devnet::deployments),
            PathBuf::from("deployments"),
        );
        let ipfs_api = pick(
            args.ipfs_api.clone(),
            "CAIRN_IPFS_API",
            String::clone,
            file.ipfs_api.clone(),
            devnet.as_ref().map(|d| d.ipfs_api.clone()),
            DEFAULT_IPFS_API.to_owned(),
        );
        let indexer_url = pick(
            args.indexer_url.clone(),
            "CAIRN_INDEXER_URL",
            String::clone,
            file.indexer_url.clone(),
            devnet.as_ref().and_then(|d| d.indexer_url.clone()),
            DEFAULT_INDEXER_URL.to_owned(),
        );
        let receipt_timeout = pick(
            args.receipt_timeout,
            "CAIRN_RECEIPT_TIMEOUT",
            u64::to_string,
            file.receipt_timeout,
            None,
            cairn_chain::args::DEFAULT_RECEIPT_TIMEOUT_S,
        );
        let signer = Self::resolve_signer(args, &file, devnet.as_ref())?;
        let password_file = args.password_file.clone().or(file.password_file.clone());
        Ok(Self {
            config_file,
            rpc_url,
            deployments,
            ipfs_api,
            indexer_url,
            receipt_timeout,
            signer,
            devnet,
            password_file,
        })
    }

    fn resolve_signer(
        args: &GlobalArgs,
        file: &FileConfig,
        devnet: Option<&Devnet>,
    ) -> anyhow::Result<Setting<SignerChoice>> {
        if args.keystore.is_some() && args.account.is_some() {
            bail!(UsageError(
                "--keystore and --account both name a signer; give one (--account is for devnet keys only)".into()
            ));
        }
        let keystore = |path: &PathBuf, password: Option<&PathBuf>| {
            SignerChoice::Source(SignerSource::Keystore {
                path: path.clone(),
                password: password.cloned().map_or(PasswordSource::Prompt, PasswordSource::File),
            })
        };
        if let Some(path) = &args.keystore {
            let password = args.password_file.as_ref().or(file.password_file.as_ref());
            let origin = cli_origin("CAIRN_KEYSTORE", &path.display().to_string());
            return Ok(Setting { value: keystore(path, password), origin });
        }
        if let Some(role) = &args.account {
            let origin = cli_origin("CAIRN_ACCOUNT", role);
            return Ok(Setting { value: devnet_account(devnet, role)?, origin });
        }
        if let Some(path) = &file.keystore {
            let password = args.password_file.as_ref().or(file.password_file.as_ref());
            return Ok(Setting { value: keystore(path, password), origin: Origin::ConfigFile });
        }
        if let Some(role) = &file.account {
            return Ok(Setting { value: devnet_account(devnet, role)?, origin: Origin::ConfigFile });
        }
        if std::env::var_os(PRIVATE_KEY_ENV).is_some() {
            return Ok(Setting {
                value: SignerChoice::Source(SignerSource::Env(PRIVATE_KEY_ENV.into())),
                origin: Origin::Env(PRIVATE_KEY_ENV),
            });
        }
        Ok(Setting { value: SignerChoice::None, origin: Origin::Default })
    }
}

fn devnet_account(devnet: Option<&Devnet>, role: &str) -> anyhow::Result<SignerChoice> {
    let Some(devnet) = devnet else {
        bail!(UsageError(format!(
            "--account {role} names a devnet key, but no devnet was found (no .devnet/state.json here or above); \
             start one with `make devnet`, or sign with --keystore"
        )));
    };
    let accounts = devnet.accounts()?;
    let found = accounts.iter().find(|a| a.role == role);
    match found {
        Some(a) => Ok(SignerChoice::Devnet { role: role.to_owned(), address: a.address, key: a.private_key }),
        None => {
            let roles: Vec<&str> = accounts.iter().map(|a| a.role.as_str()).collect();
            bail!(UsageError(format!("the devnet has no account `{role}`; seeded roles: {}", roles.join(", "))))
        }
    }
}

/// What every command works with: the settings, and how to print.
#[derive(Debug)]
pub struct Context {
    /// The resolved settings.
    pub settings: Settings,
    /// Human or JSON output.
    pub out: Output,
    /// Skip confirmations.
    pub yes: bool,
}

impl Context {
    /// Resolves the settings from the working directory.
    ///
    /// Errors: as [`Settings::resolve`].
    pub fn new(args: GlobalArgs) -> anyhow::Result<Self> {
        let cwd = std::env::current_dir().context("reading the working directory")?;
        let settings = Settings::resolve(&args, &cwd)?;
        Ok(Self { settings, out: Output::new(args.json), yes: args.yes })
    }

    fn options(&self) -> ChainOptions {
        ChainOptions {
            receipt_timeout: std::time::Duration::from_secs(self.settings.receipt_timeout.value),
            ..ChainOptions::default()
        }
    }

    /// A read-only connection to the chain.
    ///
    /// Errors: the RPC does not answer (the message names the URL and where it came from).
    pub async fn chain(&self) -> anyhow::Result<Chain> {
        let url = &self.settings.rpc_url;
        Chain::connect_read_only(&url.value, self.options()).await.with_context(|| {
            format!(
                "connecting to the chain at {} (from {}); start it (`make devnet` locally) or pass --rpc-url",
                url.value, url.origin
            )
        })
    }

    /// Fails with what to do when no signer is configured (nothing is loaded).
    ///
    /// Errors: [`UsageError`] naming the ways to give a signer.
    pub fn require_signer(&self) -> anyhow::Result<()> {
        if matches!(self.settings.signer.value, SignerChoice::None) {
            bail!(UsageError(
                "this command sends a transaction but no signer is configured: pass --keystore <file> (and \
                 --password-file), --account <role> on a devnet, or set CAIRN_PRIVATE_KEY for development"
                    .into()
            ));
        }
        Ok(())
    }

    /// The configured signing key (a keystore is decrypted here, its password read or asked for once).
    ///
    /// Errors: no signer configured; a keystore that cannot be read or unlocked.
    pub async fn signing_key(&self) -> anyhow::Result<PrivateKeySigner> {
        Ok(match &self.settings.signer.value {
            SignerChoice::Source(source) => source.load().await.context("loading the signing key")?,
            SignerChoice::Devnet { key, .. } => PrivateKeySigner::from_bytes(key).context("the devnet key")?,
            SignerChoice::None => bail!(UsageError(
                "this command sends a transaction but no signer is configured: pass --keystore <file> (and \
                 --password-file), --account <role> on a devnet, or set CAIRN_PRIVATE_KEY for development"
                    .into()
            )),
        })
    }

    /// The account commands act for: the signer's address (without loading a keystore when its file names the
    /// address), or `None` when no signer is configured.
    pub fn account_hint(&self) -> Option<Address> {
        match &self.settings.signer.value {
            SignerChoice::Devnet { address, .. } => Some(*address),
            SignerChoice::Source(SignerSource::Keystore { path, .. }) => {
                cairn_chain::Keystore::read(path).ok().and_then(|k| k.address())
            }
            SignerChoice::Source(SignerSource::Env(name)) => {
                std::env::var(name).ok().and_then(|k| k.trim().parse::<PrivateKeySigner>().ok()).map(|k| k.address())
            }
            SignerChoice::None => None,
        }
    }

    /// The deployments for the chain `chain` is on, from the configured file or folder; every contract is
    /// checked to have code and named for revert messages.
    ///
    /// Errors: no file for this chain; a file for another chain or another interface version; missing code.
    pub async fn deployments(&self, chain: &Chain) -> anyhow::Result<Deployments> {
        let path = &self.settings.deployments;
        let dir = if path.value.is_dir() {
            path.value.clone()
        } else {
            let expected = Deployments::path(Path::new(""), chain.chain_id());
            if path.value.file_name() != expected.file_name() {
                bail!(UsageError(format!(
                    "deployments file {} (from {}) is not the one for chain {} ({}); pass the folder that holds \
                     it, or the file of this chain",
                    path.value.display(),
                    path.origin,
                    chain.chain_id(),
                    expected.display()
                )));
            }
            path.value.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        chain.deployments(&dir).await.with_context(|| format!("deployments (from {})", path.origin))
    }
}
