//! The Rust → Solidity direction of the typed data: messages signed by `cairn-protocol` are accepted by the
//! deployed contracts (a relayed registration, a relayed ERC-20 job request of typed data v2 — version and
//! highest royalty bound — with an EIP-2612 permit, a relayed receipt), and the contracts' own digest views
//! agree with Rust's.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::Provider,
    signers::{Signer, local::PrivateKeySigner},
    sol,
    sol_types::{SolStruct, eip712_domain},
};
use cairn_bindings::{DevToken, JobMarket, ModelRegistry, job_market::IJobMarket};
use cairn_chain::Error as ChainError;
use cairn_deploy::seed::devnet_key;
use cairn_protocol::{JobReceipt, JobRequest, ModelManifest, Region, RegionMask, Runtime, typed};

use crate::Net;

sol! {
    /// EIP-2612, as OpenZeppelin's ERC20Permit hashes it.
    struct Permit { address owner; address spender; uint256 value; uint256 nonce; uint256 deadline; }
}

pub(crate) async fn now(net: &Net) -> u64 {
    let block = net.deployer.provider().get_block_number().await.unwrap();
    let block = net.deployer.provider().get_block_by_number(block.into()).await.unwrap().unwrap();
    block.header.timestamp
}

/// Registers a DUSD-priced model (1 DUSD per call, EU/US/JP) from a Rust-signed manifest (relayed by the
/// deployer); returns its id. Its version is 1.
pub(crate) async fn register_model(net: &Net, seller: &PrivateKeySigner) -> U256 {
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());
    let manifest = ModelManifest {
        seller: seller.address(),
        modelId: U256::ZERO,
        manifestCid: "bafkreimanifest".into(),
        manifestDigest: keccak256("manifest bytes"),
        weightsDigest: "0x53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db".parse().unwrap(),
        runtime: Runtime::BertEmbedV1.id(),
        paymentToken: net.address("DevToken"),
        pricePerCall: U256::from(1_000_000u64),
        licensePrice: U256::ZERO,
        licensePeriod: 0,
        regionMask: RegionMask::of([Region::Eu, Region::Us, Region::Jp]).to_u256(),
        nonce: registry.nonces(seller.address()).call().await.unwrap(),
        deadline: now(net).await + 3600,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("ModelRegistry"));
    assert_eq!(
        registry.manifestDigest(manifest.clone()).call().await.unwrap(),
        typed::digest(&manifest, &domain),
        "ModelRegistry.manifestDigest = Rust's digest"
    );
    let signature = typed::sign(seller, &manifest, &domain).await.unwrap();
    let receipt = net
        .deployer
        .send("register", registry.register(manifest, signature.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
    let event = receipt.decoded_log::<ModelRegistry::ModelRegistered>().expect("ModelRegistered");
    assert_eq!(event.seller, seller.address());
    assert_eq!(event.version, 1);
    event.modelId
}

#[tokio::test]
async fn contracts_accept_what_rust_signed() {
    let net = Net::start().await;
    let p = net.deployer.provider();
    let seller = devnet_key("seller");
    let buyer = devnet_key("buyer");
    let model_id = register_model(&net, &seller).await;

    // The buyer signs a JobRequest and an EIP-2612 permit; a relayer (the deployer) posts both.
    let market = JobMarket::new(net.address("JobMarket"), p);
    let token = DevToken::new(net.address("DevToken"), p);
    let payment = U256::from(5_000_000u64); // 5 DUSD
    let deadline = now(&net).await + 86_400;
    let request = JobRequest {
        buyer: buyer.address(),
        modelId: model_id,
        version: 1,
        inputDigest: B256::repeat_byte(0x22),
        inputCid: "bafkreiinput".into(),
        token: net.address("DevToken"),
        payment,
        maxPricePerCall: U256::from(1_000_000u64),
        deadline,
        regionMask: RegionMask::of([Region::Eu]).to_u256(),
        nonce: market.requestNonces(buyer.address()).call().await.unwrap(),
    };
    let market_domain = typed::domain(net.deployer.chain_id(), net.address("JobMarket"));
    assert_eq!(
        market.requestDigest(request.clone()).call().await.unwrap(),
        typed::digest(&request, &market_domain),
        "JobMarket.requestDigest = Rust's digest of a v2 JobRequest"
    );
    let request_sig = typed::sign(&buyer, &request, &market_domain).await.unwrap();
    let permit = Permit {
        owner: buyer.address(),
        spender: net.address("JobMarket"),
        value: payment,
        nonce: token.nonces(buyer.address()).call().await.unwrap(),
        deadline: U256::from(deadline),
    };
    let permit_domain = eip712_domain! {
        name: "Cairn Dev USD",
        version: "1",
        chain_id: net.deployer.chain_id(),
        verifying_contract: net.address("DevToken"),
    };
    let permit_sig = buyer.sign_hash(&permit.eip712_signing_hash(&permit_domain)).await.unwrap();
    let permit_arg = IJobMarket::Permit {
        deadline: U256::from(deadline),
        v: 27 + permit_sig.v() as u8,
        r: permit_sig.r().into(),
        s: permit_sig.s().into(),
    };
    let receipt = net
        .deployer
        .send(
            "requestJobWithSig",
            market.requestJobWithSig(request, request_sig.as_bytes().into(), permit_arg).into_transaction_request(),
        )
        .await
        .unwrap();
    let requested = receipt.decoded_log::<JobMarket::JobRequested>().expect("JobRequested");
    let job_id = requested.jobId;
    assert_eq!((requested.terms.modelVersion, requested.terms.royalty), (1, U256::from(1_000_000u64)));
    assert_eq!(token.balanceOf(net.address("JobMarket")).call().await.unwrap(), payment, "escrowed through the permit");

    // Operator 0 (EU) claims; its hot key signs the receipt in Rust; anyone relays it.
    let operator = net.as_actor("operator-0").await;
    let op_market = JobMarket::new(net.address("JobMarket"), operator.provider());
    operator.send("claim", op_market.claim(job_id, operator.account()).into_transaction_request()).await.unwrap();
    let terms = market.getTerms(job_id).call().await.unwrap();
    let output = JobReceipt {
        jobId: job_id,
        weightsDigest: terms.weightsDigest,
        inputDigest: terms.inputDigest,
        runtime: terms.runtime,
        outputDigest: B256::repeat_byte(0x33),
        outputCid: "bafkreioutput".into(),
        runnerBuild: cairn_protocol::runtime::runner_build("cairn-runner 0.1.0"),
        energyMillijoules: 1234,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("JobMarket"));

    // A receipt signed by anyone but the operator's signer is refused, with the decoded reason.
    let stranger = PrivateKeySigner::random();
    let bad = typed::sign(&stranger, &output, &domain).await.unwrap();
    let err = net
        .deployer
        .send(
            "submitResult",
            market.submitResult(job_id, output.clone(), bad.as_bytes().into()).into_transaction_request(),
        )
        .await
        .unwrap_err();
    let ChainError::Reverted { revert, .. } = &err else { panic!("{err}") };
    assert_eq!(revert.name, "BadReceiptSignature", "{err}");

    let signer = cairn_deploy::seed::devnet_signer_key("operator-0");
    let good = typed::sign(&signer, &output, &domain).await.unwrap();
    net.deployer
        .send("submitResult", market.submitResult(job_id, output, good.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
    let progress = market.getProgress(job_id).call().await.unwrap();
    assert_eq!(progress.state, 3, "JobState.Submitted");
    assert_eq!(progress.outputDigest, B256::repeat_byte(0x33));
    assert_eq!(progress.operator, operator.account());
    let _: Address = operator.account();
}
