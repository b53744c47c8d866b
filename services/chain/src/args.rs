//! The one definition of "which chain" and "who signs" that every binary uses: the sellers' CLI, the
//! indexer (read-only: [`RpcArgs`] alone), the deploy tool, and the operators' runner (whose TOML config holds
//! an [`RpcArgs`] table and two [`SignerSource`]s).
//!
//! On the command line (feature `cli`): `#[command(flatten)] rpc: RpcArgs` gives `--rpc-url` (env
//! `CAIRN_RPC_URL`) and `--receipt-timeout`; `#[command(flatten)] signer: SignerArgs` gives `--keystore`
//! (env `CAIRN_KEYSTORE`), `--password-file` (env `CAIRN_PASSWORD_FILE`) and `--private-key-env`.

use std::time::Duration;

use serde::Deserialize;

use crate::{Chain, ChainOptions, Result, SignerSource};

/// The RPC a local devnet (`make devnet`, anvil) answers on.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";

/// The default receipt timeout, in seconds.
pub const DEFAULT_RECEIPT_TIMEOUT_S: u64 = 120;

/// Where the chain is. A clap `Args` (feature `cli`) and a serde table (`rpc_url = "…"`,
/// `receipt_timeout = 120`, both optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct RpcArgs {
    /// JSON-RPC endpoint: http(s):// or ws(s)://.
    #[cfg_attr(feature = "cli", arg(long, env = "CAIRN_RPC_URL", default_value = DEFAULT_RPC_URL))]
    #[serde(default = "default_rpc_url")]
    pub rpc_url: String,
    /// Seconds to wait for each transaction's receipt.
    #[cfg_attr(feature = "cli", arg(long, value_name = "SECONDS", default_value_t = DEFAULT_RECEIPT_TIMEOUT_S))]
    #[serde(default = "default_receipt_timeout")]
    pub receipt_timeout: u64,
}

fn default_rpc_url() -> String {
    DEFAULT_RPC_URL.to_string()
}

fn default_receipt_timeout() -> u64 {
    DEFAULT_RECEIPT_TIMEOUT_S
}

impl Default for RpcArgs {
    fn default() -> Self {
        Self { rpc_url: default_rpc_url(), receipt_timeout: DEFAULT_RECEIPT_TIMEOUT_S }
    }
}

impl RpcArgs {
    /// The [`ChainOptions`] these arguments set (the rest default).
    pub fn options(&self) -> ChainOptions {
        ChainOptions { receipt_timeout: Duration::from_secs(self.receipt_timeout), ..ChainOptions::default() }
    }

    /// A read-only connection: reads and calls work; [`Chain::send`] is [`crate::Error::NoSigner`].
    pub async fn connect_read_only(&self) -> Result<Chain> {
        Chain::connect_read_only(&self.rpc_url, self.options()).await
    }

    /// A connection signing with the key from `signer` (loaded off the async runtime). The RPC is reached
    /// first, so a wrong URL fails before a password is asked for.
    pub async fn connect(&self, signer: &SignerSource) -> Result<Chain> {
        let chain = self.connect_read_only().await?;
        let key = signer.load().await?;
        Ok(chain.with_signer(key))
    }
}

/// Who signs, on the command line: a keystore (`--keystore`, `--password-file`) or, for development, an
/// environment variable holding a hex key (`--private-key-env`, default `CAIRN_PRIVATE_KEY`).
#[cfg(feature = "cli")]
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct SignerArgs {
    /// Web3 Secret Storage keystore of the sending account (as `cast wallet new` writes). Without it the key
    /// is read from the environment variable named by --private-key-env (development only).
    #[arg(long, env = "CAIRN_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<std::path::PathBuf>,
    /// File whose first line is the keystore's password; without it you are prompted.
    #[arg(long, env = "CAIRN_PASSWORD_FILE", value_name = "FILE", requires = "keystore")]
    pub password_file: Option<std::path::PathBuf>,
    /// Environment variable holding a hex private key, used when no --keystore is given.
    #[arg(long, value_name = "VARIABLE", default_value = "CAIRN_PRIVATE_KEY")]
    pub private_key_env: String,
}

#[cfg(feature = "cli")]
impl SignerArgs {
    /// The source these arguments name.
    pub fn source(&self) -> SignerSource {
        match &self.keystore {
            Some(path) => SignerSource::Keystore {
                path: path.clone(),
                password: self.password_file.clone().map_or(crate::PasswordSource::Prompt, crate::PasswordSource::File),
            },
            None => SignerSource::Env(self.private_key_env.clone()),
        }
    }
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::PasswordSource;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        rpc: RpcArgs,
        #[command(flatten)]
        signer: SignerArgs,
    }

    #[test]
    fn flags_give_sources() {
        let cli = Cli::try_parse_from([
            "x",
            "--rpc-url",
            "ws://node:8546",
            "--receipt-timeout",
            "9",
            "--keystore",
            "k.json",
            "--password-file",
            "p",
        ])
        .unwrap();
        assert_eq!(cli.rpc, RpcArgs { rpc_url: "ws://node:8546".into(), receipt_timeout: 9 });
        assert_eq!(cli.rpc.options().receipt_timeout, Duration::from_secs(9));
        assert_eq!(
            cli.signer.source(),
            SignerSource::Keystore { path: "k.json".into(), password: PasswordSource::File("p".into()) }
        );
        let cli = Cli::try_parse_from(["x", "--private-key-env", "MY_KEY"]).unwrap();
        assert_eq!(cli.signer.source(), SignerSource::Env("MY_KEY".into()));
        let e = Cli::try_parse_from(["x", "--password-file", "p"]).unwrap_err();
        assert!(e.to_string().contains("--keystore"), "{e}");
    }

    #[test]
    fn the_rpc_table_has_defaults() {
        let rpc: RpcArgs = toml::from_str("").unwrap();
        assert_eq!(rpc, RpcArgs::default());
        let rpc: RpcArgs = toml::from_str("rpc_url = \"https://x\"\nreceipt_timeout = 5").unwrap();
        assert_eq!(rpc.rpc_url, "https://x");
        assert!(toml::from_str::<RpcArgs>("rpc = \"https://x\"").unwrap_err().to_string().contains("rpc_url"));
    }
}
