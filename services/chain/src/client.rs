//! The provider and robust transaction sending.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, PendingTransactionError, Provider, ProviderBuilder, WatchTxError},
    rpc::{
        client::ClientBuilder,
        types::{TransactionReceipt, TransactionRequest},
    },
    signers::local::PrivateKeySigner,
    transports::{
        RpcError, TransportError, TransportErrorKind,
        layers::{OrRetryPolicyFn, RateLimitRetryPolicy, RetryBackoffLayer},
    },
};
use tokio::sync::Mutex;

use crate::{DecodedRevert, Deployments, Error, Result, deployments::Deployed};

/// Tunables of a [`Chain`].
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// How long to wait for a receipt.
    pub receipt_timeout: Duration,
    /// How often to poll for receipts and blocks.
    pub poll_interval: Duration,
    /// Retries of a failed RPC request that looks transient (429, 502–504, rate-limit codes).
    pub max_retries: u32,
    /// Backoff before the first retry, in milliseconds.
    pub initial_backoff_ms: u64,
    /// Gas limit = estimate × (100 + margin) / 100.
    pub gas_margin_percent: u64,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_millis(500),
            max_retries: 5,
            initial_backoff_ms: 500,
            gas_margin_percent: 20,
        }
    }
}

/// A connection to one chain with one signing account.
pub struct Chain {
    provider: DynProvider,
    url: String,
    chain_id: u64,
    account: Address,
    /// The next nonce to use; `None` until read from the node (and after a failed send, to resync).
    nonce: Mutex<Option<u64>>,
    names: RwLock<HashMap<Address, String>>,
    options: ChainOptions,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("url", &self.url)
            .field("chain_id", &self.chain_id)
            .field("account", &self.account)
            .finish()
    }
}

fn transient(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(TransportErrorKind::HttpError(e)) => matches!(e.status, 502..=504),
        _ => false,
    }
}

impl Chain {
    /// Connects to `url` (`http(s)://`, `ws(s)://`) and signs with `signer`.
    pub async fn connect(url: &str, signer: PrivateKeySigner, options: ChainOptions) -> Result<Self> {
        let rpc_err = |detail: String| Error::Rpc { url: url.to_string(), detail };
        let policy = OrRetryPolicyFn::new(RateLimitRetryPolicy::default(), transient);
        let retry =
            RetryBackoffLayer::new_with_policy(options.max_retries, options.initial_backoff_ms, u64::MAX, policy);
        let client = ClientBuilder::default().layer(retry).connect(url).await.map_err(|e| rpc_err(e.to_string()))?;
        let client = client.with_poll_interval(options.poll_interval);
        let account = signer.address();
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_client(client).erased();
        let chain_id = provider.get_chain_id().await.map_err(|e| rpc_err(e.to_string()))?;
        tracing::debug!(%url, chain_id, %account, "connected");
        Ok(Self {
            provider,
            url: url.to_string(),
            chain_id,
            account,
            nonce: Mutex::new(None),
            names: RwLock::new(HashMap::new()),
            options,
        })
    }

    /// The provider (reads, subscriptions, bindings).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The node's chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The signing account.
    pub fn account(&self) -> Address {
        self.account
    }

    /// The RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Fails unless the node serves `expected` (`what` says where the expectation comes from).
    pub fn expect_chain(&self, what: &str, expected: u64) -> Result<()> {
        if expected == self.chain_id {
            Ok(())
        } else {
            Err(Error::ChainMismatch { what: what.into(), expected, actual: self.chain_id, url: self.url.clone() })
        }
    }

    /// Names an address, so reverts of calls to it name the contract.
    pub fn name_address(&self, address: Address, name: &str) {
        self.names.write().expect("names lock").insert(address, name.to_string());
    }

    /// Loads `dir/<chainId>.json` for this node's chain, checks every contract has code, and names them.
    pub async fn deployments(&self, dir: &std::path::Path) -> Result<Deployments> {
        let d = Deployments::load(dir, self.chain_id)?;
        for (name, c) in &d.contracts {
            self.ensure_code(name, c.address).await?;
            self.name_address(c.address, name);
        }
        Ok(d)
    }

    /// The runtime code at `address`, or [`Error::NoCode`] naming `contract`.
    pub async fn ensure_code(&self, contract: &str, address: Address) -> Result<Bytes> {
        let code = self.provider.get_code_at(address).await.map_err(|e| self.transport("eth_getCode", e))?;
        if code.is_empty() {
            return Err(Error::NoCode { contract: contract.into(), address, chain_id: self.chain_id });
        }
        Ok(code)
    }

    /// The balance of `address`.
    pub async fn balance(&self, address: Address) -> Result<U256> {
        self.provider.get_balance(address).await.map_err(|e| self.transport("eth_getBalance", e))
    }

    fn transport(&self, action: &str, e: TransportError) -> Error {
        Error::Transport { action: action.into(), detail: format!("{e} (RPC {})", self.url) }
    }

    async fn classify(&self, action: &str, to: Option<Address>, e: TransportError) -> Error {
        let called = to.and_then(|a| self.names.read().expect("names lock").get(&a).cloned());
        if let Some(data) = e.as_error_resp().and_then(|r| r.as_revert_data()) {
            return Error::Reverted {
                action: action.into(),
                revert: Box::new(DecodedRevert::decode(&data, called.as_deref())),
            };
        }
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("insufficient funds") || text.contains("gas required exceeds allowance") {
            let balance = self.balance(self.account).await.unwrap_or_default();
            return Error::Unfunded { action: action.into(), address: self.account, balance };
        }
        if text.contains("execution reverted") {
            return Error::Reverted {
                action: action.into(),
                revert: Box::new(DecodedRevert::decode(&[], called.as_deref())),
            };
        }
        self.transport(action, e)
    }

    /// Sends `tx` from the signing account and waits for its receipt.
    ///
    /// Gas is estimated first, so a call that would revert fails here with the decoded custom error and
    /// uses no nonce. Nonces come from one lock: concurrent sends from this process never clash. A send that
    /// fails makes the next one re-read the nonce from the node.
    pub async fn send(&self, action: &str, mut tx: TransactionRequest) -> Result<TransactionReceipt> {
        tx.set_from(self.account);
        let to = tx.to.and_then(|t| t.to().copied());
        let estimate = match self.provider.estimate_gas(tx.clone()).await {
            Ok(g) => g,
            Err(e) => return Err(self.classify(action, to, e).await),
        };
        tx.set_gas_limit(estimate.saturating_mul(100 + self.options.gas_margin_percent) / 100);

        let pending = {
            let mut next = self.nonce.lock().await;
            let nonce = match *next {
                Some(n) => n,
                None => self
                    .provider
                    .get_transaction_count(self.account)
                    .pending()
                    .await
                    .map_err(|e| self.transport("eth_getTransactionCount", e))?,
            };
            tx.set_nonce(nonce);
            match self.provider.send_transaction(tx).await {
                Ok(p) => {
                    *next = Some(nonce + 1);
                    p
                }
                Err(e) => {
                    *next = None;
                    return Err(self.classify(action, to, e).await);
                }
            }
        };
        let hash = *pending.tx_hash();
        tracing::info!(action, tx = %hash, "sent");
        let receipt =
            pending.with_timeout(Some(self.options.receipt_timeout)).get_receipt().await.map_err(|e| match e {
                PendingTransactionError::TxWatcher(WatchTxError::Timeout) => {
                    Error::ReceiptTimeout { action: action.into(), tx: hash, after: self.options.receipt_timeout }
                }
                other => Error::Transport { action: action.into(), detail: other.to_string() },
            })?;
        if !receipt.status() {
            return Err(Error::FailedOnChain {
                action: action.into(),
                tx: hash,
                block: receipt.block_number.unwrap_or_default(),
            });
        }
        Ok(receipt)
    }

    /// Sends a creation transaction (e.g. a binding's `deploy_builder(..).into_transaction_request()`) and
    /// returns where `name` now lives; the address is named for revert messages.
    pub async fn deploy(&self, name: &str, tx: TransactionRequest) -> Result<Deployed> {
        let receipt = self.send(&format!("deploy {name}"), tx).await?;
        let address = receipt.contract_address.ok_or_else(|| Error::Transport {
            action: format!("deploy {name}"),
            detail: "the receipt has no contract address".into(),
        })?;
        self.name_address(address, name);
        Ok(Deployed { address, block: receipt.block_number.unwrap_or_default(), tx: receipt.transaction_hash })
    }
}
