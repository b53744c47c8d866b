//! `cairn withdraw`: pays out the signer's pull balances (every contract's `withdraw(token)`; never paused).

use anyhow::bail;
use clap::Args;
use serde::Serialize;

use crate::{
    Context,
    cmd::{Market, PullBalance, TxView, pull_balances, with_done, withdraw_tx},
};

/// Withdraw pull balances to the signing account.
///
/// Every non-zero balance of the token(s) in the ModelRegistry, JobMarket and ReexecutionCommittee is
/// withdrawn, one transaction each, after confirming.
///
/// Examples:
///   cairn --account seller withdraw
///   cairn withdraw --token DUSD --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WithdrawArgs {
    /// Only this token: ETH, a deployed token's symbol, or an address (default: every token).
    #[arg(long)]
    pub token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Withdrawn {
    withdrawn: Vec<PullBalance>,
    transactions: Vec<TxView>,
}

impl WithdrawArgs {
    /// Runs it.
    ///
    /// Errors: nothing to withdraw; refused confirmation; a transaction fails (earlier ones stay done, and
    /// are printed).
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let tokens = match &self.token {
            Some(t) => vec![market.resolve_token(t).await?],
            None => market.known_tokens().await?,
        };
        let account = market.account();
        let balances = pull_balances(&market, account, &tokens).await?;
        if balances.is_empty() {
            let which = self.token.as_deref().unwrap_or("any token");
            bail!("{account} has nothing to withdraw in {which} (see `cairn balance`)");
        }
        let mut plan = Vec::new();
        let mut summary = format!("Withdraw to {account}:\n");
        for b in &balances {
            let action = format!("withdraw {} from {}", b.amount.human, b.contract);
            let tx = withdraw_tx(&market, &b.contract, b.amount.token)?;
            let quote = market.quote(&action, &tx).await?;
            summary += &format!("  {:<21} {}  ({})\n", b.contract, b.amount.human, quote.line());
            plan.push((action, tx));
        }
        ctx.out.confirm(ctx.yes, &summary)?;
        let mut transactions = Vec::new();
        for (action, tx) in plan {
            let (sent, _) = market.send(ctx, &action, tx).await.map_err(|e| with_done(e, &transactions))?;
            ctx.out.note(&sent.line());
            transactions.push(sent);
        }
        let done = Withdrawn { withdrawn: balances, transactions };
        ctx.out.print(&done, |d| {
            let total: Vec<String> = d.withdrawn.iter().map(|b| b.amount.human.clone()).collect();
            format!("Withdrawn: {}", total.join("; "))
        })
    }
}
