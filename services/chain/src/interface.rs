//! Which version of Cairn's contract interfaces this client speaks, and the checks that refuse any other.
//!
//! An interface version covers the contracts' functions, events and typed data together: a client built for
//! one version encodes calls, decodes events and signs messages that another version's contracts revert on,
//! misread or reject. Every Cairn contract reports its version (`interfaceVersion()`, from interface v2 on;
//! v1 contracts have no such function), the deployments file records it (`interfaceVersion`; a file without it
//! is a v1 deployment), and this client refuses anything that is not [`INTERFACE_VERSION`] up front, with an
//! error that says what it found — instead of failing later on a selector or an event it cannot decode.
//!
//! - [`crate::Deployments::load`] refuses a file of another version ([`Error::DeploymentsVersion`]).
//! - [`Chain::interface_version`] reads `interfaceVersion()` at an address; [`Chain::expect_interface_version`]
//!   refuses another (or no) version ([`Error::InterfaceVersion`]): for a CLI or service given an address
//!   without a deployments file. [`Chain::deployments`] runs it on every versioned contract of the file.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};

use crate::{Chain, Error, Result};

/// The version of Cairn's contract interfaces (functions, events, EIP-712 typed data) this client speaks.
///
/// Version 2 (issue #11): `JobRequest` binds the model version and the highest royalty (`maxPricePerCall`),
/// licences are bought with a token, a `maxPrice` and a `minPeriod`, an operator's signer key claims,
/// releases claims, commits and reveals for it, and events carry the whole listing, the job's terms and the
/// signed receipt. Version 3 (issue #12, disputes v2): juror stake lives in the `JurorPool`, challenges go
/// through the `DisputeDesk`'s challenge pools (`challenge`, `collect`, `submitEvidence`), which applies rulings;
/// `JobMarket` keeps escrows and bonds. Version 4 (issue #12, rounds): a dispute runs in rounds (silent seats
/// redrawn, `appeal` to a larger jury), vote commitments bind the round, and the committee's events carry it.
/// Version 5 (issue #12, input availability): vote and ruling 3, the job's input could not be fetched
/// (`CloseReason::InputUnavailable`, the votes for 3 in `RoundRuled` and `DisputeRuled`), and canaries
/// (`registerCanary`, `revealCanary`). Version 6 (issue #15): `JobMarket.withdrawFor(operator, token)`, an
/// operator's signer key sweeping the operator's earnings to the operator's own address. It must equal what the committed artifacts' `interfaceVersion()` returns (cairn-deploy's
/// tests check it on anvil); bump it together with the contracts' `CairnVersion.INTERFACE_VERSION`.
pub const INTERFACE_VERSION: u16 = 6;

/// Whether the committed artifact of `contract` declares `interfaceVersion()`: the four Cairn contracts do;
/// `BlockhashRandomness` (a pluggable `IRandomness`) and the devnet's `DevToken` do not. Unknown names: no.
pub fn declares_interface_version(contract: &str) -> bool {
    cairn_bindings::artifact(contract).is_some_and(|a| a.abi.function("interfaceVersion").is_some())
}

/// What the contract said to `interfaceVersion()`: `Some(version)`, or `None` when it answered nothing that
/// is one (it reverted, returned no data or another shape — a v1 contract, or not a Cairn contract at all).
fn version_from_answer(answer: &[u8]) -> Option<u16> {
    // A `uint16` return is one 32-byte word whose first 30 bytes are zero.
    let word: &[u8; 32] = answer.try_into().ok()?;
    word[..30].iter().all(|b| *b == 0).then(|| u16::from_be_bytes([word[30], word[31]]))
}

impl Chain {
    /// Reads `interfaceVersion()` of `contract` at `address` (one `eth_call`). `Ok(None)` when the code there
    /// has no such function (a Cairn v1 contract, or something else); [`Error::NoCode`] when there is no code.
    pub async fn interface_version(&self, contract: &str, address: Address) -> Result<Option<u16>> {
        self.ensure_code(contract, address).await?;
        self.read_interface_version(contract, address).await
    }

    /// [`Chain::interface_version`] where the code is known to be there.
    pub(crate) async fn read_interface_version(&self, contract: &str, address: Address) -> Result<Option<u16>> {
        let call = cairn_bindings::OperatorRegistry::interfaceVersionCall {};
        let tx = TransactionRequest::default().with_to(address).with_input(Bytes::from(call.abi_encode()));
        match self.provider().call(tx).await {
            Ok(answer) => Ok(version_from_answer(&answer)),
            // A revert (with or without data) means the code does not answer `interfaceVersion()`.
            Err(e)
                if e.as_error_resp().is_some_and(|r| {
                    r.as_revert_data().is_some() || r.message.to_ascii_lowercase().contains("revert")
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::Transport {
                action: format!("read {contract}.interfaceVersion() at {address}"),
                detail: format!("{e} (RPC {})", self.url()),
            }),
        }
    }

    /// Fails with [`Error::InterfaceVersion`] unless `contract` at `address` reports [`INTERFACE_VERSION`];
    /// [`Error::NoCode`] when nothing is deployed there. For clients given an address rather than a
    /// deployments file.
    pub async fn expect_interface_version(&self, contract: &str, address: Address) -> Result<()> {
        self.ensure_code(contract, address).await?;
        self.expect_version_at_code(contract, address).await
    }

    /// [`Chain::expect_interface_version`] where the code is known to be there.
    pub(crate) async fn expect_version_at_code(&self, contract: &str, address: Address) -> Result<()> {
        match self.read_interface_version(contract, address).await? {
            Some(INTERFACE_VERSION) => Ok(()),
            found => {
                Err(Error::InterfaceVersion { contract: contract.into(), address, chain_id: self.chain_id(), found })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_uint16_words_only() {
        let mut word = [0u8; 32];
        word[31] = 2;
        assert_eq!(version_from_answer(&word), Some(2));
        word[30] = 1;
        assert_eq!(version_from_answer(&word), Some(258));
        word[0] = 1;
        assert_eq!(version_from_answer(&word), None, "not a uint16");
        assert_eq!(version_from_answer(&[]), None, "no data: no such function");
        assert_eq!(version_from_answer(&[0u8; 64]), None);
    }

    #[test]
    fn the_cairn_contracts_declare_their_version_and_the_others_do_not() {
        for name in
            ["OperatorRegistry", "JurorPool", "ReexecutionCommittee", "DisputeDesk", "ModelRegistry", "JobMarket"]
        {
            assert!(declares_interface_version(name), "{name}");
        }
        for name in ["BlockhashRandomness", "DevToken", "NoSuchContract"] {
            assert!(!declares_interface_version(name), "{name}");
        }
    }
}
