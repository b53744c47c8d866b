//! Projections: each decoded event updates the entities it concerns, inside the transaction that stores the
//! event and moves the checkpoint.
//!
//! A [`Batch`] is a unit of work over one block range: entities are read from the database at most once,
//! changed in memory event by event (one version per entity and block: the history), and written at the end
//! with multi-row INSERTs. A new event type needs an arm in [`apply`]; a new entity a table (migration), a
//! struct implementing [`Entity`] and a field in [`Batch`].

use std::collections::HashMap;

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::{SolEvent, SolEventInterface},
};
use cairn_bindings::{DisputeDesk, JobMarket, JurorPool, ModelRegistry, OperatorRegistry, ReexecutionCommittee};
use sqlx::{AnyConnection, Row};

use crate::{
    entity::*,
    error::{Error, Result, db},
    store::{Val, bind_all, insert_rows, is_sqlite, placeholder},
};

/// Columns every projection table starts with.
const COMMON: &[&str] = &["id", "created_block", "created_log", "block_number", "log_index", "superseded_block"];

/// Where an event sits: (block number, log index).
pub type Pos = (i64, i64);

#[derive(Debug)]
struct Cached<E> {
    /// The current row in the database, if any (superseded by the first version of this batch).
    base: Option<E>,
    /// A current row exists in the database.
    in_db: bool,
    /// The event that created it.
    created: Option<Pos>,
    /// Versions made in this batch, one per block (the entity at the end of the block, made by the block's
    /// last event that changed it), in order.
    versions: Vec<(Pos, E)>,
}

impl<E> Cached<E> {
    fn current(&self) -> Option<&E> {
        self.versions.last().map(|(_, v)| v).or(self.base.as_ref())
    }
}

/// The entities of one table touched by a batch.
#[derive(Debug)]
pub struct Table<E> {
    map: HashMap<String, Cached<E>>,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Self { map: HashMap::new() }
    }
}

impl<E: Entity> Table<E> {
    async fn load(&mut self, conn: &mut AnyConnection, id: &str) -> Result<&mut Cached<E>> {
        if !self.map.contains_key(id) {
            let row = sqlx::query(&format!(
                "SELECT data, created_block, created_log FROM {} WHERE id = $1 AND superseded_block IS NULL",
                E::TABLE
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db("read an entity"))?;
            let cached = match row {
                Some(r) => {
                    let data: String = r.get(0);
                    let value: E = serde_json::from_str(&data)
                        .map_err(|e| Error::Corrupt { what: format!("{} {id}", E::TABLE), detail: e.to_string() })?;
                    Cached { base: Some(value), in_db: true, created: Some((r.get(1), r.get(2))), versions: vec![] }
                }
                None => Cached { base: None, in_db: false, created: None, versions: vec![] },
            };
            self.map.insert(id.to_string(), cached);
        }
        Ok(self.map.get_mut(id).expect("inserted above"))
    }

    /// The entity now, if it exists.
    pub async fn get(&mut self, conn: &mut AnyConnection, id: &str) -> Result<Option<E>> {
        Ok(self.load(conn, id).await?.current().cloned())
    }

    /// Changes an existing entity by the event `cx`; returns false (and changes nothing) when it does not exist.
    pub async fn update(
        &mut self,
        conn: &mut AnyConnection,
        id: &str,
        cx: &LogContext<'_>,
        f: impl FnOnce(&mut E),
    ) -> Result<bool> {
        let c = self.load(conn, id).await?;
        if !in_block(c, cx) {
            let Some(current) = c.current().cloned() else { return Ok(false) };
            c.versions.push((cx.pos, current));
        }
        let (p, v) = c.versions.last_mut().expect("a version of this block");
        f(v);
        v.changed(cx);
        *p = cx.pos;
        Ok(true)
    }

    /// Changes the entity by the event `cx`, creating it with `init` when it does not exist.
    pub async fn upsert(
        &mut self,
        conn: &mut AnyConnection,
        id: &str,
        cx: &LogContext<'_>,
        init: impl FnOnce() -> E,
        f: impl FnOnce(&mut E),
    ) -> Result<()> {
        let c = self.load(conn, id).await?;
        if c.created.is_none() {
            c.created = Some(cx.pos);
        }
        if !in_block(c, cx) {
            let current = c.current().cloned().unwrap_or_else(init);
            c.versions.push((cx.pos, current));
        }
        let (p, v) = c.versions.last_mut().expect("a version of this block");
        f(v);
        v.changed(cx);
        *p = cx.pos;
        Ok(())
    }

    async fn flush(self, conn: &mut AnyConnection) -> Result<()> {
        let mut supersede: HashMap<i64, Vec<String>> = HashMap::new();
        let mut rows = Vec::new();
        for (id, c) in self.map {
            if c.versions.is_empty() {
                continue;
            }
            if c.in_db {
                supersede.entry(c.versions[0].0.0).or_default().push(id.clone());
            }
            let created = c.created.unwrap_or(c.versions[0].0);
            let next_blocks: Vec<Option<i64>> =
                c.versions.iter().skip(1).map(|(p, _)| Some(p.0)).chain(std::iter::once(None)).collect();
            for ((pos, value), superseded) in c.versions.into_iter().zip(next_blocks) {
                let mut row: Vec<Val> = vec![
                    id.clone().into(),
                    created.0.into(),
                    created.1.into(),
                    pos.0.into(),
                    pos.1.into(),
                    superseded.into(),
                ];
                row.extend(value.columns());
                let data = serde_json::to_string(&value)
                    .map_err(|e| Error::Corrupt { what: format!("{} {id}", E::TABLE), detail: e.to_string() })?;
                row.push(data.into());
                rows.push(row);
            }
        }
        let sqlite = is_sqlite(conn);
        for (block, ids) in supersede {
            for chunk in ids.chunks(10_000) {
                let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| placeholder(sqlite, i)).collect();
                let sql = format!(
                    "UPDATE {} SET superseded_block = {} WHERE superseded_block IS NULL AND id IN ({})",
                    E::TABLE,
                    placeholder(sqlite, 1),
                    placeholders.join(", ")
                );
                let mut vals = vec![Val::from(block)];
                vals.extend(chunk.iter().map(|s| Val::from(s.as_str())));
                bind_all(sqlx::query(&sql), &vals).execute(&mut *conn).await.map_err(db("supersede rows"))?;
            }
        }
        let columns: Vec<&str> = COMMON.iter().chain(E::COLUMNS).chain(&["data"]).copied().collect();
        insert_rows(conn, E::TABLE, &columns, &rows).await
    }
}

/// Whether the entity already has a version of `cx`'s block in this batch. Versions are kept per block (the
/// entity at the end of the block, made by the block's last event that changed it), so a change inside the
/// block edits that version: a rollback is per block, so versions inside one block would be history nobody
/// can roll back to, and the block's events stay in `events` (The Graph versions entities per block alike).
fn in_block<E>(c: &Cached<E>, cx: &LogContext<'_>) -> bool {
    c.versions.last().is_some_and(|(p, _)| p.0 == cx.pos.0)
}

/// The unit of work of one block range.
#[derive(Debug, Default)]
pub struct Batch {
    /// Models.
    pub models: Table<Model>,
    /// Model versions.
    pub versions: Table<ModelVersion>,
    /// Licences.
    pub licenses: Table<License>,
    /// Operators.
    pub operators: Table<Operator>,
    /// Jobs.
    pub jobs: Table<Job>,
    /// Disputes.
    pub disputes: Table<Dispute>,
    /// Pull balances.
    pub balances: Table<Balance>,
    /// Parameters.
    pub params: Table<Param>,
}

impl Batch {
    /// Writes every version made.
    pub async fn flush(self, conn: &mut AnyConnection) -> Result<()> {
        self.models.flush(conn).await?;
        self.versions.flush(conn).await?;
        self.licenses.flush(conn).await?;
        self.operators.flush(conn).await?;
        self.jobs.flush(conn).await?;
        self.disputes.flush(conn).await?;
        self.balances.flush(conn).await?;
        self.params.flush(conn).await
    }
}

/// What a handler knows about the log besides its fields.
#[derive(Debug, Clone, Copy)]
pub struct LogContext<'a> {
    /// The contract name (deployments file).
    pub contract: &'a str,
    /// Its address.
    pub address: Address,
    /// The chain.
    pub chain_id: u64,
    /// (block, log index).
    pub pos: Pos,
    /// Block timestamp, seconds.
    pub time: u64,
    /// The event's name (the ABI's).
    pub event: &'a str,
}

fn a(x: Address) -> String {
    crate::decode::lower_hex(&x)
}
fn u(x: U256) -> String {
    x.to_string()
}
fn h(x: B256) -> String {
    format!("{x:#x}")
}
fn add(x: &str, y: U256) -> String {
    u(x.parse::<U256>().unwrap_or_default().saturating_add(y))
}
fn sub(x: &str, y: U256) -> String {
    u(x.parse::<U256>().unwrap_or_default().saturating_sub(y))
}
fn add_to(map: &mut std::collections::BTreeMap<String, String>, token: String, y: U256) {
    let e = map.entry(token).or_insert_with(|| "0".into());
    *e = add(e, y);
}

/// Applies one log of a Cairn contract. Events without a projection (or of contracts it does not know) change
/// nothing here: they are still stored raw and in the account trails.
pub async fn apply(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    topics: &[B256],
    data: &[u8],
) -> Result<()> {
    if crate::decode::INDEXED_CONTRACTS.contains(&cx.contract) && shared(batch, conn, cx, topics, data).await? {
        return Ok(());
    }
    match cx.contract {
        "ModelRegistry" => {
            if let Ok(ev) = ModelRegistry::ModelRegistryEvents::decode_raw_log(topics, data) {
                model_registry(batch, conn, cx, ev).await?;
            }
        }
        "JobMarket" => {
            if let Ok(ev) = JobMarket::JobMarketEvents::decode_raw_log(topics, data) {
                job_market(batch, conn, cx, ev).await?;
            }
        }
        "OperatorRegistry" => {
            if let Ok(ev) = OperatorRegistry::OperatorRegistryEvents::decode_raw_log(topics, data) {
                operator_registry(batch, conn, cx, ev).await?;
            }
        }
        "ReexecutionCommittee" => {
            if let Ok(ev) = ReexecutionCommittee::ReexecutionCommitteeEvents::decode_raw_log(topics, data) {
                committee(batch, conn, cx, ev).await?;
            }
        }
        "JurorPool" => {
            if let Ok(ev) = JurorPool::JurorPoolEvents::decode_raw_log(topics, data) {
                juror_pool(batch, conn, cx, ev).await?;
            }
        }
        "DisputeDesk" => {
            if let Ok(ev) = DisputeDesk::DisputeDeskEvents::decode_raw_log(topics, data) {
                dispute_desk(batch, conn, cx, ev).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The events every Cairn contract inherits (pull payments, `ICairnCommon`, OpenZeppelin's `Pausable` and
/// `Ownable2Step`): one topic each whichever contract emits them, projected per emitting contract. Returns
/// whether the log was one of them.
async fn shared(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    topics: &[B256],
    data: &[u8],
) -> Result<bool> {
    use JobMarket as C;
    let Some(topic) = topics.first() else { return Ok(false) };
    match *topic {
        C::Credited::SIGNATURE_HASH => {
            let Ok(e) = C::Credited::decode_raw_log(topics, data) else { return Ok(false) };
            balance(batch, conn, cx, e.account, e.token, Some(e.amount), None).await?;
        }
        C::Withdrawn::SIGNATURE_HASH => {
            let Ok(e) = C::Withdrawn::decode_raw_log(topics, data) else { return Ok(false) };
            balance(batch, conn, cx, e.account, e.token, None, Some(e.amount)).await?;
        }
        C::ParameterUpdated::SIGNATURE_HASH => {
            let Ok(e) = C::ParameterUpdated::decode_raw_log(topics, data) else { return Ok(false) };
            let value = serde_json::json!({"oldValue": u(e.oldValue), "newValue": u(e.newValue)});
            param(batch, conn, cx, e.parameter.clone(), value).await?;
        }
        C::Paused::SIGNATURE_HASH => paused(batch, conn, cx, true).await?,
        C::Unpaused::SIGNATURE_HASH => paused(batch, conn, cx, false).await?,
        C::OwnershipTransferStarted::SIGNATURE_HASH => {
            let Ok(e) = C::OwnershipTransferStarted::decode_raw_log(topics, data) else { return Ok(false) };
            pending_owner(batch, conn, cx, e.newOwner).await?;
        }
        C::OwnershipTransferred::SIGNATURE_HASH => {
            let Ok(e) = C::OwnershipTransferred::decode_raw_log(topics, data) else { return Ok(false) };
            owner(batch, conn, cx, e.newOwner).await?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

async fn balance(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    account: Address,
    token: Address,
    credit: Option<U256>,
    debit: Option<U256>,
) -> Result<()> {
    let (contract, account, token) = (cx.contract.to_string(), a(account), a(token));
    let id = format!("{contract}/{account}/{token}");
    let init = || Balance {
        contract: contract.clone(),
        account: account.clone(),
        token: token.clone(),
        amount: "0".into(),
        credited: "0".into(),
        withdrawn: "0".into(),
    };
    batch
        .balances
        .upsert(conn, &id, cx, init, |b| {
            if let Some(x) = credit {
                b.amount = add(&b.amount, x);
                b.credited = add(&b.credited, x);
            }
            if let Some(x) = debit {
                b.amount = sub(&b.amount, x);
                b.withdrawn = add(&b.withdrawn, x);
            }
        })
        .await
}

async fn param(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    name: String,
    value: serde_json::Value,
) -> Result<()> {
    let id = format!("{}/{name}", cx.contract);
    let contract = cx.contract.to_string();
    batch
        .params
        .upsert(
            conn,
            &id,
            cx,
            || Param { contract, name: name.clone(), value: serde_json::Value::Null },
            |p| p.value = value,
        )
        .await
}

/// `Paused` / `Unpaused` (OpenZeppelin `Pausable`): the contract's `paused` parameter.
async fn paused(batch: &mut Batch, conn: &mut AnyConnection, cx: &LogContext<'_>, paused: bool) -> Result<()> {
    param(batch, conn, cx, "paused".into(), serde_json::json!({"paused": paused})).await
}

/// `OwnershipTransferStarted` (OpenZeppelin `Ownable2Step`): the `pendingOwner` parameter.
async fn pending_owner(batch: &mut Batch, conn: &mut AnyConnection, cx: &LogContext<'_>, to: Address) -> Result<()> {
    param(batch, conn, cx, "pendingOwner".into(), serde_json::json!({"pendingOwner": a(to)})).await
}

/// `OwnershipTransferred`: the `owner` parameter; a transfer clears the pending owner (`Ownable2Step`
/// deletes it), so an existing `pendingOwner` parameter becomes the zero address.
async fn owner(batch: &mut Batch, conn: &mut AnyConnection, cx: &LogContext<'_>, to: Address) -> Result<()> {
    param(batch, conn, cx, "owner".into(), serde_json::json!({"owner": a(to)})).await?;
    let pending = format!("{}/pendingOwner", cx.contract);
    let cleared = serde_json::json!({"pendingOwner": a(Address::ZERO)});
    batch.params.update(conn, &pending, cx, |p| p.value = cleared).await?;
    Ok(())
}

async fn model_registry(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: ModelRegistry::ModelRegistryEvents,
) -> Result<()> {
    use ModelRegistry::ModelRegistryEvents as E;
    match ev {
        E::ModelRegistered(e) => {
            let l = &e.listing;
            let listing = cairn_protocol::typed::signed_listing(&e);
            let domain = cairn_protocol::typed::domain(cx.chain_id, cx.address);
            let (valid, check) = match cairn_protocol::typed::recover(&listing, &domain, &e.signature) {
                Ok(signer) if signer == e.seller => (true, a(signer)),
                Ok(signer) => (false, format!("recovers to {}, not the seller", a(signer))),
                Err(err) => (false, err.to_string()),
            };
            let version = ModelVersion {
                model_id: u(e.modelId),
                version: e.version,
                seller: a(e.seller),
                manifest_cid: l.manifestCid.clone(),
                manifest_digest: h(l.manifestDigest),
                weights_digest: h(l.weightsDigest),
                runtime: h(l.runtime),
                payment_token: a(l.paymentToken),
                price_per_call: u(l.pricePerCall),
                license_price: u(l.licensePrice),
                license_period: l.licensePeriod,
                region_mask: u(l.regionMask),
                registered_at: l.registeredAt,
                nonce: u(e.nonce),
                deadline: e.deadline,
                signature: format!("0x{}", hex::encode(&e.signature)),
                signature_valid: valid,
                signature_check: check,
                terms_updates: 0,
            };
            let vid = format!("{}/{}", version.model_id, version.version);
            let v2 = version.clone();
            batch.versions.upsert(conn, &vid, cx, || v2, |_| {}).await?;
            let time = cx.time;
            batch
                .models
                .upsert(
                    conn,
                    &u(e.modelId),
                    cx,
                    || Model { id: u(e.modelId), registered_at: l.registeredAt, ..Default::default() },
                    |m| {
                        m.seller = version.seller.clone();
                        m.latest_version = version.version;
                        m.runtime = version.runtime.clone();
                        m.payment_token = version.payment_token.clone();
                        m.price_per_call = version.price_per_call.clone();
                        m.license_price = version.license_price.clone();
                        m.license_period = version.license_period;
                        m.region_mask = version.region_mask.clone();
                        m.manifest_cid = version.manifest_cid.clone();
                        m.updated_at = time;
                    },
                )
                .await?;
        }
        E::TermsUpdated(e) => {
            let vid = format!("{}/{}", e.modelId, e.version);
            batch
                .versions
                .update(conn, &vid, cx, |v| {
                    v.price_per_call = u(e.pricePerCall);
                    v.license_price = u(e.licensePrice);
                    v.license_period = e.licensePeriod;
                    v.region_mask = u(e.regionMask);
                    v.terms_updates += 1;
                })
                .await?;
            let time = cx.time;
            batch
                .models
                .update(conn, &u(e.modelId), cx, |m| {
                    if m.latest_version == e.version {
                        m.price_per_call = u(e.pricePerCall);
                        m.license_price = u(e.licensePrice);
                        m.license_period = e.licensePeriod;
                        m.region_mask = u(e.regionMask);
                    }
                    m.updated_at = time;
                })
                .await?;
        }
        E::ModelDeprecated(e) => {
            let time = cx.time;
            batch
                .models
                .update(conn, &u(e.modelId), cx, |m| {
                    m.deprecated = true;
                    m.updated_at = time;
                })
                .await?;
        }
        E::LicenseBought(e) => {
            let id = format!("{}/{}", e.modelId, a(e.buyer));
            let init = || License { model_id: u(e.modelId), buyer: a(e.buyer), ..Default::default() };
            batch
                .licenses
                .upsert(conn, &id, cx, init, |l| {
                    l.version = e.version;
                    l.token = a(e.token);
                    l.price = u(e.price);
                    l.period = e.period;
                    l.expiry = e.expiry;
                    l.purchases += 1;
                    add_to(&mut l.paid, a(e.token), e.price);
                })
                .await?;
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}

async fn job_market(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: JobMarket::JobMarketEvents,
) -> Result<()> {
    use JobMarket::JobMarketEvents as E;
    let time = cx.time;
    match ev {
        E::JobRequested(e) => {
            let t = &e.terms;
            let job = Job {
                id: u(e.jobId),
                model_id: u(t.modelId),
                model_version: t.modelVersion,
                buyer: a(t.buyer),
                seller: a(t.seller),
                weights_digest: h(t.weightsDigest),
                runtime: h(t.runtime),
                token: a(t.token),
                payment: u(t.payment),
                royalty: u(t.royalty),
                protocol_fee: u(t.protocolFee),
                input_digest: h(t.inputDigest),
                input_cid: e.inputCid.clone(),
                region_mask: u(t.regionMask),
                deadline: t.deadline,
                state: "Requested".into(),
                close_reason: "Open".into(),
                bond: "0".into(),
                challenge_bond: "0".into(),
                burned: "0".into(),
                requested_at: time,
                ..Default::default()
            };
            batch.jobs.upsert(conn, &job.id.clone(), cx, || job, |_| {}).await?;
        }
        E::JobClaimed(e) => {
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    j.state = "Claimed".into();
                    j.operator = Some(a(e.operator));
                    j.bond = u(e.bond);
                    j.submit_by = e.submitBy;
                    j.claimed_at = Some(time);
                })
                .await?;
            batch.operators.update(conn, &a(e.operator), cx, |o| o.claims += 1).await?;
        }
        E::ClaimReleased(e) => {
            reopen(batch, conn, cx, e.jobId, e.operator, e.penalty, false).await?;
        }
        E::ClaimExpired(e) => {
            reopen(batch, conn, cx, e.jobId, e.operator, e.penalty, true).await?;
        }
        E::ResultSubmitted(e) => {
            let r = &e.receipt;
            let receipt = Receipt {
                weights_digest: h(r.weightsDigest),
                input_digest: h(r.inputDigest),
                runtime: h(r.runtime),
                output_digest: h(r.outputDigest),
                output_cid: r.outputCid.clone(),
                runner_build: h(r.runnerBuild),
                energy_millijoules: r.energyMillijoules,
                signer: a(e.signer),
                signature: format!("0x{}", hex::encode(&e.signature)),
            };
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    j.state = "Submitted".into();
                    j.receipt = Some(receipt);
                    j.challenge_ends = e.challengeEnds;
                    j.submitted_at = Some(time);
                })
                .await?;
            batch.operators.update(conn, &a(e.operator), cx, |o| o.submitted += 1).await?;
        }
        E::JobChallenged(e) => {
            let mut operator = None;
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    j.state = "Disputed".into();
                    j.challenger = Some(a(e.challenger));
                    j.challenge_bond = u(e.bond);
                    j.dispute_id = Some(u(e.disputeId));
                    operator = j.operator.clone();
                })
                .await?;
            let init = || Dispute {
                id: u(e.disputeId),
                phase: "Created".into(),
                bond: "0".into(),
                created_at: time,
                ..Default::default()
            };
            batch
                .disputes
                .upsert(conn, &u(e.disputeId), cx, init, |d| {
                    d.job_id = Some(u(e.jobId));
                    d.challenger = Some(a(e.challenger));
                    d.bond = u(e.bond);
                    // A random audit (the desk challenges, with no bond) opens its pool without a ticket.
                    d.audit = e.bond.is_zero();
                    d.tickets = if d.audit {
                        Vec::new()
                    } else {
                        vec![ChallengeTicket { challenger: a(e.challenger), bond: u(e.bond), paid: None }]
                    };
                })
                .await?;
            if let Some(op) = operator {
                batch.operators.update(conn, &op, cx, |o| o.challenged += 1).await?;
            }
        }
        E::JobClosed(e) => {
            use cairn_bindings::enums::{close_reason, job_state, name};
            let (state, reason) = (name(job_state::NAMES, e.state), name(close_reason::NAMES, e.reason));
            let mut operator = None;
            let r2 = reason.clone();
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    j.state = state;
                    j.close_reason = r2;
                    j.closed_at = Some(time);
                    operator = j.operator.clone();
                })
                .await?;
            if let Some(op) = operator {
                match reason.as_str() {
                    "Finalized" => batch.operators.update(conn, &op, cx, |o| o.completed += 1).await?,
                    "OperatorUpheld" => batch.operators.update(conn, &op, cx, |o| o.upheld += 1).await?,
                    _ => false,
                };
            }
        }
        E::PaymentSplit(e) => {
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    j.split = Some(Split {
                        royalty: u(e.royalty),
                        protocol_fee: u(e.protocolFee),
                        operator_fee: u(e.operatorFee),
                        audit_premium: u(e.auditPremium),
                    })
                })
                .await?;
        }
        E::ParamsUpdated(e) => {
            let p = &e.params;
            let value = serde_json::json!({
                "feeBps": p.feeBps, "bondBps": p.bondBps, "claimPenaltyBps": p.claimPenaltyBps, "burnBps": p.burnBps,
                "claimTimeout": p.claimTimeout, "challengeWindow": p.challengeWindow, "maxDeadline": p.maxDeadline,
                "bondFloor": u(p.bondFloor), "challengeBond": u(p.challengeBond),
            });
            param(batch, conn, cx, "params".into(), value).await?;
        }
        E::TokenConfigUpdated(e) => {
            let value =
                serde_json::json!({"bondRate": u(e.config.bondRate), "minOperatorFee": u(e.config.minOperatorFee)});
            param(batch, conn, cx, format!("token/{}", a(e.token)), value).await?;
        }
        E::TreasuryUpdated(e) => {
            param(batch, conn, cx, "treasury".into(), serde_json::json!({"treasury": a(e.treasury)})).await?;
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}

async fn reopen(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    job_id: U256,
    operator: Address,
    penalty: U256,
    expired: bool,
) -> Result<()> {
    batch
        .jobs
        .update(conn, &u(job_id), cx, |j| {
            j.state = "Requested".into();
            j.operator = None;
            j.bond = "0".into();
            j.submit_by = 0;
            j.reopened += 1;
        })
        .await?;
    batch
        .operators
        .update(conn, &a(operator), cx, |o| {
            if expired {
                o.claim_timeouts += 1;
            } else {
                o.claims_released += 1;
            }
            // The penalty is a slash of the ETH bond (`JobMarket._reopen`), whatever the job's token.
            o.penalties = add(&o.penalties, penalty);
        })
        .await?;
    Ok(())
}

async fn operator_registry(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: OperatorRegistry::OperatorRegistryEvents,
) -> Result<()> {
    use OperatorRegistry::OperatorRegistryEvents as E;
    let ops = &mut batch.operators;
    let p = cx;
    match ev {
        E::OperatorRegistered(e) => {
            let time = cx.time;
            let init = || Operator {
                address: a(e.operator),
                registered_at: time,
                locked: "0".into(),
                unbonding: "0".into(),
                slashed: "0".into(),
                penalties: "0".into(),
                ..Default::default()
            };
            ops.upsert(conn, &a(e.operator), p, init, |o| {
                o.signer = a(e.signer);
                o.region = e.region;
                o.hardware_tag = h(e.hardwareTag);
                o.attestation_hash = h(e.attestationHash);
                o.endpoint = e.endpoint.clone();
                o.stake = u(e.stake);
            })
            .await?;
        }
        E::StakeAdded(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.stake = u(e.stake)).await?;
        }
        E::UnstakeRequested(e) => {
            ops.update(conn, &a(e.operator), p, |o| {
                o.stake = u(e.stake);
                o.unbonding = u(e.unbonding);
                o.unbonding_ready_at = e.readyAt;
            })
            .await?;
        }
        E::UnstakeWithdrawn(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.unbonding = sub(&o.unbonding, e.amount)).await?;
        }
        E::StakeLocked(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.locked = u(e.locked)).await?;
        }
        E::StakeUnlocked(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.locked = u(e.locked)).await?;
        }
        E::Slashed(e) => {
            ops.update(conn, &a(e.operator), p, |o| {
                o.stake = u(e.stake);
                o.locked = u(e.locked);
                o.unbonding = u(e.unbonding);
                o.slashes += 1;
                o.slashed = add(&o.slashed, e.amount);
            })
            .await?;
        }
        E::SignerChanged(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.signer = a(e.newSigner)).await?;
        }
        E::ProfileUpdated(e) => {
            ops.update(conn, &a(e.operator), p, |o| {
                o.region = e.region;
                o.hardware_tag = h(e.hardwareTag);
                o.attestation_hash = h(e.attestationHash);
                o.endpoint = e.endpoint.clone();
            })
            .await?;
        }
        E::JobCompletedRecorded(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.jobs_completed = e.jobsCompleted).await?;
        }
        E::DisputeLostRecorded(e) => {
            ops.update(conn, &a(e.operator), p, |o| o.disputes_lost = e.disputesLost).await?;
        }
        E::AuthorisationSet(e) => {
            param(batch, conn, cx, format!("authorised/{}", a(e.account)), serde_json::json!({"allowed": e.allowed}))
                .await?;
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}

/// Copies what a pool event says of the juror's stake on its way out (and of its pending deposit), then the
/// `verifier` flag: whether it holds stake in the pool, applied or maturing.
fn juror_leaving(o: &mut Operator, pending: U256, requested: U256, unbonding: U256, unbonding_ends: u64) {
    let j = &mut o.juror;
    j.pending = u(pending);
    j.withdrawal_requested = u(requested);
    j.unbonding = u(unbonding);
    j.unbonding_ends = unbonding_ends;
    verifier_flag(o);
}

/// An operator is a verifier while it holds juror stake in the pool, applied or maturing.
fn verifier_flag(o: &mut Operator) {
    o.verifier = o.juror.stake != "0" || o.juror.pending != "0";
}

/// The dispute desk's events: challenge pools (joins, the ruling's payout, collected tickets), burns and
/// ERC-1497 evidence, projected onto the job and its dispute.
async fn dispute_desk(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: DisputeDesk::DisputeDeskEvents,
) -> Result<()> {
    use DisputeDesk::DisputeDeskEvents as E;
    // The pool's dispute, from the job the event names.
    async fn dispute_of(batch: &mut Batch, conn: &mut AnyConnection, job: U256) -> Result<Option<String>> {
        Ok(batch.jobs.get(conn, &u(job)).await?.and_then(|j| j.dispute_id))
    }
    match ev {
        E::ChallengeJoined(e) => {
            if let Some(dispute) = dispute_of(batch, conn, e.jobId).await? {
                let ticket = ChallengeTicket { challenger: a(e.challenger), bond: u(e.bond), paid: None };
                batch.disputes.update(conn, &dispute, cx, |d| d.tickets.push(ticket)).await?;
            }
        }
        E::PoolSettled(e) => {
            batch
                .disputes
                .update(conn, &u(e.disputeId), cx, |d| {
                    d.payout = Some(u(e.payout));
                    d.fee_refund = Some(u(e.feeRefund));
                })
                .await?;
        }
        E::ChallengerPaid(e) => {
            if let Some(dispute) = dispute_of(batch, conn, e.jobId).await? {
                let who = a(e.challenger);
                batch
                    .disputes
                    .update(conn, &dispute, cx, |d| {
                        if let Some(t) = d.tickets.iter_mut().find(|t| t.challenger == who) {
                            t.paid = Some(u(e.amount));
                        }
                    })
                    .await?;
            }
        }
        E::Burned(e) => {
            batch.jobs.update(conn, &u(e.jobId), cx, |j| j.burned = add(&j.burned, e.amount)).await?;
        }
        E::MarketSet(e) => {
            param(batch, conn, cx, "market".into(), serde_json::json!({"market": a(e.market)})).await?;
        }
        E::AuditScheduled(e) => {
            let audit = JobAudit {
                seed_block: e.seedBlock,
                rate: e.rate.to_string(),
                premium: u(e.premium),
                state: if e.rate == 0 { "Cleared" } else { "Pending" }.into(),
                dispute_id: None,
            };
            batch.jobs.update(conn, &u(e.jobId), cx, |j| j.audit = Some(audit)).await?;
        }
        E::AuditEvaluated(e) => {
            batch
                .jobs
                .update(conn, &u(e.jobId), cx, |j| {
                    if let Some(audit) = j.audit.as_mut() {
                        audit.state = if e.audited { "Audited" } else { "Cleared" }.into();
                        audit.dispute_id = e.audited.then(|| u(e.disputeId));
                    }
                })
                .await?;
        }
        E::AuditPoolFunded(e) => {
            let value = serde_json::json!({"pool": u(e.pool), "lastFrom": a(e.from), "lastAmount": u(e.amount)});
            param(batch, conn, cx, "auditPool".into(), value).await?;
        }
        E::AuditParamsUpdated(e) => {
            let value = serde_json::json!({"safetyBps": e.params.safetyBps, "minRateBps": e.params.minRateBps});
            param(batch, conn, cx, "auditParams".into(), value).await?;
        }
        E::Evidence(e) => {
            // ERC-1497: the evidence group is the job (DisputeDesk.submitEvidence).
            if let Some(dispute) = dispute_of(batch, conn, e.evidenceGroupId).await? {
                let evidence = Evidence { party: a(e.party), uri: e.evidence.clone() };
                batch.disputes.update(conn, &dispute, cx, |d| d.evidence.push(evidence)).await?;
            }
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}

/// The JurorPool's events land on the operator (only registered operators hold juror stake).
async fn juror_pool(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: JurorPool::JurorPoolEvents,
) -> Result<()> {
    use JurorPool::JurorPoolEvents as E;
    let ops = &mut batch.operators;
    let p = cx;
    match ev {
        E::JurorDeposited(e) => {
            ops.update(conn, &a(e.juror), p, |o| {
                o.juror.pending = u(e.pendingDeposit);
                verifier_flag(o);
            })
            .await?;
        }
        E::JurorWithdrawalRequested(e) => {
            ops.update(conn, &a(e.juror), p, |o| {
                juror_leaving(o, e.pendingDeposit, e.withdrawalRequested, e.unbonding, e.unbondingEnds);
            })
            .await?;
        }
        E::JurorSynced(e) => {
            ops.update(conn, &a(e.juror), p, |o| {
                o.juror.stake = u(e.stake);
                o.juror.locked = u(e.locked);
                o.juror.seats = u64::try_from(e.seats).unwrap_or(u64::MAX);
                juror_leaving(o, e.pendingDeposit, e.withdrawalRequested, e.unbonding, e.unbondingEnds);
            })
            .await?;
        }
        E::SeatLocked(e) => {
            ops.update(conn, &a(e.juror), p, |o| {
                o.juror.locked = u(e.locked);
                o.juror.seats = o.juror.seats.saturating_sub(1);
                o.juror.seats_drawn += 1;
            })
            .await?;
        }
        E::SeatsSettled(e) => {
            ops.update(conn, &a(e.juror), p, |o| {
                o.juror.stake = u(e.stake);
                o.juror.locked = u(e.locked);
                o.juror.slashed = add(&o.juror.slashed, e.slashed);
                verifier_flag(o);
            })
            .await?;
        }
        E::JurorWithdrawn(e) => {
            ops.update(conn, &a(e.juror), p, |o| o.juror.unbonding = sub(&o.juror.unbonding, e.amount)).await?;
        }
        E::CommitteeSet(e) => {
            param(batch, conn, cx, "committee".into(), serde_json::json!({"committee": a(e.committee)})).await?;
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}

/// The dispute's record of `round`, created (with the rounds before it) when first seen.
fn round_of(d: &mut Dispute, round: u64) -> &mut DisputeRound {
    while d.rounds.len() as u64 <= round {
        let next = d.rounds.len() as u64;
        d.rounds.push(DisputeRound { round: next, ..Default::default() });
    }
    &mut d.rounds[round as usize]
}

async fn committee(
    batch: &mut Batch,
    conn: &mut AnyConnection,
    cx: &LogContext<'_>,
    ev: ReexecutionCommittee::ReexecutionCommitteeEvents,
) -> Result<()> {
    use ReexecutionCommittee::ReexecutionCommitteeEvents as E;
    let p = cx;
    let time = cx.time;
    let new = |id: U256| {
        move || Dispute { id: u(id), phase: "Created".into(), bond: "0".into(), created_at: time, ..Default::default() }
    };
    let ds = &mut batch.disputes;
    match ev {
        E::DisputeCreation(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| d.arbitrable = a(e.arbitrable)).await?;
        }
        E::DisputeOpened(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.accused = Some(a(e.accused));
                d.challenger.get_or_insert_with(|| a(e.challenger));
                d.seats = u64::try_from(e.seats).unwrap_or(u64::MAX);
                round_of(d, 0).seats = d.seats;
                d.seed_block = Some(u(e.seedBlock));
                d.non_reveal_penalty = Some(u(e.nonRevealPenalty));
                d.expires_at = Some(u64::try_from(e.expiresAt).unwrap_or(u64::MAX));
            })
            .await?;
        }
        E::JurorsDrawn(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Drawn".into();
                let seated: Vec<String> = e.jurors.iter().map(|j| a(*j)).collect();
                // A redraw of silent seats adds to the round's jury; an appeal's `AppealRaised` cleared it.
                d.jurors.extend(seated.iter().cloned());
                round_of(d, u64::from(e.round)).jurors.extend(seated);
                d.commit_deadline = e.commitDeadline;
                d.reveal_deadline = e.revealDeadline;
                d.draws += 1;
            })
            .await?;
        }
        E::DrawDeferred(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Waiting".into();
                d.deferrals.push(u(e.freeSeats));
            })
            .await?;
        }
        E::DrawRetried(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Created".into();
                d.seed_block = Some(u(e.seedBlock));
                d.retries.push(u(e.seedBlock));
            })
            .await?;
        }
        E::KeeperPaid(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.keeper = Some(KeeperReward { keeper: a(e.keeper), amount: u(e.amount) });
            })
            .await?;
        }
        E::CanaryRevealed(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.canary_answer = Some(u64::try_from(e.answer).unwrap_or(u64::MAX));
            })
            .await?;
        }
        E::DrawLapsed(e) => {
            // Ruled 2 at once (`ReexecutionCommittee.draw` → `_finish`), with no DisputeRuled event.
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.lapsed = true;
                d.phase = "Ruled".into();
                d.ruling = Some(2);
                d.ruled_at = Some(time);
            })
            .await?;
        }
        E::Reseeded(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.seed_block = Some(u(e.seedBlock));
                d.reseeds.push(u(e.seedBlock));
            })
            .await?;
        }
        E::VoteCommitted(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.votes.entry(a(e.juror)).or_default().commitment = Some(h(e.commitment));
                round_of(d, u64::from(e.round)).votes.entry(a(e.juror)).or_default().commitment = Some(h(e.commitment));
            })
            .await?;
        }
        E::VoteRevealed(e) => {
            let vote = u64::try_from(e.vote).unwrap_or(u64::MAX);
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.votes.entry(a(e.juror)).or_default().vote = Some(vote);
                round_of(d, u64::from(e.round)).votes.entry(a(e.juror)).or_default().vote = Some(vote);
            })
            .await?;
        }
        E::SilentSeatsRedrawn(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Created".into();
                d.seed_block = Some(u(e.seedBlock));
                round_of(d, u64::from(e.round)).redrawn.push(u64::try_from(e.seats).unwrap_or(u64::MAX));
            })
            .await?;
        }
        E::RoundRuled(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Appealable".into();
                d.appeal_deadline = Some(e.appealDeadline);
                let r = round_of(d, u64::from(e.round));
                r.ruling = Some(u64::try_from(e.ruling).unwrap_or(u64::MAX));
                r.votes_acceptable = u64::try_from(e.votesAcceptable).unwrap_or(u64::MAX);
                r.votes_not_acceptable = u64::try_from(e.votesNotAcceptable).unwrap_or(u64::MAX);
                r.votes_unavailable = u64::try_from(e.votesUnavailable).unwrap_or(u64::MAX);
            })
            .await?;
        }
        E::AppealRaised(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Created".into();
                d.round = u64::from(e.round);
                d.seats = u64::try_from(e.seats).unwrap_or(u64::MAX);
                d.seed_block = Some(u(e.seedBlock));
                d.appeal_deadline = None;
                d.jurors.clear();
                d.votes.clear();
                let seats = d.seats;
                let r = round_of(d, u64::from(e.round));
                r.seats = seats;
                r.appeal = Some(AppealFee { appellant: a(e.appellant), fee: u(e.fee) });
            })
            .await?;
        }
        E::DisputeRuled(e) => {
            ds.upsert(conn, &u(e.disputeId), p, new(e.disputeId), |d| {
                d.phase = "Ruled".into();
                d.ruling = Some(u64::try_from(e.ruling).unwrap_or(u64::MAX));
                d.votes_acceptable = u64::try_from(e.votesAcceptable).unwrap_or(u64::MAX);
                d.votes_not_acceptable = u64::try_from(e.votesNotAcceptable).unwrap_or(u64::MAX);
                d.votes_unavailable = u64::try_from(e.votesUnavailable).unwrap_or(u64::MAX);
                d.appeal_deadline = None;
                d.ruled_at = Some(time);
                let (ruling, yes, no, unavailable) =
                    (d.ruling, d.votes_acceptable, d.votes_not_acceptable, d.votes_unavailable);
                let r = round_of(d, d.round);
                r.ruling = ruling;
                (r.votes_acceptable, r.votes_not_acceptable, r.votes_unavailable) = (yes, no, unavailable);
            })
            .await?;
        }
        E::ParamsUpdated(e) => {
            let q = &e.params;
            let value = serde_json::json!({
                "jurors": q.jurors, "fee": u(q.fee), "commitPeriod": q.commitPeriod, "revealPeriod": q.revealPeriod,
                "keeperReward": u(q.keeperReward), "nonRevealPenalty": u(q.nonRevealPenalty),
                "auditReserve": q.auditReserve, "appealPeriod": q.appealPeriod,
                "coherencePenalty": u(q.coherencePenalty),
            });
            param(batch, conn, cx, "params".into(), value).await?;
        }
        E::CanaryKeySet(e) => {
            param(batch, conn, cx, "canaryKey".into(), serde_json::json!({"key": a(e.canaryKey)})).await?;
        }
        E::ArbitrableSet(e) => {
            param(
                batch,
                conn,
                cx,
                format!("arbitrable/{}", a(e.arbitrable)),
                serde_json::json!({"allowed": e.allowed}),
            )
            .await?;
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(())
}
