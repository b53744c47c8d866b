//! Cheap, real market events for the reorg, crash and fault suites: the seeded actors (`cairn_deploy::seed`)
//! add and unstake stake, update their profiles, toggle verifier duty, request jobs and claim them, through
//! the deployed contracts, signed with their devnet keys. Also the seeded random numbers every suite draws
//! from, the anvil controls (reorg, snapshot/revert, mining) and a dump of a whole database.

use std::{collections::HashMap, sync::Arc, time::Duration};

use alloy::{
    eips::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, U256, keccak256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, TransactionReceipt, TransactionRequest},
    signers::local::PrivateKeySigner,
};
use cairn_bindings::{DevToken, JobMarket, JurorPool, ModelRegistry, OperatorRegistry};
use cairn_deploy::seed::{devnet_key, devnet_signer_key};
use cairn_protocol::{ModelManifest, Region, RegionMask, Runtime, typed};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use sqlx::Row;

use crate::Net;

// ---------------------------------------------------------------------------------------------------------------
// Random numbers

/// SplitMix64: small, seedable, good enough to draw depths and actions. The seed comes from `CAIRN_TEST_SEED`
/// or the clock, and is printed so a failing run can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for the suite `what`, seeded from `CAIRN_TEST_SEED` (a u64) when set.
    pub(crate) fn seeded(what: &str) -> Self {
        let seed = match std::env::var("CAIRN_TEST_SEED") {
            Ok(s) => s.parse().unwrap_or_else(|_| panic!("CAIRN_TEST_SEED=`{s}`: expected an unsigned integer")),
            Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
        };
        eprintln!("{what}: random seed {seed} (replay with CAIRN_TEST_SEED={seed})");
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        lo + self.next() % (hi - lo + 1)
    }

    /// True `percent`% of the time.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Anvil controls

/// A raw JSON-RPC call to the node (anvil's own methods).
pub(crate) async fn rpc(p: &DynProvider, method: &'static str, params: Value) -> Value {
    p.raw_request::<_, Value>(method.into(), params.clone()).await.unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

/// `anvil_reorg`: replaces the last `depth` blocks with as many new ones, holding `txs` (each a request with
/// its `from` and the offset of its block among the new ones, `0..depth`).
pub(crate) async fn reorg(p: &DynProvider, depth: u64, txs: &[(Action, u64)]) {
    let pairs: Vec<Value> = txs.iter().map(|(a, offset)| json!([a.json(), offset])).collect();
    rpc(p, "anvil_reorg", json!([depth, pairs])).await;
}

/// `evm_snapshot`: the id to revert to.
pub(crate) async fn snapshot(p: &DynProvider) -> Value {
    rpc(p, "evm_snapshot", json!([])).await
}

/// `evm_revert`: the head goes back to the snapshot's block.
pub(crate) async fn revert(p: &DynProvider, id: Value) {
    assert_eq!(rpc(p, "evm_revert", json!([id])).await, json!(true), "evm_revert refused the snapshot");
}

/// Mines `n` empty blocks.
pub(crate) async fn mine(p: &DynProvider, n: u64) {
    if n > 0 {
        rpc(p, "anvil_mine", json!([n])).await;
    }
}

/// The head: number and hash.
pub(crate) async fn head(p: &DynProvider) -> (u64, String) {
    let b = p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.unwrap().expect("a head");
    (b.header.number, b.header.hash.to_string())
}

/// Every log of the deployment's indexed contracts from the deployment block to `to`, as `(block, log index)`.
pub(crate) async fn chain_logs(net: &Net, to: u64) -> Vec<(u64, u64)> {
    let addresses: Vec<Address> = cairn_indexer::decode::INDEXED_CONTRACTS.iter().map(|n| net.address(n)).collect();
    let filter = Filter::new().address(addresses).from_block(net.deployments.deployment_block).to_block(to);
    let logs = net.deployer.provider().get_logs(&filter).await.unwrap();
    logs.iter().map(|l| (l.block_number.unwrap(), l.log_index.unwrap())).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Actions

/// The seeded actors that stake: they add stake, unstake a little, update their profiles, toggle verifier duty.
pub(crate) const STAKERS: [&str; 8] =
    ["operator-0", "operator-1", "operator-2", "verifier-0", "verifier-1", "verifier-2", "verifier-3", "verifier-4"];
/// Regions profiles move between: the model's and the jobs' regions, so every operator can claim every job.
const REGIONS: [Region; 3] = [Region::Eu, Region::Us, Region::Jp];
const MAX_FEE: u128 = 50_000_000_000;
const TIP: u128 = 1_000_000_000;

/// One transaction an actor sends: what it is, who sends it, and the call (to, input, value, gas).
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub(crate) what: &'static str,
    pub(crate) from: Address,
    pub(crate) tx: TransactionRequest,
}

impl Action {
    /// The request as `anvil_reorg` takes it (the sender is impersonated, anvil sets the nonce).
    fn json(&self) -> Value {
        let mut v = serde_json::to_value(self.tx.clone().with_from(self.from)).unwrap();
        // Fees are filled by anvil at the new blocks' base fee.
        for k in ["maxFeePerGas", "maxPriorityFeePerGas", "nonce", "chainId"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    }
}

/// What most reorg and fault tests start from: a fresh devnet with its actors, a seeded random source, the
/// deployer's provider (to mine, snapshot and revert) and a directory for the databases.
pub(crate) struct Scene {
    pub(crate) rng: Rng,
    pub(crate) net: Net,
    pub(crate) actors: Gen,
    pub(crate) p: DynProvider,
    pub(crate) dir: tempfile::TempDir,
}

impl Scene {
    /// Starts one, its random source seeded with `seed`.
    pub(crate) async fn start(seed: &str) -> Self {
        let net = Net::start().await;
        let actors = Gen::new(&net).await;
        let p = net.deployer.provider().clone();
        Self { rng: Rng::seeded(seed), net, actors, p, dir: tempfile::tempdir().unwrap() }
    }
}

/// Sends the seeded actors' transactions. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Gen {
    p: DynProvider,
    chain_id: u64,
    registry: Address,
    pool: Address,
    market: Address,
    token: Address,
    keys: Arc<HashMap<Address, EthereumWallet>>,
    stakers: Vec<Address>,
    buyer: Address,
    /// The model jobs are requested for (registered by [`Gen::new`]).
    model: U256,
}

impl Gen {
    /// Registers a DUSD-priced model (the seller signs, the deployer relays), lets the market take the buyer's
    /// DUSD, and lets anvil send for every actor (`anvil_impersonateAccount`, for `anvil_reorg`'s replacement
    /// transactions). Then mines 70 empty blocks, so no reorg of at most 64 blocks reaches this setup or the
    /// seeding.
    pub(crate) async fn new(net: &Net) -> Self {
        let p = net.deployer.provider().clone();
        let seller = devnet_key("seller");
        let registry = ModelRegistry::new(net.address("ModelRegistry"), &p);
        let now = p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.unwrap().unwrap().header.timestamp;
        let manifest = ModelManifest {
            seller: seller.address(),
            modelId: U256::ZERO,
            manifestCid: "bafkreigenmanifest".into(),
            manifestDigest: keccak256("gen manifest"),
            weightsDigest: keccak256("gen weights"),
            runtime: Runtime::BertEmbedV1.id(),
            paymentToken: net.address("DevToken"),
            pricePerCall: U256::from(1_000_000u64),
            licensePrice: U256::ZERO,
            licensePeriod: 0,
            regionMask: RegionMask::of(REGIONS).to_u256(),
            nonce: registry.nonces(seller.address()).call().await.unwrap(),
            deadline: now + 3600,
        };
        let domain = typed::domain(net.deployer.chain_id(), net.address("ModelRegistry"));
        let signature = typed::sign(&seller, &manifest, &domain).await.unwrap();
        let receipt = net
            .deployer
            .send(
                "register the model",
                registry.register(manifest, signature.as_bytes().into()).into_transaction_request(),
            )
            .await
            .unwrap();
        let model = receipt.decoded_log::<ModelRegistry::ModelRegistered>().expect("ModelRegistered").modelId;
        let buyer = net.as_actor("buyer").await;
        let token = DevToken::new(net.address("DevToken"), buyer.provider());
        buyer
            .send("approve DUSD", token.approve(net.address("JobMarket"), U256::MAX).into_transaction_request())
            .await
            .unwrap();

        let mut keys = HashMap::new();
        let mut add = |k: PrivateKeySigner| {
            let a = k.address();
            keys.insert(a, EthereumWallet::from(k));
            a
        };
        let stakers: Vec<Address> = STAKERS.iter().map(|l| add(devnet_key(l))).collect();
        for l in STAKERS {
            add(devnet_signer_key(l));
        }
        let buyer = add(devnet_key("buyer"));
        for a in keys.keys() {
            rpc(&p, "anvil_impersonateAccount", json!([a])).await;
        }
        mine(&p, 70).await;
        Self {
            chain_id: net.deployer.chain_id(),
            registry: net.address("OperatorRegistry"),
            pool: net.address("JurorPool"),
            market: net.address("JobMarket"),
            token: net.address("DevToken"),
            keys: Arc::new(keys),
            stakers,
            buyer,
            model,
            p,
        }
    }

    /// A transaction whose success does not depend on what happened since [`Gen::new`] (so it can replace
    /// blocks in a reorg): stake added or a little unstaked, a profile update, a verifier toggle, a job request.
    pub(crate) fn independent(&self, rng: &mut Rng) -> Action {
        let registry = OperatorRegistry::new(self.registry, &self.p);
        let staker = *rng.pick(&self.stakers);
        let (what, tx, gas) = match rng.range(0, 9) {
            0..=2 => (
                "addStake",
                registry.addStake().value(U256::from(rng.range(1, 1_000_000_000))).into_transaction_request(),
                120_000,
            ),
            3 => (
                "requestUnstake",
                registry.requestUnstake(U256::from(rng.range(1, 1_000_000))).into_transaction_request(),
                200_000,
            ),
            4..=5 => {
                let region = rng.pick(&REGIONS).bit();
                let n = rng.next();
                let call = registry.updateProfile(
                    region,
                    keccak256(n.to_be_bytes()),
                    B256::from(U256::from(n)),
                    format!("gen://{n:x}"),
                );
                ("updateProfile", call.into_transaction_request(), 300_000)
            }
            // Verifiers' juror stake: a small deposit, or a small withdrawal out of their 2 ETH (both always
            // succeed; each syncs the juror's tree leaf when no draw is pending).
            6..=7 => {
                let verifier = self.stakers[rng.range(3, 7) as usize];
                let pool = JurorPool::new(self.pool, &self.p);
                let wei = U256::from(rng.range(1, 1_000_000_000));
                let (what, tx) = if rng.chance(50) {
                    ("deposit", pool.deposit().value(wei).into_transaction_request())
                } else {
                    ("requestWithdrawal", pool.requestWithdrawal(wei).into_transaction_request())
                };
                return Action { what, from: verifier, tx: tx.with_to(self.pool).with_gas_limit(300_000) };
            }
            _ => return self.request_job(rng),
        };
        Action { what, from: staker, tx: tx.with_to(self.registry).with_gas_limit(gas) }
    }

    /// The staker `i` (of [`STAKERS`]).
    pub(crate) fn staker(&self, i: usize) -> Address {
        self.stakers[i]
    }

    /// The staker `i` adds `wei` to its stake (one `StakeAdded`).
    pub(crate) fn add_stake(&self, i: usize, wei: u64) -> Action {
        let registry = OperatorRegistry::new(self.registry, &self.p);
        let tx = registry.addStake().value(U256::from(wei)).into_transaction_request();
        Action { what: "addStake", from: self.stakers[i], tx: tx.with_to(self.registry).with_gas_limit(120_000) }
    }

    fn request_job(&self, rng: &mut Rng) -> Action {
        let market = JobMarket::new(self.market, &self.p);
        let input = rng.next();
        let call = market.requestJob(
            self.model,
            1,
            keccak256(input.to_be_bytes()),
            format!("bafkreigeninput{input:x}"),
            self.token,
            U256::from(5_000_000u64),
            U256::from(1_000_000u64),
            // Within the market's longest deadline; anvil's clock is the wall clock.
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 86_400,
            RegionMask::of(REGIONS).to_u256(),
        );
        Action {
            what: "requestJob",
            from: self.buyer,
            tx: call.into_transaction_request().with_to(self.market).with_gas_limit(900_000),
        }
    }

    /// `operator`'s hot signer claims `job` for it.
    fn claim(&self, job: U256, operator: usize) -> Action {
        let market = JobMarket::new(self.market, &self.p);
        let signer = devnet_signer_key(STAKERS[operator]).address();
        let tx = market.claim(job, self.stakers[operator]).into_transaction_request();
        Action { what: "claim", from: signer, tx: tx.with_to(self.market).with_gas_limit(600_000) }
    }

    /// Signs `a` with its sender's key at `nonce`: the raw transaction.
    async fn sign(&self, a: &Action, nonce: u64) -> Vec<u8> {
        let wallet = self.keys.get(&a.from).unwrap_or_else(|| panic!("no key for {}", a.from));
        let tx =
            a.tx.clone()
                .with_from(a.from)
                .with_nonce(nonce)
                .with_chain_id(self.chain_id)
                .with_max_fee_per_gas(MAX_FEE)
                .with_max_priority_fee_per_gas(TIP);
        tx.build(wallet).await.unwrap().encoded_2718()
    }

    /// Sends `a` on an automining chain and returns its receipt; panics when it fails on chain.
    pub(crate) async fn send(&self, a: &Action) -> TransactionReceipt {
        let nonce = self.p.get_transaction_count(a.from).pending().await.unwrap();
        let raw = self.sign(a, nonce).await;
        let hash = *self.p.send_raw_transaction(&raw).await.unwrap_or_else(|e| panic!("{}: {e}", a.what)).tx_hash();
        let started = std::time::Instant::now();
        let receipt = loop {
            if let Some(r) = self.p.get_transaction_receipt(hash).await.unwrap() {
                break r;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{} {hash}: no receipt after 30 s", a.what);
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert!(receipt.status(), "{} from {} failed on chain (block {:?})", a.what, a.from, receipt.block_number);
        receipt
    }

    /// Some events: 1–5 independent actions, and sometimes a job requested and claimed by an operator's hot
    /// key (a claim also locks the operator's stake: two events). Returns the logs emitted.
    pub(crate) async fn some_events(&self, rng: &mut Rng) -> usize {
        let mut logs = 0;
        for _ in 0..rng.range(1, 5) {
            logs += self.send(&self.independent(rng)).await.inner.logs().len();
        }
        if rng.chance(30) {
            let receipt = self.send(&self.request_job(rng)).await;
            logs += receipt.inner.logs().len();
            let Some(requested) = receipt.decoded_log::<JobMarket::JobRequested>() else {
                panic!("no JobRequested in the receipt of a job request: {receipt:#?}")
            };
            let job = requested.jobId;
            if rng.chance(60) {
                logs += self.send(&self.claim(job, rng.range(0, 2) as usize)).await.inner.logs().len();
            }
        }
        logs
    }

    /// A fast flood of `txs` single-event transactions (stake added, profile updated) from every staker at
    /// once, `per_block` to a block: automining is switched off, the signed transactions are sent, then
    /// `evm_mine` seals the block; `pause` between blocks. Automining is back on when it returns.
    pub(crate) async fn flood(&self, txs: usize, per_block: usize, pause: Duration) {
        rpc(&self.p, "evm_setAutomine", json!([false])).await;
        let mut nonces = Vec::new();
        for a in &self.stakers {
            nonces.push(self.p.get_transaction_count(*a).pending().await.unwrap());
        }
        let mut rng = Rng(txs as u64);
        let registry = OperatorRegistry::new(self.registry, &self.p);
        let mut sent = 0;
        while sent < txs {
            let n = per_block.min(txs - sent);
            let mut raws = Vec::with_capacity(n);
            for i in 0..n {
                let s = (sent + i) % self.stakers.len();
                let tx = if rng.chance(70) {
                    registry
                        .addStake()
                        .value(U256::from(rng.range(1, 1000)))
                        .into_transaction_request()
                        .with_gas_limit(120_000)
                } else {
                    let n = rng.next();
                    let region = rng.pick(&REGIONS).bit();
                    registry
                        .updateProfile(region, keccak256(n.to_be_bytes()), B256::ZERO, format!("flood://{n:x}"))
                        .into_transaction_request()
                        .with_gas_limit(300_000)
                };
                let a = Action { what: "flood", from: self.stakers[s], tx: tx.with_to(self.registry) };
                raws.push(self.sign(&a, nonces[s]).await);
                nonces[s] += 1;
            }
            // One sender's transactions in nonce order; senders in parallel.
            let results: Vec<_> = stream::iter(raws)
                .map(|raw| {
                    let p = self.p.clone();
                    async move { p.send_raw_transaction(&raw).await.map(|_| ()) }
                })
                .buffered(16)
                .collect()
                .await;
            for r in results {
                r.expect("the flood's transaction was refused");
            }
            rpc(&self.p, "evm_mine", json!([])).await;
            sent += n;
            tokio::time::sleep(pause).await;
        }
        rpc(&self.p, "evm_setAutomine", json!([true])).await;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing databases

/// Every projection row ([`crate::compare::projection_dump`]), then every raw event and account-trail row:
/// two databases that indexed the same chain give the same lines.
pub(crate) async fn database_dump(pool: &sqlx::AnyPool) -> Vec<String> {
    let mut out = crate::compare::projection_dump(pool).await;
    let events = sqlx::query(
        "SELECT block_number, log_index, block_hash, tx_hash, tx_index, address, contract, event, topics, data, \
         COALESCE(error, 'NULL') FROM events",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for r in &events {
        let (block, log): (i64, i64) = (r.get(0), r.get(1));
        let text: Vec<String> = [2, 3, 5, 6, 7, 8, 9, 10].iter().map(|&i| r.get::<String, _>(i)).collect();
        out.push(format!("events|{block}|{log}|tx_index={}|{}", r.get::<i64, _>(4), text.join("|")));
    }
    let accounts =
        sqlx::query("SELECT account, block_number, log_index, role FROM event_accounts").fetch_all(pool).await.unwrap();
    for r in &accounts {
        let (account, block, log, role): (String, i64, i64, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        out.push(format!("event_accounts|{account}|{block}|{log}|{role}"));
    }
    out.sort();
    out
}

/// Asserts two dumps are equal, showing the rows only one side has.
pub(crate) fn assert_same_rows(followed: &[String], clean: &[String], context: &str) {
    if followed == clean {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| b.binary_search(l).is_err()).take(15).cloned().collect()
    };
    panic!(
        "{context}: the followed database ({} rows) differs from a clean index ({} rows)\n\
         only in the followed one:\n  {}\nonly in the clean one:\n  {}",
        followed.len(),
        clean.len(),
        only(followed, clean).join("\n  "),
        only(clean, followed).join("\n  ")
    );
}
