//! A driver of the real market on the seeded devnet ([`crate::Net`]): every action of the four contracts as
//! one async function, sent by the seeded actors (`cairn_deploy::seed`: `seller`, `buyer`, `operator-0..2`,
//! `verifier-0..4`; operators and verifiers act through their hot signer keys where the contracts allow it,
//! their owner keys otherwise), governance sent by the deployer (the devnet owner and treasury), and time
//! travel through anvil's `evm_increaseTime` + `evm_mine`. [`full_story`] runs all of it once, so that every
//! event of `JobMarket`, `ModelRegistry`, `OperatorRegistry` and `ReexecutionCommittee` that any code path
//! emits is emitted at least once.
//!
//! The call patterns are those of cairn-deploy's tests (`typed_on_chain.rs` `register_model`, `hot_keys.rs`
//! `request_job`, `claim_and_submit`, `approve_dusd`), generalised over tokens, actors and terms.

// A library of actions for every test of the crate: no single test uses all of them.
#![allow(dead_code)]

use alloy::{
    primitives::{Address, B256, U256, keccak256, utils::parse_ether},
    providers::Provider,
};
use cairn_bindings::{
    DevToken, DisputeDesk, JobMarket, JurorPool, ModelRegistry, OperatorRegistry, ReexecutionCommittee,
    job_market::IJobMarket, reexecution_committee::IReexecutionCommittee,
};
use cairn_chain::Chain;
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_protocol::{JobReceipt, ModelManifest, Region, RegionMask, Runtime, typed};

use crate::Net;

/// `JobMarket`'s job states and close reasons, as numbered on chain.
pub(crate) use cairn_bindings::enums::{close_reason, job_state};

/// The seeded actors that stake (operators, then verifiers), by label.
pub(crate) const STAKED: &[&str] =
    &["operator-0", "operator-1", "operator-2", "verifier-0", "verifier-1", "verifier-2", "verifier-3", "verifier-4"];

/// The seeded label of a staked actor's address. Panics for an address that is none of them.
pub(crate) fn label_of(address: Address) -> &'static str {
    STAKED
        .iter()
        .copied()
        .find(|l| devnet_key(l).address() == address)
        .unwrap_or_else(|| panic!("{address} is none of the seeded operators or verifiers"))
}

/// The address of the seeded actor `label`.
pub(crate) fn addr(label: &str) -> Address {
    devnet_key(label).address()
}

/// The address of the hot signer key of the seeded operator or verifier `label`.
pub(crate) fn hot_address(label: &str) -> Address {
    devnet_signer_key(label).address()
}

// ---------------------------------------------------------------------------------------------------------
// Time and blocks
// ---------------------------------------------------------------------------------------------------------

/// The latest block's timestamp, seconds.
pub(crate) async fn now(net: &Net) -> u64 {
    let p = net.deployer.provider();
    let number = p.get_block_number().await.unwrap();
    p.get_block_by_number(number.into()).await.unwrap().unwrap().header.timestamp
}

/// Moves the chain's clock `secs` forward and mines a block with the new time.
pub(crate) async fn advance(net: &Net, secs: u64) {
    let p = net.deployer.provider();
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(secs),)).await.unwrap();
    p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
}

/// Advances the clock until the latest block's timestamp is at least `t + 1` (strictly after `t`).
pub(crate) async fn advance_past(net: &Net, t: u64) {
    let now = now(net).await;
    if now <= t {
        advance(net, t + 1 - now).await;
    }
}

/// Mines `blocks` empty blocks.
pub(crate) async fn mine(net: &Net, blocks: u64) {
    net.deployer
        .provider()
        .raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(blocks),))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------------------

/// A connection signing with the owner key of the seeded actor `label`.
pub(crate) async fn owner(net: &Net, label: &str) -> Chain {
    net.as_actor(label).await
}

/// A connection signing with the hot signer key of the seeded operator or verifier `label`.
pub(crate) async fn hot(net: &Net, label: &str) -> Chain {
    net.as_key(devnet_signer_key(label)).await
}

fn market(net: &Net, chain: &Chain) -> JobMarket::JobMarketInstance<alloy::providers::DynProvider> {
    JobMarket::new(net.address("JobMarket"), chain.provider().clone())
}
fn desk(net: &Net, chain: &Chain) -> DisputeDesk::DisputeDeskInstance<alloy::providers::DynProvider> {
    DisputeDesk::new(net.address("DisputeDesk"), chain.provider().clone())
}
fn models(net: &Net, chain: &Chain) -> ModelRegistry::ModelRegistryInstance<alloy::providers::DynProvider> {
    ModelRegistry::new(net.address("ModelRegistry"), chain.provider().clone())
}
fn registry(net: &Net, chain: &Chain) -> OperatorRegistry::OperatorRegistryInstance<alloy::providers::DynProvider> {
    OperatorRegistry::new(net.address("OperatorRegistry"), chain.provider().clone())
}
fn committee(
    net: &Net,
    chain: &Chain,
) -> ReexecutionCommittee::ReexecutionCommitteeInstance<alloy::providers::DynProvider> {
    ReexecutionCommittee::new(net.address("ReexecutionCommittee"), chain.provider().clone())
}
fn pool(net: &Net, chain: &Chain) -> JurorPool::JurorPoolInstance<alloy::providers::DynProvider> {
    JurorPool::new(net.address("JurorPool"), chain.provider().clone())
}

// ---------------------------------------------------------------------------------------------------------
// Models and licences
// ---------------------------------------------------------------------------------------------------------

/// A listing's terms.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    /// Payment token (zero = ETH).
    pub(crate) token: Address,
    /// Royalty per call.
    pub(crate) price_per_call: U256,
    /// Licence price (zero = no licence needed).
    pub(crate) license_price: U256,
    /// Licence period, seconds (zero iff the price is).
    pub(crate) license_period: u64,
    /// Regions allowed.
    pub(crate) regions: RegionMask,
    /// Distinguishes the manifest (CID and digests).
    pub(crate) tag: &'static str,
}

/// A registered version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registered {
    pub(crate) model_id: U256,
    pub(crate) version: u64,
    pub(crate) tx: B256,
}

/// The seeded seller `seller` signs a `ModelManifest` (EIP-712, signed in Rust) for a new model
/// (`model_id` zero) or a new version of `model_id`; the deployer relays it. The manifest's CID and digest
/// are made up from `listing.tag`.
pub(crate) async fn register_model(net: &Net, seller: &str, model_id: U256, listing: &Listing) -> Registered {
    let (cid, digest) = (format!("bafkreimanifest{}", listing.tag), keccak256(format!("manifest {}", listing.tag)));
    register_model_with_manifest(net, seller, model_id, listing, &cid, digest).await
}

/// [`register_model`] naming a real manifest: `cid` and its `digest` (sha256), e.g. a file added to Kubo.
pub(crate) async fn register_model_with_manifest(
    net: &Net,
    seller: &str,
    model_id: U256,
    listing: &Listing,
    cid: &str,
    digest: B256,
) -> Registered {
    let seller = devnet_key(seller);
    let registry = models(net, &net.deployer);
    let manifest = ModelManifest {
        seller: seller.address(),
        modelId: model_id,
        manifestCid: cid.to_string(),
        manifestDigest: digest,
        weightsDigest: keccak256(format!("weights {}", listing.tag)),
        runtime: Runtime::BertEmbedV1.id(),
        paymentToken: listing.token,
        pricePerCall: listing.price_per_call,
        licensePrice: listing.license_price,
        licensePeriod: listing.license_period,
        regionMask: listing.regions.to_u256(),
        nonce: registry.nonces(seller.address()).call().await.unwrap(),
        deadline: now(net).await + 3600,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("ModelRegistry"));
    let signature = typed::sign(&seller, &manifest, &domain).await.unwrap();
    let receipt = net
        .deployer
        .send("register", registry.register(manifest, signature.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
    let event = receipt.decoded_log::<ModelRegistry::ModelRegistered>().expect("ModelRegistered");
    assert_eq!(event.seller, seller.address());
    Registered { model_id: event.modelId, version: event.version, tx: receipt.transaction_hash }
}

/// The seller changes the latest version's terms.
pub(crate) async fn update_terms(net: &Net, seller: &str, model_id: U256, listing: &Listing) -> B256 {
    let chain = owner(net, seller).await;
    let contract = models(net, &chain);
    let call = contract.updateTerms(
        model_id,
        listing.price_per_call,
        listing.license_price,
        listing.license_period,
        listing.regions.to_u256(),
    );
    chain.send("updateTerms", call.into_transaction_request()).await.unwrap().transaction_hash
}

/// The seller deprecates a model.
pub(crate) async fn deprecate(net: &Net, seller: &str, model_id: U256) -> B256 {
    let chain = owner(net, seller).await;
    chain
        .send("deprecate", models(net, &chain).deprecate(model_id).into_transaction_request())
        .await
        .unwrap()
        .transaction_hash
}

/// `who` lets `spender` take all its DUSD.
pub(crate) async fn approve_dusd(net: &Net, who: &str, spender: Address) {
    let chain = owner(net, who).await;
    let token = DevToken::new(net.address("DevToken"), chain.provider());
    chain.send("approve DUSD", token.approve(spender, U256::MAX).into_transaction_request()).await.unwrap();
}

/// A licence bought: its new expiry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Licensed {
    pub(crate) expiry: u64,
    pub(crate) price: U256,
    pub(crate) tx: B256,
}

/// `buyer` buys (or extends) a licence of the model's latest version, in ETH or in the listing's ERC-20
/// (approving the registry first).
pub(crate) async fn buy_license(net: &Net, buyer: &str, model_id: U256) -> Licensed {
    let chain = owner(net, buyer).await;
    let registry = models(net, &chain);
    let model = registry.getModel(model_id).call().await.unwrap();
    let version = registry.getVersion(model_id, model.latestVersion).call().await.unwrap();
    let (token, price) = (version.paymentToken, version.licensePrice);
    let mut call = registry.buyLicense(model_id, token, price, version.licensePeriod);
    if token == Address::ZERO {
        call = call.value(price);
    } else {
        approve_dusd(net, buyer, net.address("ModelRegistry")).await;
    }
    let receipt = chain.send("buyLicense", call.into_transaction_request()).await.unwrap();
    let event = receipt.decoded_log::<ModelRegistry::LicenseBought>().expect("LicenseBought");
    Licensed { expiry: event.expiry, price: event.price, tx: receipt.transaction_hash }
}

// ---------------------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------------------

/// A job request: the buyer's side of `requestJob`.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) model_id: U256,
    pub(crate) version: u64,
    /// Zero = ETH (sent as value); else an ERC-20 the buyer approved ([`approve_dusd`]).
    pub(crate) token: Address,
    pub(crate) payment: U256,
    pub(crate) max_price: U256,
    /// Seconds from now until the claim deadline.
    pub(crate) deadline_in: u64,
    /// Regions asked (zero: the model's own).
    pub(crate) regions: U256,
    /// Distinguishes the input.
    pub(crate) input: u8,
}

/// `buyer` requests a job; returns its id.
pub(crate) async fn request_job(net: &Net, buyer: &str, r: &Request) -> U256 {
    let chain = owner(net, buyer).await;
    let deadline = now(net).await + r.deadline_in;
    let contract = market(net, &chain);
    let mut call = contract.requestJob(
        r.model_id,
        r.version,
        B256::repeat_byte(r.input),
        format!("bafkreiinput{:02x}", r.input),
        r.token,
        r.payment,
        r.max_price,
        deadline,
        r.regions,
    );
    if r.token == Address::ZERO {
        call = call.value(r.payment);
    }
    let receipt = chain.send("requestJob", call.into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::JobRequested>().expect("JobRequested").jobId
}

/// The operator `operator` claims `job` through its hot signer key.
pub(crate) async fn claim(net: &Net, operator: &str, job: U256) -> B256 {
    let chain = hot(net, operator).await;
    let receipt =
        chain.send("claim", market(net, &chain).claim(job, addr(operator)).into_transaction_request()).await.unwrap();
    let event = receipt.decoded_log::<JobMarket::JobClaimed>().expect("JobClaimed");
    assert_eq!((event.jobId, event.operator), (job, addr(operator)));
    receipt.transaction_hash
}

/// The claimer hands `job` back before its submit-by time (through its hot key); returns the penalty.
pub(crate) async fn release_claim(net: &Net, operator: &str, job: U256) -> U256 {
    let chain = hot(net, operator).await;
    let receipt =
        chain.send("releaseClaim", market(net, &chain).releaseClaim(job).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::ClaimReleased>().expect("ClaimReleased").penalty
}

/// Lets the claim on `job` time out (time travel past its submit-by time), then anyone (the deployer)
/// reopens it; returns the penalty.
pub(crate) async fn expire_claim(net: &Net, job: U256) -> U256 {
    let submit_by = market(net, &net.deployer).getProgress(job).call().await.unwrap().submitBy;
    advance_past(net, submit_by).await;
    let receipt =
        net.deployer.send("reopen", market(net, &net.deployer).reopen(job).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::ClaimExpired>().expect("ClaimExpired").penalty
}

/// The receipt the claimer would sign for `job`: the job's own digests and runtime, and `output`.
pub(crate) async fn receipt_for(net: &Net, job: U256, output: u8) -> JobReceipt {
    let terms = market(net, &net.deployer).getTerms(job).call().await.unwrap();
    JobReceipt {
        jobId: job,
        weightsDigest: terms.weightsDigest,
        inputDigest: terms.inputDigest,
        runtime: terms.runtime,
        outputDigest: B256::repeat_byte(output),
        outputCid: format!("bafkreioutput{output:02x}"),
        runnerBuild: cairn_protocol::runtime::runner_build("cairn-runner 0.1.0"),
        energyMillijoules: 1000 + u64::from(output),
    }
}

/// The claimer's hot key signs a receipt for `job` and submits it; returns the challenge window's end.
pub(crate) async fn submit(net: &Net, operator: &str, job: U256, output: u8) -> u64 {
    let key = devnet_signer_key(operator);
    let chain = net.as_key(key.clone()).await;
    let receipt = receipt_for(net, job, output).await;
    let domain = typed::domain(net.deployer.chain_id(), net.address("JobMarket"));
    let signature = typed::sign(&key, &receipt, &domain).await.unwrap();
    let contract = market(net, &chain);
    let call = contract.submitResult(job, receipt, signature.as_bytes().into());
    let sent = chain.send("submitResult", call.into_transaction_request()).await.unwrap();
    let event = sent.decoded_log::<JobMarket::ResultSubmitted>().expect("ResultSubmitted");
    assert_eq!((event.operator, event.signer), (addr(operator), key.address()));
    event.challengeEnds
}

/// [`claim`] then [`submit`].
pub(crate) async fn claim_and_submit(net: &Net, operator: &str, job: U256, output: u8) -> u64 {
    claim(net, operator, job).await;
    submit(net, operator, job, output).await
}

/// Waits out the challenge window of `job` (time travel), then anyone (the deployer) finalizes it.
pub(crate) async fn finalize(net: &Net, job: U256) -> B256 {
    let ends = market(net, &net.deployer).getProgress(job).call().await.unwrap().challengeEnds;
    advance_past(net, ends.saturating_sub(1)).await;
    let m = market(net, &net.deployer);
    net.deployer.send("finalize", m.finalize(job).into_transaction_request()).await.unwrap().transaction_hash
}

/// Waits until `job`'s claim deadline has passed (time travel), then anyone (the deployer) cancels it.
pub(crate) async fn cancel_expired(net: &Net, job: U256) -> B256 {
    let deadline = market(net, &net.deployer).getTerms(job).call().await.unwrap().deadline;
    advance_past(net, deadline).await;
    let m = market(net, &net.deployer);
    net.deployer.send("cancel", m.cancel(job).into_transaction_request()).await.unwrap().transaction_hash
}

/// `challenger` challenges `job`'s result at the dispute desk: the first pays the challenge bond plus the
/// arbitration fee and opens the dispute, a later one joins the pool with the bond (`challengeCost` says
/// which); returns the dispute id.
pub(crate) async fn challenge(net: &Net, challenger: &str, job: U256) -> U256 {
    let chain = owner(net, challenger).await;
    let d = desk(net, &chain);
    let cost = d.challengeCost(job).call().await.unwrap();
    chain.send("challenge", d.challenge(job).value(cost).into_transaction_request()).await.unwrap();
    d.poolOf(job).call().await.unwrap().disputeId
}

/// Collects `challenger`'s ticket of `job`'s ruled pool into its desk pull balance (anyone may send it: the
/// deployer does); returns the amount.
pub(crate) async fn collect(net: &Net, job: U256, challenger: Address) -> U256 {
    let d = desk(net, &net.deployer);
    let receipt = net.deployer.send("collect", d.collect(job, challenger).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<DisputeDesk::ChallengerPaid>().expect("ChallengerPaid").amount
}

/// `who` (an owner key) submits ERC-1497 evidence about `job`.
pub(crate) async fn submit_evidence(net: &Net, who: &str, job: U256, uri: &str) -> B256 {
    let chain = owner(net, who).await;
    let contract = desk(net, &chain);
    let call = contract.submitEvidence(job, uri.to_string());
    chain.send("submitEvidence", call.into_transaction_request()).await.unwrap().transaction_hash
}

/// `who` withdraws its pull balance of `token` from `contract` (a deployments name); returns the amount.
pub(crate) async fn withdraw(net: &Net, who: &Chain, contract: &str, token: Address) -> U256 {
    let at = net.address(contract);
    // `withdraw(address)` is PullPayments', the same in every contract: call it through JobMarket's ABI.
    let pull = JobMarket::new(at, who.provider());
    let call = pull.withdraw(token);
    let receipt = who.send(&format!("withdraw from {contract}"), call.into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::Withdrawn>().expect("Withdrawn").amount
}

// ---------------------------------------------------------------------------------------------------------
// Disputes
// ---------------------------------------------------------------------------------------------------------

/// The outcome of a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Drawn {
    /// The jurors drawn.
    Jurors(Vec<Address>),
    /// Too few free seats in the pool (their count): the dispute waits for `retry`.
    Deferred(U256),
}

/// Mines past the dispute's seed block, then anyone (the deployer) draws the jurors.
pub(crate) async fn draw(net: &Net, dispute: U256) -> Drawn {
    mine(net, 2).await;
    let c = committee(net, &net.deployer);
    let receipt = net.deployer.send("draw", c.draw(dispute).into_transaction_request()).await.unwrap();
    if let Some(e) = receipt.decoded_log::<ReexecutionCommittee::DrawDeferred>() {
        return Drawn::Deferred(e.freeSeats);
    }
    Drawn::Jurors(receipt.decoded_log::<ReexecutionCommittee::JurorsDrawn>().expect("JurorsDrawn").jurors.clone())
}

/// Blocks after which `blockhash` no longer serves a seed block (256; the testkit's anvil runs Cancun, which
/// has no EIP-2935 history to serve it longer).
pub(crate) const SEED_LAPSE_BLOCKS: u64 = 260;

/// Lets the dispute's seed block fall out of reach (mines [`SEED_LAPSE_BLOCKS`]), then anyone reseeds it;
/// returns the new seed block.
pub(crate) async fn reseed(net: &Net, dispute: U256) -> U256 {
    mine(net, SEED_LAPSE_BLOCKS).await;
    let c = committee(net, &net.deployer);
    let receipt = net.deployer.send("reseed", c.reseed(dispute).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<ReexecutionCommittee::Reseeded>().expect("Reseeded").seedBlock
}

/// The salt a juror uses in these tests.
pub(crate) fn salt(juror: Address) -> B256 {
    keccak256(juror)
}

/// The juror commits `vote` (1 acceptable, 2 not) in the dispute's current round through its hot key; returns
/// the commitment.
pub(crate) async fn commit(net: &Net, dispute: U256, juror: Address, vote: u8) -> B256 {
    let chain = hot(net, label_of(juror)).await;
    let round = committee(net, &net.deployer).disputeInfo(dispute).call().await.unwrap().round;
    let commitment = typed::commitment(dispute, round, juror, U256::from(vote), salt(juror));
    let contract = committee(net, &chain);
    let call = contract.commit(dispute, juror, commitment);
    chain.send("commit", call.into_transaction_request()).await.unwrap();
    commitment
}

/// The juror reveals its committed `vote` through its hot key.
pub(crate) async fn reveal(net: &Net, dispute: U256, juror: Address, vote: u8) -> B256 {
    let chain = hot(net, label_of(juror)).await;
    let contract = committee(net, &chain);
    let call = contract.reveal(dispute, juror, U256::from(vote), salt(juror));
    chain.send("reveal", call.into_transaction_request()).await.unwrap().transaction_hash
}

/// What resolving a round did.
#[derive(Debug, PartialEq)]
pub(crate) enum Resolved {
    /// The final ruling.
    Ruled(U256),
    /// The round ruled and may be appealed until the deadline.
    Appealable { ruling: U256, deadline: u64 },
    /// Silent seats that could decide go back to the draw.
    Redrawn(U256),
}

/// Anyone (the deployer) resolves the dispute's round, first waiting out the reveal period when `wait` (needed
/// unless every juror revealed).
pub(crate) async fn resolve_round(net: &Net, dispute: U256, wait: bool) -> Resolved {
    let c = committee(net, &net.deployer);
    if wait {
        let info = c.disputeInfo(dispute).call().await.unwrap();
        advance_past(net, info.revealDeadline).await;
    }
    let receipt = net.deployer.send("resolve", c.resolve(dispute).into_transaction_request()).await.unwrap();
    if let Some(e) = receipt.decoded_log::<ReexecutionCommittee::RoundRuled>() {
        return Resolved::Appealable { ruling: e.ruling, deadline: e.appealDeadline };
    }
    if let Some(e) = receipt.decoded_log::<ReexecutionCommittee::SilentSeatsRedrawn>() {
        return Resolved::Redrawn(e.seats);
    }
    Resolved::Ruled(receipt.decoded_log::<ReexecutionCommittee::DisputeRuled>().expect("DisputeRuled").ruling)
}

/// Resolves the dispute's round and, when it may be appealed, lets the appeal period pass and makes the ruling
/// final; returns the ruling.
pub(crate) async fn resolve(net: &Net, dispute: U256, wait: bool) -> U256 {
    match boxed(|| resolve_round(net, dispute, wait)).await {
        Resolved::Ruled(ruling) => ruling,
        Resolved::Appealable { deadline, .. } => {
            boxed(|| advance_past(net, deadline)).await;
            let Resolved::Ruled(ruling) = boxed(|| resolve_round(net, dispute, false)).await else {
                panic!("an unappealed round rules finally")
            };
            ruling
        }
        Resolved::Redrawn(seats) => panic!("dispute {dispute}: {seats} silent seats were redrawn"),
    }
}

/// `appellant` appeals the dispute's round, paying `appealCost`; returns the fee.
pub(crate) async fn appeal(net: &Net, appellant: &str, dispute: U256) -> U256 {
    let chain = owner(net, appellant).await;
    let c = committee(net, &chain);
    let cost = c.appealCost(dispute).call().await.unwrap();
    let receipt = chain.send("appeal", c.appeal(dispute).value(cost).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<ReexecutionCommittee::AppealRaised>().expect("AppealRaised").fee
}

/// Anyone (the deployer) queues a waiting dispute again; returns the new seed block.
pub(crate) async fn retry(net: &Net, dispute: U256) -> U256 {
    let c = committee(net, &net.deployer);
    let receipt = net.deployer.send("retry", c.retry(dispute).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<ReexecutionCommittee::DrawRetried>().expect("DrawRetried").seedBlock
}

/// Anyone (the deployer) brings `juror`'s pending juror-stake changes (released seats, matured deposits,
/// withdrawals) into the draw.
pub(crate) async fn sync_juror(net: &Net, juror: Address) -> B256 {
    let p = pool(net, &net.deployer);
    net.deployer.send("sync", p.sync(juror).into_transaction_request()).await.unwrap().transaction_hash
}

/// Every juror drawn commits and reveals its vote from `votes` (in draw order, each juror once however many
/// seats it holds; `None`: commits 1 but never reveals), then the dispute is resolved (an unappealed round made
/// final) and the jurors' released seats synced back into the draw; returns the ruling.
pub(crate) async fn vote_and_resolve(net: &Net, dispute: U256, seats: &[Address], votes: &[Option<u8>]) -> U256 {
    boxed(|| vote(net, dispute, seats, votes)).await;
    let ruling = boxed(|| resolve(net, dispute, votes.iter().any(Option::is_none))).await;
    boxed(|| sync_all(net, seats)).await;
    ruling
}

/// Each juror of `seats` once, in draw order.
pub(crate) fn distinct(seats: &[Address]) -> Vec<Address> {
    let mut jurors: Vec<Address> = Vec::new();
    for juror in seats {
        if !jurors.contains(juror) {
            jurors.push(*juror);
        }
    }
    jurors
}

/// Brings every juror of `seats` back into the draw (released seats, once a round is over).
pub(crate) async fn sync_all(net: &Net, seats: &[Address]) {
    for juror in distinct(seats) {
        sync_juror(net, juror).await;
    }
}

/// The salt of the story's canary commitments.
pub(crate) const CANARY_SALT: B256 = B256::repeat_byte(0xca);

/// Governance (the deployer) makes itself the committee's canary key.
pub(crate) async fn set_canary_key(net: &Net) {
    let c = committee(net, &net.deployer);
    let call = c.setCanaryKey(net.deployer.account());
    net.deployer.send("setCanaryKey", call.into_transaction_request()).await.unwrap();
}

/// The canary key registers `dispute`'s known `answer` (it must land by the dispute's seed block).
pub(crate) async fn register_canary(net: &Net, dispute: U256, answer: u8) {
    let encoded = alloy::sol_types::SolValue::abi_encode(&(dispute, U256::from(answer), CANARY_SALT));
    let commitment = alloy::primitives::keccak256(encoded);
    let c = committee(net, &net.deployer);
    net.deployer.send("registerCanary", c.registerCanary(commitment).into_transaction_request()).await.unwrap();
}

/// Every juror drawn commits its vote, the canary key reveals `answer` (the votes are bound), then the jurors
/// reveal; not resolved.
pub(crate) async fn vote_on_canary(net: &Net, dispute: U256, seats: &[Address], votes: &[u8], answer: u8) {
    let jurors = distinct(seats);
    assert_eq!(jurors.len(), votes.len(), "one vote per juror");
    for (juror, vote) in jurors.iter().zip(votes) {
        boxed(|| commit(net, dispute, *juror, *vote)).await;
    }
    let c = committee(net, &net.deployer);
    let call = c.revealCanary(dispute, U256::from(answer), CANARY_SALT);
    boxed(|| net.deployer.send("revealCanary", call.into_transaction_request())).await.unwrap();
    for (juror, vote) in jurors.iter().zip(votes) {
        boxed(|| reveal(net, dispute, *juror, *vote)).await;
    }
}

/// Every juror drawn commits and reveals its vote from `votes`, as [`vote_and_resolve`] does, without resolving.
pub(crate) async fn vote(net: &Net, dispute: U256, seats: &[Address], votes: &[Option<u8>]) {
    let jurors = distinct(seats);
    assert_eq!(jurors.len(), votes.len(), "one vote per juror");
    for (juror, vote) in jurors.iter().zip(votes) {
        commit(net, dispute, *juror, vote.unwrap_or(1)).await;
    }
    for (juror, vote) in jurors.iter().zip(votes) {
        if let Some(v) = vote {
            reveal(net, dispute, *juror, *v).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Stake and profile (owner keys)
// ---------------------------------------------------------------------------------------------------------

/// `operator` adds `wei` of stake.
pub(crate) async fn add_stake(net: &Net, operator: &str, wei: U256) -> B256 {
    let chain = owner(net, operator).await;
    let contract = registry(net, &chain);
    let call = contract.addStake().value(wei);
    chain.send("addStake", call.into_transaction_request()).await.unwrap().transaction_hash
}

/// `operator` starts unbonding `wei`; returns when it can be withdrawn.
pub(crate) async fn request_unstake(net: &Net, operator: &str, wei: U256) -> u64 {
    let chain = owner(net, operator).await;
    let receipt = chain
        .send("requestUnstake", registry(net, &chain).requestUnstake(wei).into_transaction_request())
        .await
        .unwrap();
    receipt.decoded_log::<OperatorRegistry::UnstakeRequested>().expect("UnstakeRequested").readyAt
}

/// Waits out `operator`'s unbonding delay (time travel) and withdraws; returns the amount.
pub(crate) async fn withdraw_unstaked(net: &Net, operator: &str) -> U256 {
    let chain = owner(net, operator).await;
    let r = registry(net, &chain);
    let ready = r.getOperator(addr(operator)).call().await.unwrap().unbondingReadyAt;
    advance_past(net, ready).await;
    let receipt = chain.send("withdrawUnstaked", r.withdrawUnstaked().into_transaction_request()).await.unwrap();
    receipt.decoded_log::<OperatorRegistry::UnstakeWithdrawn>().expect("UnstakeWithdrawn").amount
}

/// `operator` names `signer` its hot key.
pub(crate) async fn set_signer(net: &Net, operator: &str, signer: Address) -> B256 {
    let chain = owner(net, operator).await;
    chain
        .send("setSigner", registry(net, &chain).setSigner(signer).into_transaction_request())
        .await
        .unwrap()
        .transaction_hash
}

/// `operator` changes its profile.
pub(crate) async fn update_profile(
    net: &Net,
    operator: &str,
    region: Region,
    hardware: &str,
    attestation: B256,
    endpoint: &str,
) -> B256 {
    let chain = owner(net, operator).await;
    let contract = registry(net, &chain);
    let call = contract.updateProfile(region.bit(), keccak256(hardware), attestation, endpoint.into());
    chain.send("updateProfile", call.into_transaction_request()).await.unwrap().transaction_hash
}

/// `operator` deposits `wei` of juror stake into the JurorPool (it matures before it can be drawn).
pub(crate) async fn deposit_juror_stake(net: &Net, operator: &str, wei: U256) -> B256 {
    let chain = owner(net, operator).await;
    let tx = pool(net, &chain).deposit().value(wei).into_transaction_request();
    chain.send("deposit juror stake", tx).await.unwrap().transaction_hash
}

/// `operator` asks `wei` of its juror stake out of the JurorPool.
pub(crate) async fn request_juror_withdrawal(net: &Net, operator: &str, wei: U256) -> B256 {
    let chain = owner(net, operator).await;
    let tx = pool(net, &chain).requestWithdrawal(wei).into_transaction_request();
    chain.send("requestWithdrawal", tx).await.unwrap().transaction_hash
}

/// Each seeded verifier keeps one seat (0.5 ETH of its juror stake, 2 ETH less any penalty so far): a juror
/// drawn once has no seat left, so three seats are three distinct jurors, and votes can name them one by one.
pub(crate) async fn one_seat_each(net: &Net) {
    let seat = parse_ether("0.5").unwrap();
    for i in 0..5 {
        let label = format!("verifier-{i}");
        let stake = pool(net, &net.deployer).jurorInfo(addr(&label)).call().await.unwrap().stake;
        request_juror_withdrawal(net, &label, U256::from(stake) - seat).await;
    }
}

/// `operator` withdraws its unbonded juror stake; returns the amount.
pub(crate) async fn withdraw_juror_stake(net: &Net, operator: &str) -> U256 {
    let chain = owner(net, operator).await;
    let receipt =
        chain.send("withdrawUnbonded", pool(net, &chain).withdrawUnbonded().into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JurorPool::JurorWithdrawn>().expect("JurorWithdrawn").amount
}

// ---------------------------------------------------------------------------------------------------------
// Governance (the deployer owns every contract on the devnet)
// ---------------------------------------------------------------------------------------------------------

/// The owner changes JobMarket's parameters (`change` edits the current ones).
pub(crate) async fn set_market_params(net: &Net, change: impl FnOnce(&mut IJobMarket::Params)) -> IJobMarket::Params {
    let m = market(net, &net.deployer);
    let mut params = m.params().call().await.unwrap();
    change(&mut params);
    net.deployer.send("setParams", m.setParams(params.clone()).into_transaction_request()).await.unwrap();
    params
}

/// The owner sets a token's bond rate and minimum operator fee in JobMarket.
pub(crate) async fn set_token_config(net: &Net, token: Address, bond_rate: U256, min_operator_fee: U256) -> B256 {
    let m = market(net, &net.deployer);
    let config = IJobMarket::TokenConfig { bondRate: bond_rate, minOperatorFee: min_operator_fee };
    net.deployer
        .send("setTokenConfig", m.setTokenConfig(token, config).into_transaction_request())
        .await
        .unwrap()
        .transaction_hash
}

/// The owner sets JobMarket's treasury.
pub(crate) async fn set_treasury(net: &Net, treasury: Address) -> B256 {
    let m = market(net, &net.deployer);
    net.deployer.send("setTreasury", m.setTreasury(treasury).into_transaction_request()).await.unwrap().transaction_hash
}

/// The owner changes the committee's parameters (`change` edits the current ones).
pub(crate) async fn set_committee_params(
    net: &Net,
    change: impl FnOnce(&mut IReexecutionCommittee::Params),
) -> IReexecutionCommittee::Params {
    let c = committee(net, &net.deployer);
    let mut params = c.params().call().await.unwrap();
    change(&mut params);
    net.deployer.send("setParams", c.setParams(params.clone()).into_transaction_request()).await.unwrap();
    params
}

/// The owner sets the desk's audit parameters (`safety_bps`, `min_rate_bps`).
pub(crate) async fn set_audit_params(net: &Net, safety_bps: u16, min_rate_bps: u16) {
    let d = desk(net, &net.deployer);
    let params =
        cairn_bindings::dispute_desk::IDisputeDesk::AuditParams { safetyBps: safety_bps, minRateBps: min_rate_bps };
    net.deployer.send("setAuditParams", d.setAuditParams(params).into_transaction_request()).await.unwrap();
}

/// Anyone (the deployer) evaluates `job`'s audit draw a block after its seed block; returns the audit's dispute
/// when it was drawn.
pub(crate) async fn evaluate_audit(net: &Net, job: U256) -> Option<U256> {
    mine(net, 1).await;
    let d = desk(net, &net.deployer);
    let receipt = net.deployer.send("evaluateAudit", d.evaluateAudit(job).into_transaction_request()).await.unwrap();
    let e = receipt.decoded_log::<DisputeDesk::AuditEvaluated>().expect("AuditEvaluated");
    e.audited.then_some(e.disputeId)
}

/// The owner allows or stops `arbitrable` opening disputes.
pub(crate) async fn set_arbitrable(net: &Net, arbitrable: Address, allowed: bool) -> B256 {
    let c = committee(net, &net.deployer);
    net.deployer
        .send("setArbitrable", c.setArbitrable(arbitrable, allowed).into_transaction_request())
        .await
        .unwrap()
        .transaction_hash
}

/// The owner allows or stops `account` locking, slashing and recording in the OperatorRegistry.
pub(crate) async fn set_authorised(net: &Net, account: Address, allowed: bool) -> B256 {
    let r = registry(net, &net.deployer);
    net.deployer
        .send("setAuthorised", r.setAuthorised(account, allowed).into_transaction_request())
        .await
        .unwrap()
        .transaction_hash
}

/// A named parameter of the OperatorRegistry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RegistryParam {
    MinStake(U256),
    UnbondingDelay(u64),
}

/// The owner sets one of the OperatorRegistry's parameters.
pub(crate) async fn set_registry_param(net: &Net, param: RegistryParam) -> B256 {
    let r = registry(net, &net.deployer);
    let tx = match param {
        RegistryParam::MinStake(v) => r.setMinStake(v).into_transaction_request(),
        RegistryParam::UnbondingDelay(v) => r.setUnbondingDelay(v).into_transaction_request(),
    };
    net.deployer.send("set a registry parameter", tx).await.unwrap().transaction_hash
}

/// A named parameter of the JurorPool (seconds).
#[derive(Debug, Clone, Copy)]
pub(crate) enum PoolParam {
    Maturity(u64),
    WithdrawalDelay(u64),
}

/// The owner sets one of the JurorPool's parameters.
pub(crate) async fn set_pool_param(net: &Net, param: PoolParam) -> B256 {
    let p = pool(net, &net.deployer);
    let tx = match param {
        PoolParam::Maturity(v) => p.setMaturity(v).into_transaction_request(),
        PoolParam::WithdrawalDelay(v) => p.setWithdrawalDelay(v).into_transaction_request(),
    };
    net.deployer.send("set a pool parameter", tx).await.unwrap().transaction_hash
}

/// The owner pauses (or unpauses) `contract`: JobMarket, ModelRegistry or OperatorRegistry.
pub(crate) async fn set_paused(net: &Net, contract: &str, paused: bool) -> B256 {
    let d = &net.deployer;
    let tx = match (contract, paused) {
        ("JobMarket", true) => market(net, d).pause().into_transaction_request(),
        ("JobMarket", false) => market(net, d).unpause().into_transaction_request(),
        ("ModelRegistry", true) => models(net, d).pause().into_transaction_request(),
        ("ModelRegistry", false) => models(net, d).unpause().into_transaction_request(),
        ("OperatorRegistry", true) => registry(net, d).pause().into_transaction_request(),
        ("OperatorRegistry", false) => registry(net, d).unpause().into_transaction_request(),
        (other, _) => panic!("{other} cannot be paused"),
    };
    d.send(&format!("pause {contract}: {paused}"), tx).await.unwrap().transaction_hash
}

/// The owner hands `contract` to itself through Ownable2Step (`transferOwnership` then `acceptOwnership`):
/// both ownership events, the owner unchanged.
pub(crate) async fn transfer_ownership_to_self(net: &Net, contract: &str) {
    let d = &net.deployer;
    let me = d.account();
    // Ownable2Step is the same in every contract: call it through JobMarket's ABI.
    let c = JobMarket::new(net.address(contract), d.provider().clone());
    d.send("transferOwnership", c.transferOwnership(me).into_transaction_request()).await.unwrap();
    d.send("acceptOwnership", c.acceptOwnership().into_transaction_request()).await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// The whole story
// ---------------------------------------------------------------------------------------------------------

/// Boxes a step of [`full_story`]: the story's own future then holds a pointer per step, not every step's
/// state inline (which overflows a test thread's stack in debug builds). The step's future is made here, from
/// `step`, not by the caller: a debug build gives every future built in a function's body its own stack slot,
/// so a story that built its ~130 steps' futures itself needed over a megabyte of stack for one poll.
#[inline(never)]
fn boxed<F: std::future::Future>(step: impl FnOnce() -> F) -> std::pin::Pin<Box<F>> {
    Box::pin(step())
}

/// Operator wrong (operator-1's bond slashed, part burned, the challenger paid), opened together with a
/// dispute that finds too few seats: the wrong one's draw locks three of the five, the other waits, and once the
/// first is resolved and its jurors' seats synced back, a retry draws it (ruled acceptable). The wrong one is also
/// a canary of answer 2. Its own function: [`full_story`]'s poll frame holds every step's future in a debug
/// build, and this keeps it within a test thread's stack. Returns (job wrong, its dispute, job no jurors, its
/// dispute).
async fn wrong_and_waiting(net: &Net, eth_job: &dyn Fn(u8) -> Request) -> (U256, U256, U256, U256) {
    let (request_wrong, request_no_jurors) = (eth_job(5), eth_job(7));
    let job_wrong = boxed(|| request_job(net, "buyer", &request_wrong)).await;
    boxed(|| claim_and_submit(net, "operator-1", job_wrong, 0x05)).await;
    let job_no_jurors = boxed(|| request_job(net, "buyer", &request_no_jurors)).await;
    boxed(|| claim_and_submit(net, "operator-1", job_no_jurors, 0x07)).await;
    let dispute_wrong = boxed(|| challenge(net, "buyer", job_wrong)).await;
    // The wrong job is also a canary of answer 2 (governance's key, registered by the seed block): the seats are
    // judged against the answer, which here is the ruling too.
    boxed(|| register_canary(net, dispute_wrong, 2)).await;
    // A watcher joins the wrong job's challenge pool with the bond alone.
    assert_eq!(boxed(|| challenge(net, "seller", job_wrong)).await, dispute_wrong, "the same dispute");
    let dispute_no_jurors = boxed(|| challenge(net, "buyer", job_no_jurors)).await;
    let Drawn::Jurors(jurors) = boxed(|| draw(net, dispute_wrong)).await else { panic!("five seats are free") };
    assert_eq!(boxed(|| draw(net, dispute_no_jurors)).await, Drawn::Deferred(U256::from(2)));
    let votes = vec![2; distinct(&jurors).len()];
    boxed(|| vote_on_canary(net, dispute_wrong, &jurors, &votes, 2)).await;
    let ruling = boxed(|| resolve(net, dispute_wrong, false)).await;
    boxed(|| sync_all(net, &jurors)).await;
    assert_eq!(ruling, U256::from(2));
    let paid_first = boxed(|| collect(net, job_wrong, addr("buyer"))).await;
    let paid_joiner = boxed(|| collect(net, job_wrong, addr("seller"))).await;
    assert_eq!(paid_first, paid_joiner, "every ticket is paid the same");
    boxed(|| retry(net, dispute_no_jurors)).await;
    let Drawn::Jurors(jurors) = boxed(|| draw(net, dispute_no_jurors)).await else { panic!("five seats again") };
    let ruling = boxed(|| vote_and_resolve(net, dispute_no_jurors, &jurors, &[Some(1), Some(1), Some(1)])).await;
    assert_eq!(ruling, U256::from(1));
    (job_wrong, dispute_wrong, job_no_jurors, dispute_no_jurors)
}

/// The ids [`full_story`] made.
#[derive(Debug, Clone)]
pub(crate) struct Story {
    /// ETH-priced model with an ETH licence: versions 1 and 2, terms updated on 2.
    pub(crate) eth_model: U256,
    /// DUSD-priced model with a DUSD licence, deprecated at the end.
    pub(crate) dusd_model: U256,
    /// ETH job: claimed and released (operator-0), claimed and timed out (operator-1), claimed, submitted
    /// and finalized (operator-0).
    pub(crate) job_finalized_eth: U256,
    /// DUSD job: claimed, submitted and finalized (operator-1).
    pub(crate) job_finalized_dusd: U256,
    /// ETH job never claimed, cancelled after its deadline.
    pub(crate) job_cancelled: U256,
    /// Challenged; the jurors vote acceptable: OperatorUpheld (drawn after a reseed; evidence from both sides).
    pub(crate) job_upheld: U256,
    /// Submitted while every job was audited: the audit's jury upholds it; paid less its audit premium.
    pub(crate) job_audited: U256,
    /// Its audit's dispute.
    pub(crate) dispute_audited: U256,
    /// Challenged; the jurors vote not acceptable: OperatorWrong (the operator's bond slashed).
    pub(crate) job_wrong: U256,
    /// Challenged; one juror acceptable, one "input unavailable" (3) and one who never reveals: ruling 0,
    /// ArbitratorRefused.
    pub(crate) job_tied: U256,
    /// Challenged while too few seats are free: DrawDeferred, then retried, drawn and upheld.
    pub(crate) job_no_jurors: U256,
    /// Challenged, never drawn: the seed and the reseed lapse, DrawLapsed rules OperatorWrong.
    pub(crate) job_lapsed: U256,
    /// Disputes, in the same order: upheld, wrong, tied, no jurors, lapsed.
    pub(crate) dispute_upheld: U256,
    pub(crate) dispute_wrong: U256,
    pub(crate) dispute_tied: U256,
    pub(crate) dispute_no_jurors: U256,
    pub(crate) dispute_lapsed: U256,
    /// The juror of the tied dispute who committed and never revealed (slashed).
    pub(crate) non_revealer: Address,
    /// All the juror stake it withdrew in the end (its 2 ETH deposit less every penalty it paid).
    pub(crate) non_revealer_withdrawn: U256,
    /// Challenged; round 0 upholds, the buyer appeals, round 1 rules OperatorWrong.
    pub(crate) job_appealed: U256,
    /// Its dispute.
    pub(crate) dispute_appealed: U256,
    /// The treasury JobMarket was switched to mid-story (the deployer before).
    pub(crate) new_treasury: Address,
    /// The operator whose stake, signer and profile changed (operator-2).
    pub(crate) restaked: &'static str,
}

/// Runs every action of the market once on a freshly seeded devnet (see [`Story`]'s fields for what
/// happens), so that every event any code path of the four contracts emits is emitted at least once.
/// Takes about a few hundred transactions.
pub(crate) async fn full_story(net: &Net) -> Story {
    let (dusd, eth) = (net.address("DevToken"), Address::ZERO);
    let milli = |n: u64| parse_ether("0.001").unwrap() * U256::from(n);
    let eu_us_jp = RegionMask::of([Region::Eu, Region::Us, Region::Jp]);

    // Governance first: every parameter event, pause/unpause, both ownership events.
    for contract in
        ["DisputeDesk", "JobMarket", "JurorPool", "ModelRegistry", "OperatorRegistry", "ReexecutionCommittee"]
    {
        boxed(|| transfer_ownership_to_self(net, contract)).await;
    }
    for contract in ["JobMarket", "ModelRegistry", "OperatorRegistry"] {
        boxed(|| set_paused(net, contract, true)).await;
        boxed(|| set_paused(net, contract, false)).await;
    }
    boxed(|| set_market_params(net, |p| p.feeBps = 400)).await;
    boxed(|| set_token_config(net, dusd, U256::from(cairn_deploy::seed::DEV_TOKEN_BOND_RATE), U256::from(2000))).await;
    boxed(|| set_committee_params(net, |p| p.nonRevealPenalty = parse_ether("0.2").unwrap())).await;
    boxed(|| set_arbitrable(net, net.address("DisputeDesk"), true)).await;
    boxed(|| set_canary_key(net)).await;
    boxed(|| set_authorised(net, net.address("JobMarket"), true)).await;
    boxed(|| set_registry_param(net, RegistryParam::MinStake(parse_ether("1.5").unwrap()))).await;
    boxed(|| set_registry_param(net, RegistryParam::UnbondingDelay(2 * 86_400))).await;
    boxed(|| set_pool_param(net, PoolParam::Maturity(5400))).await; // still above claim timeout + window (70 min)
    boxed(|| set_pool_param(net, PoolParam::WithdrawalDelay(86_400 / 2))).await;

    // Models: ETH with an ETH licence (two versions, terms updated), DUSD with a DUSD licence.
    let mut eth_listing = Listing {
        token: eth,
        price_per_call: milli(10),
        license_price: milli(50),
        license_period: 30 * 86_400,
        regions: eu_us_jp,
        tag: "eth-v1",
    };
    let eth_model = boxed(|| register_model(net, "seller", U256::ZERO, &eth_listing)).await.model_id;
    eth_listing.tag = "eth-v2";
    let v2 = boxed(|| register_model(net, "seller", eth_model, &eth_listing)).await;
    assert_eq!(v2.version, 2);
    eth_listing.price_per_call = milli(12);
    eth_listing.license_price = milli(60);
    boxed(|| update_terms(net, "seller", eth_model, &eth_listing)).await;
    let dusd_listing = Listing {
        token: dusd,
        price_per_call: U256::from(1_000_000u64),
        license_price: U256::from(3_000_000u64),
        license_period: 7 * 86_400,
        regions: eu_us_jp,
        tag: "dusd-v1",
    };
    let dusd_model = boxed(|| register_model(net, "seller", U256::ZERO, &dusd_listing)).await.model_id;
    boxed(|| buy_license(net, "buyer", eth_model)).await;
    boxed(|| buy_license(net, "buyer", eth_model)).await; // extends the first
    boxed(|| buy_license(net, "buyer", dusd_model)).await;
    boxed(|| approve_dusd(net, "buyer", net.address("JobMarket"))).await;

    let eth_job = |input: u8| Request {
        model_id: eth_model,
        version: 2,
        token: eth,
        payment: milli(100),
        max_price: milli(12),
        deadline_in: 86_400,
        regions: U256::ZERO,
        input,
    };

    // An ETH job: released, timed out, then answered and finalized.
    let request = eth_job(1);
    let job_finalized_eth = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim(net, "operator-0", job_finalized_eth)).await;
    boxed(|| release_claim(net, "operator-0", job_finalized_eth)).await;
    boxed(|| claim(net, "operator-1", job_finalized_eth)).await;
    boxed(|| expire_claim(net, job_finalized_eth)).await;
    boxed(|| claim_and_submit(net, "operator-0", job_finalized_eth, 0x01)).await;
    boxed(|| finalize(net, job_finalized_eth)).await;

    // A DUSD job, answered and finalized.
    let dusd_request = Request {
        model_id: dusd_model,
        version: 1,
        token: dusd,
        payment: U256::from(5_000_000u64),
        max_price: U256::from(1_000_000u64),
        deadline_in: 86_400,
        regions: RegionMask::of([Region::Us]).to_u256(),
        input: 2,
    };
    let job_finalized_dusd = boxed(|| request_job(net, "buyer", &dusd_request)).await;
    boxed(|| claim_and_submit(net, "operator-1", job_finalized_dusd, 0x02)).await;
    boxed(|| finalize(net, job_finalized_dusd)).await;

    // An ETH job nobody claims, cancelled after its deadline.
    let request = Request { deadline_in: 120, ..eth_job(3) };
    let job_cancelled = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| cancel_expired(net, job_cancelled)).await;

    // Appealed: round 0 (3 seats) upholds, the buyer appeals, round 1 (7 seats) finds the result not acceptable
    // and, unappealed, rules finally: round 0's seats pay the coherence penalty, the buyer's fee is refunded.
    let request = eth_job(10);
    let job_appealed = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim_and_submit(net, "operator-1", job_appealed, 0x0a)).await;
    let dispute_appealed = boxed(|| challenge(net, "buyer", job_appealed)).await;
    let Drawn::Jurors(round0) = boxed(|| draw(net, dispute_appealed)).await else { panic!("twenty seats are free") };
    let distinct0 = distinct(&round0).len();
    let votes = vec![Some(1); distinct0];
    boxed(|| vote(net, dispute_appealed, &round0, &votes)).await;
    let Resolved::Appealable { ruling, .. } = boxed(|| resolve_round(net, dispute_appealed, false)).await else {
        panic!("appeals are on: the round is appealable")
    };
    assert_eq!(ruling, U256::from(1));
    boxed(|| appeal(net, "buyer", dispute_appealed)).await;
    let Drawn::Jurors(round1) = boxed(|| draw(net, dispute_appealed)).await else { panic!("seven seats are free") };
    assert_eq!(round1.len(), 7, "2k + 1 seats");
    let distinct1 = distinct(&round1).len();
    let votes = vec![Some(2); distinct1];
    let ruling = boxed(|| vote_and_resolve(net, dispute_appealed, &round1, &votes)).await;
    assert_eq!(ruling, U256::from(2));
    boxed(|| sync_all(net, &round0)).await;

    boxed(|| one_seat_each(net)).await;

    // Upheld, after a reseed (the seed block fell out of reach), with evidence from both sides.
    let request = eth_job(4);
    let job_upheld = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim_and_submit(net, "operator-0", job_upheld, 0x04)).await;
    let dispute_upheld = boxed(|| challenge(net, "buyer", job_upheld)).await;
    boxed(|| submit_evidence(net, "buyer", job_upheld, "ipfs://bafkreievidencebuyer")).await;
    boxed(|| submit_evidence(net, "operator-0", job_upheld, "ipfs://bafkreievidenceoperator")).await;
    boxed(|| reseed(net, dispute_upheld)).await;
    let Drawn::Jurors(jurors) = boxed(|| draw(net, dispute_upheld)).await else { panic!("five seats are free") };
    let ruling = boxed(|| vote_and_resolve(net, dispute_upheld, &jurors, &[Some(1), Some(1), Some(1)])).await;
    assert_eq!(ruling, U256::from(1));

    // Randomly audited (every job drawn while the minimum rate is 100%), upheld, paid less its premium.
    boxed(|| set_audit_params(net, 12_500, 10_000)).await;
    let request = eth_job(9);
    let job_audited = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim_and_submit(net, "operator-0", job_audited, 0x09)).await;
    let dispute_audited = boxed(|| evaluate_audit(net, job_audited)).await.expect("a 100% rate audits");
    boxed(|| set_audit_params(net, 0, 0)).await;
    // Five free seats: the audit's three plus the devnet's reserve of three for challenges do not fit, so it
    // waits; with the reserve lowered it is retried and drawn.
    let Drawn::Deferred(_) = boxed(|| draw(net, dispute_audited)).await else { panic!("the reserve holds the audit") };
    boxed(|| set_committee_params(net, |p| p.auditReserve = 0)).await;
    boxed(|| retry(net, dispute_audited)).await;
    let Drawn::Jurors(jurors) = boxed(|| draw(net, dispute_audited)).await else { panic!("five seats are free") };
    let ruling = boxed(|| vote_and_resolve(net, dispute_audited, &jurors, &[Some(1), Some(1), Some(1)])).await;
    assert_eq!(ruling, U256::from(1));

    let (job_wrong, dispute_wrong, job_no_jurors, dispute_no_jurors) = boxed(|| wrong_and_waiting(net, &eth_job)).await;

    // A tie: one juror says acceptable, one that the input could not be fetched (vote 3), one never reveals, so
    // its seat (which could decide) is slashed and drawn again, twice, onto the two jurors left, who stay silent
    // too; after the redraws the revealed 1 : 1 rules 0, refused.
    let request = eth_job(6);
    let job_tied = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim_and_submit(net, "operator-0", job_tied, 0x06)).await;
    let dispute_tied = boxed(|| challenge(net, "buyer", job_tied)).await;
    let Drawn::Jurors(jurors) = boxed(|| draw(net, dispute_tied)).await else { panic!("five seats are free") };
    boxed(|| vote(net, dispute_tied, &jurors, &[Some(1), Some(3), None])).await;
    let non_revealer = jurors[2];
    let mut seated = jurors.clone();
    for _ in 0..2 {
        assert_eq!(boxed(|| resolve_round(net, dispute_tied, true)).await, Resolved::Redrawn(U256::from(1)));
        let Drawn::Jurors(redrawn) = boxed(|| draw(net, dispute_tied)).await else { panic!("a free seat is left") };
        assert!(!seated.contains(&redrawn[0]), "the silent seat goes to a juror not seated yet");
        boxed(|| commit(net, dispute_tied, redrawn[0], 1)).await;
        seated.extend(redrawn);
    }
    let ruling = boxed(|| resolve(net, dispute_tied, true)).await;
    assert_eq!(ruling, U256::ZERO);
    boxed(|| sync_all(net, &seated)).await;

    // Nobody draws: the seed lapses, the one reseed lapses too, and the draw rules against the accused.
    let request = eth_job(9);
    let job_lapsed = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim_and_submit(net, "operator-0", job_lapsed, 0x09)).await;
    let dispute_lapsed = boxed(|| challenge(net, "buyer", job_lapsed)).await;
    boxed(|| reseed(net, dispute_lapsed)).await;
    boxed(|| mine(net, SEED_LAPSE_BLOCKS)).await;
    let c = committee(net, &net.deployer);
    let receipt = net.deployer.send("draw", c.draw(dispute_lapsed).into_transaction_request()).await.unwrap();
    receipt.decoded_log::<ReexecutionCommittee::DrawLapsed>().expect("DrawLapsed");

    // The silent juror takes the rest of its juror stake out and, after the delay, withdraws it all.
    let silent = label_of(non_revealer);
    let left = JurorPool::new(net.address("JurorPool"), net.deployer.provider().clone())
        .jurorInfo(non_revealer)
        .call()
        .await
        .unwrap()
        .stake;
    boxed(|| request_juror_withdrawal(net, silent, U256::from(left))).await;
    boxed(|| advance(net, 86_400)).await;
    let non_revealer_withdrawn = boxed(|| withdraw_juror_stake(net, silent)).await;

    // A new treasury (the claim penalties so far went to the deployer); one more release credits it.
    let new_treasury = addr("treasury-2");
    boxed(|| set_treasury(net, new_treasury)).await;
    let request = eth_job(8);
    let job_late = boxed(|| request_job(net, "buyer", &request)).await;
    boxed(|| claim(net, "operator-2", job_late)).await;
    boxed(|| release_claim(net, "operator-2", job_late)).await;

    // Stake and profile: operator-2 adds, unbonds and withdraws stake, moves region, rotates its key and back.
    let restaked = "operator-2";
    boxed(|| add_stake(net, restaked, parse_ether("1").unwrap())).await;
    boxed(|| request_unstake(net, restaked, parse_ether("0.5").unwrap())).await;
    boxed(|| withdraw_unstaked(net, restaked)).await;
    boxed(|| update_profile(net, restaked, Region::Us, "gpu-h100", B256::repeat_byte(0xa7), "https://op2.example"))
        .await;
    boxed(|| set_signer(net, restaked, addr("operator-2/rotated"))).await;
    boxed(|| set_signer(net, restaked, devnet_signer_key(restaked).address())).await;

    // Pull balances out of every contract that holds them.
    let seller = boxed(|| owner(net, "seller")).await;
    boxed(|| withdraw(net, &seller, "ModelRegistry", eth)).await;
    boxed(|| withdraw(net, &seller, "ModelRegistry", dusd)).await;
    boxed(|| withdraw(net, &seller, "JobMarket", eth)).await;
    boxed(|| withdraw(net, &seller, "JobMarket", dusd)).await;
    boxed(|| withdraw(net, &net.deployer, "JobMarket", eth)).await;
    let (operator0, buyer) = (owner(net, "operator-0").await, owner(net, "buyer").await);
    boxed(|| withdraw(net, &operator0, "JobMarket", eth)).await;
    boxed(|| withdraw(net, &buyer, "JobMarket", eth)).await;
    boxed(|| withdraw(net, &buyer, "DisputeDesk", eth)).await;
    let juror = owner(net, label_of(jurors[0])).await;
    boxed(|| withdraw(net, &juror, "ReexecutionCommittee", eth)).await;

    // Finally the seller deprecates the DUSD model.
    boxed(|| deprecate(net, "seller", dusd_model)).await;

    Story {
        eth_model,
        dusd_model,
        job_finalized_eth,
        job_finalized_dusd,
        job_cancelled,
        job_upheld,
        job_audited,
        dispute_audited,
        job_wrong,
        job_tied,
        job_no_jurors,
        job_lapsed,
        dispute_upheld,
        dispute_wrong,
        dispute_tied,
        dispute_no_jurors,
        dispute_lapsed,
        non_revealer,
        non_revealer_withdrawn,
        job_appealed,
        dispute_appealed,
        new_treasury,
        restaked,
    }
}
