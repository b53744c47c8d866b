//! Read-only connections: reads work without a key; a send is a typed error naming the action and how to
//! give a key; a signer from any source attaches later.

use std::path::Path;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use cairn_chain::{Chain, ChainOptions, Error, PasswordSource, RpcArgs, SignerSource};

use crate::ANVIL_KEY_0;

fn transfer() -> TransactionRequest {
    TransactionRequest::default().with_to(Address::left_padding_from(&[0x40, 0x01])).with_value(U256::from(9))
}

#[tokio::test]
async fn a_read_only_chain_reads_and_refuses_to_send() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let funded = ANVIL_KEY_0.parse::<PrivateKeySigner>().unwrap().address();
    let chain = Chain::connect_read_only(anvil.url(), ChainOptions::default()).await.unwrap();
    assert_eq!(chain.chain_id(), 31337);
    assert_eq!(chain.signer_address(), None);
    assert!(chain.balance(funded).await.unwrap() > U256::ZERO);

    let err = chain.send("pay nine wei", transfer()).await.unwrap_err();
    assert!(matches!(&err, Error::NoSigner { action } if action == "pay nine wei"), "{err}");
    let text = err.to_string();
    assert!(text.contains("read-only") && text.contains("--keystore") && text.contains("nothing was sent"), "{text}");
    assert_eq!(chain.provider().get_transaction_count(funded).await.unwrap(), 0);

    // The same connection, signing from now on.
    let chain = chain.with_signer(ANVIL_KEY_0.parse().unwrap());
    assert_eq!(chain.signer_address(), Some(funded));
    assert!(chain.send("pay nine wei", transfer()).await.unwrap().status());
}

#[tokio::test]
async fn rpc_args_connect_read_only_or_with_a_keystore() {
    let anvil = cairn_testkit::Anvil::start().await.unwrap();
    let rpc = RpcArgs { rpc_url: anvil.url().into(), ..RpcArgs::default() };
    assert_eq!(rpc.connect_read_only().await.unwrap().signer_address(), None);

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let source = SignerSource::Keystore {
        path: data.join("spec-pbkdf2-vector.json"),
        password: PasswordSource::File(data.join("password.txt")),
    };
    let chain = rpc.connect(&source).await.unwrap();
    assert_eq!(chain.signer_address(), Some("0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b".parse().unwrap()));

    // A wrong URL fails before the key is loaded (no password is asked for an unreachable chain).
    let wrong = RpcArgs { rpc_url: "http://127.0.0.1:9".into(), receipt_timeout: 1 };
    let prompt =
        SignerSource::Keystore { path: data.join("spec-pbkdf2-vector.json"), password: PasswordSource::Prompt };
    let err = wrong.connect(&prompt).await.unwrap_err();
    assert!(matches!(err, Error::Rpc { .. }), "{err}");
}
