//! A send whose answer is lost is resolved by the transaction's hash, never paid twice: anvil behind a proxy
//! that forwards `eth_sendRawTransaction` and then answers 502 or drops the connection (what a gateway does
//! when the node is slow), or that loses the request before the node sees it.

use std::sync::{Arc, Mutex};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256, keccak256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use cairn_chain::{Chain, ChainOptions, Error};
use tokio::{io::AsyncWriteExt, net::TcpListener};

use crate::{
    ANVIL_KEY_0,
    resilience::{forward, ok_response, read_request},
};

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Forward the send, then answer 502 Bad Gateway.
    ForwardThen502,
    /// Forward the send, then close the connection without an answer.
    ForwardThenDrop,
    /// Forward the send, then hold the connection open and never answer (a gateway that hangs).
    ForwardThenHang,
    /// Answer 502 without forwarding (the request was lost before the node).
    Lose502,
    /// Forward every send, but close the connection on the first `faults` receipt reads (past the read retries).
    DropReceiptReads,
}

/// The proxy: what it saw of the sends (the raw transaction hex of each `eth_sendRawTransaction`).
struct Proxy {
    url: String,
    sends: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn sends(&self) -> Vec<String> {
        self.sends.lock().unwrap().clone()
    }
}

/// A proxy in front of anvil that applies `fault` to the first `faults` sends and forwards everything else.
async fn lossy_proxy(upstream: &str, fault: Fault, faults: usize) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sends = Arc::new(Mutex::new(Vec::new()));
    let (seen, upstream) = (sends.clone(), upstream.to_string());
    let receipt_reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let (client, seen, upstream) = (client.clone(), seen.clone(), upstream.clone());
            let receipt_reads = receipt_reads.clone();
            tokio::spawn(async move {
                while let Some(body) = read_request(&mut stream).await {
                    let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let mut faulty = None;
                    if request["method"] == "eth_getTransactionReceipt"
                        && matches!(fault, Fault::DropReceiptReads)
                        && receipt_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < faults
                    {
                        return; // closes the connection with no answer
                    }
                    if request["method"] == "eth_sendRawTransaction" {
                        let mut seen = seen.lock().unwrap();
                        seen.push(request["params"][0].as_str().unwrap().to_string());
                        if seen.len() <= faults && !matches!(fault, Fault::DropReceiptReads) {
                            faulty = Some(fault);
                        }
                    }
                    let bad_gateway = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n".to_vec();
                    let response = match faulty {
                        Some(Fault::ForwardThen502) => {
                            forward(&client, &upstream, &body).await;
                            bad_gateway
                        }
                        Some(Fault::ForwardThenDrop) => {
                            forward(&client, &upstream, &body).await;
                            return; // closes the connection with no answer
                        }
                        Some(Fault::ForwardThenHang) => {
                            forward(&client, &upstream, &body).await;
                            std::future::pending::<Vec<u8>>().await
                        }
                        Some(Fault::Lose502) => bad_gateway,
                        Some(Fault::DropReceiptReads) => unreachable!("receipt reads are dropped above"),
                        None => ok_response(&forward(&client, &upstream, &body).await),
                    };
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Proxy { url, sends }
}

fn payee() -> Address {
    Address::left_padding_from(&[0x30, 0x01])
}

fn transfer() -> TransactionRequest {
    TransactionRequest::default().with_to(payee()).with_value(U256::from(7))
}

fn options() -> ChainOptions {
    ChainOptions {
        max_retries: 3,
        initial_backoff_ms: 20,
        request_timeout: std::time::Duration::from_secs(2),
        ..ChainOptions::default()
    }
}

/// Sends one transfer through a proxy with `fault` on the first `faults` sends; checks it was paid once.
async fn paid_once(anvil: &cairn_testkit::Anvil, fault: Fault, faults: usize) -> Proxy {
    let proxy = lossy_proxy(anvil.url(), fault, faults).await;
    let chain = Chain::connect(&proxy.url, ANVIL_KEY_0.parse().unwrap(), options()).await.unwrap();
    let nonce = chain.provider().get_transaction_count(chain.account()).await.unwrap();
    let receipt = chain.send("pay seven wei", transfer()).await.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
    assert!(receipt.status());
    assert_eq!(
        chain.provider().get_transaction_count(chain.account()).await.unwrap(),
        nonce + 1,
        "{fault:?}: exactly one transaction"
    );
    assert_eq!(chain.balance(payee()).await.unwrap(), U256::from(7), "{fault:?}: paid once");
    let sends = proxy.sends();
    let raw = alloy::primitives::hex::decode(&sends[0]).unwrap();
    assert_eq!(receipt.transaction_hash, keccak256(&raw), "{fault:?}: the receipt is the broadcast transaction's");
    assert!(sends.iter().all(|s| *s == sends[0]), "{fault:?}: every broadcast carried the same signed bytes");
    proxy
}

#[tokio::test]
async fn a_lost_answer_to_a_mined_send_is_resolved_by_its_hash() {
    for fault in [Fault::ForwardThen502, Fault::ForwardThenDrop] {
        let anvil = cairn_testkit::Anvil::start().await.unwrap();
        let proxy = paid_once(&anvil, fault, 1).await;
        // The node took the first broadcast: it is looked up, not sent again (a resend would meet
        // "nonce too low" and report a mined transaction as failed).
        assert_eq!(proxy.sends().len(), 1, "{fault:?}: broadcast once");
    }
}

#[tokio::test]
async fn receipt_reads_that_fail_past_their_retries_are_read_again_until_the_receipt_comes() {
    // Six dropped reads: more than the three retries of one read, so the wait itself must read again (it once
    // ended the send with a transport error, telling the caller nothing of the transaction already out).
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let proxy = paid_once(&anvil, Fault::DropReceiptReads, 6).await;
    assert_eq!(proxy.sends().len(), 1, "broadcast once");
}

#[tokio::test]
async fn a_lost_answer_to_a_pending_send_is_resolved_by_its_hash() {
    // Blocks every second: the transaction is pending when the answer is lost (a resend would meet
    // "already known").
    let anvil = cairn_testkit::Anvil::start_with(31337, &["--block-time", "1"]).await.unwrap();
    let proxy = paid_once(&anvil, Fault::ForwardThen502, 1).await;
    assert_eq!(proxy.sends().len(), 1, "broadcast once");
}

#[tokio::test]
async fn a_send_whose_answer_never_comes_times_out_and_is_resolved_by_its_hash() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let hang_guard = std::time::Duration::from_secs(60);
    let proxy = tokio::time::timeout(hang_guard, paid_once(&anvil, Fault::ForwardThenHang, 1))
        .await
        .expect("the send hung: the request timeout (2 s here) must end the unanswered broadcast");
    assert_eq!(proxy.sends().len(), 1, "the node held it after the first broadcast: no second one");
}

#[tokio::test]
async fn a_send_lost_before_the_node_is_broadcast_again_unchanged() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let proxy = paid_once(&anvil, Fault::Lose502, 2).await;
    assert_eq!(proxy.sends().len(), 3, "two lost broadcasts, then the same bytes got through");
}

#[tokio::test]
async fn a_send_never_answered_is_unresolved_and_not_repeated_as_a_new_transaction() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let proxy = lossy_proxy(anvil.url(), Fault::Lose502, usize::MAX).await;
    let chain = Chain::connect(&proxy.url, ANVIL_KEY_0.parse().unwrap(), options()).await.unwrap();
    let err = chain.send("pay seven wei", transfer()).await.unwrap_err();
    let Error::SendUnresolved { tx, attempts, .. } = &err else { panic!("expected SendUnresolved, got {err}") };
    assert_eq!(*attempts, 4, "the first broadcast and max_retries = 3 more");
    let sends = proxy.sends();
    assert_eq!(sends.len(), 4);
    assert!(sends.iter().all(|s| *s == sends[0]), "the same signed bytes each time");
    assert_eq!(*tx, keccak256(alloy::primitives::hex::decode(&sends[0]).unwrap()));
    assert!(err.to_string().contains(&format!("cast tx {tx}")), "{err}");
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), 0, "nothing reached the node");
    assert_eq!(chain.balance(payee()).await.unwrap(), U256::ZERO);
}
