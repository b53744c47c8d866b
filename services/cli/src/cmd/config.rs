//! `cairn config show`: every resolved setting and where it came from, secrets redacted.

use cairn_chain::{PasswordSource, SignerSource};
use clap::Subcommand;
use serde::Serialize;

use crate::{
    Context,
    context::{Origin, SignerChoice},
};

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every resolved setting with where it came from (flag, env, config file, devnet, default).
    ///
    /// Examples:
    ///   cairn config show
    ///   cairn --rpc-url https://sepolia.base.org config show --json
    #[command(verbatim_doc_comment)]
    Show,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown {
    config_file: Option<String>,
    devnet: Option<String>,
    rpc_url: Entry,
    deployments: Entry,
    ipfs_api: Entry,
    indexer_url: Entry,
    receipt_timeout_seconds: Entry,
    signer: Entry,
}

#[derive(Serialize)]
struct Entry {
    value: String,
    origin: Origin,
}

fn entry(value: impl ToString, origin: &Origin) -> Entry {
    Entry { value: value.to_string(), origin: origin.clone() }
}

/// How the signer is described: never the key or the password, only where they are.
fn describe(choice: &SignerChoice) -> String {
    match choice {
        SignerChoice::Source(SignerSource::Keystore { path, password }) => {
            let password = match password {
                PasswordSource::File(p) => format!("password from {}", p.display()),
                PasswordSource::Prompt => "password typed at a prompt".into(),
                PasswordSource::Literal(_) => "password given <redacted>".into(),
            };
            format!("keystore {} ({password})", path.display())
        }
        SignerChoice::Source(SignerSource::Env(name)) => format!("key in ${name} <redacted>"),
        SignerChoice::Devnet { role, address, .. } => format!("devnet account {role} ({address}) <key redacted>"),
        SignerChoice::None => "none (commands that send will ask for --keystore or --account)".into(),
    }
}

/// A URL without what often holds a provider's API key: the user info, the path and the query are replaced
/// by `<redacted>` (`https://base-mainnet.g.alchemy.com/v2/KEY` → `https://base-mainnet.g.alchemy.com/<redacted>`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let user = if authority.contains('@') { "<redacted>@" } else { "" };
    let tail = if tail.is_empty() || tail == "/" { tail.to_owned() } else { "/<redacted>".to_owned() };
    format!("{scheme}://{user}{host}{tail}")
}

impl ConfigCommand {
    /// Runs it.
    ///
    /// Errors: printing fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let s = &ctx.settings;
        let shown = Shown {
            config_file: s.config_file.as_ref().map(|p| p.display().to_string()),
            devnet: s.devnet.as_ref().map(|d| d.root.display().to_string()),
            rpc_url: entry(redact_url(&s.rpc_url.value), &s.rpc_url.origin),
            deployments: entry(s.deployments.value.display(), &s.deployments.origin),
            ipfs_api: entry(redact_url(&s.ipfs_api.value), &s.ipfs_api.origin),
            indexer_url: entry(redact_url(&s.indexer_url.value), &s.indexer_url.origin),
            receipt_timeout_seconds: entry(s.receipt_timeout.value, &s.receipt_timeout.origin),
            signer: entry(describe(&s.signer.value), &s.signer.origin),
        };
        ctx.out.print(&shown, |v| {
            let line = |name: &str, e: &Entry| format!("{name:<17} {}  [{}]\n", e.value, e.origin_text());
            let mut text = format!(
                "config file       {}\ndevnet            {}\n",
                v.config_file.as_deref().unwrap_or("none"),
                v.devnet.as_deref().unwrap_or("none found")
            );
            text += &line("rpc url", &v.rpc_url);
            text += &line("deployments", &v.deployments);
            text += &line("ipfs api", &v.ipfs_api);
            text += &line("indexer", &v.indexer_url);
            text += &line("receipt timeout", &v.receipt_timeout_seconds);
            text += &line("signer", &v.signer);
            text
        })
    }
}

impl Entry {
    fn origin_text(&self) -> String {
        self.origin.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_lose_what_can_hold_a_key() {
        assert_eq!(redact_url("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
        assert_eq!(redact_url("https://node.example/"), "https://node.example/");
        assert_eq!(redact_url("https://base.g.alchemy.com/v2/SECRET"), "https://base.g.alchemy.com/<redacted>");
        assert_eq!(
            redact_url("wss://user:pw@node.example:8546/ws?key=SECRET"),
            "wss://<redacted>@node.example:8546/<redacted>"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
