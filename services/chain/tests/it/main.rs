//! cairn-chain against a real anvil: bad inputs, concurrent sends from one signer, keystores (`cast`'s and
//! the spec's vectors), lost answers to sends, read-only connections, interface versions.

mod bad_input;
mod interface;
mod keystores;
mod lost_response;
mod read_only;
mod resilience;
mod sending;

use alloy::signers::local::PrivateKeySigner;
use cairn_chain::{Chain, ChainOptions};

/// anvil's public test account 0 (funded with 10,000 ETH on every anvil).
pub(crate) const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

pub(crate) async fn funded(anvil: &cairn_testkit::Anvil) -> Chain {
    Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap()
}

pub(crate) fn random_signer() -> PrivateKeySigner {
    PrivateKeySigner::random()
}
