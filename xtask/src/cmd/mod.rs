//! The subcommands, one file each.

mod artifacts;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Repository chores that need the Solidity toolchain (`make setup` installs it).
#[derive(Debug, Parser)]
#[command(name = "xtask", bin_name = "cargo xtask", about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Artifacts(artifacts::ArtifactsArgs),
}

impl Cli {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Artifacts(a) => a.run(),
        }
    }
}

/// The repository root: `--root`, else the nearest ancestor of the current directory with a foundry.toml.
pub(crate) fn find_root(root: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(r) = root {
        return Ok(r);
    }
    let cwd = std::env::current_dir()?;
    cwd.ancestors().find(|d| d.join("foundry.toml").is_file()).map(PathBuf::from).with_context(|| {
        format!("no foundry.toml in {} or above; run inside the Cairn checkout or pass --root", cwd.display())
    })
}

pub(crate) fn say(line: &str) {
    eprintln!("==> {line}");
}
