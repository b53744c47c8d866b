//! Interface v2's events are enough for an indexer: from `eth_getLogs` alone (no `eth_call` of any view), a
//! reader rebuilds a model's latest terms (re-verifying the seller's `ModelManifest` signature of every
//! version from the event's fields), an operator's signer, and a job's terms and signed receipt (re-verifying
//! the receipt's signature against the signer the operator registered). The views are read only at the end,
//! as the oracle.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::{Filter, Log},
    sol_types::SolEventInterface,
};
use cairn_bindings::{
    JobMarket, ModelManifest, ModelRegistry, OperatorRegistry, job_market::IJobMarket, model_registry::IModelRegistry,
};
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_protocol::{JobReceipt, Region, RegionMask, typed};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::{
    Net,
    hot_keys::{approve_dusd, claim_and_submit, request_job},
    typed_on_chain::{now, register_model},
};

/// A TCP relay to `upstream` (`http://host:port`) that keeps every byte sent to it, so a test can list the
/// JSON-RPC methods a client used. Returns its URL and the bytes.
async fn recording_relay(upstream: &str) -> (String, Arc<Mutex<Vec<u8>>>) {
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(&upstream).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = client_read.read(&mut buf).await {
                    if n == 0 || server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    record.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
            });
        }
    });
    (url, seen)
}

/// The JSON-RPC methods in the recorded requests, in order.
fn methods(seen: &Mutex<Vec<u8>>) -> Vec<String> {
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    text.split("\"method\":\"").skip(1).map(|rest| rest.split('"').next().unwrap_or_default().to_string()).collect()
}

/// A model as the reader rebuilds it.
#[derive(Debug, Default)]
struct ModelView {
    seller: Address,
    latest: u64,
    versions: BTreeMap<u64, IModelRegistry::ModelVersion>,
}

/// A job as the reader rebuilds it.
#[derive(Debug, Default)]
struct JobView {
    terms: Option<IJobMarket::JobTerms>,
    input_cid: String,
    operator: Address,
    receipt: Option<JobReceipt>,
    signer: Address,
}

/// Everything the reader knows, from logs only.
#[derive(Debug, Default)]
struct Index {
    models: BTreeMap<U256, ModelView>,
    signers: BTreeMap<Address, Address>,
    jobs: BTreeMap<U256, JobView>,
}

impl Index {
    /// Applies every log, in chain order, checking each signature against what the events themselves say.
    fn apply(&mut self, chain_id: u64, net: &Net, logs: &[Log]) {
        for log in logs {
            let (topics, data) = (log.topics(), &log.data().data);
            let from = log.address();
            if from == net.address("ModelRegistry") {
                match ModelRegistry::ModelRegistryEvents::decode_raw_log(topics, data).unwrap() {
                    ModelRegistry::ModelRegistryEvents::ModelRegistered(e) => {
                        // The seller signed modelId 0 for a new model (version 1), the model's id for a new
                        // version; every other field is the listing's.
                        let signed = typed::signed_listing(&e);
                        let recovered = typed::recover(&signed, &typed::domain(chain_id, from), &e.signature).unwrap();
                        assert_eq!(
                            recovered, e.seller,
                            "the seller signed version {} of model {}",
                            e.version, e.modelId
                        );
                        let model = self.models.entry(e.modelId).or_default();
                        model.seller = e.seller;
                        model.latest = e.version;
                        model.versions.insert(e.version, e.listing);
                    }
                    ModelRegistry::ModelRegistryEvents::TermsUpdated(e) => {
                        let version = self.models.get_mut(&e.modelId).unwrap().versions.get_mut(&e.version).unwrap();
                        version.pricePerCall = e.pricePerCall;
                        version.licensePrice = e.licensePrice;
                        version.licensePeriod = e.licensePeriod;
                        version.regionMask = e.regionMask;
                    }
                    _ => {}
                }
            } else if from == net.address("OperatorRegistry") {
                match OperatorRegistry::OperatorRegistryEvents::decode_raw_log(topics, data).unwrap() {
                    OperatorRegistry::OperatorRegistryEvents::OperatorRegistered(e) => {
                        self.signers.insert(e.operator, e.signer);
                    }
                    OperatorRegistry::OperatorRegistryEvents::SignerChanged(e) => {
                        self.signers.insert(e.operator, e.newSigner);
                    }
                    _ => {}
                }
            } else if from == net.address("JobMarket") {
                match JobMarket::JobMarketEvents::decode_raw_log(topics, data).unwrap() {
                    JobMarket::JobMarketEvents::JobRequested(e) => {
                        assert_eq!((e.terms.buyer, e.terms.modelId), (e.buyer, e.modelId));
                        let job = self.jobs.entry(e.jobId).or_default();
                        job.terms = Some(e.terms);
                        job.input_cid = e.inputCid;
                    }
                    JobMarket::JobMarketEvents::JobClaimed(e) => {
                        self.jobs.get_mut(&e.jobId).unwrap().operator = e.operator
                    }
                    JobMarket::JobMarketEvents::ResultSubmitted(e) => {
                        let domain = typed::domain(chain_id, from);
                        let recovered = typed::recover(&e.receipt, &domain, &e.signature).unwrap();
                        assert_eq!(recovered, e.signer, "the receipt's signature is the event's signer's");
                        assert_eq!(Some(&e.signer), self.signers.get(&e.operator), "the operator's registered signer");
                        let job = self.jobs.get_mut(&e.jobId).unwrap();
                        assert_eq!(job.operator, e.operator);
                        job.receipt = Some(e.receipt);
                        job.signer = e.signer;
                    }
                    _ => {}
                }
            }
        }
    }
}

#[tokio::test]
async fn an_indexer_rebuilds_a_models_terms_and_a_jobs_receipt_from_events_alone() {
    let net = Net::start().await;
    let p = net.deployer.provider().clone();
    let chain_id = net.deployer.chain_id();
    let seller = devnet_key("seller");
    let registry_at = net.address("ModelRegistry");
    let dusd = net.address("DevToken");

    // Version 1, then version 2 with new weights, then new terms for version 2.
    let model = register_model(&net, &seller).await;
    let registry = ModelRegistry::new(registry_at, &p);
    let v2 = ModelManifest {
        seller: seller.address(),
        modelId: model,
        manifestCid: "bafkreimanifestv2".into(),
        manifestDigest: keccak256("manifest v2"),
        weightsDigest: keccak256("weights v2"),
        runtime: cairn_protocol::Runtime::BertEmbedV1.id(),
        paymentToken: dusd,
        pricePerCall: U256::from(1_200_000u64),
        licensePrice: U256::ZERO,
        licensePeriod: 0,
        regionMask: RegionMask::of([Region::Eu, Region::Us, Region::Jp]).to_u256(),
        nonce: registry.nonces(seller.address()).call().await.unwrap(),
        deadline: now(&net).await + 3600,
    };
    let signature = typed::sign(&seller, &v2, &typed::domain(chain_id, registry_at)).await.unwrap();
    let call = registry.register(v2, signature.as_bytes().into());
    net.deployer.send("register version 2", call.into_transaction_request()).await.unwrap();
    let as_seller = net.as_actor("seller").await;
    let seller_registry = ModelRegistry::new(registry_at, as_seller.provider());
    let (price, license_price, license_period) = (U256::from(1_500_000u64), U256::from(2_000_000u64), 86_400u64);
    let regions = RegionMask::of([Region::Eu, Region::Us]);
    let call = seller_registry.updateTerms(model, price, license_price, license_period, regions.to_u256());
    as_seller.send("updateTerms", call.into_transaction_request()).await.unwrap();

    // The buyer buys a licence (now required) within its bounds, and requests a job of version 2.
    let buyer = net.as_actor("buyer").await;
    approve_dusd(&net, &buyer, registry_at).await;
    approve_dusd(&net, &buyer, net.address("JobMarket")).await;
    let buyer_registry = ModelRegistry::new(registry_at, buyer.provider());
    let call = buyer_registry.buyLicense(model, dusd, license_price, license_period);
    buyer.send("buyLicense", call.into_transaction_request()).await.unwrap();
    let job = request_job(&net, &buyer, model, 2, price, RegionMask::of([Region::Eu]), 0x44).await;

    // Operator 0 (EU) claims and submits through its signer key.
    let operator = devnet_key("operator-0").address();
    let signer_key = devnet_signer_key("operator-0");
    claim_and_submit(&net, &net.as_key(signer_key.clone()).await, &signer_key, operator, job).await;

    // The reader: logs only, through a relay that records every request.
    let (url, seen) = recording_relay(net.anvil.url()).await;
    let reader = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let reader_chain_id = reader.get_chain_id().await.unwrap();
    let filter = Filter::new()
        .address(vec![registry_at, net.address("OperatorRegistry"), net.address("JobMarket")])
        .from_block(net.deployments.deployment_block);
    let logs = reader.get_logs(&filter).await.unwrap();
    let mut index = Index::default();
    index.apply(reader_chain_id, &net, &logs);
    let used = methods(&seen);
    assert_eq!(used, ["eth_chainId", "eth_getLogs"], "the reader used logs alone");

    // The model's latest terms, as rebuilt.
    let rebuilt = &index.models[&model];
    assert_eq!((rebuilt.seller, rebuilt.latest, rebuilt.versions.len()), (seller.address(), 2, 2));
    let latest = &rebuilt.versions[&2];
    assert_eq!(latest.paymentToken, dusd);
    assert_eq!(
        (latest.pricePerCall, latest.licensePrice, latest.licensePeriod),
        (price, license_price, license_period)
    );
    assert_eq!(latest.regionMask, regions.to_u256());
    assert_eq!(latest.manifestCid, "bafkreimanifestv2");
    assert_eq!((latest.manifestDigest, latest.weightsDigest), (keccak256("manifest v2"), keccak256("weights v2")));
    assert_eq!(rebuilt.versions[&1].pricePerCall, U256::from(1_000_000u64), "version 1 keeps its terms");

    // The job's terms and receipt, as rebuilt.
    let rebuilt_job = &index.jobs[&job];
    let terms = rebuilt_job.terms.as_ref().unwrap();
    assert_eq!((terms.modelVersion, terms.weightsDigest, terms.royalty), (2, keccak256("weights v2"), price));
    assert_eq!((terms.inputDigest, rebuilt_job.input_cid.as_str()), (B256::repeat_byte(0x44), "bafkreiinput44"));
    assert_eq!((rebuilt_job.operator, rebuilt_job.signer), (operator, signer_key.address()));
    let receipt = rebuilt_job.receipt.as_ref().unwrap();
    assert_eq!(
        (receipt.jobId, receipt.weightsDigest, receipt.inputDigest, receipt.runtime),
        (job, terms.weightsDigest, terms.inputDigest, terms.runtime)
    );

    // The oracle: the views agree with everything rebuilt.
    let stored = registry.getModel(model).call().await.unwrap();
    assert_eq!((stored.seller, stored.latestVersion, stored.deprecated), (rebuilt.seller, rebuilt.latest, false));
    for (version, listing) in &rebuilt.versions {
        assert_eq!(&registry.getVersion(model, *version).call().await.unwrap(), listing, "version {version}");
    }
    let market = JobMarket::new(net.address("JobMarket"), &p);
    assert_eq!(&market.getTerms(job).call().await.unwrap(), terms);
    let progress = market.getProgress(job).call().await.unwrap();
    assert_eq!((progress.operator, progress.outputDigest), (operator, receipt.outputDigest));
    let info = OperatorRegistry::new(net.address("OperatorRegistry"), &p).operatorInfo(operator).call().await.unwrap();
    assert_eq!(Some(&info.signer), index.signers.get(&operator));
}
