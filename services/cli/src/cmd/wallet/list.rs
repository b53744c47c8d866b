//! `cairn wallet list`: the keystores in a folder.

use std::path::PathBuf;

use cairn_chain::Keystore;
use clap::Args;
use serde::Serialize;

use crate::{Context, cmd::wallet::default_dir};

/// List keystores with their addresses (read from the files; nothing is decrypted).
///
/// Examples:
///   cairn wallet list
///   cairn wallet list --dir ./keys --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Folder of keystores [default: ~/.foundry/keystores, cast's].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    address: Option<alloy::primitives::Address>,
    path: PathBuf,
}

impl ListArgs {
    /// Runs it.
    ///
    /// Errors: the folder cannot be read (a missing folder lists nothing).
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let dir = match self.dir {
            Some(d) => d,
            None => default_dir()?,
        };
        let mut entries = Vec::new();
        if dir.is_dir() {
            for item in std::fs::read_dir(&dir)? {
                let path = item?.path();
                // Files that are not keystores (notes, backups of other formats) are skipped.
                if let Ok(k) = Keystore::read(&path) {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    entries.push(Entry { name, address: k.address(), path });
                }
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        ctx.out.print(&entries, |entries| {
            if entries.is_empty() {
                return format!("No keystores in {} (create one with `cairn wallet new <name>`).", dir.display());
            }
            entries
                .iter()
                .map(|e| {
                    let address = e.address.map_or_else(|| "(address not recorded)".to_owned(), |a| a.to_string());
                    format!("{:<24} {address}\n", e.name)
                })
                .collect()
        })
    }
}
