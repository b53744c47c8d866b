//! `cairn balance`: what an account can withdraw from each contract (royalties and licence fees in the
//! ModelRegistry and JobMarket, operator fees, refunds, juror rewards), and what its wallet holds.

use alloy::primitives::Address;
use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{IERC20Permit, Market, PullBalance, pull_balances},
    output::AmountView,
};

/// Show pull balances (withdrawable) in every contract, and wallet balances.
///
/// Examples:
///   cairn --account seller balance
///   cairn balance --address 0xb56e… --token DUSD --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BalanceArgs {
    /// Whose balances (default: the configured signer's address).
    #[arg(long)]
    pub address: Option<Address>,
    /// Only this token: ETH, a symbol of a deployed token, or an address (default: ETH and every deployed
    /// token).
    #[arg(long)]
    pub token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Balances {
    account: Address,
    withdrawable: Vec<PullBalance>,
    wallet: Vec<AmountView>,
}

impl BalanceArgs {
    /// Runs it.
    ///
    /// Errors: no account given or configured; an unknown token; the chain.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let account = self.address.or_else(|| ctx.account_hint()).ok_or_else(|| {
            UsageError("whose balances? pass --address <account>, or configure a signer (--keystore, --account)".into())
        })?;
        let market = Market::read(ctx).await?;
        let tokens = match &self.token {
            Some(t) => vec![market.resolve_token(t).await?],
            None => market.known_tokens().await?,
        };
        let withdrawable = pull_balances(&market, account, &tokens).await?;
        let mut wallet = Vec::new();
        for token in &tokens {
            let held = if token.is_eth() {
                market.chain.balance(account).await?
            } else {
                IERC20Permit::new(token.address, market.chain.provider())
                    .balanceOf(account)
                    .call()
                    .await
                    .with_context(|| format!("reading the {} balance", token.symbol))?
            };
            wallet.push(token.amount(held));
        }
        let shown = Balances { account, withdrawable, wallet };
        ctx.out.print(&shown, |b| {
            let mut text = format!("Balances of {}\n  withdrawable (`cairn withdraw`):\n", b.account);
            if b.withdrawable.is_empty() {
                text += "    nothing\n";
            }
            for p in &b.withdrawable {
                text += &format!("    {:<21} {}\n", p.contract, p.amount.human);
            }
            text += "  wallet:\n";
            for w in &b.wallet {
                text += &format!("    {}\n", w.human);
            }
            text
        })
    }
}
