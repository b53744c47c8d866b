//! The API over a market that moved, driven by [`crate::drive`] and indexed into SQLite and into PostgreSQL
//! (one test body, run on each): a model whose manifest is pinned on Kubo and an ETH-priced one; jobs
//! finalized after the challenge window; a dispute ruled acceptable (operator upheld) and one ruled not
//! acceptable (operator wrong, slashed) through drawn jurors' commits and reveals. Checked: models (versions,
//! signature check, the manifest fetched in the background, operators that served it), jobs (filters, every
//! transition with its receipt and close reason), disputes (jurors, votes, history), operators (outcome
//! counters and a reputation that drops after a lost dispute), a juror's and the buyer's trails, `/stats`
//! against amounts and block times of the driver, the seller's DID; then a reorg that undoes a finalization
//! (anvil `evm_snapshot`/`evm_revert`) and the API's answers rolled back with it; then a stuck database (every
//! pooled connection held): 503 past the query timeout, 408 past the request timeout.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, B256, U256, utils::parse_ether},
    providers::Provider,
};
use axum::{Router, http::StatusCode};
use cairn_indexer::{api::ApiOptions, follower::Follower, metrics::Metrics};
use cairn_protocol::{Region, RegionMask, typed};
use serde_json::{Value, json};

use crate::{
    Net,
    api::{app_with, get, ok},
    drive::{self, Drawn, Listing, Request, addr},
    sqlite_url,
};

#[tokio::test]
async fn serves_a_market_lifecycle_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    serves_a_market_lifecycle(&sqlite_url(&dir, "market.db")).await;
}

#[tokio::test]
async fn serves_a_market_lifecycle_from_postgres() {
    let pg = cairn_testkit::Postgres::start().await.unwrap();
    serves_a_market_lifecycle(pg.url()).await;
}

fn lower(a: Address) -> String {
    a.to_string().to_lowercase()
}

/// The timestamp of the block that mined `tx`.
async fn mined_at(net: &Net, tx: B256) -> u64 {
    let p = net.deployer.provider();
    let receipt = p.get_transaction_receipt(tx).await.unwrap().expect("mined");
    let block = receipt.block_number.expect("in a block");
    p.get_block_by_number(block.into()).await.unwrap().unwrap().header.timestamp
}

/// The ids of a list's items.
fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_string()).collect()
}

/// The event names of a job's transitions or an entity's history.
fn events(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x["event"].as_str().unwrap().to_string()).collect()
}

/// The median of `xs`, as `/stats` defines it (the mean of the middle two for an even count).
fn median(mut xs: Vec<u64>) -> f64 {
    xs.sort_unstable();
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] as f64 } else { (xs[n / 2 - 1] + xs[n / 2]) as f64 / 2.0 }
}

/// The outcome counters of an operator as `/operators/{addr}` serves them: claims, submitted, completed,
/// challenged, upheld, disputesLost, slashes.
fn counters(o: &Value) -> [u64; 7] {
    ["claims", "submitted", "completed", "challenged", "upheld", "disputesLost", "slashes"]
        .map(|k| o[k].as_u64().unwrap_or_else(|| panic!("{k} in {o}")))
}

/// A finished job: its id, payment token and amount, request time and close time (block timestamps).
struct Settled {
    id: U256,
    token: Address,
    payment: U256,
    requested_at: u64,
    closed_at: u64,
}

async fn serves_a_market_lifecycle(db: &str) {
    let (net, kubo) = tokio::join!(Net::start(), async { cairn_testkit::Kubo::start().await.unwrap() });
    let ipfs = cairn_ipfs::KuboClient::new(kubo.api_url()).unwrap();
    let manifest_bytes = br#"{"schema":"cairn.manifest/2","name":"tiny-bert","files":[]}"#.to_vec();
    let added = ipfs.add_bytes("manifest.json", manifest_bytes, Default::default()).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let follower = net.follower_with(db, metrics.clone()).await;
    drive::one_seat_each(&net).await; // three seats are three distinct jurors, one vote each
    let options = ApiOptions { rate_per_second: 100_000, ..Default::default() };
    let app = app_with(&net, &follower, metrics.clone(), Some(ipfs.clone()), options);

    // Two models: DUSD-priced with the pinned manifest, ETH-priced.
    let (dusd, eth) = (net.address("DevToken"), Address::ZERO);
    let milli = |n: u64| parse_ether("0.001").unwrap() * U256::from(n);
    let regions = RegionMask::of([Region::Eu, Region::Us, Region::Jp]);
    let dusd_listing = Listing {
        token: dusd,
        price_per_call: U256::from(1_000_000u64),
        license_price: U256::ZERO,
        license_period: 0,
        regions,
        tag: "api-dusd",
    };
    let manifest_digest = B256::from(added.sha256.0);
    let model = drive::register_model_with_manifest(
        &net,
        "seller",
        U256::ZERO,
        &dusd_listing,
        &added.cid.to_string(),
        manifest_digest,
    )
    .await
    .model_id;
    let eth_listing = Listing { token: eth, price_per_call: milli(10), tag: "api-eth", ..dusd_listing.clone() };
    let eth_model = drive::register_model(&net, "seller", U256::ZERO, &eth_listing).await.model_id;
    drive::approve_dusd(&net, "buyer", net.address("JobMarket")).await;
    let dusd_job = |input: u8, payment: u64| Request {
        model_id: model,
        version: 1,
        token: dusd,
        payment: U256::from(payment),
        max_price: U256::from(1_000_000u64),
        deadline_in: 86_400,
        regions: RegionMask::of([Region::Eu]).to_u256(),
        input,
    };
    let eth_job = |input: u8, payment: U256| Request {
        model_id: eth_model,
        version: 1,
        token: eth,
        payment,
        max_price: milli(10),
        deadline_in: 86_400,
        regions: U256::ZERO,
        input,
    };
    let request = async |r: &Request| (drive::request_job(&net, "buyer", r).await, drive::now(&net).await);

    // Job a: operator-0 answers; finalized later.
    let (job_a, requested_a) = request(&dusd_job(0xa1, 5_000_000)).await;
    let claim_a = drive::claim(&net, "operator-0", job_a).await;
    drive::submit(&net, "operator-0", job_a, 0xa1).await;
    // Job b: operator-0 answers, the buyer challenges, the jurors find the answer acceptable.
    let (job_b, requested_b) = request(&dusd_job(0xb2, 7_000_000)).await;
    drive::claim_and_submit(&net, "operator-0", job_b, 0xb2).await;
    let dispute_b = drive::challenge(&net, "buyer", job_b).await;
    let Drawn::Jurors(jurors_b) = drive::draw(&net, dispute_b).await else { panic!("five verifiers are eligible") };
    let votes_b = [1u8; 3];
    assert_eq!(drive::vote_and_resolve(&net, dispute_b, &jurors_b, &votes_b.map(Some)).await, U256::from(1));
    // Job c: operator-1 answers, the buyer challenges, and the jurors find it wrong (seen before and after).
    let (job_c, requested_c) = request(&eth_job(0xc3, milli(100))).await;
    drive::claim_and_submit(&net, "operator-1", job_c, 0xc3).await;
    let dispute_c = drive::challenge(&net, "buyer", job_c).await;
    crate::sync(&follower).await;
    let op1 = lower(addr("operator-1"));
    let before_ruling = ok(&app, &format!("/operators/{op1}")).await["operator"].clone();
    assert_eq!(counters(&before_ruling), [1, 1, 0, 1, 0, 0, 0], "{before_ruling}");
    let open = ok(&app, &format!("/jobs/{job_c}")).await;
    assert_eq!((open["job"]["state"].as_str(), open["dispute"]["phase"].as_str()), (Some("Disputed"), Some("Created")));
    let Drawn::Jurors(jurors_c) = drive::draw(&net, dispute_c).await else { panic!("five verifiers are eligible") };
    let votes_c = [2u8; 3];
    assert_eq!(drive::vote_and_resolve(&net, dispute_c, &jurors_c, &votes_c.map(Some)).await, U256::from(2));
    // Job a finalized; job d (ETH, operator-2) answered and finalized; job e answered by operator-0 and,
    // after a snapshot, finalized: the reorg below takes that finalization back.
    let closed_a = mined_at(&net, drive::finalize(&net, job_a).await).await;
    let (job_d, requested_d) = request(&eth_job(0xd4, milli(80))).await;
    drive::claim_and_submit(&net, "operator-2", job_d, 0xd4).await;
    let closed_d = mined_at(&net, drive::finalize(&net, job_d).await).await;
    let (job_e, requested_e) = request(&dusd_job(0xe5, 6_000_000)).await;
    drive::claim_and_submit(&net, "operator-0", job_e, 0xe5).await;
    let p = net.deployer.provider().clone();
    let snapshot: U256 = p.raw_request("evm_snapshot".into(), ()).await.unwrap();
    let closed_e = mined_at(&net, drive::finalize(&net, job_e).await).await;
    let settled = [
        Settled {
            id: job_a,
            token: dusd,
            payment: U256::from(5_000_000u64),
            requested_at: requested_a,
            closed_at: closed_a,
        },
        Settled { id: job_d, token: eth, payment: milli(80), requested_at: requested_d, closed_at: closed_d },
        Settled {
            id: job_e,
            token: dusd,
            payment: U256::from(6_000_000u64),
            requested_at: requested_e,
            closed_at: closed_e,
        },
    ];
    crate::sync(&follower).await;

    let seller = addr("seller");
    let (seller_l, buyer_l, op0) = (lower(seller), lower(addr("buyer")), lower(addr("operator-0")));

    // The models: the DUSD one's version with the signature check and digests, operators that served it, and
    // the manifest, answered at once as `fetching` and then from the cache.
    let listed = ok(&app, &format!("/models?seller={seller_l}")).await;
    assert_eq!(ids(&listed), vec![model.to_string(), eth_model.to_string()]);
    let first = ok(&app, &format!("/models/{model}")).await;
    assert_eq!(first["model"]["seller"], seller_l.as_str());
    let v1 = &first["versions"][0];
    assert_eq!(v1["signatureValid"], true, "{v1}");
    assert_eq!(v1["signatureCheck"], seller_l.as_str());
    assert_eq!(v1["manifestCid"], added.cid.to_string());
    assert_eq!(v1["manifestDigest"], manifest_digest.to_string());
    assert_eq!(v1["weightsDigest"], alloy::primitives::keccak256("weights api-dusd").to_string());
    assert_eq!(first["servedBy"], json!([{"operator": op0, "jobs": 3}]));
    assert_eq!(first["manifestStatus"], "fetching");
    assert!(first["manifest"].is_null());
    let mut detail = first;
    for _ in 0..100 {
        if detail["manifestStatus"] != "fetching" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        detail = ok(&app, &format!("/models/{model}")).await;
    }
    assert_eq!(detail["manifestStatus"], "ready", "{detail}");
    assert_eq!(detail["manifest"]["name"], "tiny-bert");
    let eth_detail = ok(&app, &format!("/models/{eth_model}")).await;
    let op2 = lower(addr("operator-2"));
    let mut served = [&op1, &op2];
    served.sort(); // by address
    assert_eq!(eth_detail["servedBy"], json!(served.map(|o| json!({"operator": o, "jobs": 1}))));

    // Jobs: filters by state, buyer, operator, model and time.
    let all = ok(&app, "/jobs").await;
    let s = |ids: &[U256]| ids.iter().map(U256::to_string).collect::<Vec<_>>();
    assert_eq!(ids(&all), s(&[job_a, job_b, job_c, job_d, job_e]));
    assert_eq!(ids(&ok(&app, "/jobs?state=Finalized").await), s(&[job_a, job_d, job_e]));
    assert_eq!(ids(&ok(&app, "/jobs?state=Resolved").await), s(&[job_b, job_c]));
    assert_eq!(ids(&ok(&app, "/jobs?state=Disputed").await), s(&[]));
    let mine = format!("/jobs?buyer={buyer_l}&operator={op0}&model={model}");
    assert_eq!(ids(&ok(&app, &mine).await), s(&[job_a, job_b, job_e]));
    assert_eq!(ids(&ok(&app, &format!("/jobs?operator={op1}")).await), s(&[job_c]));
    assert_eq!(ids(&ok(&app, "/jobs?model=999").await).len(), 0);
    // (Blocks mined within one second share a timestamp: jobs are expected by their request times.)
    let requested =
        [(job_a, requested_a), (job_b, requested_b), (job_c, requested_c), (job_d, requested_d), (job_e, requested_e)];
    let between = |since: u64, until: u64| {
        s(&requested.iter().filter(|(_, t)| (since..=until).contains(t)).map(|(j, _)| *j).collect::<Vec<_>>())
    };
    assert_eq!(ids(&ok(&app, &format!("/jobs?since={requested_d}")).await), between(requested_d, u64::MAX));
    assert_eq!(ids(&ok(&app, &format!("/jobs?until={}", requested_a - 1)).await).len(), 0);
    let at_a = ids(&ok(&app, &format!("/jobs?since={requested_a}&until={requested_a}")).await);
    assert_eq!(at_a, between(requested_a, requested_a));
    assert!(at_a.contains(&job_a.to_string()) && !at_a.contains(&job_d.to_string()));
    let csv = get(&app, "/jobs?format=csv").await.text;
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.lines().next().unwrap().split(',').any(|h| h == "receipt.outputCid"), "{csv}");

    // A job's transitions: every event with block, transaction, log index and time; the receipt's output.
    let job = ok(&app, &format!("/jobs/{job_a}")).await;
    let t = job["transitions"].as_array().unwrap();
    let names = events(&job["transitions"]);
    assert_eq!(&names[..3], &["JobRequested", "JobClaimed", "ResultSubmitted"], "{names:?}");
    assert!(names.contains(&"JobClosed".to_string()), "{names:?}");
    assert_eq!(t[1]["txHash"], claim_a.to_string());
    assert_eq!(t[1]["operator"], op0.as_str());
    assert!(t.iter().all(|x| x["timestamp"].as_u64().unwrap() > 0 && x["logIndex"].is_i64()));
    assert!(t[0]["outputCid"].is_null());
    assert_eq!(t[2]["outputCid"], "bafkreioutputa1");
    assert_eq!(t[2]["energyMillijoules"], 1000 + 0xa1);
    assert_eq!(t[2]["runnerBuild"], cairn_protocol::runtime::runner_build("cairn-runner 0.1.0").to_string());
    assert_eq!(
        (t.last().unwrap()["state"].as_str(), t.last().unwrap()["closeReason"].as_str()),
        (Some("Finalized"), Some("Finalized"))
    );
    assert_eq!(job["job"]["state"], "Finalized");
    assert_eq!(job["job"]["closeReason"], "Finalized");
    assert!(job["dispute"].is_null());

    // The disputed jobs: challenged (Disputed, still open), then closed by the ruling with its reason.
    for (job, dispute, reason) in [(job_b, dispute_b, "OperatorUpheld"), (job_c, dispute_c, "OperatorWrong")] {
        let j = ok(&app, &format!("/jobs/{job}")).await;
        let t = j["transitions"].as_array().unwrap();
        let challenged = t.iter().find(|x| x["event"] == "JobChallenged").expect("a JobChallenged transition");
        assert_eq!(
            (challenged["state"].as_str(), challenged["closeReason"].as_str()),
            (Some("Disputed"), Some("Open"))
        );
        let closed = t.iter().find(|x| x["event"] == "JobClosed").expect("a JobClosed transition");
        assert_eq!((closed["state"].as_str(), closed["closeReason"].as_str()), (Some("Resolved"), Some(reason)));
        assert_eq!(t.last().unwrap()["state"], "Resolved");
        assert_eq!((j["job"]["state"].as_str(), j["job"]["closeReason"].as_str()), (Some("Resolved"), Some(reason)));
        assert_eq!(j["job"]["disputeId"], dispute.to_string());
        assert_eq!(j["job"]["challenger"], buyer_l.as_str());
        assert_eq!(j["dispute"]["id"], dispute.to_string());
        assert_eq!(j["dispute"]["phase"], "Ruled");
    }

    // The disputes: jurors drawn, each juror's commitment and revealed vote, the ruling and its history.
    for (dispute, job, jurors, votes) in
        [(dispute_b, job_b, &jurors_b, votes_b), (dispute_c, job_c, &jurors_c, votes_c)]
    {
        let d = ok(&app, &format!("/disputes/{dispute}")).await;
        let now = &d["dispute"];
        assert_eq!(now["jobId"], job.to_string());
        assert_eq!(now["challenger"], buyer_l.as_str());
        assert_eq!(now["arbitrable"], lower(net.address("DisputeDesk")));
        assert_eq!(now["phase"], "Ruled");
        assert_eq!(now["ruling"], u64::from(votes[0]));
        assert_eq!(now["jurors"], json!(jurors.iter().map(|j| lower(*j)).collect::<Vec<_>>()));
        assert_eq!(now["draws"], 1);
        let acceptable = votes.iter().filter(|v| **v == 1).count();
        assert_eq!(
            (now["votesAcceptable"].as_u64(), now["votesNotAcceptable"].as_u64()),
            (Some(acceptable as u64), Some((3 - acceptable) as u64))
        );
        for (juror, vote) in jurors.iter().zip(votes) {
            let commitment = typed::commitment(dispute, 0, *juror, U256::from(vote), drive::salt(*juror));
            assert_eq!(
                now["votes"][lower(*juror)],
                json!({"commitment": commitment.to_string(), "vote": vote}),
                "{now}"
            );
        }
        assert!(now["ruledAt"].as_u64().unwrap() >= now["createdAt"].as_u64().unwrap());
        // One version per block, made by the block's last event: the challenge transaction creates the dispute
        // (DisputeCreation) and then names its job and challenger (JobChallenged) in one block.
        let history = events(&d["history"]);
        // The draw's transaction ends with the keeper's reward (JurorsDrawn, Credited, KeeperPaid).
        let mut expected = vec!["JobChallenged", "KeeperPaid"];
        expected.extend(["VoteCommitted"; 3]);
        expected.extend(["VoteRevealed"; 3]);
        // The round rules (RoundRuled: appealable); after the appeal period the final ruling's transaction ends
        // with the desk applying it (DisputeRuled, Ruling, PoolSettled).
        expected.extend(["RoundRuled", "PoolSettled"]);
        assert_eq!(history, expected, "dispute {dispute}");
        let phases: Vec<&str> =
            d["history"].as_array().unwrap().iter().map(|v| v["value"]["phase"].as_str().unwrap()).collect();
        assert_eq!(
            (phases[0], phases[1], phases[7], phases[8], phases[9]),
            ("Created", "Drawn", "Drawn", "Appealable", "Ruled")
        );
        assert_eq!(now["rounds"][0]["ruling"], u64::from(votes[0]), "the round's ruling");
        assert!(now["appealDeadline"].is_null(), "no deadline once final");
    }
    assert_eq!(ids(&ok(&app, &format!("/disputes?job={job_b}")).await), s(&[dispute_b]));
    assert_eq!(ids(&ok(&app, "/disputes?phase=Ruled").await), s(&[dispute_b, dispute_c]));
    assert_eq!(ids(&ok(&app, "/disputes?phase=Created").await).len(), 0);

    // Operators: operator-0 completed two and was upheld once; operator-1 lost its dispute, was slashed, and
    // its reputation fell.
    let o0 = ok(&app, &format!("/operators/{op0}")).await["operator"].clone();
    assert_eq!(counters(&o0), [3, 3, 2, 1, 1, 0, 0], "{o0}");
    assert_eq!(o0["reputation"]["reliability"].as_f64().unwrap(), 4.0 / 5.0); // (2 + 1 + 1) / (2 + 1 + 2)
    let o1 = ok(&app, &format!("/operators/{op1}")).await;
    // The ruling's transaction slashes and records the lost dispute in one block: one version, made by its last
    // event, holding both.
    let history = events(&o1["history"]);
    assert_eq!(history.last().map(String::as_str), Some("DisputeLostRecorded"), "{history:?}");
    let ruled = &o1["history"].as_array().unwrap().last().unwrap()["value"];
    assert_eq!((ruled["slashes"].as_u64(), ruled["disputesLost"].as_u64()), (Some(1), Some(1)), "{ruled}");
    let o1 = &o1["operator"];
    assert_eq!(counters(o1), [1, 1, 0, 1, 0, 1, 1], "{o1}");
    assert_eq!(o1["reputation"]["reliability"].as_f64().unwrap(), 1.0 / 5.0); // (0 + 1) / (3 + 2)
    assert_eq!(o1["reputation"]["slashFactor"].as_f64().unwrap(), 0.5);
    assert_eq!(before_ruling["reputation"]["reliability"].as_f64().unwrap(), 0.5);
    let (score_before, score_after) =
        (before_ruling["reputation"]["score"].as_u64().unwrap(), o1["reputation"]["score"].as_u64().unwrap());
    assert!(score_after < score_before / 2, "a lost dispute and a slash: {score_before} → {score_after}");

    // A juror's trail: its seat locked in the pool, drawn, committed and revealed, each with its role and the
    // dispute.
    let juror = jurors_c[0];
    let trail = ok(&app, &format!("/accounts/{}/trail?limit=500", lower(juror))).await;
    let mine: Vec<&Value> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["fields"]["disputeId"] == dispute_c.to_string())
        .collect();
    let names: Vec<&str> = mine.iter().map(|x| x["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["SeatLocked", "JurorsDrawn", "VoteCommitted", "VoteRevealed"], "{trail}");
    assert_eq!((mine[0]["roles"].clone(), mine[0]["contract"].clone()), (json!(["juror"]), json!("JurorPool")));
    assert_eq!(mine[1]["roles"], json!(["jurors[0]"]));
    assert_eq!((mine[2]["roles"].clone(), mine[3]["roles"].clone()), (json!(["juror"]), json!(["juror"])));
    assert!(mine[1..].iter().all(|x| x["contract"] == "ReexecutionCommittee"));
    assert_eq!(mine[3]["fields"]["vote"], "2");

    // Stats: jobs by state, volume per token and the median settle time, from the driver's amounts and the
    // blocks' timestamps.
    let stats_of = |settled: &[Settled]| {
        let mut volume = std::collections::BTreeMap::<String, U256>::new();
        for j in settled {
            *volume.entry(lower(j.token)).or_default() += j.payment;
        }
        let volume: serde_json::Map<String, Value> =
            volume.into_iter().map(|(t, v)| (t, json!(v.to_string()))).collect();
        (Value::Object(volume), median(settled.iter().map(|j| j.closed_at - j.requested_at).collect()))
    };
    let stats = ok(&app, "/stats").await;
    assert_eq!(stats["jobsByState"], json!({"Finalized": 3, "Resolved": 2}));
    let (volume, settle) = stats_of(&settled);
    assert_eq!(stats["volumeByToken"], volume);
    assert_eq!(stats["medianSettleSeconds"].as_f64().unwrap(), settle);
    assert_eq!(
        (stats["finalizedJobs"].as_u64(), stats["disputes"].as_i64(), stats["models"].as_i64()),
        (Some(3), Some(2), Some(2))
    );
    for j in &settled {
        let served = ok(&app, &format!("/jobs/{}", j.id)).await;
        assert_eq!(
            (served["job"]["requestedAt"].as_u64(), served["job"]["closedAt"].as_u64()),
            (Some(j.requested_at), Some(j.closed_at))
        );
    }

    // The seller's DID links to its models here.
    let did = ok(&app, &format!("/did/did:pkh:eip155:31337:{seller}")).await;
    let services = did["service"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{did}");
    assert_eq!(services[0]["type"], "CairnModels");
    assert!(services[0]["serviceEndpoint"].as_str().unwrap().ends_with(&format!("/models?seller={seller_l}")));

    // The buyer's trail: approvals are not Cairn events; requests and challenges are.
    let trail = ok(&app, &format!("/accounts/{buyer_l}/trail?limit=500")).await;
    let names = events(&trail["items"]);
    assert_eq!(names.iter().filter(|e| *e == "JobRequested").count(), 5, "{names:?}");
    assert_eq!(names.iter().filter(|e| *e == "JobChallenged").count(), 2, "{names:?}");

    // A reorg takes job e's finalization back: the chain returns to the snapshot and grows other blocks.
    let reverted: bool = p.raw_request("evm_revert".into(), (snapshot,)).await.unwrap();
    assert!(reverted);
    drive::mine(&net, 5).await;
    crate::sync(&follower).await;
    let health = get(&app, "/health").await.json;
    assert_eq!(health["reorgs"], 1, "{health}");
    let e = ok(&app, &format!("/jobs/{job_e}")).await;
    assert_eq!((e["job"]["state"].as_str(), e["job"]["closeReason"].as_str()), (Some("Submitted"), Some("Open")));
    assert!(e["job"]["closedAt"].is_null());
    // The submission's transaction also schedules the job's audit (cleared at once: audits are off here).
    assert_eq!(events(&e["transitions"]), ["JobRequested", "JobClaimed", "ResultSubmitted", "AuditScheduled"]);
    let o0 = ok(&app, &format!("/operators/{op0}")).await["operator"].clone();
    assert_eq!(counters(&o0), [3, 3, 1, 1, 1, 0, 0], "{o0}");
    assert_eq!(o0["reputation"]["reliability"].as_f64().unwrap(), 3.0 / 4.0); // (1 + 1 + 1) / (1 + 1 + 2)
    let stats = ok(&app, "/stats").await;
    assert_eq!(stats["jobsByState"], json!({"Finalized": 2, "Resolved": 2, "Submitted": 1}));
    let (volume, settle) = stats_of(&settled[..2]);
    assert_eq!(stats["volumeByToken"], volume);
    assert_eq!(stats["medianSettleSeconds"].as_f64().unwrap(), settle);
    assert_eq!(ids(&ok(&app, "/jobs?state=Finalized").await), s(&[job_a, job_d]));

    stuck_database(&net, &follower, metrics).await;
}

/// With every pooled connection held, requests wait on the database: past `query_timeout` they are 503s that
/// say so; past a shorter `request_timeout` they are 408s, the `X-Indexed-Block` lookup included. Once the
/// connections are back, the same API answers again.
async fn stuck_database(net: &Net, follower: &Follower, metrics: Arc<Metrics>) {
    let pool = follower.store().pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    let app = |options: ApiOptions| -> Router {
        let options = ApiOptions { rate_per_second: 100_000, ..options };
        app_with(net, follower, metrics.clone(), None, options)
    };
    let quick_queries = app(ApiOptions { query_timeout: Duration::from_millis(100), ..Default::default() });
    let a = get(&quick_queries, "/stats").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert!(a.json["error"].as_str().unwrap().contains("did not answer within 100 ms"), "{}", a.text);
    let quick_requests = app(ApiOptions { request_timeout: Duration::from_millis(200), ..Default::default() });
    let started = Instant::now();
    let a = get(&quick_requests, "/jobs").await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT, "{}", a.text);
    assert!(a.json["error"].as_str().unwrap().contains("did not finish within 200 ms"), "{}", a.text);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "a 408 after {took:?}: the query timeout (5 s) ran first");
    drop(held);
    assert_eq!(get(&quick_queries, "/stats").await.status, StatusCode::OK);
    assert_eq!(get(&quick_requests, "/jobs").await.status, StatusCode::OK);
}
