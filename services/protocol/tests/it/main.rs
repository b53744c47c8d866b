//! cairn-protocol against the outside world: the shared EIP-712 vectors (viem and `cast` agree on them),
//! messages signed by Solidity with `vm.sign`, and the messages Rust signs for Solidity to verify.

use std::path::{Path, PathBuf};

mod acceptance_cases;
mod card;
mod forge_signed;
mod input_vectors;
mod rust_signed;
mod signatures_on_chain;
mod vectors;

/// The checkout this test was built from (not `cairn_testkit::repo_root()`: with a target folder shared by
/// several checkouts, a testkit built in another one would point there).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
