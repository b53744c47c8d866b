//! Off-chain recovery agrees with the contracts, signature by signature. A seller's manifest signature is
//! varied (every v of interest, the malleable high-s twin, the 64-byte form, out-of-range r and s) and each
//! variant is tried twice: by `typed::recover`, and by `ModelRegistry.register` itself on anvil (simulated
//! with `eth_call`: OpenZeppelin's `SignatureChecker` → `ECDSA.tryRecoverCalldata`, the code that decides
//! on chain). Rust must accept exactly what the contract accepts.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use cairn_bindings::ModelRegistry;
use cairn_protocol::typed::{self, ModelManifest, SECP256K1_N};

/// anvil's public test account 0 (deploys the registry).
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn with_v(sig: &[u8; 65], v: u8) -> Vec<u8> {
    let mut out = sig.to_vec();
    out[64] = v;
    out
}

fn with_rs(sig: &[u8; 65], r: U256, s: U256) -> Vec<u8> {
    let mut out = sig.to_vec();
    out[..32].copy_from_slice(&r.to_be_bytes::<32>());
    out[32..64].copy_from_slice(&s.to_be_bytes::<32>());
    out
}

#[tokio::test]
async fn recover_accepts_exactly_the_signatures_the_contracts_accept() {
    let anvil = cairn_testkit::Anvil::start().await.expect("start anvil (run `make setup` first)");
    let owner: PrivateKeySigner = ANVIL_KEY_0.parse().unwrap();
    let provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(owner.clone())).connect_http(anvil.url().parse().unwrap());
    let registry = ModelRegistry::deploy(&provider, owner.address()).await.unwrap();

    let seller = PrivateKeySigner::random();
    let domain = typed::domain(anvil.chain_id(), *registry.address());
    let manifest = ModelManifest {
        seller: seller.address(),
        modelId: U256::ZERO,
        manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy".into(),
        manifestDigest: B256::repeat_byte(1),
        weightsDigest: B256::repeat_byte(2),
        runtime: keccak256("candle/bert-embed@1"),
        paymentToken: Address::ZERO,
        pricePerCall: U256::from(1_000),
        licensePrice: U256::ZERO,
        licensePeriod: 0,
        regionMask: U256::from(1),
        nonce: U256::ZERO,
        deadline: u64::MAX,
    };
    let good = typed::sign(&seller, &manifest, &domain).await.unwrap().as_bytes();
    let (v_ok, v_other) = (good[64], 55 - good[64]);
    let s = U256::from_be_slice(&good[32..64]);
    let r = U256::from_be_slice(&good[..32]);

    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for v in [0, 1, 27, 28, 29, 255, v_ok + 8] {
        variants.push((format!("v = {v}"), with_v(&good, v)));
    }
    let twin = with_rs(&good, r, SECP256K1_N - s);
    for v in [v_other, v_ok, v_other - 27] {
        variants.push((format!("high-s twin, v = {v}"), with_v(twin.as_slice().try_into().unwrap(), v)));
    }
    variants.push(("s = n/2 + 1".into(), with_rs(&good, r, (SECP256K1_N >> 1_usize) + U256::from(1))));
    variants.push(("r = 0".into(), with_rs(&good, U256::ZERO, s)));
    variants.push(("s = 0".into(), with_rs(&good, r, U256::ZERO)));
    variants.push(("r = n".into(), with_rs(&good, SECP256K1_N, s)));
    variants.push(("64 bytes".into(), good[..64].to_vec()));
    variants.push(("66 bytes".into(), [&good[..], &[0]].concat()));
    let wallet_form = with_v(&good, v_ok - 27);
    variants.push(("v = 0/1, normalised".into(), typed::normalize_wallet_signature(&wallet_form).unwrap().to_vec()));

    let mut accepted = Vec::new();
    for (what, sig) in &variants {
        let on_chain = match registry.register(manifest.clone(), Bytes::from(sig.clone())).call().await {
            Ok(_) => true,
            Err(e) if e.as_decoded_error::<ModelRegistry::InvalidSignature>().is_some() => false,
            Err(e) => panic!("{what}: the registry refused for another reason than the signature: {e}"),
        };
        let off_chain = typed::recover(&manifest, &domain, sig);
        assert_eq!(
            off_chain.as_ref().ok() == Some(&seller.address()),
            on_chain,
            "{what}: the contract {} it, Rust says {off_chain:?}",
            if on_chain { "accepts" } else { "refuses" }
        );
        if on_chain {
            accepted.push(what.clone());
        }
    }
    // The comparison above is only worth something if both outcomes occurred.
    assert_eq!(accepted, [format!("v = {v_ok}"), "v = 0/1, normalised".to_string()]);
}
