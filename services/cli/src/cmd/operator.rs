//! `cairn operator`: what a GPU operator's stake owner does with the owner's key: register and stake, add
//! stake, unstake and withdraw it, set the hot signer key the runner (`cairn-runner run`) holds, and show
//! where an operator stands. Earnings (operator fees) are pull balances: `cairn balance` and `cairn withdraw`.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    rpc::types::TransactionRequest,
};
use anyhow::{Context as _, bail};
use cairn_bindings::OperatorRegistry;
use cairn_protocol::Region;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{Market, TxView},
    output::{AmountView, TokenInfo},
};

/// Operators: register and stake, add stake, unstake, withdraw the unstaked stake, set the hot signer, show.
// A variant's help is its Args struct's doc comment, Examples included: a doc comment on the variant would
// replace it.
#[allow(missing_docs)]
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    Show(ShowArgs),
    Register(RegisterArgs),
    AddStake(AddStakeArgs),
    Unstake(UnstakeArgs),
    WithdrawStake(WithdrawStakeArgs),
    SetSigner(SetSignerArgs),
}

impl OperatorCommand {
    /// Runs it.
    ///
    /// Errors: the subcommand's.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Self::Show(a) => a.run(ctx).await,
            Self::Register(a) => a.run(ctx).await,
            Self::AddStake(a) => a.run(ctx).await,
            Self::Unstake(a) => a.run(ctx).await,
            Self::WithdrawStake(a) => a.run(ctx).await,
            Self::SetSigner(a) => a.run(ctx).await,
        }
    }
}

/// Show an operator: registration, region, signer, stake (locked, free, unbonding), jobs and disputes.
///
/// Examples:
///   cairn --account operator-0 operator show
///   cairn operator show 0xf39F…2266 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// The operator (its stake owner's address); default: the signing account.
    address: Option<Address>,
}

/// Register the signing account as an operator, staking `--stake` (at least the registry's minimum).
///
/// The hot signer key (`--signer`) is the key `cairn-runner run` holds: it claims, submits and finalizes
/// for the operator, and may sweep the operator's earnings to the operator's own address, but never holds stake. The owner key (the signing account) stays off the runner's machine.
///
/// Examples:
///   cairn --account operator-3 operator register --region EU --stake 5ether --signer 0x70997970…79C8 \
///       --hardware "1x L4" --endpoint https://gpu.example
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RegisterArgs {
    /// Region code (EU, US, UK, CA, JP, SG, …): where the runner computes; jobs name the regions they allow.
    #[arg(long)]
    region: Region,
    /// Stake to lock, with its unit (e.g. 5ether).
    #[arg(long)]
    stake: String,
    /// The hot signer's address; default: the signing account itself (then the runner needs the owner key).
    #[arg(long)]
    signer: Option<Address>,
    /// A free-form hardware description; its keccak256 is stored (default "cpu").
    #[arg(long, default_value = "cpu")]
    hardware: String,
    /// An attestation document's hash (32 bytes hex), if the hardware has one.
    #[arg(long)]
    attestation: Option<B256>,
    /// Where the operator can be reached (informational).
    #[arg(long, default_value = "")]
    endpoint: String,
}

/// Add stake to the signing account's operator (more stake: bonds for more jobs at once).
///
/// Examples:
///   cairn --account operator-0 operator add-stake 1ether
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddStakeArgs {
    /// The amount with its unit (e.g. 1.5ether).
    amount: String,
}

/// Move free stake to unbonding; withdraw it with `withdraw-stake` once the registry's delay has passed.
///
/// Only free stake can be unstaked: stake locked as bonds of jobs in flight stays.
///
/// Examples:
///   cairn --account operator-0 operator unstake 1ether
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UnstakeArgs {
    /// The amount with its unit (e.g. 1.5ether).
    amount: String,
}

/// Withdraw the unstaked stake once its unbonding delay has passed.
///
/// Examples:
///   cairn --account operator-0 operator withdraw-stake
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WithdrawStakeArgs {}

/// Set the hot signer key the runner holds (the old one can no longer claim, sign receipts or sweep earnings).
///
/// Examples:
///   cairn --account operator-0 operator set-signer 0x3C44CdDd…93BC
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SetSignerArgs {
    /// The new signer's address.
    signer: Address,
}

/// An operator as `show` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperatorView {
    operator: Address,
    registered: bool,
    region: Option<String>,
    signer: Address,
    stake: AmountView,
    locked: AmountView,
    free: AmountView,
    unbonding: AmountView,
    unbonding_ready_at: u64,
    min_stake: AmountView,
    jobs_completed: u64,
    disputes_lost: u64,
    endpoint: String,
}

/// What a sending subcommand prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sent {
    operator: Address,
    transaction: TxView,
    after: OperatorView,
}

fn registry(
    market: &Market,
) -> anyhow::Result<OperatorRegistry::OperatorRegistryInstance<alloy::providers::DynProvider>> {
    Ok(OperatorRegistry::new(market.address("OperatorRegistry")?, market.chain.provider().clone()))
}

async fn view(market: &Market, operator: Address) -> anyhow::Result<OperatorView> {
    let registry = registry(market)?;
    let o = registry.getOperator(operator).call().await.context("reading the operator")?;
    let free = registry.freeStake(operator).call().await.context("reading the free stake")?;
    let min = registry.minStake().call().await.context("reading the minimum stake")?;
    let eth = TokenInfo::eth();
    Ok(OperatorView {
        operator,
        registered: o.registered,
        region: o.registered.then(|| Region::from_bit(o.region).map_or(format!("bit {}", o.region), |r| r.to_string())),
        signer: o.signer,
        stake: eth.amount(o.stake),
        locked: eth.amount(o.locked),
        free: eth.amount(free),
        unbonding: eth.amount(o.unbonding),
        unbonding_ready_at: o.unbondingReadyAt,
        min_stake: eth.amount(min),
        jobs_completed: o.jobsCompleted,
        disputes_lost: o.disputesLost,
        endpoint: o.endpoint,
    })
}

fn human(v: &OperatorView) -> String {
    if !v.registered {
        return format!(
            "{} is not a registered operator (register with `cairn operator register`; minimum stake {})",
            v.operator, v.min_stake.human
        );
    }
    let mut text = format!(
        "operator   {}\nregion     {}\nsigner     {}\nstake      {}\n  locked   {}\n  free     {}\nunbonding  {}",
        v.operator,
        v.region.as_deref().unwrap_or("?"),
        v.signer,
        v.stake.human,
        v.locked.human,
        v.free.human,
        v.unbonding.human,
    );
    if v.unbonding.raw != "0" {
        text += &format!(" (withdrawable from unix time {})", v.unbonding_ready_at);
    }
    text += &format!("\njobs       {} completed, {} disputes lost", v.jobs_completed, v.disputes_lost);
    if !v.endpoint.is_empty() {
        text += &format!("\nendpoint   {}", v.endpoint);
    }
    text
}

/// Quotes `tx`, asks with `summary`, sends it, and prints the operator as it is after.
async fn confirm_and_send(
    ctx: &Context,
    market: &Market,
    action: &str,
    summary: String,
    tx: TransactionRequest,
) -> anyhow::Result<()> {
    let (sent, _) = market.confirm_send(ctx, action, &summary, tx).await?;
    let operator = market.account();
    let shown = Sent { operator, transaction: sent, after: view(market, operator).await? };
    ctx.out.print(&shown, |s| human(&s.after))
}

impl ShowArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::read(ctx).await?;
        let operator = match self.address {
            Some(a) => a,
            None => ctx.account_hint().ok_or_else(|| {
                UsageError("give the operator's address, or a signing account (--account, --keystore)".into())
            })?,
        };
        let shown = view(&market, operator).await?;
        ctx.out.print(&shown, human)
    }
}

impl RegisterArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let stake = TokenInfo::eth().parse(&self.stake)?;
        let market = Market::signing(ctx).await?;
        let owner = market.account();
        let current = view(&market, owner).await?;
        if current.registered {
            bail!(
                "{owner} is already a registered operator (region {}, stake {}); use `cairn operator add-stake` or \
                 `cairn operator set-signer`",
                current.region.as_deref().unwrap_or("?"),
                current.stake.human
            );
        }
        let min = current.min_stake.raw.parse::<U256>().unwrap_or_default();
        if stake < min {
            bail!(UsageError(format!(
                "--stake {} is below the registry's minimum stake of {}",
                TokenInfo::eth().format(stake),
                current.min_stake.human
            )));
        }
        let signer = self.signer.unwrap_or(owner);
        let call = registry(&market)?
            .register(
                signer,
                self.region.bit(),
                keccak256(self.hardware.as_bytes()),
                self.attestation.unwrap_or_default(),
                self.endpoint.clone(),
            )
            .value(stake)
            .into_transaction_request();
        let summary = format!(
            "Register {owner} as an operator:\n  region     {}\n  stake      {}\n  signer     {signer}{}\n  hardware   {:?}\n",
            self.region,
            TokenInfo::eth().format(stake),
            if signer == owner { " (the owner key itself)" } else { "" },
            self.hardware,
        );
        confirm_and_send(ctx, &market, "register operator", summary, call).await
    }
}

impl AddStakeArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let amount = positive(&self.amount)?;
        let market = Market::signing(ctx).await?;
        let current = registered(&market).await?;
        let call = registry(&market)?.addStake().value(amount).into_transaction_request();
        let summary = format!(
            "Add {} to {}'s stake (now {})\n",
            TokenInfo::eth().format(amount),
            current.operator,
            current.stake.human
        );
        confirm_and_send(ctx, &market, "add stake", summary, call).await
    }
}

impl UnstakeArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let amount = positive(&self.amount)?;
        let market = Market::signing(ctx).await?;
        let current = registered(&market).await?;
        let free = current.free.raw.parse::<U256>().unwrap_or_default();
        if amount > free {
            bail!(
                "cannot unstake {}: only {} of {}'s stake is free ({} is locked as bonds of jobs in flight)",
                TokenInfo::eth().format(amount),
                current.free.human,
                current.operator,
                current.locked.human
            );
        }
        let call = registry(&market)?.requestUnstake(amount).into_transaction_request();
        let summary = format!(
            "Unstake {} from {} (it unbonds first; the delay restarts for the whole unbonding sum, now {})\n",
            TokenInfo::eth().format(amount),
            current.operator,
            current.unbonding.human
        );
        confirm_and_send(ctx, &market, "request unstake", summary, call).await
    }
}

impl WithdrawStakeArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let current = registered(&market).await?;
        if current.unbonding.raw == "0" {
            bail!(
                "{} has no unbonding stake to withdraw; unstake some first (`cairn operator unstake`)",
                current.operator
            );
        }
        let now = market.now().await?;
        if now < current.unbonding_ready_at {
            bail!(
                "{} of unbonding stake becomes withdrawable at unix time {} ({} s from now); nothing was sent",
                current.unbonding.human,
                current.unbonding_ready_at,
                current.unbonding_ready_at - now
            );
        }
        let call = registry(&market)?.withdrawUnstaked().into_transaction_request();
        let summary = format!("Withdraw {} of unbonded stake to {}\n", current.unbonding.human, current.operator);
        confirm_and_send(ctx, &market, "withdraw unstaked", summary, call).await
    }
}

impl SetSignerArgs {
    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let current = registered(&market).await?;
        if current.signer == self.signer {
            bail!("{} is already {}'s signer; nothing to change", self.signer, current.operator);
        }
        let call = registry(&market)?.setSigner(self.signer).into_transaction_request();
        let mut summary = format!(
            "Set {}'s signer to {} (was {}): a runner holding the old key can no longer claim or sign receipts\n",
            current.operator, self.signer, current.signer
        );
        if current.locked.raw != "0" {
            // Claims in flight were made by the old key's runner: their receipts would no longer count.
            summary += &format!(
                "  WARNING    {} is locked as bonds of claimed jobs: receipts the old key signs for them will be \
                 refused and their claims lapse (penalty). Drain the runner first (SIGTERM) and wait for the locked \
                 stake to reach 0 ETH.\n",
                current.locked.human
            );
        }
        confirm_and_send(ctx, &market, "set signer", summary, call).await
    }
}

/// The signing account's operator view, or an error when it is not registered.
async fn registered(market: &Market) -> anyhow::Result<OperatorView> {
    let current = view(market, market.account()).await?;
    if !current.registered {
        bail!("{} is not a registered operator; register it first with `cairn operator register`", current.operator);
    }
    Ok(current)
}

/// An ETH amount that is not zero.
fn positive(text: &str) -> anyhow::Result<U256> {
    let amount = TokenInfo::eth().parse(text)?;
    if amount.is_zero() {
        bail!(UsageError(format!("the amount {text:?} is zero; give a positive amount with its unit, e.g. 1ether")));
    }
    Ok(amount)
}
