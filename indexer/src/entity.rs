//! The projections' entities, as stored in each table's `data` column and served by the API (camelCase JSON;
//! token amounts and uint256 ids as decimal strings in wei or the token's smallest unit; addresses and
//! digests 0x-hex; times in seconds since the Unix epoch, from block timestamps).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{project::LogContext, store::Val};

/// An entity of a projection table.
pub trait Entity: Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static {
    /// Its table.
    const TABLE: &'static str;
    /// The table's own columns (after the common ones), filled by [`Entity::columns`].
    const COLUMNS: &'static [&'static str];
    /// Values of [`Entity::COLUMNS`], in order.
    fn columns(&self) -> Vec<Val>;
    /// Called after each event that changed it (default: nothing; a job records its transition).
    fn changed(&mut self, _cx: &LogContext<'_>) {}
}

/// A model: its seller, latest version and current terms (those of the latest version).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// Model id (decimal).
    pub id: String,
    /// Seller address.
    pub seller: String,
    /// Latest version (1-based).
    pub latest_version: u64,
    /// Deprecated by the seller: no new jobs or licences.
    pub deprecated: bool,
    /// Runtime id (bytes32 hex) of the latest version.
    pub runtime: String,
    /// Payment token of the latest version (0x0 = ETH).
    pub payment_token: String,
    /// Price per call, in the token's smallest unit (wei for ETH).
    pub price_per_call: String,
    /// Licence price (0 = no licence needed).
    pub license_price: String,
    /// Licence period, seconds.
    pub license_period: u64,
    /// Region bitmask (decimal).
    pub region_mask: String,
    /// Manifest CID of the latest version.
    pub manifest_cid: String,
    /// When version 1 was registered.
    pub registered_at: u64,
    /// When anything about the model last changed.
    pub updated_at: u64,
}

impl Entity for Model {
    const TABLE: &'static str = "models";
    const COLUMNS: &'static [&'static str] = &["seller", "runtime", "deprecated"];
    fn columns(&self) -> Vec<Val> {
        vec![self.seller.clone().into(), self.runtime.clone().into(), self.deprecated.into()]
    }
}

/// One version of a model as registered, with its current terms and the seller's signature check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelVersion {
    /// Model id.
    pub model_id: String,
    /// Version.
    pub version: u64,
    /// Seller.
    pub seller: String,
    /// Manifest CID (`cairn.manifest/2` JSON on IPFS).
    pub manifest_cid: String,
    /// sha256 of the manifest bytes.
    pub manifest_digest: String,
    /// sha256 of the weights file.
    pub weights_digest: String,
    /// Runtime id.
    pub runtime: String,
    /// Payment token.
    pub payment_token: String,
    /// Price per call (current terms).
    pub price_per_call: String,
    /// Licence price (current terms).
    pub license_price: String,
    /// Licence period, seconds (current terms).
    pub license_period: u64,
    /// Region bitmask (current terms).
    pub region_mask: String,
    /// Registration time (the contract's `registeredAt`).
    pub registered_at: u64,
    /// The signed `ModelManifest`'s nonce.
    pub nonce: String,
    /// Its deadline.
    pub deadline: u64,
    /// The seller's EIP-712 signature (65 bytes hex).
    pub signature: String,
    /// Whether the signature recovers to the seller over the listing rebuilt from the event (EIP-712 domain
    /// of the registry on this chain).
    pub signature_valid: bool,
    /// The recovered signer, or why recovery failed.
    pub signature_check: String,
    /// Times the terms were updated.
    pub terms_updates: u64,
}

impl Entity for ModelVersion {
    const TABLE: &'static str = "model_versions";
    const COLUMNS: &'static [&'static str] = &["model_id", "version"];
    fn columns(&self) -> Vec<Val> {
        vec![self.model_id.clone().into(), self.version.into()]
    }
}

/// A buyer's licence for a model (the latest purchase; earlier ones are the history).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct License {
    /// Model id.
    pub model_id: String,
    /// Buyer.
    pub buyer: String,
    /// Version bought last.
    pub version: u64,
    /// Token paid in last.
    pub token: String,
    /// Price paid last.
    pub price: String,
    /// Period bought last, seconds.
    pub period: u64,
    /// Expiry, seconds since the epoch.
    pub expiry: u64,
    /// Purchases so far.
    pub purchases: u64,
    /// Total paid, by token.
    pub paid: BTreeMap<String, String>,
}

impl Entity for License {
    const TABLE: &'static str = "licenses";
    const COLUMNS: &'static [&'static str] = &["model_id", "buyer", "expiry"];
    fn columns(&self) -> Vec<Val> {
        vec![self.model_id.clone().into(), self.buyer.clone().into(), self.expiry.into()]
    }
}

/// An operator: profile, stake and the outcomes the reputation score is computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Operator {
    /// The operator (stake owner) address.
    pub address: String,
    /// Its current hot signer.
    pub signer: String,
    /// Region code (cairn-protocol's `Region`).
    pub region: u8,
    /// Hardware tag (bytes32 hex).
    pub hardware_tag: String,
    /// Attestation hash (bytes32 hex, zero when none).
    pub attestation_hash: String,
    /// Service endpoint URL from the on-chain profile.
    pub endpoint: String,
    /// Stake, wei.
    pub stake: String,
    /// Locked by job bonds, wei.
    pub locked: String,
    /// Unbonding, wei.
    pub unbonding: String,
    /// When the unbonding amount can be withdrawn.
    pub unbonding_ready_at: u64,
    /// Holds juror stake in the JurorPool, applied or maturing (a verifier: it can be drawn on juries once its
    /// stake matured and entered the draw).
    pub verifier: bool,
    /// Its juror stake in the JurorPool.
    pub juror: JurorStake,
    /// Registration time.
    pub registered_at: u64,
    /// Jobs claimed.
    pub claims: u64,
    /// Results submitted.
    pub submitted: u64,
    /// Jobs finalized unchallenged.
    pub completed: u64,
    /// Jobs challenged.
    pub challenged: u64,
    /// Challenges ruled in the operator's favour.
    pub upheld: u64,
    /// Disputes lost (the contract's counter).
    pub disputes_lost: u64,
    /// Jobs settled in the operator's favour, finalized or upheld (the contract's `jobsCompleted` counter).
    pub jobs_completed: u64,
    /// Claims that timed out.
    pub claim_timeouts: u64,
    /// Claims handed back.
    pub claims_released: u64,
    /// Times slashed.
    pub slashes: u64,
    /// Total slashed, wei.
    pub slashed: String,
    /// Total claim penalties (released and timed-out claims), wei: always ETH, taken from the locked stake
    /// whatever the job's token.
    pub penalties: String,
}

/// An operator's juror stake in the JurorPool (IJurorPool.Juror), as of its latest pool event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JurorStake {
    /// Stake held and lockable, wei (`locked` and an asked withdrawal not yet applied included).
    pub stake: String,
    /// Locked by drawn seats, wei.
    pub locked: String,
    /// Seats the draw's tree holds for it (at its latest sync or draw).
    pub seats: u64,
    /// Deposited, still maturing, wei.
    pub pending: String,
    /// Asked to leave, not yet applied, wei.
    pub withdrawal_requested: String,
    /// Left the pool, withdrawable at `unbonding_ends`, wei.
    pub unbonding: String,
    /// When `unbonding` may be withdrawn (Unix seconds).
    pub unbonding_ends: u64,
    /// Seats drawn, ever.
    pub seats_drawn: u64,
    /// Total slashed from its seats (non-reveal penalties), wei.
    pub slashed: String,
}

impl Default for JurorStake {
    fn default() -> Self {
        let zero = || "0".to_string();
        Self {
            stake: zero(),
            locked: zero(),
            seats: 0,
            pending: zero(),
            withdrawal_requested: zero(),
            unbonding: zero(),
            unbonding_ends: 0,
            seats_drawn: 0,
            slashed: zero(),
        }
    }
}

impl Entity for Operator {
    const TABLE: &'static str = "operators";
    const COLUMNS: &'static [&'static str] = &["region", "verifier"];
    fn columns(&self) -> Vec<Val> {
        vec![i64::from(self.region).into(), self.verifier.into()]
    }
}

/// A job receipt as signed by the operator's signer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// sha256 of the weights run.
    pub weights_digest: String,
    /// sha256 of the input.
    pub input_digest: String,
    /// Runtime id.
    pub runtime: String,
    /// sha256 of the canonical output.
    pub output_digest: String,
    /// The output's CID.
    pub output_cid: String,
    /// The runner build (bytes32 hex).
    pub runner_build: String,
    /// Energy figure, millijoules.
    pub energy_millijoules: u64,
    /// The key that signed it.
    pub signer: String,
    /// The EIP-712 signature.
    pub signature: String,
}

/// How the escrowed payment was split on finalization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    /// To the seller.
    pub royalty: String,
    /// To the treasury.
    pub protocol_fee: String,
    /// To the operator.
    pub operator_fee: String,
    /// The job's audit premium: to the audit pool (ETH jobs) or the treasury (ERC-20 jobs).
    #[serde(default)]
    pub audit_premium: String,
}

/// A submitted job's random audit (DisputeDesk: `AuditScheduled`, `AuditEvaluated`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobAudit {
    /// The block whose hash draws it.
    pub seed_block: u64,
    /// Probability of an audit, scaled by 1e18 (decimal string).
    pub rate: String,
    /// The premium, in the job's token (decimal string).
    pub premium: String,
    /// Pending (to evaluate), Cleared (not audited) or Audited.
    pub state: String,
    /// The audit's dispute, when audited.
    pub dispute_id: Option<String>,
}

/// An inference job: the buyer's terms and everything that happened to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Model id.
    pub model_id: String,
    /// Model version.
    pub model_version: u64,
    /// Buyer.
    pub buyer: String,
    /// Seller.
    pub seller: String,
    /// Weights digest bound at request.
    pub weights_digest: String,
    /// Runtime id.
    pub runtime: String,
    /// Token (0x0 = ETH).
    pub token: String,
    /// Escrowed payment.
    pub payment: String,
    /// Royalty part.
    pub royalty: String,
    /// Protocol fee part.
    pub protocol_fee: String,
    /// sha256 of the input.
    pub input_digest: String,
    /// The input's CID.
    pub input_cid: String,
    /// Region bitmask.
    pub region_mask: String,
    /// Deadline, seconds.
    pub deadline: u64,
    /// State: Requested, Claimed, Submitted, Disputed, Finalized, Cancelled, Resolved.
    pub state: String,
    /// Close reason: Open, Finalized, Expired, OperatorUpheld, OperatorWrong, ArbitratorRefused.
    pub close_reason: String,
    /// Operator holding or having held the claim.
    pub operator: Option<String>,
    /// Operator's bond, wei.
    pub bond: String,
    /// Submit-by time of the current claim.
    pub submit_by: u64,
    /// The receipt, once submitted.
    pub receipt: Option<Receipt>,
    /// End of the challenge window.
    pub challenge_ends: u64,
    /// Challenger.
    pub challenger: Option<String>,
    /// Challenger's bond.
    pub challenge_bond: String,
    /// Dispute id.
    pub dispute_id: Option<String>,
    /// Payment split, once finalized.
    pub split: Option<Split>,
    /// The random audit, once the result is submitted.
    #[serde(default)]
    pub audit: Option<JobAudit>,
    /// Burned, wei.
    pub burned: String,
    /// Claims that timed out or were released on this job.
    pub reopened: u64,
    /// Request time.
    pub requested_at: u64,
    /// Last claim time.
    pub claimed_at: Option<u64>,
    /// Submission time.
    pub submitted_at: Option<u64>,
    /// Close time.
    pub closed_at: Option<u64>,
    /// Every event that changed the job, oldest first, with the state it left (stored with the job; the API
    /// serves them at `/jobs/{id}` only, with their transactions and times).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<JobTransition>,
}

/// One event in a job's life and the state it left the job in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobTransition {
    /// The event, e.g. `JobClaimed`.
    pub event: String,
    /// Its block.
    pub block_number: i64,
    /// Its log index in the block (with the block, the key of its raw event: transaction and time).
    pub log_index: i64,
    /// The job's state after it.
    pub state: String,
    /// The close reason after it.
    pub close_reason: String,
    /// The operator holding the claim after it.
    pub operator: Option<String>,
}

impl Entity for Job {
    const TABLE: &'static str = "jobs";
    const COLUMNS: &'static [&'static str] = &["model_id", "buyer", "operator", "state", "requested_at"];
    fn columns(&self) -> Vec<Val> {
        vec![
            self.model_id.clone().into(),
            self.buyer.clone().into(),
            self.operator.clone().into(),
            self.state.clone().into(),
            self.requested_at.into(),
        ]
    }
    fn changed(&mut self, cx: &LogContext<'_>) {
        let t = JobTransition {
            event: cx.event.to_string(),
            block_number: cx.pos.0,
            log_index: cx.pos.1,
            state: self.state.clone(),
            close_reason: self.close_reason.clone(),
            operator: self.operator.clone(),
        };
        // One event may change a job twice (an upsert, then an update): one transition.
        match self.transitions.last_mut() {
            Some(last) if (last.block_number, last.log_index) == cx.pos => *last = t,
            _ => self.transitions.push(t),
        }
    }
}

/// A juror's vote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    /// The commitment.
    pub commitment: Option<String>,
    /// The revealed vote (1 acceptable, 2 not acceptable).
    pub vote: Option<u64>,
}

/// One round of a dispute: its jury, votes, redraws of silent seats, ruling and the appeal that opened it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputeRound {
    /// 0, then one per appeal.
    pub round: u64,
    /// Seats (3, 7, 15 with the default jury).
    pub seats: u64,
    /// One entry per seat drawn, redraws appended.
    pub jurors: Vec<String>,
    /// Votes by juror.
    pub votes: BTreeMap<String, Vote>,
    /// Seats redrawn after staying silent where they could change the majority, per redraw.
    pub redrawn: Vec<u64>,
    /// The round's ruling (`RoundRuled`, or the final one for the last round).
    pub ruling: Option<u64>,
    /// Revealed seats for acceptable.
    pub votes_acceptable: u64,
    /// Revealed seats for not acceptable.
    pub votes_not_acceptable: u64,
    /// Revealed seats for "the input could not be fetched" (vote 3).
    #[serde(default)]
    pub votes_unavailable: u64,
    /// The appeal that opened this round (none for round 0).
    pub appeal: Option<AppealFee>,
}

/// Who appealed and what it paid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppealFee {
    /// The appellant (refunded when the final ruling differs from the one it appealed).
    pub appellant: String,
    /// Wei paid.
    pub fee: String,
}

/// ERC-1497 evidence submitted to a dispute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Who submitted it.
    pub party: String,
    /// The evidence URI (usually `ipfs://…` JSON).
    pub uri: String,
}

/// One challenger's ticket in a job's challenge pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeTicket {
    /// The challenger.
    pub challenger: String,
    /// Its bond, wei.
    pub bond: String,
    /// What it collected after the ruling, wei (absent until collected).
    pub paid: Option<String>,
}

/// A dispute before the re-execution committee: draws, commits, reveals, ruling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dispute {
    /// Dispute id (the committee's).
    pub id: String,
    /// The arbitrable contract.
    pub arbitrable: String,
    /// The job disputed.
    pub job_id: Option<String>,
    /// Challenger (the first, who advanced the arbitration fee; the `DisputeDesk` for a random audit).
    pub challenger: Option<String>,
    /// Whether the dispute is a random audit (opened by the desk's audit draw, its fee from the audit pool).
    #[serde(default)]
    pub audit: bool,
    /// A canary's known answer once the treasury's canary key revealed it (`CanaryRevealed`: 1, 2 or 3): the
    /// seats are judged against it instead of the ruling.
    #[serde(default)]
    pub canary_answer: Option<u64>,
    /// Every ticket of the job's challenge pool at the `DisputeDesk`, the first challenger's first.
    pub tickets: Vec<ChallengeTicket>,
    /// What each ticket collects once ruled, wei (bond + share on ruling 2, the bond on 0, nothing on 1).
    pub payout: Option<String>,
    /// The arbitration fee refunded to the first challenger out of the slashed bond (ruling 2), wei.
    pub fee_refund: Option<String>,
    /// The accused operator (never seated).
    pub accused: Option<String>,
    /// Challenger's bond.
    pub bond: String,
    /// Phase: Created (queued for its draw), Waiting (too few seats: `retry`), Drawn, Appealable (a round ruled;
    /// appeals until `appealDeadline`), Ruled (final).
    pub phase: String,
    /// The current round: 0, then one per appeal.
    #[serde(default)]
    pub round: u64,
    /// Seats of the current round (k at creation, 2k + 1 per appeal).
    pub seats: u64,
    /// The block whose hash seeds the (next) draw.
    pub seed_block: Option<String>,
    /// Wei slashed per silent seat (snapshot at creation).
    pub non_reveal_penalty: Option<String>,
    /// The earliest Unix time (seconds) from which the dispute may be `expire`d should it wait for seats: its
    /// opening plus the wait the accused's bond buys (`ReexecutionCommittee.waitFor`: 30 to 365 days), as announced
    /// in `DisputeOpened`. Disputes waiting at the same time lengthen it (to at most 365 days): the committee's
    /// `expiresAt(disputeId)` view gives the current one.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// The current round's jurors, one entry per seat drawn, redraws of silent seats appended (a juror holding
    /// several seats appears that many times).
    pub jurors: Vec<String>,
    /// Commit deadline.
    pub commit_deadline: u64,
    /// Reveal deadline.
    pub reveal_deadline: u64,
    /// Times jurors were drawn.
    pub draws: u64,
    /// Reseed blocks.
    pub reseeds: Vec<String>,
    /// New seed blocks of the retries after waiting.
    pub retries: Vec<String>,
    /// Free seats in the pool at each draw that could not fill the seats (the dispute then waited).
    pub deferrals: Vec<String>,
    /// Who drew the jurors and the keeper reward it was paid, wei.
    pub keeper: Option<KeeperReward>,
    /// The seed and its one reseed lapsed undrawn: ruled 2 against the accused without jurors.
    pub lapsed: bool,
    /// The current round's votes by juror.
    pub votes: BTreeMap<String, Vote>,
    /// Final ruling: 0 refused, 1 acceptable, 2 not acceptable, 3 the input could not be fetched.
    pub ruling: Option<u64>,
    /// Revealed seats for acceptable (the last round).
    pub votes_acceptable: u64,
    /// Revealed seats for not acceptable (the last round).
    pub votes_not_acceptable: u64,
    /// Revealed seats for "the input could not be fetched" (the last round).
    #[serde(default)]
    pub votes_unavailable: u64,
    /// While `Appealable`: appeals strictly before this time (seconds).
    #[serde(default)]
    pub appeal_deadline: Option<u64>,
    /// Every round so far, the first first.
    #[serde(default)]
    pub rounds: Vec<DisputeRound>,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// Creation time.
    pub created_at: u64,
    /// Ruling time.
    pub ruled_at: Option<u64>,
}

impl Entity for Dispute {
    const TABLE: &'static str = "disputes";
    const COLUMNS: &'static [&'static str] = &["job_id", "phase"];
    fn columns(&self) -> Vec<Val> {
        vec![self.job_id.clone().into(), self.phase.clone().into()]
    }
}

/// The keeper reward of a dispute's draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeeperReward {
    /// Who drew.
    pub keeper: String,
    /// Wei paid (a pull balance in the committee).
    pub amount: String,
}

/// A pull-payment balance held by a contract for an account in a token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// The contract holding it.
    pub contract: String,
    /// The account.
    pub account: String,
    /// The token (0x0 = ETH).
    pub token: String,
    /// Withdrawable now.
    pub amount: String,
    /// Credited in total.
    pub credited: String,
    /// Withdrawn in total.
    pub withdrawn: String,
}

impl Entity for Balance {
    const TABLE: &'static str = "balances";
    const COLUMNS: &'static [&'static str] = &["contract", "account", "token"];
    fn columns(&self) -> Vec<Val> {
        vec![self.contract.clone().into(), self.account.clone().into(), self.token.clone().into()]
    }
}

/// A protocol parameter (or parameter set) of a contract; its versions are its history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Param {
    /// The contract.
    pub contract: String,
    /// Name, e.g. `params`, `treasury`, `token/0x…`, `authorised/0x…`, or a `ParameterUpdated` name.
    pub name: String,
    /// The value: the event's fields.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

impl Entity for Param {
    const TABLE: &'static str = "params";
    const COLUMNS: &'static [&'static str] = &["contract"];
    fn columns(&self) -> Vec<Val> {
        vec![self.contract.clone().into()]
    }
}
