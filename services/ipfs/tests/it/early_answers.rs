//! Kubo failing partway through an answer, played by a tiny hand-rolled HTTP server: it reads the request
//! head (and a little of the upload), answers, and then holds the connection without reading more, as a
//! node does once a command has failed. go-ipfs-cmds reports such failures in the `X-Stream-Error` trailer
//! (older versions: an error value in the body); the client must surface them, never hang, and never
//! blame the content.

use std::time::Duration;

use cairn_ipfs::{AddOptions, Error, KuboClient, Sha256Digest};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};

use crate::{pseudo_random, write_file};

/// Long enough for any honest outcome on a loaded machine; a hang runs into it.
const PATIENCE: Duration = Duration::from_secs(60);

/// Serves one connection: reads the request head and `body_bytes` of the body, writes `answer`, then holds
/// the socket open, reading nothing more, until the test ends.
async fn answer_early(answer: Vec<u8>, body_bytes: usize) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
            if head_end.is_some_and(|end| seen.len() - end >= body_bytes) {
                break;
            }
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed the connection before sending its request");
            seen.extend_from_slice(&buf[..n]);
        }
        socket.write_all(&answer).await.unwrap();
        socket.flush().await.unwrap();
        std::future::pending::<()>().await;
    });
    (url, server)
}

/// A chunked 200 answer with `body`, ending with an `X-Stream-Error` trailer when `stream_error` is set.
fn chunked_answer(content_type: &str, body: &[u8], stream_error: Option<&str>) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTrailer: X-Stream-Error\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n");
    if let Some(message) = stream_error {
        out.extend_from_slice(format!("X-Stream-Error: {message}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[tokio::test]
async fn an_add_that_kubo_abandons_midway_fails_with_kubos_message_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than the socket buffers hold, so most of the upload is still unsent when the answer comes.
    let source = dir.path().join("big.bin");
    write_file(&source, &pseudo_random(32 << 20, 3));
    // Kubo had emitted one entry when it failed; the failure is only in the trailer.
    let entry = br#"{"Name":"big.bin","Hash":"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy","Size":"1"}
"#;
    let answer = chunked_answer("application/json", entry, Some("write blocks: no space left on device"));
    let (url, server) = answer_early(answer, 64 * 1024).await;
    let client = KuboClient::new(&url).unwrap();

    let outcome = tokio::time::timeout(PATIENCE, client.add_file(&source, AddOptions::default())).await;
    let err = outcome.expect("add_file hung after Kubo answered early").unwrap_err();
    match &err {
        Error::Interrupted { endpoint, message } => {
            assert_eq!(endpoint, "add");
            assert_eq!(message, "write blocks: no space left on device");
        }
        other => panic!("expected Interrupted, got {other:?}"),
    }
    assert!(err.to_string().contains("no space left on device"), "{err}");
    server.abort();
}

#[tokio::test]
async fn an_add_with_an_error_value_in_the_body_fails_with_kubos_message() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("big.bin");
    write_file(&source, &pseudo_random(32 << 20, 4));
    let body = br#"{"Message":"write blocks: no space left on device","Code":0,"Type":"error"}
"#;
    let (url, server) = answer_early(chunked_answer("application/json", body, None), 64 * 1024).await;
    let client = KuboClient::new(&url).unwrap();

    let outcome = tokio::time::timeout(PATIENCE, client.add_file(&source, AddOptions::default())).await;
    let err = outcome.expect("add_file hung after Kubo answered early").unwrap_err();
    assert!(
        matches!(&err, Error::Interrupted { message, .. } if message == "write blocks: no space left on device"),
        "{err:?}"
    );
    server.abort();
}

#[tokio::test]
async fn a_cat_that_kubo_abandons_midway_is_not_blamed_on_the_content() {
    let content = pseudo_random(4096, 5);
    let expected = Sha256Digest::of(&content);
    let cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    let answer =
        || chunked_answer("text/plain", &content[..1000], Some("failed to fetch block: context deadline exceeded"));

    let (url, server) = answer_early(answer(), 0).await;
    let client = KuboClient::new(&url).unwrap();
    let outcome = tokio::time::timeout(PATIENCE, client.cat_bytes(cid, expected, 1 << 20)).await.expect("cat hung");
    let err = outcome.unwrap_err();
    assert!(
        matches!(&err, Error::Interrupted { endpoint, message }
            if endpoint == "cat" && message == "failed to fetch block: context deadline exceeded"),
        "a node failure must not read as a digest mismatch: {err:?}"
    );
    server.abort();

    // Into a file: nothing is left behind.
    let (url, server) = answer_early(answer(), 0).await;
    let client = KuboClient::new(&url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.bin");
    let outcome = tokio::time::timeout(PATIENCE, client.cat_to_file(cid, expected, &dest)).await.expect("cat hung");
    assert!(matches!(outcome, Err(Error::Interrupted { .. })), "{outcome:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, partial or temporary, is left");
    server.abort();
}
