//! WebSocket URLs, the receipt timeout, and retries of transient RPC failures (through a flaky proxy).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    rpc::types::TransactionRequest,
};
use cairn_chain::{Chain, ChainOptions, Error, NewHeads};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::ANVIL_KEY_0;

fn transfer() -> TransactionRequest {
    TransactionRequest::default().with_to(Address::left_padding_from(&[0x20, 0x01])).with_value(U256::from(7))
}

#[tokio::test]
async fn ws_urls_connect_and_send() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let ws = anvil.url().replace("http://", "ws://");
    let chain = Chain::connect(&ws, ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
    assert_eq!(chain.chain_id(), 31337);
    assert!(chain.send("transfer over ws", transfer()).await.unwrap().status());
}

/// Over ws:// a new block wakes the waiter at once (the one-minute timer would say `None`), heads that queue
/// while nobody waits wake it once with the latest, and over http:// the wait is a plain timer.
#[tokio::test]
async fn new_heads_wake_on_blocks_over_ws_and_fall_back_to_a_timer_over_http() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let ws = anvil.url().replace("http://", "ws://");
    let chain = Chain::connect(&ws, ANVIL_KEY_0.parse().unwrap(), ChainOptions::default()).await.unwrap();
    let mut heads = NewHeads::new(chain.provider().clone(), chain.url()).await;
    assert!(heads.subscribed(), "a ws:// URL subscribes to newHeads");
    let mined = chain.send("transfer", transfer()).await.unwrap().block_number;
    assert_eq!(heads.wait(Duration::from_secs(60)).await, mined, "woken by the block, not the timer");

    let mut last = None;
    for _ in 0..3 {
        last = chain.send("transfer", transfer()).await.unwrap().block_number;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(heads.wait(Duration::from_secs(60)).await, last, "three queued heads wake once, with the latest");
    assert_eq!(heads.wait(Duration::from_millis(300)).await, None, "nothing stale is left queued");

    let http = Chain::connect_read_only(anvil.url(), ChainOptions::default()).await.unwrap();
    let mut timer = NewHeads::new(http.provider().clone(), http.url()).await;
    assert!(!timer.subscribed(), "http:// cannot subscribe");
    chain.send("transfer", transfer()).await.unwrap();
    assert_eq!(timer.wait(Duration::from_millis(200)).await, None, "over http:// only the timer ends a wait");
}

#[tokio::test]
async fn a_missing_receipt_times_out_with_advice() {
    let anvil = cairn_testkit::Anvil::start_with(31337, &["--no-mining"]).await.unwrap();
    let options = ChainOptions { receipt_timeout: Duration::from_secs(1), ..ChainOptions::default() };
    let chain = Chain::connect(anvil.url(), ANVIL_KEY_0.parse().unwrap(), options).await.unwrap();
    let err = chain.send("transfer", transfer()).await.unwrap_err();
    assert!(matches!(err, Error::ReceiptTimeout { .. }), "{err}");
    assert!(err.to_string().contains("cast receipt"), "{err}");
}

/// Reads one HTTP/1.1 request (headers + Content-Length body); `None` when the peer closed.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf[end + 4..end + 4 + len].to_vec());
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Forwards a JSON-RPC request body to `upstream` and returns the body of its answer.
pub(crate) async fn forward(client: &reqwest::Client, upstream: &str, body: &[u8]) -> Vec<u8> {
    let response =
        client.post(upstream).header("content-type", "application/json").body(body.to_vec()).send().await.unwrap();
    response.bytes().await.unwrap().to_vec()
}

/// An HTTP/1.1 `200 OK` response carrying `answer` as JSON.
pub(crate) fn ok_response(answer: &[u8]) -> Vec<u8> {
    let mut r =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", answer.len())
            .into_bytes();
    r.extend_from_slice(answer);
    r
}

/// An HTTP proxy in front of anvil that answers the first `failures` requests with 503.
async fn flaky_proxy(upstream: String, failures: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served_503 = Arc::new(AtomicUsize::new(0));
    let counter = served_503.clone();
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let (client, counter, upstream) = (client.clone(), counter.clone(), upstream.clone());
            tokio::spawn(async move {
                while let Some(body) = read_request(&mut stream).await {
                    let response = if counter.load(Ordering::SeqCst) < failures {
                        counter.fetch_add(1, Ordering::SeqCst);
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n".as_bytes().to_vec()
                    } else {
                        ok_response(&forward(&client, &upstream, &body).await)
                    };
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, served_503)
}

#[tokio::test]
async fn transient_rpc_failures_are_retried_with_backoff() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let (url, served_503) = flaky_proxy(anvil.url().to_string(), 3).await;
    let options = ChainOptions { max_retries: 5, initial_backoff_ms: 20, ..ChainOptions::default() };
    let chain = Chain::connect(&url, ANVIL_KEY_0.parse().unwrap(), options).await.unwrap();
    assert_eq!(served_503.load(Ordering::SeqCst), 3, "three 503s were answered, then the retry got through");
    assert!(chain.send("transfer through the proxy", transfer()).await.unwrap().status());

    // With retries off, the same failure surfaces, naming the URL.
    let (url, _) = flaky_proxy(anvil.url().to_string(), 1).await;
    let options = ChainOptions { max_retries: 0, ..ChainOptions::default() };
    let err = Chain::connect(&url, ANVIL_KEY_0.parse().unwrap(), options).await.unwrap_err();
    assert!(err.to_string().contains(&url) && err.to_string().contains("503"), "{err}");
}
