//! The whole market lifecycle, indexed: after [`drive::full_story`] every event type of the five contracts'
//! ABIs that any code path emits is stored decoded and lands in its projection, whose values equal the
//! contracts' own views wherever a view exists (jobs, models, licences, operators, disputes, every pull
//! balance, every parameter); and a re-index from the raw events rebuilds identical projection tables.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::{Address, U256, utils::parse_ether};
use cairn_bindings::{DisputeDesk, JobMarket, JurorPool, ModelRegistry, OperatorRegistry, ReexecutionCommittee};
use cairn_indexer::{
    decode::{Decoder, INDEXED_CONTRACTS},
    entity::{Balance, Dispute, Job, License, Model, ModelVersion, Operator, Param},
    metrics::Metrics,
};
use serde::de::DeserializeOwned;
use sqlx::{AnyPool, Row};

use crate::{
    Net,
    compare::{PROJECTION_TABLES, projection_dump},
    drive::{self, Story, addr, close_reason, job_state},
    sqlite_url,
};

/// Events in the ABIs that no code path of the contracts emits: `ICairnCommon.ParameterUpdated` is declared
/// for every contract but only the OperatorRegistry has named parameters (the others set whole structs and
/// emit `ParamsUpdated` / `TokenConfigUpdated` / `TreasuryUpdated`).
const NEVER_EMITTED: &[(&str, &str)] = &[
    ("DisputeDesk", "ParameterUpdated"),
    ("JobMarket", "ParameterUpdated"),
    ("ModelRegistry", "ParameterUpdated"),
    ("ReexecutionCommittee", "ParameterUpdated"),
];

use cairn_bindings::enums::{
    close_reason::NAMES as CLOSE_REASONS, job_state::NAMES as JOB_STATES, phase::NAMES as PHASES,
};

fn a(x: Address) -> String {
    x.to_string().to_lowercase()
}

fn opt_addr(x: &Option<String>) -> Address {
    x.as_deref().map_or(Address::ZERO, |s| s.parse().unwrap())
}

fn wei(x: &str) -> U256 {
    x.parse().unwrap_or_else(|_| panic!("not a decimal amount: {x:?}"))
}

/// Current rows of `table`, by id.
async fn current<E: DeserializeOwned>(pool: &AnyPool, table: &str) -> BTreeMap<String, E> {
    sqlx::query(&format!("SELECT id, data FROM {table} WHERE superseded_block IS NULL"))
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>(0), serde_json::from_str(&r.get::<String, _>(1)).unwrap()))
        .collect()
}

/// Every version of one entity, oldest first.
async fn history<E: DeserializeOwned>(pool: &AnyPool, table: &str, id: &str) -> Vec<E> {
    sqlx::query(&format!("SELECT data FROM {table} WHERE id = $1 ORDER BY block_number, log_index"))
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
        .collect()
}

/// Collapses runs of equal values (several events of one transaction each make a version).
fn runs<T: PartialEq + Clone>(xs: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in xs {
        if out.last() != Some(&x) {
            out.push(x);
        }
    }
    out
}

/// Every entity's versions form one chain: each is superseded at the block of the next, the last is current.
async fn assert_version_chains(pool: &AnyPool) {
    for table in PROJECTION_TABLES {
        let rows = sqlx::query(&format!(
            "SELECT id, block_number, superseded_block FROM {table} ORDER BY id, block_number, log_index"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        let mut by_id: BTreeMap<String, Vec<(i64, Option<i64>)>> = BTreeMap::new();
        for r in &rows {
            by_id.entry(r.get(0)).or_default().push((r.get(1), r.get(2)));
        }
        for (id, versions) in by_id {
            for pair in versions.windows(2) {
                assert_eq!(pair[0].1, Some(pair[1].0), "{table} {id}: a version is superseded at the next one's block");
            }
            assert_eq!(versions.last().unwrap().1, None, "{table} {id}: the last version is current");
        }
    }
}

/// A fresh devnet, the whole story, and a follower synced to its head.
async fn story_indexed(dir: &tempfile::TempDir) -> (Net, Story, cairn_indexer::follower::Follower) {
    let net = Net::start().await;
    let story = Box::pin(drive::full_story(&net)).await;
    let follower = net.follower(&sqlite_url(dir, "ix.db")).await;
    crate::sync(&follower).await;
    (net, story, follower)
}

#[tokio::test]
async fn every_event_of_the_market_lands_in_its_projection() {
    // On the heap: the checks hold many values across awaits, more than a test thread's stack.
    Box::pin(every_event_lands()).await;
}

async fn every_event_lands() {
    let dir = tempfile::tempdir().unwrap();
    let (net, story, follower) = story_indexed(&dir).await;
    let pool = follower.store().pool();
    let p = net.deployer.provider();

    // 1. Every event type of the five ABIs is stored, decoded, except those no code path emits.
    let undecoded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE error IS NOT NULL").fetch_one(pool).await.unwrap();
    assert_eq!(undecoded, 0, "every log decodes");
    let seen: BTreeMap<(String, String), i64> =
        sqlx::query("SELECT contract, event, COUNT(*) FROM events WHERE error IS NULL GROUP BY contract, event")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect();
    let mut missing = BTreeSet::new();
    let mut abi_events = BTreeSet::new();
    for contract in INDEXED_CONTRACTS {
        let artifact = cairn_bindings::artifact(contract).expect("a committed artifact");
        for event in artifact.abi.events() {
            abi_events.insert((contract.to_string(), event.name.clone()));
            if !seen.contains_key(&(contract.to_string(), event.name.clone())) {
                missing.insert((contract.to_string(), event.name.clone()));
            }
        }
    }
    for ((contract, event), n) in &seen {
        eprintln!("{contract}.{event}: {n}");
        assert!(abi_events.contains(&(contract.clone(), event.clone())), "{contract}.{event} is not in its ABI");
    }
    let never: BTreeSet<(String, String)> = NEVER_EMITTED.iter().map(|(c, e)| (c.to_string(), e.to_string())).collect();
    assert_eq!(missing, never, "events the story did not emit (a new event needs a step in drive::full_story)");
    // Every event decoded; the account trails name the actors.
    let undecoded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE error IS NOT NULL OR event = '?'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(undecoded, 0);
    let buyer_trail: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_accounts WHERE account = $1")
        .bind(a(addr("buyer")))
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(buyer_trail >= 20, "the buyer appears in its requests, licences, challenges: {buyer_trail}");

    assert_version_chains(pool).await;

    // 2. Jobs: every current row equals JobMarket's views; histories and close reasons as driven.
    let market = JobMarket::new(net.address("JobMarket"), p);
    let desk_view = DisputeDesk::new(net.address("DisputeDesk"), p);
    let jobs: BTreeMap<String, Job> = current(pool, "jobs").await;
    let job_count = market.jobCount().call().await.unwrap();
    assert_eq!(U256::from(jobs.len()), job_count, "one row per job");
    for (id, j) in &jobs {
        let job_id: U256 = id.parse().unwrap();
        let (t, g) = (market.getTerms(job_id).call().await.unwrap(), market.getProgress(job_id).call().await.unwrap());
        assert_eq!(j.state, JOB_STATES[usize::from(g.state)], "job {id} state");
        assert_eq!(j.close_reason, CLOSE_REASONS[usize::from(g.closeReason)], "job {id} close reason");
        assert_eq!(opt_addr(&j.operator), g.operator, "job {id} operator");
        assert_eq!(wei(&j.bond), g.bond, "job {id} bond");
        assert_eq!(j.submit_by, g.submitBy, "job {id} submitBy");
        assert_eq!(j.challenge_ends, g.challengeEnds, "job {id} challengeEnds");
        assert_eq!(opt_addr(&j.challenger), g.challenger, "job {id} challenger");
        assert_eq!(wei(&j.challenge_bond), g.challengeBond, "job {id} challengeBond");
        assert_eq!(j.dispute_id.as_deref().map_or(U256::ZERO, wei), g.disputeId, "job {id} disputeId");
        assert_eq!(
            j.receipt.as_ref().map_or(alloy::primitives::B256::ZERO, |r| r.output_digest.parse().unwrap()),
            g.outputDigest
        );
        assert_eq!(
            (j.buyer.as_str(), j.seller.as_str(), j.token.as_str()),
            (a(t.buyer).as_str(), a(t.seller).as_str(), a(t.token).as_str())
        );
        assert_eq!((wei(&j.model_id), j.model_version), (t.modelId, t.modelVersion));
        assert_eq!((wei(&j.payment), wei(&j.royalty), wei(&j.protocol_fee)), (t.payment, t.royalty, t.protocolFee));
        assert_eq!((j.deadline, wei(&j.region_mask)), (t.deadline, t.regionMask));
        assert_eq!(
            (j.input_digest.as_str(), j.weights_digest.as_str(), j.runtime.as_str()),
            (t.inputDigest.to_string().as_str(), t.weightsDigest.to_string().as_str(), t.runtime.to_string().as_str())
        );
        if let Some(split) = &j.split {
            let fee = wei(&split.royalty) + wei(&split.protocol_fee) + wei(&split.operator_fee);
            assert_eq!(fee + wei(&split.audit_premium), t.payment, "job {id}: the split is the payment");
        }
        // Every submitted job has its audit, equal to the desk's view.
        let audit = desk_view.auditOf(job_id).call().await.unwrap();
        match &j.audit {
            Some(x) => {
                assert_eq!(
                    (x.seed_block, x.rate.clone(), wei(&x.premium)),
                    (audit.seedBlock, audit.rate.to_string(), U256::from(audit.premium))
                );
                assert_eq!(
                    x.state,
                    cairn_bindings::enums::name(cairn_bindings::enums::audit_state::NAMES, audit.state),
                    "job {id} audit"
                );
            }
            None => assert_eq!(audit.seedBlock, 0, "job {id}: no result, no audit"),
        }
    }
    let states = |id: U256| {
        let pool = pool.clone();
        async move {
            let h: Vec<Job> = history(&pool, "jobs", &id.to_string()).await;
            (runs(h.iter().map(|j| j.state.clone())), h.last().unwrap().clone())
        }
    };
    let (s, j) = states(story.job_finalized_eth).await;
    assert_eq!(
        s,
        ["Requested", "Claimed", "Requested", "Claimed", "Requested", "Claimed", "Submitted", "Finalized"],
        "released, timed out, answered, finalized"
    );
    assert_eq!((j.close_reason.as_str(), j.reopened), ("Finalized", 2));
    assert_eq!(j.operator, Some(a(addr("operator-0"))));
    assert!(j.split.is_some() && j.closed_at.is_some() && j.receipt.is_some());
    let (s, j) = states(story.job_finalized_dusd).await;
    assert_eq!(s, ["Requested", "Claimed", "Submitted", "Finalized"]);
    assert_eq!(j.token, a(net.address("DevToken")));
    let (s, j) = states(story.job_cancelled).await;
    assert_eq!(s, ["Requested", "Cancelled"]);
    assert_eq!((j.close_reason.as_str(), j.operator.as_deref()), ("Expired", None));
    // What the desk burns: on ruling 1, burnBps of every ticket's bond; on ruling 2, burnBps of what is left of
    // the slashed bond once the first challenger's arbitration fee is refunded (nothing when the devnet's bond
    // floor does not cover the fee).
    let burn_bps = U256::from(market.params().call().await.unwrap().burnBps);
    let committee_view = ReexecutionCommittee::new(net.address("ReexecutionCommittee"), p);
    let fee = committee_view.params().call().await.unwrap().fee;
    let bps = U256::from(10_000);
    for (job, reason) in [
        (story.job_upheld, "OperatorUpheld"),
        (story.job_wrong, "OperatorWrong"),
        (story.job_tied, "ArbitratorRefused"),
        (story.job_no_jurors, "OperatorUpheld"),
        (story.job_lapsed, "OperatorWrong"),
    ] {
        let pool = desk_view.poolOf(job).call().await.unwrap();
        let burned = match reason {
            "OperatorUpheld" => pool.bond * U256::from(pool.tickets) * burn_bps / bps,
            "OperatorWrong" => {
                // A lapsed draw (no jurors) had its fee returned by the committee: the desk refunds none.
                let no_jurors = committee_view.jurorsOf(pool.disputeId).call().await.unwrap().is_empty();
                let refunded = if no_jurors { U256::ZERO } else { fee };
                market.getProgress(job).call().await.unwrap().bond.saturating_sub(refunded) * burn_bps / bps
            }
            _ => U256::ZERO,
        };
        let (s, j) = states(job).await;
        assert_eq!(s, ["Requested", "Claimed", "Submitted", "Disputed", "Resolved"], "job {job}");
        assert_eq!(j.close_reason, reason, "job {job}");
        assert_eq!(wei(&j.burned), burned, "job {job} burned");
        assert_eq!(j.split.is_some(), reason == "OperatorUpheld", "job {job}: paid out only when upheld");
        assert_eq!(j.challenger, Some(a(addr("buyer"))));
    }
    // The audited job: the desk challenged it (no ticket), its jury upheld it, the operator was paid less the
    // premium, which the split shows.
    let audited_dispute: Dispute = current(pool, "disputes").await.remove(&story.dispute_audited.to_string()).unwrap();
    assert!(audited_dispute.audit && audited_dispute.tickets.is_empty(), "{audited_dispute:?}");
    let (s, j) = states(story.job_audited).await;
    assert_eq!(s, ["Requested", "Claimed", "Submitted", "Disputed", "Resolved"]);
    assert_eq!(
        (j.close_reason.as_str(), j.challenger.clone()),
        ("OperatorUpheld", Some(a(desk_view.address().to_owned())))
    );
    let audit = j.audit.expect("audited");
    assert_eq!((audit.state.as_str(), audit.dispute_id.clone()), ("Audited", j.dispute_id.clone()));
    let split = j.split.expect("paid");
    assert_eq!(wei(&split.audit_premium), wei(&audit.premium));
    assert!(wei(&audit.premium) > U256::ZERO, "a 100% rate's premium is the fee (capped at the operator fee)");
    let codes = [job_state::RESOLVED, close_reason::OPERATOR_UPHELD];
    let g = market.getProgress(story.job_upheld).call().await.unwrap();
    assert_eq!([g.state, g.closeReason], codes);

    // 3. Models and versions: equal to the registry's views; terms history; deprecation; signatures.
    let registry = ModelRegistry::new(net.address("ModelRegistry"), p);
    let models: BTreeMap<String, Model> = current(pool, "models").await;
    assert_eq!(U256::from(models.len()), registry.modelCount().call().await.unwrap());
    for (id, m) in &models {
        let on = registry.getModel(wei(id)).call().await.unwrap();
        assert_eq!(
            (m.seller.as_str(), m.latest_version, m.deprecated),
            (a(on.seller).as_str(), on.latestVersion, on.deprecated)
        );
        let v = registry.getVersion(wei(id), on.latestVersion).call().await.unwrap();
        assert_eq!((wei(&m.price_per_call), wei(&m.license_price)), (v.pricePerCall, v.licensePrice), "model {id}");
        assert_eq!((m.license_period, wei(&m.region_mask)), (v.licensePeriod, v.regionMask), "model {id}");
        assert_eq!(
            (m.manifest_cid.as_str(), m.payment_token.as_str()),
            (v.manifestCid.as_str(), a(v.paymentToken).as_str())
        );
    }
    let versions: BTreeMap<String, ModelVersion> = current(pool, "model_versions").await;
    assert_eq!(versions.len(), 3, "eth v1, eth v2, dusd v1");
    for (id, mv) in &versions {
        let v = registry.getVersion(wei(&mv.model_id), mv.version).call().await.unwrap();
        assert_eq!(id, &format!("{}/{}", mv.model_id, mv.version));
        assert_eq!(
            (mv.manifest_cid.as_str(), mv.manifest_digest.clone()),
            (v.manifestCid.as_str(), v.manifestDigest.to_string())
        );
        assert_eq!(
            (mv.weights_digest.clone(), mv.runtime.clone()),
            (v.weightsDigest.to_string(), v.runtime.to_string())
        );
        assert_eq!((wei(&mv.price_per_call), wei(&mv.license_price)), (v.pricePerCall, v.licensePrice), "{id}");
        assert_eq!(
            (mv.license_period, wei(&mv.region_mask), mv.registered_at),
            (v.licensePeriod, v.regionMask, v.registeredAt)
        );
        assert!(mv.signature_valid, "{id}: {}", mv.signature_check);
        assert_eq!(mv.signature_check, a(addr("seller")));
    }
    let eth_v2: Vec<ModelVersion> = history(pool, "model_versions", &format!("{}/2", story.eth_model)).await;
    let prices: Vec<String> = eth_v2.iter().map(|v| v.price_per_call.clone()).collect();
    assert_eq!(prices, ["10000000000000000", "12000000000000000"], "registered, then its terms updated");
    assert_eq!(eth_v2.last().unwrap().terms_updates, 1);
    assert!(models[&story.dusd_model.to_string()].deprecated);
    assert!(!models[&story.eth_model.to_string()].deprecated);
    let dusd_history: Vec<Model> = history(pool, "models", &story.dusd_model.to_string()).await;
    assert_eq!(runs(dusd_history.iter().map(|m| m.deprecated)), [false, true]);

    // 4. Licences: expiry equals the registry's, purchases and amounts as bought.
    let licenses: BTreeMap<String, License> = current(pool, "licenses").await;
    assert_eq!(licenses.len(), 2);
    for l in licenses.values() {
        let expiry = registry.licenseExpiry(wei(&l.model_id), l.buyer.parse().unwrap()).call().await.unwrap();
        assert_eq!(l.expiry, expiry, "licence {} of {}", l.model_id, l.buyer);
    }
    let eth_licence = &licenses[&format!("{}/{}", story.eth_model, a(addr("buyer")))];
    assert_eq!((eth_licence.purchases, eth_licence.version), (2, 2));
    assert_eq!(eth_licence.paid.get(&a(Address::ZERO)).map(|x| wei(x)), Some(parse_ether("0.12").unwrap()));
    let history_expiries: Vec<u64> =
        history::<License>(pool, "licenses", &format!("{}/{}", story.eth_model, a(addr("buyer"))))
            .await
            .iter()
            .map(|l| l.expiry)
            .collect();
    assert_eq!(history_expiries.len(), 2);
    assert_eq!(history_expiries[1] - history_expiries[0], 30 * 86_400, "the second purchase extends the first");

    // 5. Operators: stake, locks, unbonding, signer, profile and the contract's counters equal the registry's;
    //    juror stake, locks, seats and withdrawals equal the pool's; the counters the events alone give are as
    //    driven.
    let operators_view = OperatorRegistry::new(net.address("OperatorRegistry"), p);
    let pool_view = JurorPool::new(net.address("JurorPool"), p);
    let operators: BTreeMap<String, Operator> = current(pool, "operators").await;
    assert_eq!(operators.len(), drive::STAKED.len());
    for (id, o) in &operators {
        let v = operators_view.getOperator(id.parse().unwrap()).call().await.unwrap();
        assert_eq!(
            (wei(&o.stake), wei(&o.locked), wei(&o.unbonding)),
            (v.stake, v.locked, v.unbonding),
            "operator {id}"
        );
        assert_eq!(o.unbonding_ready_at, v.unbondingReadyAt, "operator {id}");
        assert_eq!((o.signer.as_str(), o.region), (a(v.signer).as_str(), v.region), "operator {id}");
        let address: Address = id.parse().unwrap();
        let j = pool_view.jurorInfo(address).call().await.unwrap();
        let seats = pool_view.seatsOf(address).call().await.unwrap();
        assert_eq!(
            (wei(&o.juror.stake), wei(&o.juror.locked), U256::from(o.juror.seats)),
            (U256::from(j.stake), U256::from(j.locked), seats),
            "juror {id}"
        );
        assert_eq!(
            (
                wei(&o.juror.pending),
                wei(&o.juror.withdrawal_requested),
                wei(&o.juror.unbonding),
                o.juror.unbonding_ends
            ),
            (U256::from(j.pendingDeposit), U256::from(j.withdrawalRequested), U256::from(j.unbonding), j.unbondingEnds),
            "juror {id}"
        );
        assert_eq!(
            o.verifier,
            j.stake != alloy::primitives::Uint::ZERO || j.pendingDeposit != alloy::primitives::Uint::ZERO,
            "operator {id}"
        );
        assert_eq!(
            (o.hardware_tag.clone(), o.attestation_hash.clone()),
            (v.hardwareTag.to_string(), v.attestationHash.to_string())
        );
        assert_eq!(o.endpoint, v.endpoint);
        assert_eq!((o.jobs_completed, o.disputes_lost), (v.jobsCompleted, v.disputesLost), "operator {id}");
    }
    let op = |label: &str| operators[&a(addr(label))].clone();
    // The story's jobs pay 0.1 ETH: a bond of 4× (0.4 ETH), of which a timeout or release takes 10%.
    let bond = market.bondFor(Address::ZERO, parse_ether("0.1").unwrap()).call().await.unwrap();
    assert_eq!(bond, parse_ether("0.4").unwrap());
    let penalty = bond / U256::from(10);
    let o0 = op("operator-0");
    assert_eq!(
        (o0.claims, o0.claims_released, o0.claim_timeouts, o0.submitted, o0.completed, o0.challenged, o0.upheld),
        (6, 1, 0, 5, 1, 4, 2),
        "the audited job counts as challenged (by the desk) and upheld"
    );
    assert_eq!(
        (o0.slashes, wei(&o0.slashed), wei(&o0.penalties)),
        (2, penalty + bond, penalty),
        "the lapsed job's bond"
    );
    let o1 = op("operator-1");
    assert_eq!(
        (o1.claims, o1.claims_released, o1.claim_timeouts, o1.submitted, o1.completed, o1.challenged, o1.upheld),
        (5, 0, 1, 4, 1, 3, 1)
    );
    assert_eq!((o1.slashes, wei(&o1.penalties), o1.disputes_lost), (3, penalty, 2));
    assert_eq!(wei(&o1.slashed), penalty + bond + bond, "a timeout penalty and two whole bonds");
    let o2 = op(story.restaked);
    assert_eq!((o2.claims, o2.claims_released, o2.slashes), (1, 1, 1));
    assert_eq!((o2.region, o2.endpoint.as_str()), (cairn_protocol::Region::Us.bit(), "https://op2.example"));
    let o2_history: Vec<Operator> = history(pool, "operators", &a(addr(story.restaked))).await;
    let signers = runs(o2_history.iter().map(|o| o.signer.clone()));
    assert_eq!(
        signers[signers.len() - 3..],
        [a(drive::hot_address(story.restaked)), a(addr("operator-2/rotated")), a(drive::hot_address(story.restaked))]
    );
    assert!(o2_history.iter().any(|o| wei(&o.unbonding) == parse_ether("0.5").unwrap()), "unbonding shown");
    let slashed_juror = &operators[&a(story.non_revealer)];
    assert_eq!(
        (slashed_juror.slashes, wei(&slashed_juror.juror.slashed)),
        (0, parse_ether("2").unwrap() - story.non_revealer_withdrawn),
        "its deposit less what it withdrew"
    );
    assert!(wei(&slashed_juror.juror.slashed) >= parse_ether("0.1").unwrap(), "at least the non-reveal penalty");
    for i in 0..5 {
        let v = addr(&format!("verifier-{i}"));
        let flags = runs(history::<Operator>(pool, "operators", &a(v)).await.iter().map(|o| o.verifier));
        if v == story.non_revealer {
            assert_eq!(flags, [false, true, false], "verifier-{i}: registered, deposited, withdrew it all");
        } else {
            assert_eq!(flags, [false, true], "verifier-{i}: registered, deposited");
        }
    }

    // 6. Disputes: phase, deadlines and jurors equal the committee's; votes, rulings, evidence as driven.
    let committee = ReexecutionCommittee::new(net.address("ReexecutionCommittee"), p);
    let desk = DisputeDesk::new(net.address("DisputeDesk"), p);
    let disputes: BTreeMap<String, Dispute> = current(pool, "disputes").await;
    assert_eq!(U256::from(disputes.len()), committee.disputeCount().call().await.unwrap());
    let none_waits = committee.waitingDays().call().await.unwrap().is_zero();
    for (id, d) in &disputes {
        let info = committee.disputeInfo(wei(id)).call().await.unwrap();
        assert_eq!(d.phase, PHASES[usize::from(info.phase)], "dispute {id}");
        assert_eq!((d.commit_deadline, d.reveal_deadline), (info.commitDeadline, info.revealDeadline), "dispute {id}");
        // The projection holds the earliest end of the wait (the dispute's own); the view adds the waits of the
        // disputes waiting with it, so they agree whenever none waits.
        let expires_at = committee.expiresAt(wei(id)).call().await.unwrap();
        let own = d.expires_at.map(U256::from).expect("every dispute has an expiry");
        assert!(
            own <= expires_at,
            "dispute {id}: the earliest end of its wait {own} is after the current {expires_at}"
        );
        if none_waits {
            assert_eq!(own, expires_at, "dispute {id}: the end of its wait for seats");
        }
        assert_eq!((d.round, d.rounds.len().max(1) as u64 - 1), (u64::from(info.round), u64::from(info.round)));
        // Each round's jury, each juror once in draw order, equals the committee's.
        for (r, round) in d.rounds.iter().enumerate() {
            let r = u8::try_from(r).unwrap();
            let jurors: Vec<String> =
                committee.jurorsIn(wei(id), r).call().await.unwrap().iter().map(|j| a(*j)).collect();
            let mut distinct: Vec<String> = Vec::new();
            for seat in &round.jurors {
                if !distinct.contains(seat) {
                    distinct.push(seat.clone());
                }
            }
            assert_eq!(distinct, jurors, "dispute {id} round {r}");
            assert_eq!(round.seats, if r == 0 { 3 } else { 7 }, "dispute {id} round {r}");
            for (juror, vote) in &round.votes {
                let juror: Address = juror.parse().unwrap();
                let expected = vote.vote.or(Some(1)).map(|v| {
                    cairn_protocol::typed::commitment(wei(id), r, juror, U256::from(v), drive::salt(juror)).to_string()
                });
                assert_eq!(vote.commitment, expected, "dispute {id} round {r} juror {juror}");
            }
        }
        // The current round's seats: the committee's count, except seats released for silence before a redraw.
        let current = d.rounds.last().cloned().unwrap_or_default();
        assert_eq!(d.jurors, current.jurors, "dispute {id}: the current round's seats");
        for seat in &d.jurors {
            let held = committee.seatsOf(wei(id), seat.parse().unwrap()).call().await.unwrap();
            let listed = U256::from(d.jurors.iter().filter(|s| *s == seat).count());
            let released = !current.redrawn.is_empty() && current.votes.get(seat).is_some_and(|v| v.vote.is_none());
            assert!(held == listed || (released && held <= listed), "dispute {id} seats of {seat}");
        }
        assert_eq!(d.arbitrable, a(net.address("DisputeDesk")));
        let job = d.job_id.as_deref().expect("every dispute here has a job");
        assert_eq!(desk.jobOfDispute(wei(id)).call().await.unwrap(), wei(job));
        // The challenge pool: every ticket, the payout once ruled, and which tickets were collected.
        let on_chain = desk.poolOf(wei(job)).call().await.unwrap();
        assert_eq!(d.tickets.len() as u64, on_chain.tickets, "dispute {id} tickets");
        assert_eq!(d.payout.as_deref().map(wei), on_chain.ruled.then_some(on_chain.payout), "dispute {id} payout");
        for t in &d.tickets {
            let state = desk.ticketOf(wei(job), t.challenger.parse().unwrap()).call().await.unwrap();
            let collected = state == cairn_bindings::enums::ticket::COLLECTED;
            assert_eq!(t.paid.is_some(), collected, "dispute {id} ticket of {}", t.challenger);
        }
        assert_eq!(d.votes, current.votes, "dispute {id}: the current round's votes");
    }
    // Every seat a juror was drawn for, in every round, is counted on the juror.
    for (id, o) in &operators {
        let seats =
            disputes.values().flat_map(|d| d.rounds.iter().flat_map(|r| &r.jurors)).filter(|j| *j == id).count() as u64;
        assert_eq!(o.juror.seats_drawn, seats, "operator {id}");
    }
    assert!(operators[&a(story.non_revealer)].juror.seats_drawn >= 1);
    let dispute = |id: U256| disputes[&id.to_string()].clone();
    let upheld = dispute(story.dispute_upheld);
    assert_eq!((upheld.ruling, upheld.votes_acceptable, upheld.votes_not_acceptable), (Some(1), 3, 0));
    assert_eq!((upheld.reseeds.len(), upheld.draws, upheld.votes.len()), (1, 1, 3));
    assert!(upheld.votes.values().all(|v| v.vote == Some(1)));
    let evidence: Vec<(String, String)> = upheld.evidence.iter().map(|e| (e.party.clone(), e.uri.clone())).collect();
    assert_eq!(
        evidence,
        [
            (a(addr("buyer")), "ipfs://bafkreievidencebuyer".to_string()),
            (a(addr("operator-0")), "ipfs://bafkreievidenceoperator".to_string())
        ]
    );
    let phases = runs(
        history::<Dispute>(pool, "disputes", &story.dispute_upheld.to_string()).await.iter().map(|d| d.phase.clone()),
    );
    assert_eq!(phases, ["Created", "Drawn", "Appealable", "Ruled"], "unappealed: final after the appeal period");
    let wrong = dispute(story.dispute_wrong);
    assert_eq!((wrong.ruling, wrong.votes_acceptable, wrong.votes_not_acceptable), (Some(2), 0, 3));
    assert_eq!(wrong.canary_answer, Some(2), "revealed as a canary of answer 2");
    let tied = dispute(story.dispute_tied);
    assert_eq!(tied.canary_answer, None, "not a canary");
    assert_eq!(
        (tied.ruling, tied.votes_acceptable, tied.votes_not_acceptable, tied.votes_unavailable),
        (Some(0), 1, 0, 1)
    );
    assert_eq!(
        (tied.rounds[0].votes_acceptable, tied.rounds[0].votes_unavailable),
        (1, 1),
        "the round's tally carries the votes for 3"
    );
    let silent = &tied.votes[&a(story.non_revealer)];
    assert!(silent.commitment.is_some() && silent.vote.is_none(), "committed, never revealed");
    assert_eq!(tied.rounds.len(), 1, "never appealed");
    assert_eq!(tied.rounds[0].redrawn, [1, 1], "its silent seat redrawn twice");
    assert_eq!(tied.jurors.len(), 5, "three seats drawn, then one and one");
    let phases = runs(
        history::<Dispute>(pool, "disputes", &story.dispute_tied.to_string()).await.iter().map(|d| d.phase.clone()),
    );
    assert_eq!(phases, ["Created", "Drawn", "Created", "Drawn", "Created", "Drawn", "Appealable", "Ruled"]);
    // Appealed: the buyer's appeal opened round 1 (7 seats), whose ruling stood; round 0 ruled the other way.
    let appealed = dispute(story.dispute_appealed);
    assert_eq!((appealed.phase.as_str(), appealed.ruling, appealed.round), ("Ruled", Some(2), 1));
    assert_eq!(appealed.rounds.len(), 2);
    let (r0, r1) = (&appealed.rounds[0], &appealed.rounds[1]);
    assert_eq!((r0.seats, r0.ruling, r0.votes_acceptable, r0.votes_not_acceptable), (3, Some(1), 3, 0));
    assert_eq!((r1.seats, r1.ruling, r1.votes_acceptable, r1.votes_not_acceptable), (7, Some(2), 0, 7));
    assert!(r0.appeal.is_none());
    let appeal = r1.appeal.as_ref().expect("round 1 was opened by an appeal");
    assert_eq!(appeal.appellant, a(addr("buyer")));
    let fee = committee.params().call().await.unwrap().fee;
    assert_eq!(wei(&appeal.fee), fee * U256::from(14) / U256::from(3), "fee × 2 × 7/3");
    assert_eq!((r0.jurors.len(), r1.jurors.len(), appealed.jurors.len()), (3, 7, 7));
    let progress = market.getProgress(story.job_appealed).call().await.unwrap();
    assert_eq!(progress.closeReason, cairn_bindings::enums::close_reason::OPERATOR_WRONG);
    let none = dispute(story.dispute_no_jurors);
    assert_eq!(
        (none.phase.as_str(), none.ruling, none.deferrals.as_slice()),
        ("Ruled", Some(1), &["2".to_string()][..])
    );
    assert_eq!((none.retries.len(), none.draws, none.jurors.len()), (1, 1, 3));
    let phases = runs(
        history::<Dispute>(pool, "disputes", &story.dispute_no_jurors.to_string())
            .await
            .iter()
            .map(|d| d.phase.clone()),
    );
    assert_eq!(phases, ["Created", "Waiting", "Created", "Drawn", "Appealable", "Ruled"]);
    let keeper = none.keeper.as_ref().expect("the drawer was paid");
    assert_eq!(
        (keeper.keeper.as_str(), wei(&keeper.amount)),
        (a(net.deployer.account()).as_str(), parse_ether("0.001").unwrap())
    );
    let lapsed = dispute(story.dispute_lapsed);
    assert_eq!(
        (lapsed.phase.as_str(), lapsed.ruling, lapsed.lapsed, lapsed.reseeds.len()),
        ("Ruled", Some(2), true, 1)
    );
    assert!(lapsed.jurors.is_empty() && lapsed.keeper.is_none());
    assert_eq!(lapsed.accused, Some(a(addr("operator-0"))));

    // 7. Pull balances: every (contract, account, token) row equals the contract's balanceOf.
    let balances: BTreeMap<String, Balance> = current(pool, "balances").await;
    let mut withdrawn_from = BTreeSet::new();
    for b in balances.values() {
        let pull = JobMarket::new(net.address(&b.contract), p); // PullPayments.balanceOf, the same everywhere
        let on_chain = pull.balanceOf(b.account.parse().unwrap(), b.token.parse().unwrap()).call().await.unwrap();
        assert_eq!(wei(&b.amount), on_chain, "{} owes {} in {}", b.contract, b.account, b.token);
        assert_eq!(wei(&b.credited) - wei(&b.withdrawn), wei(&b.amount));
        if wei(&b.withdrawn) > U256::ZERO {
            withdrawn_from.insert(b.contract.clone());
        }
    }
    assert_eq!(
        withdrawn_from,
        BTreeSet::from([
            "DisputeDesk".into(),
            "JobMarket".into(),
            "ModelRegistry".into(),
            "ReexecutionCommittee".into()
        ])
    );
    assert!(balances.contains_key(&format!("JobMarket/{}/{}", a(story.new_treasury), a(Address::ZERO))));

    // 8. Parameters: equal the contracts' views; their history kept.
    let params: BTreeMap<String, Param> = current(pool, "params").await;
    let value = |id: &str| params.get(id).unwrap_or_else(|| panic!("no parameter {id}")).value.clone();
    let mp = market.params().call().await.unwrap();
    assert_eq!(
        value("JobMarket/params"),
        serde_json::json!({
            "feeBps": mp.feeBps, "bondBps": mp.bondBps, "claimPenaltyBps": mp.claimPenaltyBps, "burnBps": mp.burnBps,
            "claimTimeout": mp.claimTimeout, "challengeWindow": mp.challengeWindow, "maxDeadline": mp.maxDeadline,
            "bondFloor": mp.bondFloor.to_string(), "challengeBond": mp.challengeBond.to_string(),
        })
    );
    let fees: Vec<u64> = history::<Param>(pool, "params", "JobMarket/params")
        .await
        .iter()
        .map(|p| p.value["feeBps"].as_u64().unwrap())
        .collect();
    assert_eq!(fees.len(), 2, "deployed, then changed");
    assert_eq!(fees[1], 400);
    let dusd = net.address("DevToken");
    let tc = market.tokenConfig(dusd).call().await.unwrap();
    assert_eq!(
        value(&format!("JobMarket/token/{}", a(dusd))),
        serde_json::json!({"bondRate": tc.bondRate.to_string(), "minOperatorFee": tc.minOperatorFee.to_string()})
    );
    assert_eq!(value("JobMarket/treasury")["treasury"], a(market.treasury().call().await.unwrap()));
    let cp = committee.params().call().await.unwrap();
    assert_eq!(
        value("ReexecutionCommittee/params"),
        serde_json::json!({
            "jurors": cp.jurors, "fee": cp.fee.to_string(), "commitPeriod": cp.commitPeriod, "revealPeriod": cp.revealPeriod,
            "keeperReward": cp.keeperReward.to_string(), "nonRevealPenalty": cp.nonRevealPenalty.to_string(),
            "auditReserve": cp.auditReserve, "appealPeriod": cp.appealPeriod,
            "coherencePenalty": cp.coherencePenalty.to_string(),
        })
    );
    for (name, on_chain) in [
        ("minStake", operators_view.minStake().call().await.unwrap()),
        ("unbondingDelay", U256::from(operators_view.unbondingDelay().call().await.unwrap())),
    ] {
        assert_eq!(value(&format!("OperatorRegistry/{name}"))["newValue"], on_chain.to_string(), "{name}");
    }
    for (name, on_chain) in [
        ("maturity", pool_view.maturity().call().await.unwrap()),
        ("withdrawalDelay", pool_view.withdrawalDelay().call().await.unwrap()),
    ] {
        assert_eq!(value(&format!("JurorPool/{name}"))["newValue"], on_chain.to_string(), "{name}");
    }
    assert_eq!(value("JurorPool/committee")["committee"], a(net.address("ReexecutionCommittee")));
    let jm = a(net.address("JobMarket"));
    assert_eq!(value(&format!("OperatorRegistry/authorised/{jm}"))["allowed"], true);
    let desk = a(net.address("DisputeDesk"));
    assert_eq!(value(&format!("ReexecutionCommittee/arbitrable/{desk}"))["allowed"], true);
    assert_eq!(value("DisputeDesk/market")["market"], jm);
    for contract in INDEXED_CONTRACTS {
        let ownable = JobMarket::new(net.address(contract), p); // Ownable2Step, the same everywhere
        assert_eq!(
            value(&format!("{contract}/owner"))["owner"],
            a(ownable.owner().call().await.unwrap()),
            "{contract}"
        );
        assert_eq!(
            value(&format!("{contract}/pendingOwner"))["pendingOwner"],
            a(ownable.pendingOwner().call().await.unwrap()),
            "{contract}"
        );
        if !["ReexecutionCommittee", "JurorPool", "DisputeDesk"].contains(contract) {
            assert_eq!(
                value(&format!("{contract}/paused"))["paused"],
                ownable.paused().call().await.unwrap(),
                "{contract}"
            );
            let flips: Vec<bool> = history::<Param>(pool, "params", &format!("{contract}/paused"))
                .await
                .iter()
                .map(|p| p.value["paused"].as_bool().unwrap())
                .collect();
            assert_eq!(flips, [true, false], "{contract}: paused, then unpaused");
        }
    }
}

#[tokio::test]
async fn reindex_rebuilds_identical_projections() {
    let dir = tempfile::tempdir().unwrap();
    let (net, _story, follower) = story_indexed(&dir).await;
    let pool = follower.store().pool();
    let followed = projection_dump(pool).await;
    assert!(followed.len() > 100, "the story makes many rows: {}", followed.len());
    let decoder = Decoder::new(
        net.deployments
            .contracts
            .iter()
            .filter(|(name, _)| INDEXED_CONTRACTS.contains(&name.as_str()))
            .map(|(name, d)| (name.clone(), d.address)),
    );
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(pool).await.unwrap();
    let applied =
        cairn_indexer::reindex(follower.store(), &decoder, net.deployer.chain_id(), &Metrics::new()).await.unwrap();
    assert_eq!(applied as i64, events, "every stored event re-applied");
    let rebuilt = projection_dump(pool).await;
    if followed != rebuilt {
        let (f, r): (BTreeSet<_>, BTreeSet<_>) = (followed.iter().collect(), rebuilt.iter().collect());
        panic!(
            "re-index differs:\nonly after following: {:#?}\nonly after re-index: {:#?}",
            f.difference(&r).take(10).collect::<Vec<_>>(),
            r.difference(&f).take(10).collect::<Vec<_>>()
        );
    }
}
