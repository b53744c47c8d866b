//! `cairn license buy <model>`: buys a licence at the terms the buyer saw. Those terms go with the
//! transaction as its bounds (token, `maxPrice`, `minPeriod`; interfaces v2), so a seller who changes them in
//! front of the purchase makes it revert instead of charging more, for less, or in another token.

use alloy::{
    primitives::{Address, U256},
    sol_types::{SolStruct, eip712_domain},
};
use anyhow::{Context as _, bail};
use cairn_bindings::ModelRegistry;
use cairn_protocol::units::parse_secs;
use clap::Args;
use serde::Serialize;

use crate::{
    Context, UsageError,
    cmd::{
        IERC20Permit, Market, Permit, Plan, TxView,
        model::{Listing, listing},
    },
    output::{AmountView, TokenInfo},
};

/// Buy (or extend) a licence.
///
/// The price, token and period shown are sent as the purchase's bounds: if the seller changes them before
/// the transaction lands, it reverts and nothing is paid. ERC-20 licences are paid by allowance (an
/// `approve` is sent first when the allowance is short) or, with --permit, by an EIP-2612 permit signed
/// here (one transaction).
///
/// Examples:
///   cairn --account buyer license buy 1
///   cairn license buy 7 --max-price 25 --min-period 30d --permit --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BuyArgs {
    /// The model.
    #[arg(value_parser = crate::cmd::model_id)]
    pub model: U256,
    /// Most you pay (default: the current price). ETH needs a unit (0.01ether); ERC-20 amounts are in whole
    /// tokens (12.5) or base units (12500000wei).
    #[arg(long, value_name = "AMOUNT")]
    pub max_price: Option<String>,
    /// Shortest licence you accept, e.g. 30d, 12h, 3600 (default: the current period).
    #[arg(long, value_name = "DURATION")]
    pub min_period: Option<String>,
    /// ERC-20 only: pay with an EIP-2612 permit signed here instead of an allowance.
    #[arg(long)]
    pub permit: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bought {
    model_id: String,
    version: u64,
    buyer: Address,
    price: AmountView,
    max_price: AmountView,
    period_seconds: u64,
    expiry: u64,
    transactions: Vec<TxView>,
}

impl BuyArgs {
    /// Runs it.
    ///
    /// Errors: the model is unknown, deprecated or needs no licence; the bounds are below the current
    /// terms; the balance is short; the confirmation is refused; a transaction fails.
    pub async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let market = Market::signing(ctx).await?;
        let registry_address = market.address("ModelRegistry")?;
        let registry = ModelRegistry::new(registry_address, market.chain.provider());
        let Listing { model, version, terms } = listing(&market, self.model).await?;
        if model.deprecated {
            bail!("model {} is deprecated: it sells no new licences", self.model);
        }
        if terms.licensePrice.is_zero() {
            bail!("model {} needs no licence: its jobs are open to every buyer", self.model);
        }
        let token = market.token(terms.paymentToken).await?;
        if self.permit && token.is_eth() {
            bail!(UsageError(format!("model {} is paid in ETH; --permit is for ERC-20 tokens", self.model)));
        }
        let price = terms.licensePrice;
        if ctx.yes && self.max_price.is_none() {
            bail!(UsageError(format!(
                "with --yes nobody sees the price before paying: give --max-price (the licence costs {} now)",
                token.format(price)
            )));
        }
        let max_price = match &self.max_price {
            Some(text) => token.parse(text)?,
            None => price,
        };
        if price > max_price {
            bail!(
                "the licence costs {}, above your --max-price {}; raise --max-price to buy at this price",
                token.format(price),
                token.format(max_price)
            );
        }
        let period = terms.licensePeriod;
        let min_period = match &self.min_period {
            Some(text) => parse_secs(text).map_err(|e| UsageError(e.to_string()))?,
            None => period,
        };
        if period < min_period {
            bail!("the licence lasts {period} s, shorter than your --min-period {min_period} s");
        }
        let buyer = market.account();
        let current = registry.licenseExpiry(self.model, buyer).call().await.context("reading your licence")?;
        let now = market.now().await?;
        let expected = current.max(now).saturating_add(period);

        let mut plan: Plan = Vec::new();
        let buy_tx = if token.is_eth() {
            let have = market.chain.balance(buyer).await?;
            if have < price {
                bail!(
                    "{buyer} holds {}, less than the licence's {}; fund it first",
                    token.format(have),
                    token.format(price)
                );
            }
            registry
                .buyLicense(self.model, token.address, max_price, min_period)
                .value(price)
                .into_transaction_request()
        } else {
            let erc20 = IERC20Permit::new(token.address, market.chain.provider());
            let have = erc20.balanceOf(buyer).call().await.context("reading your token balance")?;
            if have < price {
                bail!("{buyer} holds {}, less than the licence's {}", token.format(have), token.format(price));
            }
            if self.permit {
                let deadline = U256::from(now + 3600);
                let (v, r, s) = sign_permit(&market, &token, registry_address, max_price, deadline).await?;
                registry
                    .buyLicenseWithPermit(self.model, token.address, max_price, min_period, deadline, v, r, s)
                    .into_transaction_request()
            } else {
                let allowance =
                    erc20.allowance(buyer, registry_address).call().await.context("reading your allowance")?;
                if allowance < price {
                    plan.push((
                        format!("approve {} for the ModelRegistry", token.format(price)),
                        erc20.approve(registry_address, price).into_transaction_request(),
                    ));
                }
                registry.buyLicense(self.model, token.address, max_price, min_period).into_transaction_request()
            }
        };
        plan.push((format!("buy a licence of model {}", self.model), buy_tx));

        let mut summary = format!(
            "Licence of model {} (version {version}, seller {})\n  price     {}\n  max price {}\n  period    {period} s \
             (at least {min_period} s)\n  expiry    {} → about {expected} (unix seconds)\n  buyer     {buyer}\n",
            self.model,
            model.seller,
            token.format(price),
            token.format(max_price),
            if current == 0 { "none".to_string() } else { current.to_string() }
        );
        summary += &market.plan_lines(&plan, 10).await?;
        ctx.out.confirm(ctx.yes, &summary)?;
        let (transactions, last) = market.send_plan(ctx, plan).await?;
        // The expiry the chain set (the estimate above used the latest block's time, not the mined one's).
        let expiry = last
            .decoded_log::<ModelRegistry::LicenseBought>()
            .map(|e| e.expiry)
            .context("the purchase's receipt has no LicenseBought event")?;
        let bought = Bought {
            model_id: self.model.to_string(),
            version,
            buyer,
            price: token.amount(price),
            max_price: token.amount(max_price),
            period_seconds: period,
            expiry,
            transactions,
        };
        ctx.out.print(&bought, |b| {
            format!("Licence of model {} bought: {} until {} (unix seconds)", b.model_id, b.price.human, b.expiry)
        })
    }
}

/// Signs an EIP-2612 permit of `value` for `spender`, in the token's own EIP-712 domain (read with EIP-5267's
/// `eip712Domain()`), and returns (v, r, s).
pub(crate) async fn sign_permit(
    market: &Market,
    token: &TokenInfo,
    spender: Address,
    value: U256,
    deadline: U256,
) -> anyhow::Result<(u8, alloy::primitives::B256, alloy::primitives::B256)> {
    let erc20 = IERC20Permit::new(token.address, market.chain.provider());
    let domain = erc20.eip712Domain().call().await.with_context(|| {
        format!(
            "{} does not report its EIP-712 domain (EIP-5267): it takes no permits; buy without --permit",
            token.symbol
        )
    })?;
    let owner = market.account();
    let nonce = erc20.nonces(owner).call().await.context("reading the permit nonce")?;
    let permit = Permit { owner, spender, value, nonce, deadline };
    let domain = eip712_domain! {
        name: domain.name,
        version: domain.version,
        chain_id: market.chain.chain_id(),
        verifying_contract: token.address,
    };
    let signature = market.sign_hash(&permit.eip712_signing_hash(&domain)).await.context("signing the permit")?;
    Ok((27 + u8::from(signature.v()), signature.r().into(), signature.s().into()))
}
