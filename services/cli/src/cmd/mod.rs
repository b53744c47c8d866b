//! The subcommands, one file each, and [`Market`]: the chain, the deployments and the contracts every
//! command works with.

pub mod audit;
pub mod balance;
pub mod config;
pub mod job;
pub mod license;
pub mod model;
pub mod operator;
pub mod wallet;
pub mod withdraw;

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::{TransactionReceipt, TransactionRequest},
    signers::{Signer as _, local::PrivateKeySigner},
};
use anyhow::{Context as _, bail};
use cairn_chain::{Chain, Deployments};
use serde::Serialize;

use crate::{
    Context, UsageError,
    output::{AmountView, TokenInfo},
};

/// EIP-20 + EIP-2612 as the CLI uses them (the generated `permit` call takes eight arguments).
#[allow(clippy::too_many_arguments, missing_docs)]
mod erc20 {
    alloy::sol! {
        /// EIP-20 with the metadata extension and EIP-2612 permits: what the CLI asks of a payment token.
        #[sol(rpc)]
        interface IERC20Permit {
            function name() external view returns (string);
            function symbol() external view returns (string);
            function decimals() external view returns (uint8);
            function balanceOf(address account) external view returns (uint256);
            function allowance(address owner, address spender) external view returns (uint256);
            function approve(address spender, uint256 value) external returns (bool);
            function nonces(address owner) external view returns (uint256);
            /// EIP-5267: the token's EIP-712 domain.
            function eip712Domain() external view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions);
            function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;
        }

        /// The EIP-2612 permit a token holder signs.
        struct Permit {
            address owner;
            address spender;
            uint256 value;
            uint256 nonce;
            uint256 deadline;
        }
    }
}

pub use erc20::{IERC20Permit, Permit};

/// The contracts that hold pull balances, by their deployments name.
pub const PAYING_CONTRACTS: [&str; 4] = ["ModelRegistry", "JobMarket", "ReexecutionCommittee", "DisputeDesk"];

/// The chain, its deployments, and helpers for tokens, fees and sends.
pub struct Market {
    /// The connection (read-only or signing).
    pub chain: Chain,
    /// The deployed contracts.
    pub deployments: Deployments,
    /// The signing key, for what is signed but not sent (permits).
    key: Option<PrivateKeySigner>,
}

/// What a transaction will cost at most: the estimate × the current max fee per gas (EIP-1559).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GasQuote {
    /// Estimated gas.
    pub gas: u64,
    /// Max fee per gas, wei.
    pub max_fee_per_gas: String,
    /// gas × max fee, in ETH.
    pub max_fee: AmountView,
}

impl GasQuote {
    /// `~52,000 gas, at most 0.0001 ETH (…)`.
    pub fn line(&self) -> String {
        format!("{} gas, at most {}", self.gas, self.max_fee.human)
    }
}

/// A mined transaction, as commands print it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TxView {
    /// What it did.
    pub action: String,
    /// Its hash.
    pub tx: B256,
    /// Its block.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// gas used × effective gas price, in ETH.
    pub fee: AmountView,
}

impl TxView {
    fn of(action: &str, receipt: &TransactionReceipt) -> Self {
        let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        Self {
            action: action.to_owned(),
            tx: receipt.transaction_hash,
            block: receipt.block_number.unwrap_or_default(),
            gas_used: receipt.gas_used,
            fee: TokenInfo::eth().amount(fee),
        }
    }

    /// `approve: tx 0x…, block 12, 46,000 gas, fee …`.
    pub fn line(&self) -> String {
        format!(
            "{}: tx {} in block {}, {} gas, fee {}",
            self.action, self.tx, self.block, self.gas_used, self.fee.human
        )
    }
}

impl Market {
    /// Connects read-only and loads the deployments.
    ///
    /// Errors: the RPC, the deployments file (see [`Context::deployments`]).
    pub async fn read(ctx: &Context) -> anyhow::Result<Self> {
        let chain = ctx.chain().await?;
        let deployments = ctx.deployments(&chain).await?;
        Ok(Self { chain, deployments, key: None })
    }

    /// Connects with the configured signer and loads the deployments.
    ///
    /// Errors: as [`Market::read`]; no signer; a keystore that cannot be unlocked.
    pub async fn signing(ctx: &Context) -> anyhow::Result<Self> {
        // A missing signer is said first; then the RPC is reached before the key is loaded, so a wrong URL
        // fails before a password is asked for.
        ctx.require_signer()?;
        let chain = ctx.chain().await?;
        let key = ctx.signing_key().await?;
        let chain = chain.with_signer(key.clone());
        let deployments = ctx.deployments(&chain).await?;
        Ok(Self { chain, deployments, key: Some(key) })
    }

    /// The address of a deployed contract.
    ///
    /// Errors: the deployments file lacks it.
    pub fn address(&self, name: &str) -> anyhow::Result<Address> {
        Ok(self.deployments.address(name)?)
    }

    /// The DisputeDesk (challenge pools, audits).
    ///
    /// Errors: the deployments file lacks it.
    pub fn desk(
        &self,
    ) -> anyhow::Result<cairn_bindings::DisputeDesk::DisputeDeskInstance<alloy::providers::DynProvider>> {
        Ok(cairn_bindings::DisputeDesk::new(self.address("DisputeDesk")?, self.chain.provider().clone()))
    }

    /// The ReexecutionCommittee (disputes, rounds, appeals).
    ///
    /// Errors: the deployments file lacks it.
    pub fn committee(
        &self,
    ) -> anyhow::Result<cairn_bindings::ReexecutionCommittee::ReexecutionCommitteeInstance<alloy::providers::DynProvider>>
    {
        Ok(cairn_bindings::ReexecutionCommittee::new(
            self.address("ReexecutionCommittee")?,
            self.chain.provider().clone(),
        ))
    }

    /// The signing account.
    pub fn account(&self) -> Address {
        self.chain.account()
    }

    /// Signs a 32-byte digest with the signing key (EIP-712 messages that are not transactions).
    ///
    /// Errors: a read-only market (a bug: commands that sign connect with [`Market::signing`]).
    pub async fn sign_hash(&self, digest: &B256) -> anyhow::Result<alloy::primitives::Signature> {
        let key = self.key.as_ref().context("no signing key loaded")?;
        Ok(key.sign_hash(digest).await?)
    }

    /// A token's symbol and decimals (ETH for address(0)).
    ///
    /// Errors: the address holds no ERC-20 with metadata.
    pub async fn token(&self, address: Address) -> anyhow::Result<TokenInfo> {
        if address == Address::ZERO {
            return Ok(TokenInfo::eth());
        }
        let erc20 = IERC20Permit::new(address, self.chain.provider());
        let symbol = erc20.symbol().call().await;
        let decimals = erc20.decimals().call().await;
        match (symbol, decimals) {
            (Ok(symbol), Ok(decimals)) => Ok(TokenInfo { address, symbol, decimals }),
            _ => bail!(
                "{address} on chain {} does not answer symbol() and decimals(): it is not an ERC-20 token",
                self.chain.chain_id()
            ),
        }
    }

    /// ETH, every deployed contract that is an ERC-20 (answers `symbol()` and `decimals()`), and every token a
    /// listed model's latest version is paid in (a seller may list in any token the market accepts, e.g. by
    /// address), each once.
    ///
    /// Errors: the chain fails while the models are read (a contract that is not a token is skipped).
    pub async fn known_tokens(&self) -> anyhow::Result<Vec<TokenInfo>> {
        let mut tokens = vec![TokenInfo::eth()];
        for (name, c) in &self.deployments.contracts {
            if PAYING_CONTRACTS.contains(&name.as_str()) || name.contains("Registry") {
                continue;
            }
            if let Ok(t) = self.token(c.address).await {
                tokens.push(t);
            }
        }
        let registry = cairn_bindings::ModelRegistry::new(self.address("ModelRegistry")?, self.chain.provider());
        let count = registry.modelCount().call().await.context("reading the model count")?;
        let mut id = U256::from(1);
        while id <= count {
            let model = registry.getModel(id).call().await.context("reading a model")?;
            let version = registry.getVersion(id, model.latestVersion).call().await.context("reading a model")?;
            if !tokens.iter().any(|t| t.address == version.paymentToken) {
                tokens.push(self.token(version.paymentToken).await?);
            }
            id += U256::from(1);
        }
        Ok(tokens)
    }

    /// `ETH`, a token address, or the symbol of a deployed token (case-insensitive).
    ///
    /// Errors: an unknown symbol (the known ones are listed); an address that is not a token.
    pub async fn resolve_token(&self, text: &str) -> anyhow::Result<TokenInfo> {
        if text.eq_ignore_ascii_case("eth") {
            return Ok(TokenInfo::eth());
        }
        if let Ok(address) = text.parse::<Address>() {
            return self.token(address).await;
        }
        let known = self.known_tokens().await?;
        if let Some(t) = known.iter().find(|t| t.symbol.eq_ignore_ascii_case(text)) {
            return Ok(t.clone());
        }
        let symbols: Vec<&str> = known.iter().map(|t| t.symbol.as_str()).collect();
        bail!(UsageError(format!(
            "unknown token `{text}`: give ETH, a token address, or one of the deployed tokens ({})",
            symbols.join(", ")
        )))
    }

    /// Estimates `tx` from the signing account and prices it at the current EIP-1559 max fee (the L2's L1 data
    /// fee, where one applies, is not included).
    ///
    /// Errors: the call would revert (the decoded custom error), or the node fails.
    pub async fn quote(&self, action: &str, tx: &TransactionRequest) -> anyhow::Result<GasQuote> {
        let gas = self.chain.estimate(action, tx.clone()).await?;
        let provider = self.chain.provider();
        let fees = provider.estimate_eip1559_fees().await.context("reading the gas price")?;
        let max_fee = U256::from(gas) * U256::from(fees.max_fee_per_gas);
        Ok(GasQuote {
            gas,
            max_fee_per_gas: fees.max_fee_per_gas.to_string(),
            max_fee: TokenInfo::eth().amount(max_fee),
        })
    }

    /// Sends `tx` under a spinner and returns what it cost, and its receipt (for the events).
    ///
    /// Errors: the chain client's (decoded revert, unfunded, timeout…), with `action` named.
    pub async fn send(
        &self,
        ctx: &Context,
        action: &str,
        tx: TransactionRequest,
    ) -> anyhow::Result<(TxView, TransactionReceipt)> {
        let receipt = match ctx
            .out
            .spin(&format!("{action}: waiting for the receipt"), self.chain.send(action, tx))
            .await
        {
            Ok(r) => r,
            // Refused before it was broadcast: nothing happened.
            Err(
                e @ (cairn_chain::Error::Reverted { .. }
                | cairn_chain::Error::Unfunded { .. }
                | cairn_chain::Error::NoSigner { .. }
                | cairn_chain::Error::NonceTaken { .. }),
            ) => return Err(anyhow::Error::new(e).context(format!("{action} was not sent; nothing happened on chain"))),
            // Broadcast, or possibly broadcast: its fate is on chain, and a rerun could pay twice.
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "{action} may have been sent: check its transaction (`cast receipt <hash>`) before running this \
                     command again"
                )));
            }
        };
        Ok((TxView::of(action, &receipt), receipt))
    }

    /// The time the next block will carry (unix seconds): the `pending` block's timestamp where the node serves
    /// one (anvil and op-geth do: on a devnet that mines only on transactions the latest block may be old, and
    /// `evm_increaseTime` moves the next one), else the latest block's. Commands compare deadlines with it, as
    /// the contracts compare them with the block that includes the transaction.
    ///
    /// Errors: the node fails.
    pub async fn now(&self) -> anyhow::Result<u64> {
        let pending = self.chain.provider().get_block_by_number(alloy::eips::BlockNumberOrTag::Pending).await;
        match pending {
            Ok(Some(block)) => Ok(block.header.timestamp),
            _ => self.latest_time().await,
        }
    }

    /// The latest block's timestamp (unix seconds).
    ///
    /// Errors: the node fails.
    pub async fn latest_time(&self) -> anyhow::Result<u64> {
        let block = self
            .chain
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .context("reading the latest block")?
            .context("the node has no latest block")?;
        Ok(block.header.timestamp)
    }
}

/// Transactions a command sends in order, each with what it does (e.g. an `approve`, then the purchase).
pub type Plan = Vec<(String, TransactionRequest)>;

impl Market {
    /// The summary lines of `plan`, `  tx N<pad>action: cost`, the label padded to `width`: the first
    /// transaction estimated now, the later ones only after the earlier are mined (a purchase cannot be
    /// estimated before its approval lands).
    ///
    /// Errors: the first transaction would revert (decoded), or the node fails.
    pub async fn plan_lines(&self, plan: &Plan, width: usize) -> anyhow::Result<String> {
        let mut lines = String::new();
        for (i, (action, tx)) in plan.iter().enumerate() {
            let cost =
                if i == 0 { self.quote(action, tx).await?.line() } else { "estimated after the approval".into() };
            let label = format!("tx {}", i + 1);
            lines += &format!("  {label:<width$}{action}: {cost}\n");
        }
        Ok(lines)
    }

    /// Quotes `tx`, asks with `summary` and a `  tx  action: cost` line, sends it and prints it.
    ///
    /// Errors: it would revert (decoded); the confirmation is refused; the send fails.
    pub async fn confirm_send(
        &self,
        ctx: &Context,
        action: &str,
        summary: &str,
        tx: TransactionRequest,
    ) -> anyhow::Result<(TxView, TransactionReceipt)> {
        let quote = self.quote(action, &tx).await?;
        ctx.out.confirm(ctx.yes, &format!("{summary}  tx  {action}: {}\n", quote.line()))?;
        let (sent, receipt) = self.send(ctx, action, tx).await?;
        ctx.out.note(&sent.line());
        Ok((sent, receipt))
    }

    /// Sends `plan` in order, printing each mined transaction; returns them and the last receipt.
    ///
    /// Errors: a transaction fails (what was mined before it is named, see [`with_done`]); an empty plan.
    pub async fn send_plan(&self, ctx: &Context, plan: Plan) -> anyhow::Result<(Vec<TxView>, TransactionReceipt)> {
        let mut transactions = Vec::new();
        let mut last = None;
        for (action, tx) in plan {
            let (sent, receipt) = self.send(ctx, &action, tx).await.map_err(|e| with_done(e, &transactions))?;
            ctx.out.note(&sent.line());
            transactions.push(sent);
            last = Some(receipt);
        }
        Ok((transactions, last.context("nothing to send")?))
    }
}

/// Adds to a failed step of a multi-transaction command the transactions already mined before it (they are
/// done and stay done; with `--json` they would otherwise be shown nowhere).
pub fn with_done(error: anyhow::Error, done: &[TxView]) -> anyhow::Error {
    if done.is_empty() {
        return error;
    }
    let lines: Vec<String> = done.iter().map(TxView::line).collect();
    error.context(format!("already done before this failed (mined, not undone):\n  {}", lines.join("\n  ")))
}

/// A model id from the command line: a positive integer.
pub fn model_id(text: &str) -> Result<U256, String> {
    match text.parse::<U256>() {
        Ok(id) if id > U256::ZERO => Ok(id),
        _ => Err(format!("`{text}` is not a model id: ids are whole numbers from 1 (see `cairn model list`)")),
    }
}

/// `account`'s pull balance of `token` in the paying contract `name` (one of [`PAYING_CONTRACTS`]).
///
/// Errors: the contract is not deployed; the chain.
pub async fn pull_balance(market: &Market, name: &str, account: Address, token: Address) -> anyhow::Result<U256> {
    use cairn_bindings::{JobMarket, ModelRegistry, ReexecutionCommittee};
    let (address, p) = (market.address(name)?, market.chain.provider());
    let read = |e: alloy::contract::Error| anyhow::Error::new(e).context(format!("reading your balance in {name}"));
    Ok(match name {
        "ModelRegistry" => ModelRegistry::new(address, p).balanceOf(account, token).call().await.map_err(read)?,
        "JobMarket" => JobMarket::new(address, p).balanceOf(account, token).call().await.map_err(read)?,
        _ => ReexecutionCommittee::new(address, p).balanceOf(account, token).call().await.map_err(read)?,
    })
}

/// The `withdraw(token)` transaction of the paying contract `name`.
///
/// Errors: the contract is not deployed.
pub fn withdraw_tx(market: &Market, name: &str, token: Address) -> anyhow::Result<TransactionRequest> {
    use cairn_bindings::{JobMarket, ModelRegistry, ReexecutionCommittee};
    let (address, p) = (market.address(name)?, market.chain.provider());
    Ok(match name {
        "ModelRegistry" => ModelRegistry::new(address, p).withdraw(token).into_transaction_request(),
        "JobMarket" => JobMarket::new(address, p).withdraw(token).into_transaction_request(),
        _ => ReexecutionCommittee::new(address, p).withdraw(token).into_transaction_request(),
    })
}

/// One non-zero pull balance.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullBalance {
    /// The contract holding it.
    pub contract: String,
    /// The amount.
    pub amount: AmountView,
}

/// Every non-zero pull balance of `account` in `tokens` across [`PAYING_CONTRACTS`].
///
/// Errors: the chain.
pub async fn pull_balances(
    market: &Market,
    account: Address,
    tokens: &[TokenInfo],
) -> anyhow::Result<Vec<PullBalance>> {
    let mut found = Vec::new();
    for name in PAYING_CONTRACTS {
        for token in tokens {
            let amount = pull_balance(market, name, account, token.address).await?;
            if !amount.is_zero() {
                found.push(PullBalance { contract: name.to_owned(), amount: token.amount(amount) });
            }
        }
    }
    Ok(found)
}
