//! The API over a market that moved: a model registered with a manifest pinned on Kubo, two jobs claimed and
//! answered by a seeded operator's hot key, one finalized after the challenge window, one challenged into a
//! dispute. Models (versions, signature check, the manifest fetched in the background, operators that served
//! it), jobs (filters, every transition with its receipt), disputes, stats and the seller's DID.

use std::{sync::Arc, time::Duration};

use alloy::{
    primitives::{B256, Bytes, U256},
    providers::Provider,
};
use cairn_bindings::{DevToken, JobMarket, ModelRegistry, ReexecutionCommittee};
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_indexer::metrics::Metrics;
use cairn_protocol::{JobReceipt, ModelManifest, Region, RegionMask, Runtime, typed};
use serde_json::Value;

use crate::{
    Net,
    api::{follower, get, ok},
    sqlite_url,
};

async fn now(net: &Net) -> u64 {
    let p = net.deployer.provider();
    let n = p.get_block_number().await.unwrap();
    p.get_block_by_number(n.into()).await.unwrap().unwrap().header.timestamp
}

#[tokio::test]
async fn serves_a_market_lifecycle() {
    let (net, kubo) = tokio::join!(Net::start(), async { cairn_testkit::Kubo::start().await.unwrap() });
    let p = net.deployer.provider().clone();
    let ipfs = cairn_ipfs::KuboClient::new(kubo.api_url()).unwrap();
    let manifest_bytes = br#"{"schema":"cairn.manifest/2","name":"tiny-bert","files":[]}"#.to_vec();
    let added = ipfs.add_bytes("manifest.json", manifest_bytes, Default::default()).await.unwrap();

    // The seller signs a listing whose manifest is the pinned file; the deployer relays it.
    let seller = devnet_key("seller");
    let registry = ModelRegistry::new(net.address("ModelRegistry"), &p);
    let listing = ModelManifest {
        seller: seller.address(),
        modelId: U256::ZERO,
        manifestCid: added.cid.to_string(),
        manifestDigest: B256::from(added.sha256.0),
        weightsDigest: B256::repeat_byte(0x77),
        runtime: Runtime::BertEmbedV1.id(),
        paymentToken: net.address("DevToken"),
        pricePerCall: U256::from(1_000_000u64),
        licensePrice: U256::ZERO,
        licensePeriod: 0,
        regionMask: RegionMask::of([Region::Eu, Region::Us]).to_u256(),
        nonce: registry.nonces(seller.address()).call().await.unwrap(),
        deadline: now(&net).await + 3600,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("ModelRegistry"));
    let signature = typed::sign(&seller, &listing, &domain).await.unwrap();
    let registered = net
        .deployer
        .send("register", registry.register(listing, signature.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
    let model = registered.decoded_log::<ModelRegistry::ModelRegistered>().unwrap().modelId;

    // The buyer requests two jobs; operator 0's hot key claims and answers both.
    let buyer = net.as_actor("buyer").await;
    let market_at = net.address("JobMarket");
    let token = DevToken::new(net.address("DevToken"), buyer.provider());
    buyer.send("approve", token.approve(market_at, U256::MAX).into_transaction_request()).await.unwrap();
    let as_buyer = JobMarket::new(market_at, buyer.provider());
    let mut jobs = Vec::new();
    for input in [0xa1u8, 0xb2] {
        let call = as_buyer.requestJob(
            model,
            1,
            B256::repeat_byte(input),
            format!("bafkreiinput{input:02x}"),
            net.address("DevToken"),
            U256::from(5_000_000u64),
            U256::from(1_000_000u64),
            now(&net).await + 86_400,
            RegionMask::of([Region::Eu]).to_u256(),
        );
        let r = buyer.send("requestJob", call.into_transaction_request()).await.unwrap();
        jobs.push(r.decoded_log::<JobMarket::JobRequested>().unwrap().jobId);
    }
    let operator = devnet_key("operator-0").address();
    let hot_key = devnet_signer_key("operator-0");
    let hot = net.as_key(hot_key.clone()).await;
    let as_hot = JobMarket::new(market_at, hot.provider());
    let market_domain = typed::domain(net.deployer.chain_id(), market_at);
    let runner_build = cairn_protocol::runtime::runner_build("cairn-runner 0.1.0");
    let mut claim_txs = Vec::new();
    for job in &jobs {
        let claimed = hot.send("claim", as_hot.claim(*job, operator).into_transaction_request()).await.unwrap();
        claim_txs.push(claimed.transaction_hash);
        let terms = as_hot.getTerms(*job).call().await.unwrap();
        let receipt = JobReceipt {
            jobId: *job,
            weightsDigest: terms.weightsDigest,
            inputDigest: terms.inputDigest,
            runtime: terms.runtime,
            outputDigest: B256::repeat_byte(0x33),
            outputCid: format!("bafkreioutput{job}"),
            runnerBuild: runner_build,
            energyMillijoules: 1234,
        };
        let sig = typed::sign(&hot_key, &receipt, &market_domain).await.unwrap();
        let call = as_hot.submitResult(*job, receipt, sig.as_bytes().into());
        hot.send("submitResult", call.into_transaction_request()).await.unwrap();
    }
    // The buyer challenges the second; the first is finalized after the challenge window.
    let committee = ReexecutionCommittee::new(net.address("ReexecutionCommittee"), &p);
    let params = JobMarket::new(market_at, &p).params().call().await.unwrap();
    let stake = params.challengeBond + committee.arbitrationCost(Bytes::new()).call().await.unwrap();
    let challenged =
        buyer.send("challenge", as_buyer.challenge(jobs[1]).value(stake).into_transaction_request()).await.unwrap();
    let dispute = challenged.decoded_log::<JobMarket::JobChallenged>().unwrap().disputeId;
    p.raw_request::<_, Value>("evm_increaseTime".into(), (U256::from(params.challengeWindow + 1),)).await.unwrap();
    p.raw_request::<_, Value>("anvil_mine".into(), (U256::from(1),)).await.unwrap();
    net.deployer
        .send("finalize", JobMarket::new(market_at, &p).finalize(jobs[0]).into_transaction_request())
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new());
    let follower = follower(&net, &sqlite_url(&dir, "market.db"), metrics.clone()).await;
    follower.sync().await.unwrap();
    // The API with Kubo configured, for manifests.
    let app = cairn_indexer::api::app(cairn_indexer::api::AppState {
        store: follower.store().clone(),
        metrics,
        chain_id: net.deployments.chain_id,
        deployments: Arc::new(net.deployments.clone()),
        provider: Some(follower.provider().clone()),
        ipfs: Some(ipfs.clone()),
        options: cairn_indexer::api::ApiOptions { rate_per_second: 100_000, ..Default::default() },
    });
    let (seller_l, buyer_l, op_l) = (
        seller.address().to_string().to_lowercase(),
        buyer.account().to_string().to_lowercase(),
        operator.to_string().to_lowercase(),
    );

    // The model: its version with the signature check and digests, operators that served it, and the
    // manifest, answered at once as `fetching` and then from the cache.
    let listed = ok(&app, &format!("/models?seller={seller_l}")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], model.to_string());
    let first = ok(&app, &format!("/models/{model}")).await;
    assert_eq!(first["model"]["seller"], seller_l.as_str());
    let v1 = &first["versions"][0];
    assert_eq!(v1["signatureValid"], true, "{v1}");
    assert_eq!(v1["signatureCheck"], seller_l.as_str());
    assert_eq!(v1["manifestCid"], added.cid.to_string());
    assert_eq!(v1["manifestDigest"], B256::from(added.sha256.0).to_string());
    assert_eq!(v1["weightsDigest"], B256::repeat_byte(0x77).to_string());
    assert_eq!(first["servedBy"], serde_json::json!([{"operator": op_l, "jobs": 2}]));
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

    // Jobs: filters by state, buyer, operator, model and time.
    let all = ok(&app, "/jobs").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let ids = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&ok(&app, "/jobs?state=Finalized").await), vec![jobs[0].to_string()]);
    assert_eq!(ids(&ok(&app, "/jobs?state=Disputed").await), vec![jobs[1].to_string()]);
    assert_eq!(ids(&ok(&app, &format!("/jobs?buyer={buyer_l}&operator={op_l}&model={model}")).await).len(), 2);
    assert_eq!(ids(&ok(&app, "/jobs?model=999").await).len(), 0);
    let requested = all["items"][0]["requestedAt"].as_u64().unwrap();
    assert!(ids(&ok(&app, &format!("/jobs?since={requested}")).await).contains(&jobs[0].to_string()));
    assert_eq!(ids(&ok(&app, &format!("/jobs?until={}", requested - 1)).await).len(), 0);
    assert_eq!(ids(&ok(&app, &format!("/jobs?since={}", requested + 10_000_000)).await).len(), 0);
    let csv = get(&app, "/jobs?format=csv").await.text;
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().next().unwrap().split(',').any(|h| h == "receipt.outputCid"), "{csv}");

    // A job's transitions: every event with block, transaction, log index and time; the receipt's output.
    let job = ok(&app, &format!("/jobs/{}", jobs[0])).await;
    let t = job["transitions"].as_array().unwrap();
    let events: Vec<&str> = t.iter().map(|x| x["event"].as_str().unwrap()).collect();
    assert_eq!(&events[..3], &["JobRequested", "JobClaimed", "ResultSubmitted"], "{events:?}");
    assert!(events.contains(&"JobClosed"), "{events:?}");
    assert_eq!(t[1]["txHash"], claim_txs[0].to_string());
    assert_eq!(t[1]["operator"], op_l.as_str());
    assert!(t.iter().all(|x| x["timestamp"].as_u64().unwrap() > 0 && x["logIndex"].is_i64()));
    assert!(t[0]["outputCid"].is_null());
    assert_eq!(t[2]["outputCid"], format!("bafkreioutput{}", jobs[0]));
    assert_eq!(t[2]["energyMillijoules"], 1234);
    assert_eq!(t[2]["runnerBuild"], runner_build.to_string());
    assert_eq!(t.last().unwrap()["state"], "Finalized");
    assert_eq!(job["job"]["state"], "Finalized");
    assert!(job["dispute"].is_null());

    // The challenged job and its dispute.
    let job_b = ok(&app, &format!("/jobs/{}", jobs[1])).await;
    assert_eq!(job_b["job"]["disputeId"], dispute.to_string());
    assert_eq!(job_b["dispute"]["id"], dispute.to_string());
    let d = ok(&app, &format!("/disputes/{dispute}")).await;
    assert_eq!(d["dispute"]["jobId"], jobs[1].to_string());
    assert_eq!(d["dispute"]["challenger"], buyer_l.as_str());
    assert!(!d["history"].as_array().unwrap().is_empty());
    assert_eq!(ids(&ok(&app, &format!("/disputes?job={}", jobs[1])).await), vec![dispute.to_string()]);

    // Stats: states, volume in DUSD, settle time of the finalized job.
    let stats = ok(&app, "/stats").await;
    assert_eq!(stats["jobsByState"], serde_json::json!({"Finalized": 1, "Disputed": 1}));
    let dusd = net.address("DevToken").to_string().to_lowercase();
    assert_eq!(stats["volumeByToken"], serde_json::json!({ dusd: "5000000" }));
    let settle = job["job"]["closedAt"].as_u64().unwrap() - job["job"]["requestedAt"].as_u64().unwrap();
    assert_eq!(stats["medianSettleSeconds"].as_f64().unwrap(), settle as f64);
    assert!(settle > params.challengeWindow);

    // The operator's outcomes and reputation: one completed, one challenged (open: counts neither way).
    let op = ok(&app, &format!("/operators/{op_l}")).await;
    let o = &op["operator"];
    assert_eq!(
        (o["claims"].as_u64(), o["submitted"].as_u64(), o["completed"].as_u64(), o["challenged"].as_u64()),
        (Some(2), Some(2), Some(1), Some(1))
    );
    assert_eq!(o["reputation"]["reliability"].as_f64().unwrap(), 2.0 / 3.0);

    // The seller's DID links to its models here.
    let did = ok(&app, &format!("/did/did:pkh:eip155:31337:{}", seller.address())).await;
    let services = did["service"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{did}");
    assert_eq!(services[0]["type"], "CairnModels");
    assert!(services[0]["serviceEndpoint"].as_str().unwrap().ends_with(&format!("/models?seller={seller_l}")));

    // The buyer's trail: approvals are not Cairn events; requests and the challenge are.
    let trail = ok(&app, &format!("/accounts/{buyer_l}/trail?limit=500")).await;
    let events: Vec<&str> = trail["items"].as_array().unwrap().iter().map(|x| x["event"].as_str().unwrap()).collect();
    assert_eq!(events.iter().filter(|e| **e == "JobRequested").count(), 2, "{events:?}");
    assert!(events.contains(&"JobChallenged"), "{events:?}");
}
