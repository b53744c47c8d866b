//! EIP-712 typed data: domain name "Cairn", version "1", the chain id and the verifying contract
//! (ModelRegistry for [`ModelManifest`], JobMarket for [`JobRequest`] and [`JobReceipt`]).

use alloy::{
    primitives::{Address, B256, Signature, U256, keccak256},
    signers::Signer,
    sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain},
};

pub use cairn_bindings::{JobReceipt, JobRequest, ModelManifest};

use crate::{Error, Result};

/// The EIP-712 domain name.
pub const DOMAIN_NAME: &str = "Cairn";
/// The EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";

/// The domain for a contract on a chain.
pub fn domain(chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    eip712_domain! {
        name: DOMAIN_NAME,
        version: DOMAIN_VERSION,
        chain_id: chain_id,
        verifying_contract: verifying_contract,
    }
}

/// The digest a signer signs: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
pub fn digest<T: SolStruct>(message: &T, domain: &Eip712Domain) -> B256 {
    message.eip712_signing_hash(domain)
}

/// Signs `message` in `domain`. The signature is 65 bytes `r ‖ s ‖ v` with low s, as the contracts require.
pub async fn sign<T: SolStruct + Sync, S: Signer + ?Sized>(
    signer: &S,
    message: &T,
    domain: &Eip712Domain,
) -> alloy::signers::Result<Signature> {
    signer.sign_hash(&digest(message, domain)).await
}

/// The address that signed `message` in `domain` with the 65-byte `signature`. High-s signatures are
/// refused like the contracts refuse them (OpenZeppelin's `ECDSA`).
pub fn recover<T: SolStruct>(message: &T, domain: &Eip712Domain, signature: &[u8]) -> Result<Address> {
    if signature.len() != 65 {
        return Err(Error::BadSignature(format!("expected 65 bytes r‖s‖v, got {}", signature.len())));
    }
    let sig = Signature::try_from(signature).map_err(|e| Error::BadSignature(e.to_string()))?;
    if sig.normalize_s().is_some() {
        return Err(Error::BadSignature("s is in the upper half of the curve order (malleable)".into()));
    }
    sig.recover_address_from_prehash(&digest(message, domain)).map_err(|e| Error::BadSignature(e.to_string()))
}

/// A verifier's vote commitment: `keccak256(abi.encode(disputeId, voter, vote, salt))`.
pub fn commitment(dispute_id: U256, voter: Address, vote: U256, salt: B256) -> B256 {
    keccak256((dispute_id, voter, vote, salt).abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;

    fn receipt() -> JobReceipt {
        JobReceipt {
            jobId: U256::from(7),
            weightsDigest: B256::repeat_byte(1),
            inputDigest: B256::repeat_byte(2),
            runtime: keccak256("candle/bert-embed@1"),
            outputDigest: B256::repeat_byte(3),
            outputCid: "bafyout".into(),
            runnerBuild: keccak256("cairn-runner 0.1.0"),
            energyMillijoules: 42,
        }
    }

    #[tokio::test]
    async fn sign_then_recover_round_trips_and_binds_the_domain() {
        let signer = PrivateKeySigner::random();
        let d = domain(31337, Address::repeat_byte(9));
        let sig = sign(&signer, &receipt(), &d).await.unwrap();
        assert_eq!(recover(&receipt(), &d, &sig.as_bytes()).unwrap(), signer.address());
        let other_chain = domain(10, Address::repeat_byte(9));
        assert_ne!(recover(&receipt(), &other_chain, &sig.as_bytes()).unwrap(), signer.address());
        let mut changed = receipt();
        changed.energyMillijoules += 1;
        assert_ne!(recover(&changed, &d, &sig.as_bytes()).unwrap(), signer.address());
    }

    #[tokio::test]
    async fn high_s_and_short_signatures_are_refused() {
        let signer = PrivateKeySigner::random();
        let d = domain(1, Address::ZERO);
        let sig = sign(&signer, &receipt(), &d).await.unwrap();
        let err = recover(&receipt(), &d, &sig.as_bytes()[..64]).unwrap_err();
        assert!(err.to_string().contains("65 bytes"), "{err}");
        // The malleable twin: s' = n - s, v flipped.
        let n = U256::from_str_radix("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16).unwrap();
        let twin = Signature::new(sig.r(), n - sig.s(), !sig.v());
        let err = recover(&receipt(), &d, &twin.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("upper half"), "{err}");
    }
}
