//! EIP-712 typed data: domain name "Cairn", version "1", the chain id and the verifying contract
//! (ModelRegistry for [`ModelManifest`], JobMarket for [`JobRequest`] and [`JobReceipt`]).
//!
//! The structs are typed data v2 (the contracts' interfaces v2): [`JobRequest`] binds the model `version`
//! the job runs and `maxPricePerCall`, the highest royalty the buyer accepts, so a request signed for one
//! version or price serves no other. The domain version stays "1": the type hash alone changed, and a v1
//! request's signature cannot verify against it. `testdata/vectors/eip712.json` holds the v2 vectors (viem's
//! output, reproduced by `cast`).

use alloy::{
    primitives::{Address, B256, Signature, U256, keccak256, uint},
    signers::Signer,
    sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain},
};

pub use cairn_bindings::{JobReceipt, JobRequest, ModelManifest};

use crate::{Error, Result};

/// The EIP-712 domain name.
pub const DOMAIN_NAME: &str = "Cairn";
/// The EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";

/// The `ModelManifest` the seller signed for a registration, rebuilt from its `ModelRegistered` event alone
/// (interfaces v2 put the listing, nonce, deadline and signature there): the signed `modelId` is 0 for
/// version 1 (a new model) and the model's id for a later version; every other field is the listing's.
/// Verify the event's `signature` over it with [`recover`] in the registry's [`domain`].
pub fn signed_listing(event: &cairn_bindings::ModelRegistry::ModelRegistered) -> ModelManifest {
    let l = &event.listing;
    ModelManifest {
        seller: event.seller,
        modelId: if event.version == 1 { U256::ZERO } else { event.modelId },
        manifestCid: l.manifestCid.clone(),
        manifestDigest: l.manifestDigest,
        weightsDigest: l.weightsDigest,
        runtime: l.runtime,
        paymentToken: l.paymentToken,
        pricePerCall: l.pricePerCall,
        licensePrice: l.licensePrice,
        licensePeriod: l.licensePeriod,
        regionMask: l.regionMask,
        nonce: event.nonce,
        deadline: event.deadline,
    }
}

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

/// Signs `message` in `domain`. The signature is 65 bytes `r ‖ s ‖ v` with low s and v = 27 or 28 (as
/// `Signature::as_bytes` writes it), as the contracts require.
pub async fn sign<T: SolStruct + Sync, S: Signer + ?Sized>(
    signer: &S,
    message: &T,
    domain: &Eip712Domain,
) -> alloy::signers::Result<Signature> {
    signer.sign_hash(&digest(message, domain)).await
}

/// The order n of secp256k1's group (SEC 2, section 2.4.1).
pub const SECP256K1_N: U256 = uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

/// The address that signed `message` in `domain` with the 65-byte `signature` `r ‖ s ‖ v`.
///
/// Accepts exactly the signatures the contracts accept from an EOA (OpenZeppelin 5's
/// `SignatureChecker.isValidSignatureNowCalldata` → `ECDSA.tryRecoverCalldata`, used by `ModelRegistry` and
/// `JobMarket`): length 65 (no ERC-2098 64-byte form), s in the lower half of the curve order (no
/// malleable twin), v = 27 or 28 (the only values the `ecrecover` precompile takes; OpenZeppelin does not
/// add 27 to 0 or 1), and r, s in 1..n so that `ecrecover` finds a key. Anything else is
/// [`Error::BadSignature`], so an off-chain check never passes a signature the chain rejects. Wallets that
/// return v = 0 or 1 (Ledger through some MetaMask paths) must be normalised before submission with
/// [`normalize_wallet_signature`].
pub fn recover<T: SolStruct>(message: &T, domain: &Eip712Domain, signature: &[u8]) -> Result<Address> {
    recover_prehash(&digest(message, domain), signature)
}

/// [`recover`] for a digest computed elsewhere (e.g. an EIP-2612 permit), with the same rules.
pub fn recover_prehash(digest: &B256, signature: &[u8]) -> Result<Address> {
    let bad = |why: String| Err(Error::BadSignature(why));
    let Ok(bytes) = <&[u8; 65]>::try_from(signature) else {
        return bad(format!(
            "expected 65 bytes r‖s‖v, got {} (the contracts refuse the 64-byte ERC-2098 form too)",
            signature.len()
        ));
    };
    let (r, s, v) = (U256::from_be_slice(&bytes[..32]), U256::from_be_slice(&bytes[32..64]), bytes[64]);
    if s > SECP256K1_N >> 1_usize {
        return bad("s is in the upper half of the curve order (malleable); the contracts refuse it".into());
    }
    if v != 27 && v != 28 {
        let fix = if v <= 1 {
            format!("; a wallet that returns {v} means {}: use normalize_wallet_signature", v + 27)
        } else {
            String::new()
        };
        return bad(format!("v is {v}, the contracts accept only 27 or 28{fix}"));
    }
    if r.is_zero() || r >= SECP256K1_N || s.is_zero() {
        return bad("r and s must lie in 1..n (secp256k1's order); ecrecover finds no key for this signature".into());
    }
    let signer = Signature::new(r, s, v == 28)
        .recover_address_from_prehash(digest)
        .map_err(|e| Error::BadSignature(format!("no public key recovers from this signature: {e}")))?;
    // OpenZeppelin treats address(0) as "no signer" (InvalidSignature); no known key has that address.
    if signer == Address::ZERO {
        return bad("the signature recovers to the zero address, which the contracts treat as no signer".into());
    }
    Ok(signer)
}

/// The form of a wallet's signature that the contracts accept: v = 0 or 1 becomes 27 or 28 (the same
/// `r`, `s` and recovered key, so nothing the signer meant changes); v = 27 or 28 is kept.
///
/// Errors: a length other than 65 bytes, or any other v ([`Error::BadSignature`]). High-s is not
/// rewritten: a wallet that produces it is not following EIP-2, and [`recover`] and the contracts refuse it.
pub fn normalize_wallet_signature(signature: &[u8]) -> Result<[u8; 65]> {
    let Ok(mut bytes) = <[u8; 65]>::try_from(signature) else {
        return Err(Error::BadSignature(format!("expected 65 bytes r‖s‖v, got {}", signature.len())));
    };
    bytes[64] = match bytes[64] {
        v @ (0 | 1) => v + 27,
        v @ (27 | 28) => v,
        v => return Err(Error::BadSignature(format!("v is {v}; a wallet signature has v in 0, 1, 27 or 28"))),
    };
    Ok(bytes)
}

/// A verifier's vote commitment: `keccak256(abi.encode(disputeId, round, voter, vote, salt))`, bound to the
/// dispute's round (0, then one per appeal) so that no round's commitment serves another (typed data v2,
/// ../shared/DESIGN.md; `CairnTypedData.commitment` on chain).
pub fn commitment(dispute_id: U256, round: u8, voter: Address, vote: U256, salt: B256) -> B256 {
    keccak256((dispute_id, U256::from(round), voter, vote, salt).abi_encode())
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
    async fn only_what_the_contracts_accept_recovers() {
        let signer = PrivateKeySigner::random();
        let d = domain(1, Address::ZERO);
        let good = sign(&signer, &receipt(), &d).await.unwrap().as_bytes();
        let with_v = |v: u8| {
            let mut sig = good;
            sig[64] = v;
            sig
        };
        let (v_ok, v_other) = (good[64], 55 - good[64]);
        assert!(v_ok == 27 || v_ok == 28, "sign writes v as 27 or 28, got {v_ok}");
        assert_eq!(recover(&receipt(), &d, &good).unwrap(), signer.address());
        // The other parity is a valid signature of some other key (or of none): never this signer.
        assert_ne!(recover(&receipt(), &d, &with_v(v_other)).ok(), Some(signer.address()));
        for v in [0, 1, 29, 255, v_ok - 27, v_ok + 8] {
            let err = recover(&receipt(), &d, &with_v(v)).unwrap_err().to_string();
            assert!(err.contains(&format!("v is {v}, the contracts accept only 27 or 28")), "v = {v}: {err}");
        }
        let err = recover(&receipt(), &d, &with_v(v_ok - 27)).unwrap_err().to_string();
        assert!(err.contains("normalize_wallet_signature"), "{err}");

        let err = recover(&receipt(), &d, &good[..64]).unwrap_err();
        assert!(err.to_string().contains("65 bytes"), "{err}");
        // The malleable twin: s' = n - s, v flipped.
        let s = U256::from_be_slice(&good[32..64]);
        let mut twin = good;
        twin[32..64].copy_from_slice(&(SECP256K1_N - s).to_be_bytes::<32>());
        twin[64] = v_other;
        let err = recover(&receipt(), &d, &twin).unwrap_err();
        assert!(err.to_string().contains("upper half"), "{err}");
        // s = n/2 is the largest s allowed (OpenZeppelin: s <= 0x7FFF…20A0), n/2 + 1 the smallest refused.
        let mut edge = good;
        edge[32..64].copy_from_slice(&((SECP256K1_N >> 1_usize) + U256::from(1)).to_be_bytes::<32>());
        assert!(recover(&receipt(), &d, &edge).unwrap_err().to_string().contains("upper half"));
        for (r, s) in [(U256::ZERO, U256::from(1)), (U256::from(1), U256::ZERO), (SECP256K1_N, U256::from(1))] {
            let mut sig = good;
            sig[..32].copy_from_slice(&r.to_be_bytes::<32>());
            sig[32..64].copy_from_slice(&s.to_be_bytes::<32>());
            let err = recover(&receipt(), &d, &sig).unwrap_err().to_string();
            assert!(err.contains("1..n"), "r = {r}, s = {s}: {err}");
        }
    }

    #[tokio::test]
    async fn wallet_signatures_with_v_0_or_1_are_normalised_to_what_the_contracts_take() {
        let signer = PrivateKeySigner::random();
        let d = domain(1, Address::ZERO);
        let good = sign(&signer, &receipt(), &d).await.unwrap().as_bytes();
        let mut wallet = good;
        wallet[64] -= 27;
        assert!(recover(&receipt(), &d, &wallet).is_err());
        let normalised = normalize_wallet_signature(&wallet).unwrap();
        assert_eq!(normalised, good);
        assert_eq!(recover(&receipt(), &d, &normalised).unwrap(), signer.address());
        assert_eq!(normalize_wallet_signature(&good).unwrap(), good);
        for v in [2, 26, 29, 35, 255] {
            wallet[64] = v;
            let err = normalize_wallet_signature(&wallet).unwrap_err().to_string();
            assert!(err.contains(&format!("v is {v}")), "{err}");
        }
        assert!(normalize_wallet_signature(&good[..64]).unwrap_err().to_string().contains("65 bytes"));
    }
}
