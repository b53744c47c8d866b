//! Interface v2's hot keys: an operator daemon that holds only its signer key claims for its operator,
//! submits a signed receipt, hands a claim back, and — drawn as a juror — commits and reveals, while the stake
//! owner's key sends nothing after registering. The signer key cannot touch the stake.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, U256, keccak256, utils::parse_ether},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use cairn_bindings::{DevToken, DisputeDesk, JobMarket, JurorPool, OperatorRegistry, ReexecutionCommittee};
use cairn_chain::{Chain, Error as ChainError};
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_protocol::{JobReceipt, Region, RegionMask, typed};

use crate::{Net, typed_on_chain::register_model};

/// Job states and close reasons as `JobMarket` numbers them.
const REQUESTED: u8 = 1;
const SUBMITTED: u8 = 3;
const RESOLVED: u8 = 7;
const OPERATOR_UPHELD: u8 = 3;

/// What a job pays: 5 DUSD (the models here cost at most 1.5 DUSD a call).
pub(crate) const PAYMENT: u64 = 5_000_000;

pub(crate) fn decoded(err: ChainError) -> cairn_chain::DecodedRevert {
    match err {
        ChainError::Reverted { revert, .. } => *revert,
        other => panic!("expected a revert, got: {other}"),
    }
}

/// Sends `wei` from the deployer to `to`.
pub(crate) async fn fund(net: &Net, to: Address, eth: &str) {
    let tx = TransactionRequest::default().with_to(to).with_value(parse_ether(eth).unwrap());
    net.deployer.send("fund", tx).await.unwrap();
}

/// The seeded buyer lets `spender` take its DUSD.
pub(crate) async fn approve_dusd(net: &Net, buyer: &Chain, spender: Address) {
    let token = DevToken::new(net.address("DevToken"), buyer.provider());
    buyer.send("approve DUSD", token.approve(spender, U256::MAX).into_transaction_request()).await.unwrap();
}

/// The buyer requests a job of `version` of `model` in `regions`, paying [`PAYMENT`] DUSD and accepting a
/// royalty up to `max_price`; returns the job id.
pub(crate) async fn request_job(
    net: &Net,
    buyer: &Chain,
    model: U256,
    version: u64,
    max_price: U256,
    regions: RegionMask,
    input: u8,
) -> U256 {
    let market = JobMarket::new(net.address("JobMarket"), buyer.provider());
    let deadline = crate::typed_on_chain::now(net).await + 86_400;
    let call = market.requestJob(
        model,
        version,
        B256::repeat_byte(input),
        format!("bafkreiinput{input:02x}"),
        net.address("DevToken"),
        U256::from(PAYMENT),
        max_price,
        deadline,
        regions.to_u256(),
    );
    let receipt = buyer.send("requestJob", call.into_transaction_request()).await.unwrap();
    receipt.decoded_log::<JobMarket::JobRequested>().expect("JobRequested").jobId
}

/// The receipt an operator would sign for `job`: the job's own digests and runtime, and `output`.
pub(crate) async fn receipt_for(net: &Net, job: U256, output: u8) -> JobReceipt {
    let terms = JobMarket::new(net.address("JobMarket"), net.deployer.provider()).getTerms(job).call().await.unwrap();
    JobReceipt {
        jobId: job,
        weightsDigest: terms.weightsDigest,
        inputDigest: terms.inputDigest,
        runtime: terms.runtime,
        outputDigest: B256::repeat_byte(output),
        outputCid: format!("bafkreioutput{output}"),
        runnerBuild: cairn_protocol::runtime::runner_build("cairn-runner 0.1.0"),
        energyMillijoules: 1234,
    }
}

/// `hot` (a connection holding only an operator's signer key) claims `job` for `operator`, signs the receipt
/// with its key and submits it.
pub(crate) async fn claim_and_submit(
    net: &Net,
    hot: &Chain,
    hot_key: &PrivateKeySigner,
    operator: Address,
    job: U256,
) -> TransactionReceipt {
    let market = JobMarket::new(net.address("JobMarket"), hot.provider());
    let claimed = hot.send("claim", market.claim(job, operator).into_transaction_request()).await.unwrap();
    let event = claimed.decoded_log::<JobMarket::JobClaimed>().expect("JobClaimed");
    assert_eq!((event.jobId, event.operator), (job, operator), "claimed for the operator, not the caller");
    assert_eq!(claimed.from, hot_key.address());
    let receipt = receipt_for(net, job, 0x33).await;
    let domain = typed::domain(net.deployer.chain_id(), net.address("JobMarket"));
    let signature = typed::sign(hot_key, &receipt, &domain).await.unwrap();
    let call = market.submitResult(job, receipt, signature.as_bytes().into());
    hot.send("submitResult", call.into_transaction_request()).await.unwrap()
}

#[tokio::test]
async fn an_operator_daemon_holding_only_the_signer_key_claims_submits_releases_and_votes() {
    let net = Net::start().await;
    let p = net.deployer.provider().clone();
    let (registry_at, market_at, committee_at) =
        (net.address("OperatorRegistry"), net.address("JobMarket"), net.address("ReexecutionCommittee"));
    let owner_key = PrivateKeySigner::random();
    let hot_key = PrivateKeySigner::random();
    let (owner, hot) = (owner_key.address(), hot_key.address());
    fund(&net, owner, "10").await;
    fund(&net, hot, "1").await;

    // The stake owner registers with a separate signer key and deposits three seats of juror stake: its last
    // transactions. The deposit matures (anvil's clock moves past the pool's maturity) and enters the draw.
    let owner_chain = net.as_key(owner_key).await;
    let registry = OperatorRegistry::new(registry_at, owner_chain.provider());
    let call = registry
        .register(hot, Region::Eu.bit(), keccak256("cpu"), B256::ZERO, "daemon://eu".into())
        .value(parse_ether("3").unwrap());
    owner_chain.send("register", call.into_transaction_request()).await.unwrap();
    let pool_at = net.address("JurorPool");
    let pool = JurorPool::new(pool_at, owner_chain.provider());
    let deposit = pool.deposit().value(parse_ether("1.5").unwrap());
    owner_chain.send("deposit juror stake", deposit.into_transaction_request()).await.unwrap();
    let owner_nonce = p.get_transaction_count(owner).await.unwrap();
    drop(owner_chain);
    let maturity = JurorPool::new(pool_at, &p).maturity().call().await.unwrap();
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(maturity),)).await.unwrap();
    p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
    net.deployer.send("sync", JurorPool::new(pool_at, &p).sync(owner).into_transaction_request()).await.unwrap();
    assert_eq!(JurorPool::new(pool_at, &p).seatsOf(owner).call().await.unwrap(), U256::from(3));

    // The daemon: a connection holding the signer key and nothing else.
    let daemon = net.as_key(hot_key.clone()).await;
    assert_eq!(daemon.signer_address(), Some(hot));
    let market = JobMarket::new(market_at, daemon.provider());
    let view = JobMarket::new(market_at, &p);
    let model = register_model(&net, &devnet_key("seller")).await;
    let price = U256::from(1_000_000u64);
    let buyer = net.as_actor("buyer").await;
    approve_dusd(&net, &buyer, market_at).await;
    let eu = RegionMask::of([Region::Eu]);

    // 1. It claims a job for the operator and submits a receipt it signed.
    let job_a = request_job(&net, &buyer, model, 1, price, eu, 0xa1).await;
    let submitted = claim_and_submit(&net, &daemon, &hot_key, owner, job_a).await;
    let event = submitted.decoded_log::<JobMarket::ResultSubmitted>().expect("ResultSubmitted");
    assert_eq!((event.operator, event.signer), (owner, hot));
    let progress = view.getProgress(job_a).call().await.unwrap();
    assert_eq!((progress.state, progress.operator), (SUBMITTED, owner));

    // 2. It claims another and hands it back before its deadline: the job is open again, the claim penalty
    //    (claimPenaltyBps of the bond) taken.
    let job_b = request_job(&net, &buyer, model, 1, price, eu, 0xb2).await;
    daemon.send("claim", market.claim(job_b, owner).into_transaction_request()).await.unwrap();
    let bond = view.getProgress(job_b).call().await.unwrap().bond;
    let released = daemon.send("releaseClaim", market.releaseClaim(job_b).into_transaction_request()).await.unwrap();
    let event = released.decoded_log::<JobMarket::ClaimReleased>().expect("ClaimReleased");
    let penalty_bps = view.params().call().await.unwrap().claimPenaltyBps;
    assert_eq!((event.jobId, event.operator), (job_b, owner));
    assert_eq!(event.penalty, bond * U256::from(penalty_bps) / U256::from(10_000));
    let progress = view.getProgress(job_b).call().await.unwrap();
    assert_eq!((progress.state, progress.operator), (REQUESTED, Address::ZERO));

    // Anyone else is refused, by name.
    let stranger = net.as_actor("seller").await;
    let as_stranger = JobMarket::new(market_at, stranger.provider());
    let revert =
        decoded(stranger.send("claim", as_stranger.claim(job_b, owner).into_transaction_request()).await.unwrap_err());
    assert_eq!(
        revert.to_string(),
        format!("JobMarket: NotOperatorOrSigner(operator {owner}, caller {})", stranger.account())
    );

    // 3. A dispute in which the operator is drawn. The five seeded verifiers take their juror stake out, so
    //    the pool's only seats are ours and all k = 3 are drawn whatever the seed.
    for i in 0..5 {
        let verifier = net.as_actor(&format!("verifier-{i}")).await;
        let pool = JurorPool::new(pool_at, verifier.provider());
        let all = parse_ether("2").unwrap();
        verifier.send("leave the pool", pool.requestWithdrawal(all).into_transaction_request()).await.unwrap();
    }
    // Operator 0 (EU) answers a job through its own seeded signer key; the buyer challenges it.
    let job_c = request_job(&net, &buyer, model, 1, price, eu, 0xc3).await;
    let operator0 = devnet_key("operator-0").address();
    let op0_key = devnet_signer_key("operator-0");
    claim_and_submit(&net, &net.as_key(op0_key.clone()).await, &op0_key, operator0, job_c).await;
    let committee_view = ReexecutionCommittee::new(committee_at, &p);
    let as_buyer = DisputeDesk::new(net.address("DisputeDesk"), buyer.provider());
    let stake = as_buyer.challengeCost(job_c).call().await.unwrap();
    let challenged =
        buyer.send("challenge", as_buyer.challenge(job_c).value(stake).into_transaction_request()).await.unwrap();
    let dispute = challenged.decoded_log::<JobMarket::JobChallenged>().expect("JobChallenged").disputeId;
    // The draw needs a block after the seed block.
    p.raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(2),)).await.unwrap();
    let drawn = net
        .deployer
        .send("draw", committee_view.draw(dispute).into_transaction_request())
        .await
        .unwrap()
        .decoded_log::<ReexecutionCommittee::JurorsDrawn>()
        .expect("JurorsDrawn");
    assert_eq!(drawn.jurors, vec![owner, owner, owner], "one juror, three seats");

    // The juror votes "acceptable" through its signer key (the daemon); its one vote counts for its three seats.
    let voters = [(owner, daemon)];
    let vote = U256::from(1);
    let salt = |juror: Address| keccak256(juror);
    for (juror, chain) in &voters {
        let committee = ReexecutionCommittee::new(committee_at, chain.provider());
        let commitment = typed::commitment(dispute, 0, *juror, vote, salt(*juror));
        let sent = chain.send("commit", committee.commit(dispute, *juror, commitment).into_transaction_request());
        let event = sent.await.unwrap().decoded_log::<ReexecutionCommittee::VoteCommitted>().expect("VoteCommitted");
        assert_eq!((event.juror, event.commitment), (*juror, commitment));
    }
    for (juror, chain) in &voters {
        let committee = ReexecutionCommittee::new(committee_at, chain.provider());
        let sent =
            chain.send("reveal", committee.reveal(dispute, *juror, vote, salt(*juror)).into_transaction_request());
        let event = sent.await.unwrap().decoded_log::<ReexecutionCommittee::VoteRevealed>().expect("VoteRevealed");
        assert_eq!((event.juror, event.vote), (*juror, vote));
    }
    // The round rules; the devnet's appeal period passes with no appeal, then the ruling is final.
    let round = net
        .deployer
        .send("resolve", committee_view.resolve(dispute).into_transaction_request())
        .await
        .unwrap()
        .decoded_log::<ReexecutionCommittee::RoundRuled>()
        .expect("RoundRuled");
    assert_eq!((round.round, round.ruling), (0, U256::from(1)));
    let period = committee_view.params().call().await.unwrap().appealPeriod;
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(period),)).await.unwrap();
    let ruled = net
        .deployer
        .send("resolve", committee_view.resolve(dispute).into_transaction_request())
        .await
        .unwrap()
        .decoded_log::<ReexecutionCommittee::DisputeRuled>()
        .expect("DisputeRuled");
    assert_eq!((ruled.ruling, ruled.votesAcceptable), (U256::from(1), U256::from(3)));
    let progress = view.getProgress(job_c).call().await.unwrap();
    assert_eq!((progress.state, progress.closeReason), (RESOLVED, OPERATOR_UPHELD));
    // The operator's share of the fee is credited to the operator, not to the key that voted.
    assert!(committee_view.balanceOf(owner, Address::ZERO).call().await.unwrap() > U256::ZERO);
    assert_eq!(committee_view.balanceOf(hot, Address::ZERO).call().await.unwrap(), U256::ZERO);

    // 4. The owner's key sent nothing after registering.
    assert_eq!(p.get_transaction_count(owner).await.unwrap(), owner_nonce);

    // 5. The signer key is no operator: it cannot move the stake or change the signer.
    let (_, daemon) = &voters[0];
    let registry = OperatorRegistry::new(registry_at, daemon.provider());
    let err = daemon
        .send("requestUnstake", registry.requestUnstake(parse_ether("1").unwrap()).into_transaction_request())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("requestUnstake reverted: OperatorRegistry: NotRegistered("), "{err}");
    let revert = decoded(err);
    assert_eq!(revert.to_string(), format!("OperatorRegistry: NotRegistered(operator {hot})"));
    assert!(matches!(
        revert.typed::<OperatorRegistry::OperatorRegistryErrors>(),
        Some(OperatorRegistry::OperatorRegistryErrors::NotRegistered(e)) if e.operator == hot
    ));
    let revert =
        decoded(daemon.send("setSigner", registry.setSigner(hot).into_transaction_request()).await.unwrap_err());
    assert_eq!(revert.to_string(), format!("OperatorRegistry: NotRegistered(operator {hot})"));
    assert_eq!(OperatorRegistry::new(registry_at, &p).operatorInfo(owner).call().await.unwrap().signer, hot);
}
