use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use xtask::artifacts;

/// Compile contracts/ and write the ABI + bytecode of each deployable contract (or check them).
///
/// The artifacts in services/bindings/artifacts/ are committed: Rust builds from them without any Solidity
/// toolchain, and cairn-bindings makes one module per file. The contracts are xtask's `DEPLOYABLE` list;
/// a file whose contract left the list is removed (--check names it). Compiler settings come from
/// foundry.toml; solc is a native solc 0.8.37 on PATH, else the project's solcjs adapter (scripts/solc,
/// installed by `make setup`).
///
/// Examples:
///   cargo xtask artifacts            # regenerate after changing a contract, then commit
///   cargo xtask artifacts --check    # CI (`make lint`): fail when the committed artifacts differ from the sources
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ArtifactsArgs {
    /// Compare instead of writing; exit non-zero naming every artifact that drifted.
    #[arg(long)]
    check: bool,
    /// Repository root (default: the nearest folder with a foundry.toml).
    #[arg(long)]
    root: Option<PathBuf>,
}

impl ArtifactsArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let root = super::find_root(self.root)?;
        super::say(&format!(
            "compiling {} with {}",
            root.join("contracts/src").display(),
            artifacts::find_solc(&root)?.display()
        ));
        let built = artifacts::compile(&root).context("compiling")?;
        let dir = root.join(artifacts::ARTIFACTS_DIR);
        if self.check {
            artifacts::check(&dir, &built)?;
            super::say(&format!("{} artifacts match the sources", built.len()));
        } else {
            for removed in artifacts::write(&dir, &built)? {
                super::say(&format!("removed {} (its contract is not in DEPLOYABLE)", removed.display()));
            }
            super::say(&format!("wrote {} artifacts to {}", built.len(), dir.display()));
        }
        Ok(())
    }
}
