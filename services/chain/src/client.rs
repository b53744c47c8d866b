//! The provider and robust transaction sending.
//!
//! Reads are retried on transient failures ([`ChainOptions::max_retries`]); transaction sends never are
//! (the [`RetryReads`] layer routes every `eth_send*` request around the retry layer, as alloy's
//! `RetryBackoffService` documentation asks). [`Chain::send`] signs locally, so it knows the transaction's
//! hash before broadcasting; when the answer to a broadcast is lost (a gateway's 502 after the node took it,
//! a dropped connection) it looks the hash up and waits for that receipt, and when the node does not know the
//! hash it broadcasts the *same signed bytes* again — never a new transaction, so a send is paid at most once.

use std::{
    collections::HashMap,
    path::Path,
    sync::RwLock,
    task::{Context, Poll},
    time::Duration,
};

use alloy::{
    eips::Encodable2718,
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{
        DynProvider, Identity, Provider, ProviderBuilder, SendableTx,
        fillers::{FillProvider, GasFiller, JoinFill, WalletFiller},
    },
    rpc::{
        client::ClientBuilder,
        json_rpc::{RequestPacket, ResponsePacket},
        types::{TransactionReceipt, TransactionRequest},
    },
    signers::local::PrivateKeySigner,
    transports::{
        RpcError, TransportError, TransportErrorKind, TransportFut,
        layers::{OrRetryPolicyFn, RateLimitRetryPolicy, RetryBackoffLayer, RetryBackoffService, RetryPolicy},
    },
};
use tokio::sync::Mutex;
use tower::{Layer, Service};

use crate::{DecodedRevert, Deployments, Error, Result, deployments::Deployed};

/// Blocks per `eth_getLogs` request in searches over a chain's history (public RPC providers cap a request
/// at a few thousand to ten thousand blocks; 5,000 passes the common caps).
pub const LOG_RANGE: u64 = 5_000;

/// Tunables of a [`Chain`].
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// How long to wait for a receipt.
    pub receipt_timeout: Duration,
    /// How often to poll for receipts and blocks.
    pub poll_interval: Duration,
    /// Retries of a failed read that looks transient (429, 502–504, rate-limit codes); also how many times a
    /// send whose answer was lost re-broadcasts the same signed transaction.
    pub max_retries: u32,
    /// Backoff before the first retry, in milliseconds.
    pub initial_backoff_ms: u64,
    /// Gas limit = estimate × (100 + margin) / 100.
    pub gas_margin_percent: u64,
    /// How long one JSON-RPC request (one attempt) may go unanswered before it fails as a transport error: a
    /// connection a gateway holds open without answering must not stall a service forever. A send whose
    /// answer times out is resolved by its hash like any lost answer ([`Chain::send`]).
    pub request_timeout: Duration,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            receipt_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_millis(500),
            max_retries: 5,
            initial_backoff_ms: 500,
            gas_margin_percent: 20,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Fills gas fees and signs (the nonce, gas limit and chain id are set by [`Chain::send`]).
type SigningProvider = FillProvider<JoinFill<JoinFill<Identity, GasFiller>, WalletFiller<EthereumWallet>>, DynProvider>;

struct Signer {
    address: Address,
    provider: SigningProvider,
}

/// A connection to one chain: read-only ([`Chain::connect_read_only`]) or with one signing account
/// ([`Chain::connect`], [`Chain::with_signer`]).
pub struct Chain {
    provider: DynProvider,
    url: String,
    chain_id: u64,
    signer: Option<Signer>,
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
            .field("account", &self.signer_address())
            .finish()
    }
}

fn transient(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(TransportErrorKind::HttpError(e)) => matches!(e.status, 502..=504),
        _ => false,
    }
}

/// Whether a JSON-RPC method must never be replayed blindly: every `eth_send*` (a replayed
/// `eth_sendTransaction` signs and pays again; a replayed `eth_sendRawTransaction` turns an accepted send
/// into "nonce too low") and `personal_sendTransaction`.
pub fn is_non_idempotent(method: &str) -> bool {
    method.starts_with("eth_send") || method == "personal_sendTransaction"
}

/// A retry layer for reads only: requests holding a non-idempotent method ([`is_non_idempotent`]) go to the
/// transport once, everything else through alloy's [`RetryBackoffLayer`]. Each attempt may be given a
/// timeout ([`RetryReads::with_timeout`]).
#[derive(Debug, Clone)]
pub struct RetryReads<P: RetryPolicy> {
    retry: RetryBackoffLayer<P>,
    timeout: Option<Duration>,
}

impl<P: RetryPolicy> RetryReads<P> {
    /// Wraps `retry`; attempts have no timeout.
    pub fn new(retry: RetryBackoffLayer<P>) -> Self {
        Self { retry, timeout: None }
    }

    /// Fails an attempt unanswered after `timeout` with a transport error (retried like any other by the
    /// policy of reads; for a send, the caller resolves the answer by hash).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl<S: Clone, P: RetryPolicy + Clone> Layer<S> for RetryReads<P> {
    type Service = RetryReadsService<Timed<S>, P>;

    fn layer(&self, inner: S) -> Self::Service {
        let timed = Timed { inner, timeout: self.timeout };
        RetryReadsService { once: timed.clone(), retrying: self.retry.layer(timed) }
    }
}

/// The service of [`RetryReads`].
#[derive(Debug, Clone)]
pub struct RetryReadsService<S, P: RetryPolicy> {
    once: S,
    retrying: RetryBackoffService<S, P>,
}

/// A transport whose requests fail after `timeout` unanswered (`None`: never).
#[derive(Debug, Clone)]
pub struct Timed<S> {
    inner: S,
    timeout: Option<Duration>,
}

impl<S> Service<RequestPacket> for Timed<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Future = TransportFut<'static>, Error = TransportError>,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        let call = self.inner.call(request);
        let Some(timeout) = self.timeout else { return call };
        Box::pin(async move {
            tokio::time::timeout(timeout, call).await.unwrap_or_else(|_| {
                Err(TransportErrorKind::custom_str(&format!(
                    "no answer within {timeout:?} (ChainOptions::request_timeout)"
                )))
            })
        })
    }
}

impl<S, P> Service<RequestPacket> for RetryReadsService<S, P>
where
    S: Service<RequestPacket, Response = ResponsePacket, Future = TransportFut<'static>, Error = TransportError>
        + Send
        + 'static
        + Clone,
    P: RetryPolicy + Clone + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self.once.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.retrying.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        if request.method_names().any(is_non_idempotent) {
            self.once.call(request)
        } else {
            self.retrying.call(request)
        }
    }
}

/// Texts nodes use when they refuse a nonce that is already taken (geth, anvil, reth, Nethermind, Besu).
fn nonce_taken(text: &str) -> bool {
    ["nonce too low", "replacement transaction underpriced", "oldnonce", "nonce has already been used"]
        .iter()
        .any(|t| text.contains(t))
}

/// Texts nodes use when they already hold this exact transaction.
fn already_known(text: &str) -> bool {
    text.contains("already known") || text.contains("known transaction") || text.contains("alreadyknown")
}

impl Chain {
    /// Connects to `url` (`http(s)://`, `ws(s)://`) read-only: reads and calls work, [`Chain::send`] is
    /// [`Error::NoSigner`] until a signer is attached with [`Chain::with_signer`].
    pub async fn connect_read_only(url: &str, options: ChainOptions) -> Result<Self> {
        let rpc_err = |detail: String| Error::Rpc { url: url.to_string(), detail };
        let policy = OrRetryPolicyFn::new(RateLimitRetryPolicy::default(), transient);
        let retry =
            RetryBackoffLayer::new_with_policy(options.max_retries, options.initial_backoff_ms, u64::MAX, policy);
        let client = ClientBuilder::default()
            .layer(RetryReads::new(retry).with_timeout(options.request_timeout))
            .connect(url)
            .await
            .map_err(|e| rpc_err(e.to_string()))?;
        let client = client.with_poll_interval(options.poll_interval);
        let provider = ProviderBuilder::new().connect_client(client).erased();
        let chain_id = provider.get_chain_id().await.map_err(|e| rpc_err(e.to_string()))?;
        tracing::debug!(%url, chain_id, "connected");
        Ok(Self {
            provider,
            url: url.to_string(),
            chain_id,
            signer: None,
            nonce: Mutex::new(None),
            names: RwLock::new(HashMap::new()),
            options,
        })
    }

    /// Connects to `url` and signs with `signer` (= [`Chain::connect_read_only`] + [`Chain::with_signer`]).
    pub async fn connect(url: &str, signer: PrivateKeySigner, options: ChainOptions) -> Result<Self> {
        Ok(Self::connect_read_only(url, options).await?.with_signer(signer))
    }

    /// This connection, signing with `signer` from now on (the nonce is read from the node at the next send).
    pub fn with_signer(mut self, signer: PrivateKeySigner) -> Self {
        let address = signer.address();
        let provider = ProviderBuilder::default()
            .filler(GasFiller::default())
            .wallet(EthereumWallet::from(signer))
            .connect_provider(self.provider.clone());
        tracing::debug!(url = %self.url, %address, "signing");
        self.signer = Some(Signer { address, provider });
        self.nonce = Mutex::new(None);
        self
    }

    /// The provider (reads, subscriptions, bindings). It holds no key: send through [`Chain::send`].
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The node's chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The signing account, `None` on a read-only connection.
    pub fn signer_address(&self) -> Option<Address> {
        self.signer.as_ref().map(|s| s.address)
    }

    /// The signing account; [`Address::ZERO`] on a read-only connection (which cannot send, so the zero
    /// address never signs anything). Prefer [`Chain::signer_address`] where read-only is possible.
    pub fn account(&self) -> Address {
        self.signer_address().unwrap_or(Address::ZERO)
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

    /// Loads `dir/<chainId>.json` for this node's chain (the file is read on tokio's blocking pool; a file of
    /// another interface version is [`Error::DeploymentsVersion`]), checks every contract has code and that each
    /// one whose artifact declares `interfaceVersion()` reports [`crate::INTERFACE_VERSION`]
    /// ([`Error::InterfaceVersion`]: a file that does not describe what is on chain), and names them.
    pub async fn deployments(&self, dir: &Path) -> Result<Deployments> {
        let (owned, chain_id) = (dir.to_path_buf(), self.chain_id);
        let d = tokio::task::spawn_blocking(move || Deployments::load(&owned, chain_id)).await.map_err(|e| {
            Error::BadDeployments {
                path: Deployments::path(dir, chain_id),
                detail: format!("reading it stopped before it finished: {e}"),
            }
        })??;
        for (name, c) in &d.contracts {
            self.ensure_code(name, c.address).await?;
            if crate::declares_interface_version(name) {
                self.expect_version_at_code(name, c.address).await?;
            }
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

    /// The last log of `event` emitted by `address` with `topic1` (a job or dispute id), searching backwards from
    /// the head in ranges of [`LOG_RANGE`] blocks down to `from_block` (RPC providers refuse `eth_getLogs` over a
    /// whole chain; the newest match is usually recent). `None` when there is none.
    ///
    /// Errors: [`Error::Transport`] when the node fails.
    pub async fn last_log(
        &self,
        address: Address,
        event: alloy::primitives::B256,
        topic1: alloy::primitives::B256,
        from_block: u64,
    ) -> Result<Option<alloy::rpc::types::Log>> {
        let head = self.provider.get_block_number().await.map_err(|e| self.transport("eth_blockNumber", e))?;
        let mut to = head;
        loop {
            let from = to.saturating_sub(LOG_RANGE - 1).max(from_block);
            let filter = alloy::rpc::types::Filter::new()
                .address(address)
                .event_signature(event)
                .topic1(topic1)
                .from_block(from)
                .to_block(to);
            let logs = self.provider.get_logs(&filter).await.map_err(|e| self.transport("eth_getLogs", e))?;
            if let Some(log) = logs.into_iter().last() {
                return Ok(Some(log));
            }
            if from <= from_block {
                return Ok(None);
            }
            to = from - 1;
        }
    }

    /// The balance of `address`, in wei.
    pub async fn balance(&self, address: Address) -> Result<U256> {
        self.provider.get_balance(address).await.map_err(|e| self.transport("eth_getBalance", e))
    }

    fn transport(&self, action: &str, e: impl std::fmt::Display) -> Error {
        Error::Transport { action: action.into(), detail: format!("{e} (RPC {})", self.url) }
    }

    async fn classify(&self, action: &str, to: Option<Address>, from: Address, e: TransportError) -> Error {
        let called = to.and_then(|a| self.names.read().expect("names lock").get(&a).cloned());
        if let Some(data) = e.as_error_resp().and_then(|r| r.as_revert_data()) {
            return Error::Reverted {
                action: action.into(),
                revert: Box::new(DecodedRevert::decode(&data, called.as_deref())),
            };
        }
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("insufficient funds") || text.contains("gas required exceeds allowance") {
            let balance = self.balance(from).await.unwrap_or_default();
            return Error::Unfunded { action: action.into(), address: from, balance };
        }
        if text.contains("execution reverted") {
            return Error::Reverted {
                action: action.into(),
                revert: Box::new(DecodedRevert::decode(&[], called.as_deref())),
            };
        }
        self.transport(action, e)
    }

    /// Estimates the gas of `tx` from the signing account (or `tx.from` on a read-only connection), so a
    /// command can show the cost before asking to send.
    ///
    /// Errors: a call that would revert is [`Error::Reverted`] with the decoded custom error (as [`Chain::send`]
    /// reports it); an unfunded sender [`Error::Unfunded`]; else [`Error::Transport`].
    pub async fn estimate(&self, action: &str, mut tx: TransactionRequest) -> Result<u64> {
        let from = match (&self.signer, tx.from) {
            (Some(s), _) => s.address,
            (None, Some(from)) => from,
            (None, None) => Address::ZERO,
        };
        tx.set_from(from);
        let to = tx.to.and_then(|t| t.to().copied());
        match self.provider.estimate_gas(tx).await {
            Ok(g) => Ok(g),
            Err(e) => Err(self.classify(action, to, from, e).await),
        }
    }

    /// Sends `tx` from the signing account and waits for its receipt.
    ///
    /// - Without a signer: [`Error::NoSigner`], nothing sent.
    /// - Gas is estimated first, so a call that would revert fails here with the decoded custom error and
    ///   uses no nonce.
    /// - Nonces come from one lock: concurrent sends from this process never clash. A send that fails makes
    ///   the next one re-read the nonce from the node; a nonce another process used meanwhile is
    ///   [`Error::NonceTaken`] (nothing sent).
    /// - The transaction is signed here, so its hash is known before it is broadcast. A broadcast whose answer
    ///   is lost is resolved by that hash (`eth_getTransactionByHash`, then the receipt); if the node does not
    ///   know it, the same signed bytes are broadcast again (at most [`ChainOptions::max_retries`] times), then
    ///   [`Error::SendUnresolved`]. A new transaction is never made for the same call.
    pub async fn send(&self, action: &str, mut tx: TransactionRequest) -> Result<TransactionReceipt> {
        let Some(signer) = &self.signer else { return Err(Error::NoSigner { action: action.into() }) };
        let from = signer.address;
        tx.set_from(from);
        tx.set_chain_id(self.chain_id);
        let to = tx.to.and_then(|t| t.to().copied());
        let estimate = match self.provider.estimate_gas(tx.clone()).await {
            Ok(g) => g,
            Err(e) => return Err(self.classify(action, to, from, e).await),
        };
        tx.set_gas_limit(estimate.saturating_mul(100 + self.options.gas_margin_percent) / 100);

        let hash = {
            let mut next = self.nonce.lock().await;
            let nonce = match *next {
                Some(n) => n,
                None => self
                    .provider
                    .get_transaction_count(from)
                    .pending()
                    .await
                    .map_err(|e| self.transport("eth_getTransactionCount", e))?,
            };
            tx.set_nonce(nonce);
            let signed = match signer.provider.fill(tx).await {
                Ok(SendableTx::Envelope(signed)) => signed,
                Ok(SendableTx::Builder(_)) => {
                    return Err(self.transport(action, "the wallet left the transaction unsigned"));
                }
                Err(e) => return Err(self.classify(action, to, from, e).await),
            };
            let hash = *signed.tx_hash();
            match self.broadcast(action, &signed.encoded_2718(), hash).await {
                Ok(()) => {
                    *next = Some(nonce + 1);
                    hash
                }
                Err(e) => {
                    *next = None;
                    return Err(match e {
                        Refused::Node(e) => self.refused(action, to, from, nonce, e).await,
                        Refused::Unresolved(e) => e,
                    });
                }
            }
        };
        tracing::info!(action, tx = %hash, "sent");
        let receipt = self.wait_receipt(action, hash).await?;
        if !receipt.status() {
            return Err(Error::FailedOnChain {
                action: action.into(),
                tx: hash,
                block: receipt.block_number.unwrap_or_default(),
            });
        }
        Ok(receipt)
    }

    /// The receipt of `hash`, read by hash 2 ms after the send, then after gaps of 4, 8, 16 … ms up to the poll
    /// interval, until the receipt timeout. Not through alloy's pending-transaction watcher, which waits for a
    /// block notification: anvil announces a block ~44 ms after mining it (measured over ws), so over ws every
    /// send waited that long for a receipt an automining node already had. A read that fails (past the retries
    /// of transient errors) is logged and read again: the transaction is out, so only its hash can tell.
    ///
    /// Errors: [`Error::ReceiptTimeout`] (with the hash to look up), whether the reads found nothing or failed.
    async fn wait_receipt(&self, action: &str, hash: B256) -> Result<TransactionReceipt> {
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(2);
        loop {
            let left = self.options.receipt_timeout.saturating_sub(started.elapsed());
            tokio::time::sleep(wait.min(self.options.poll_interval).min(left)).await;
            match self.provider.get_transaction_receipt(hash).await {
                Ok(Some(receipt)) => return Ok(receipt),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(action, tx = %hash, url = %self.url, error = %e, "cannot read the receipt yet; reading again")
                }
            }
            if started.elapsed() >= self.options.receipt_timeout {
                return Err(Error::ReceiptTimeout {
                    action: action.into(),
                    tx: hash,
                    after: self.options.receipt_timeout,
                });
            }
            wait = wait.saturating_mul(2);
        }
    }

    /// Whether the node knows transaction `hash` (pending or mined).
    async fn knows(&self, hash: B256) -> bool {
        matches!(self.provider.get_transaction_by_hash(hash).await, Ok(Some(_)))
    }

    /// Broadcasts the signed bytes `raw` of transaction `hash` until the node holds it.
    async fn broadcast(&self, action: &str, raw: &[u8], hash: B256) -> Result<(), Refused> {
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let error = match self.provider.send_raw_transaction(raw).await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let text = error.to_string().to_ascii_lowercase();
            if already_known(&text) || self.knows(hash).await {
                tracing::warn!(action, tx = %hash, %error, "the broadcast's answer was lost, but the node holds the transaction");
                return Ok(());
            }
            let retryable = match &error {
                RpcError::ErrorResp(payload) => payload.is_retry_err(),
                _ => true,
            };
            if !retryable {
                // The node answered, refusing this transaction: it was not taken.
                return Err(Refused::Node(error));
            }
            if attempts > self.options.max_retries {
                return Err(Refused::Unresolved(Error::SendUnresolved {
                    action: action.into(),
                    tx: hash,
                    attempts,
                    detail: format!("{error} (RPC {})", self.url),
                }));
            }
            tracing::warn!(action, tx = %hash, %error, attempts, "no answer to the broadcast; sending the same signed transaction again");
            let backoff = self.options.initial_backoff_ms.saturating_mul(u64::from(attempts));
            tokio::time::sleep(Duration::from_millis(backoff)).await;
        }
    }

    /// The error for a transaction the node refused.
    async fn refused(&self, action: &str, to: Option<Address>, from: Address, nonce: u64, e: TransportError) -> Error {
        if nonce_taken(&e.to_string().to_ascii_lowercase()) {
            let node_nonce = self.provider.get_transaction_count(from).pending().await.ok();
            return Error::NonceTaken { action: action.into(), account: from, nonce, node_nonce };
        }
        self.classify(action, to, from, e).await
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

/// Why a broadcast did not leave the transaction with the node.
enum Refused {
    /// The node answered with an error: the transaction was not taken.
    Node(TransportError),
    /// No answer, and the node does not know the hash.
    Unresolved(Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_never_retried_blindly() {
        for m in
            ["eth_sendRawTransaction", "eth_sendTransaction", "eth_sendRawTransactionSync", "personal_sendTransaction"]
        {
            assert!(is_non_idempotent(m), "{m}");
        }
        for m in ["eth_call", "eth_estimateGas", "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_chainId"]
        {
            assert!(!is_non_idempotent(m), "{m}");
        }
    }

    #[test]
    fn refusal_texts() {
        assert!(nonce_taken("nonce too low: next nonce 5, tx nonce 4"));
        assert!(nonce_taken("replacement transaction underpriced"));
        assert!(!nonce_taken("insufficient funds for gas * price + value"));
        assert!(already_known("already known"));
        assert!(!already_known("nonce too low"));
    }
}
