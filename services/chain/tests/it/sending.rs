//! Sending: many concurrent transactions from one signer, a failed send leaves no nonce gap.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use cairn_chain::Error;

use crate::funded;

/// Plain accounts (the low addresses are precompiles).
fn payee(i: u64) -> Address {
    Address::left_padding_from(&(0x1000 + i).to_be_bytes())
}

#[tokio::test]
async fn concurrent_sends_from_one_signer_never_clash() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let start = chain.provider().get_transaction_count(chain.account()).await.unwrap();
    let count = cairn_testkit::TestProfile::from_env().pick(24u64, 96);
    let sends = (0..count).map(|i| {
        let chain = &chain;
        async move {
            let to = payee(i);
            let tx = TransactionRequest::default().with_to(to).with_value(U256::from(1000 + i));
            chain.send(&format!("transfer {i}"), tx).await
        }
    });
    let receipts = futures_util::future::join_all(sends).await;
    let mut nonces = Vec::new();
    for r in receipts {
        let r = r.expect("every concurrent send succeeds");
        let tx = chain.provider().get_transaction_by_hash(r.transaction_hash).await.unwrap().unwrap();
        nonces.push(alloy::consensus::Transaction::nonce(tx.inner.inner()));
    }
    nonces.sort_unstable();
    assert_eq!(nonces, (start..start + count).collect::<Vec<_>>(), "one nonce each, no gaps");
    for i in 0..count {
        let balance = chain.balance(payee(i)).await.unwrap();
        assert_eq!(balance, U256::from(1000 + i));
    }
}

#[tokio::test]
async fn a_failed_send_uses_no_nonce() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let too_much = TransactionRequest::default().with_to(payee(99)).with_value(U256::MAX);
    let err = chain.send("send everything", too_much).await.unwrap_err();
    assert!(matches!(err, Error::Unfunded { .. }), "{err}");
    // The next send goes through at once (a nonce gap would leave it pending until the receipt timeout).
    let ok = TransactionRequest::default().with_to(payee(99)).with_value(U256::from(5));
    let receipt = chain.send("send five wei", ok).await.unwrap();
    assert!(receipt.status());
}

#[tokio::test]
async fn a_nonce_used_by_another_process_is_named_and_nothing_is_sent() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let chain = funded(&anvil).await;
    let pay = |i: u64| TransactionRequest::default().with_to(payee(i)).with_value(U256::from(10 + i));
    chain.send("pay one", pay(1)).await.unwrap(); // this process now expects nonce 1 next
    // Another process signing with the same key takes nonce 1.
    let elsewhere = funded(&anvil).await;
    elsewhere.send("pay two elsewhere", pay(2)).await.unwrap();

    let err = chain.send("pay three", pay(3)).await.unwrap_err();
    assert!(
        matches!(err, Error::NonceTaken { nonce: 1, node_nonce: Some(2), account, .. } if account == chain.account()),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("pay three") && text.contains("another process") && text.contains("Nothing was sent"),
        "{text}"
    );
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), 2, "nothing was sent");
    assert_eq!(chain.balance(payee(3)).await.unwrap(), U256::ZERO);

    // The next send re-reads the nonce and goes through, once.
    assert!(chain.send("pay three", pay(3)).await.unwrap().status());
    assert_eq!(chain.balance(payee(3)).await.unwrap(), U256::from(13));
    assert_eq!(chain.provider().get_transaction_count(chain.account()).await.unwrap(), 3);
}
