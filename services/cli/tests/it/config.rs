//! Where settings come from, and that secrets never print.

use crate::{Devnet, cairn_in};

#[tokio::test]
async fn settings_come_from_flag_env_file_devnet_default_in_that_order() {
    let net = Devnet::start().await;
    let dir = net.root.path();

    // The devnet alone: its URL and files, the seeded account by --account, its key redacted.
    let shown = net.cairn(&["--json", "--account", "seller", "config", "show"]).json();
    assert_eq!(shown["rpcUrl"]["value"], net.anvil.url());
    assert_eq!(shown["rpcUrl"]["origin"], "devnet");
    assert_eq!(shown["deployments"]["origin"], "devnet");
    assert_eq!(shown["receiptTimeoutSeconds"]["origin"], "default");
    let signer = shown["signer"]["value"].as_str().unwrap();
    assert!(signer.contains("seller") && signer.contains("redacted"), "{signer}");
    let key = format!("{}", crate::seller().to_bytes());
    let text = net.cairn(&["--account", "seller", "config", "show"]);
    assert!(!text.stdout.contains(&key[2..]) && !shown.to_string().contains(&key[2..]), "the key never prints");

    // A config file beats the devnet; the environment beats the file; a flag beats the environment.
    let file = dir.join("cairn.toml");
    std::fs::write(&file, "rpc_url = \"http://file.invalid:1\"\nreceipt_timeout = 7\n").unwrap();
    let f = file.to_str().unwrap();
    let shown = cairn_in(dir, &["--json", "--config", f, "config", "show"], &[]).json();
    assert_eq!(
        (shown["rpcUrl"]["value"].as_str(), shown["rpcUrl"]["origin"].as_str()),
        (Some("http://file.invalid:1"), Some("config-file"))
    );
    assert_eq!(shown["receiptTimeoutSeconds"]["value"], "7");
    let env = [("CAIRN_RPC_URL", "http://env.invalid:2")];
    let shown = cairn_in(dir, &["--json", "--config", f, "config", "show"], &env).json();
    assert_eq!(shown["rpcUrl"]["value"], "http://env.invalid:2");
    assert_eq!(shown["rpcUrl"]["origin"]["env"], "CAIRN_RPC_URL");
    let shown =
        cairn_in(dir, &["--json", "--config", f, "--rpc-url", "http://flag.invalid:3", "config", "show"], &env).json();
    assert_eq!(
        (shown["rpcUrl"]["value"].as_str(), shown["rpcUrl"]["origin"].as_str()),
        (Some("http://flag.invalid:3"), Some("flag"))
    );

    // Outside any devnet: the defaults.
    let elsewhere = tempfile::tempdir().unwrap();
    let shown = cairn_in(elsewhere.path(), &["--json", "config", "show"], &[]).json();
    assert_eq!(shown["rpcUrl"]["value"], "http://127.0.0.1:8545");
    assert_eq!(shown["rpcUrl"]["origin"], "default");
    assert!(shown["devnet"].is_null());
}

#[tokio::test]
async fn bad_settings_are_usage_errors_that_say_what_to_do() {
    let net = Devnet::start().await;
    let dir = net.root.path();
    std::fs::write(dir.join("bad.toml"), "rpc = \"x\"\n").unwrap();
    cairn_in(dir, &["--config", "bad.toml", "config", "show"], &[]).fails(2, &["bad.toml", "rpc_url"]);
    net.cairn(&["--account", "nobody", "config", "show"]).fails(2, &["no account `nobody`", "seller", "buyer"]);
    let elsewhere = tempfile::tempdir().unwrap();
    cairn_in(elsewhere.path(), &["--account", "seller", "config", "show"], &[]).fails(2, &["make devnet"]);
    net.cairn(&["--account", "seller", "--keystore", "k.json", "config", "show"]).fails(2, &["give one"]);
    // clap's own usage errors exit 2 too; a model id is checked before anything is read.
    net.cairn(&["license", "buy", "abc"]).fails(2, &["not a model id"]);
    net.cairn(&["license", "buy", "0"]).fails(2, &["not a model id"]);
    // A command that sends, with no signer and no devnet account: says how to give one.
    cairn_in(elsewhere.path(), &["withdraw", "--yes"], &[]).fails(2, &["--keystore", "--account", "CAIRN_PRIVATE_KEY"]);
    // The chain down: names the URL and where it came from.
    cairn_in(elsewhere.path(), &["--rpc-url", "http://127.0.0.1:9", "model", "list"], &[])
        .fails(1, &["http://127.0.0.1:9", "flag"]);
}
