use std::path::PathBuf;

use anyhow::Context as _;
use cairn_deploy::artifacts;
use clap::Args;

/// Compile contracts/ and write the ABI + bytecode of each deployable contract (or check them).
///
/// The artifacts in services/bindings/artifacts/ are committed: Rust builds from them without any Solidity
/// toolchain. Compiler settings come from foundry.toml; solc is a native solc 0.8.37 on PATH, else the
/// project's solcjs adapter (scripts/solc, installed by `make setup`).
///
/// Examples:
///   cairn-deploy artifacts            # regenerate after changing a contract, then commit
///   cairn-deploy artifacts --check    # CI: fail when the committed artifacts differ from the sources
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
            artifacts::write(&dir, &built)?;
            super::say(&format!("wrote {} artifacts to {}", built.len(), dir.display()));
        }
        Ok(())
    }
}
