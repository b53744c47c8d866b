//! Publishing the real MiniLM folder through the binary against real anvil and Kubo: publish, verify, pull
//! (every byte, and the stock OpenSSF Model Signing verifier on the pulled folder), a second version that
//! keeps the first, a publish killed before its transaction and rerun, a dry run, a tampered manifest, and
//! the bad inputs of the issue, each refused with nothing changed.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use alloy::primitives::{B256, U256};
use cairn_bindings::ModelRegistry;
use cairn_protocol::{ModelManifest, Runtime, manifest::Manifest, typed};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::{Devnet, cairn_in, oms::stock_verify, seller};

/// A copy of the MiniLM folder (publish writes model.sig into it), with a `.git` folder that is not published.
fn minilm_copy(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    copy_dir(&cairn_testkit::model_dir(), &dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn model_count(net: &Devnet) -> U256 {
    ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider()).modelCount().call().await.unwrap()
}

fn publish_args<'a>(dir: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--json", "--account", "seller", "model", "publish", dir, "--price-per-call", "0.0001ether"];
    args.extend_from_slice(extra);
    args
}

#[tokio::test]
async fn the_minilm_folder_is_published_verified_and_pulled_byte_for_byte() {
    let net = Devnet::with_kubo().await;
    let dir = minilm_copy(net.root.path(), "minilm");
    let d = dir.to_str().unwrap();

    // A dry run: the CIDs, nothing pinned or sent.
    let dry = net.cairn(&publish_args(d, &["--dry-run"])).json();
    assert_eq!(dry["dryRun"], true);
    assert!(dry["signatureCid"].is_null());
    assert_eq!(model_count(&net).await, U256::ZERO);

    let published = net.cairn(&publish_args(d, &["--regions", "EU,US", "--yes"])).json();
    assert_eq!((published["modelId"].as_str(), published["version"].as_u64()), (Some("1"), Some(1)));
    assert_eq!(published["rootCid"], dry["rootCid"], "the dry run computed the same folder CID");
    assert_eq!(published["skipped"][0], ".git/ (tool or version-control folder)");
    let weights = cairn_testkit::model_digests().get("model.safetensors").unwrap();
    assert_eq!(published["weightsDigest"], weights.to_string());
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());
    let v = registry.getVersion(U256::from(1), 1).call().await.unwrap();
    assert_eq!(v.manifestCid, published["manifestCid"].as_str().unwrap());
    assert_eq!(v.weightsDigest, B256::from(weights.0));
    assert_eq!(v.runtime, Runtime::BertEmbedV1.id());

    // A rerun finds the registration instead of making a second one.
    let again = net.cairn(&publish_args(d, &["--regions", "EU,US", "--yes"])).json();
    assert_eq!(again["alreadyRegistered"], true);
    assert_eq!(again["modelId"], "1");
    assert_eq!(model_count(&net).await, U256::from(1));

    let report = net.cairn(&["--json", "model", "verify", "1"]).json();
    assert!(report["sellerSignature"].as_str().unwrap().starts_with("valid"), "{report}");
    assert!(report["modelSigning"].as_str().unwrap().starts_with("valid"), "{report}");
    assert_eq!(report["card"]["license"], "Apache-2.0");
    let originals = walk(&cairn_testkit::model_dir());
    assert_eq!(report["files"].as_array().unwrap().len(), originals.len());

    let out = net.root.path().join("pulled");
    let pulled = net.cairn(&["--json", "model", "pull", "1", "--out", out.to_str().unwrap()]).json();
    assert_eq!(pulled["files"], originals.len());
    for entry in originals {
        let rel = entry.strip_prefix(cairn_testkit::model_dir()).unwrap();
        assert_eq!(std::fs::read(&entry).unwrap(), std::fs::read(out.join(rel)).unwrap(), "{}", rel.display());
    }
    assert!(!out.join(".git").exists(), "what was not published is not pulled");
    // The stock OpenSSF verifier accepts the pulled folder with the manifest's key.
    let pem = net.root.path().join("seller.pem");
    std::fs::write(&pem, pulled["publicKeyPem"].as_str().unwrap()).unwrap();
    stock_verify(&out, &pem).unwrap_or_else(|e| panic!("model_signing verify: {e}"));
    net.cairn(&["model", "pull", "1", "--out", out.to_str().unwrap()]).fails(2, &["not empty"]);

    // A second version keeps the first.
    let dir2 = minilm_copy(net.root.path(), "minilm-v2");
    std::fs::write(dir2.join("README.md"), std::fs::read_to_string(dir.join("README.md")).unwrap() + "\nv2\n").unwrap();
    let v2 = net
        .cairn(&["--json", "--account", "seller", "model", "publish-version", "1", dir2.to_str().unwrap(), "--yes"])
        .json();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["pricePerCall"]["raw"], "100000000000000", "terms not given are the current version's");
    assert_eq!(net.cairn(&["--json", "model", "versions", "1"]).json().as_array().unwrap().len(), 2);
    net.cairn(&["--json", "model", "verify", "1", "--version", "1"]).json();

    // A registered manifest whose folder holds other bytes than it lists fails `verify`, naming the file.
    let kubo = cairn_ipfs::KuboClient::new(net.kubo.as_ref().unwrap().api_url()).unwrap();
    let tampered = minilm_copy(net.root.path(), "tampered");
    std::fs::write(tampered.join("config.json"), b"{\"tampered\": true}").unwrap();
    std::fs::remove_dir_all(tampered.join(".git")).unwrap();
    let root = kubo.add_dir(&tampered, cairn_ipfs::AddOptions::default()).await.unwrap();
    let manifest_cid = v.manifestCid.clone();
    let text = String::from_utf8(
        kubo.cat_bytes(&manifest_cid, cairn_ipfs::Sha256Digest(v.manifestDigest.0), 1 << 24).await.unwrap().to_vec(),
    )
    .unwrap();
    let mut manifest = Manifest::from_json(&text).unwrap();
    manifest.root = Some(root.cid);
    let bytes = manifest.to_json().into_bytes();
    let added = kubo.add_bytes("manifest.json", bytes.clone(), cairn_ipfs::AddOptions::default()).await.unwrap();
    register_version(&net, U256::from(1), &added.cid.to_string(), cairn_ipfs::Sha256Digest::of(&bytes), weights).await;
    net.cairn(&["model", "verify", "1", "--version", "3"]).fails(1, &["config.json"]);
}

/// Registers version N+1 of `id` for the seller straight through the chain (not the CLI).
async fn register_version(
    net: &Devnet,
    id: U256,
    cid: &str,
    digest: cairn_ipfs::Sha256Digest,
    weights: cairn_ipfs::Sha256Digest,
) {
    let registry = ModelRegistry::new(net.address("ModelRegistry"), net.deployer.provider());
    let latest =
        registry.getVersion(id, registry.getModel(id).call().await.unwrap().latestVersion).call().await.unwrap();
    let block = latest_time(net).await;
    let manifest = ModelManifest {
        seller: seller().address(),
        modelId: id,
        manifestCid: cid.into(),
        manifestDigest: B256::from(digest.0),
        weightsDigest: B256::from(weights.0),
        runtime: Runtime::BertEmbedV1.id(),
        paymentToken: latest.paymentToken,
        pricePerCall: latest.pricePerCall,
        licensePrice: U256::ZERO,
        licensePeriod: 0,
        regionMask: latest.regionMask,
        nonce: registry.nonces(seller().address()).call().await.unwrap(),
        deadline: block + 3600,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("ModelRegistry"));
    let signature = typed::sign(&seller(), &manifest, &domain).await.unwrap();
    net.deployer
        .send("register", registry.register(manifest, signature.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
}

async fn latest_time(net: &Devnet) -> u64 {
    use alloy::providers::Provider;
    let p = net.deployer.provider();
    let n = p.get_block_number().await.unwrap();
    p.get_block_by_number(n.into()).await.unwrap().unwrap().header.timestamp
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

/// A TCP relay to `upstream` that forwards everything until it sees `eth_sendRawTransaction`, then holds that
/// request forever (the transaction never reaches the node) and raises the flag.
async fn send_blocking_relay(upstream: &str) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let seen = Arc::new(AtomicBool::new(false));
    let flag = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let (upstream, flag) = (upstream.clone(), flag.clone());
            tokio::spawn(async move {
                let server = TcpStream::connect(&upstream).await.unwrap();
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match cr.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if String::from_utf8_lossy(&buf[..n]).contains("eth_sendRawTransaction") {
                        flag.store(true, Ordering::SeqCst);
                        std::future::pending::<()>().await;
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_publish_killed_before_its_transaction_registers_exactly_once_when_rerun() {
    let net = Devnet::with_kubo().await;
    let dir = minilm_copy(net.root.path(), "minilm");
    let (relay, sent) = send_blocking_relay(net.anvil.url()).await;
    let home = net.root.path().join(".test-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--rpc-url", &relay])
        .args(publish_args(dir.to_str().unwrap(), &["--yes"]))
        .current_dir(net.root.path())
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var_os("PATH").unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !sent.load(Ordering::SeqCst) {
        assert!(child.try_wait().unwrap().is_none(), "publish ended before sending its transaction");
        assert!(std::time::Instant::now() < deadline, "publish never sent its transaction");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL: everything pinned and signed, the transaction never sent
    child.wait().unwrap();
    assert_eq!(model_count(&net).await, U256::ZERO);

    let rerun = net.cairn(&publish_args(dir.to_str().unwrap(), &["--yes"])).json();
    assert_eq!(rerun["alreadyRegistered"], false);
    assert_eq!(rerun["modelId"], "1");
    let again = net.cairn(&publish_args(dir.to_str().unwrap(), &["--yes"])).json();
    assert_eq!(again["alreadyRegistered"], true);
    assert_eq!(model_count(&net).await, U256::from(1), "registered exactly once");
}

/// Breaks a model folder in one way.
type Breaker = Box<dyn Fn(&Path)>;

/// A minimal valid model folder (tiny weights) whose files a test can break.
fn small_model(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let header = r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut weights = (header.len() as u64).to_le_bytes().to_vec();
    weights.extend_from_slice(header.as_bytes());
    weights.extend_from_slice(&[0; 8]);
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    for f in ["config.json", "tokenizer.json", "sentence_bert_config.json"] {
        std::fs::write(dir.join(f), "{}").unwrap();
    }
    std::fs::write(
        dir.join("README.md"),
        "---\nlicense: mit\nlanguage: en\npipeline_tag: sentence-similarity\n---\n# tiny\nA tiny test model.\n\n\
         ## Intended uses\nTests only.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    std::fs::write(dir.join("1_Pooling/config.json"), r#"{"word_embedding_dimension": 2}"#).unwrap();
    dir
}

#[tokio::test]
async fn bad_input_is_refused_with_what_to_do_and_nothing_changes() {
    let net = Devnet::with_kubo().await;
    let root = net.root.path();
    let ok = small_model(root, "ok");
    let ok_s = ok.to_str().unwrap();
    let run = |args: Vec<&str>| net.cairn(&args);

    let cases: Vec<(&str, Breaker, i32, Vec<&str>)> = vec![
        (
            "truncated",
            Box::new(|d| truncate(&d.join("model.safetensors"), 20)),
            2,
            vec!["model.safetensors", "not a safetensors file"],
        ),
        (
            "offsets overlap",
            Box::new(|d| {
                rewrite_header(
                    d,
                    r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
                    8,
                )
            }),
            2,
            vec!["model.safetensors", "not a valid safetensors header"],
        ),
        (
            "past the end",
            Box::new(|d| rewrite_header(d, r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 8)),
            2,
            vec!["describes 16 bytes of tensor data, the file holds 8"],
        ),
        (
            "header length",
            Box::new(|d| std::fs::write(d.join("model.safetensors"), 1_000_000u64.to_le_bytes()).unwrap()),
            2,
            vec!["exceeds"],
        ),
        (
            "no safetensors",
            Box::new(|d| std::fs::remove_file(d.join("model.safetensors")).unwrap()),
            2,
            vec!["model.safetensors: missing"],
        ),
        (
            "pickle",
            Box::new(|d| std::fs::write(d.join("pytorch_model.bin"), b"\x80\x02pickle").unwrap()),
            2,
            vec!["pytorch_model.bin", "execute code"],
        ),
        (
            "card",
            Box::new(|d| std::fs::write(d.join("README.md"), "# no front matter\n").unwrap()),
            2,
            vec!["license", "intendedUse"],
        ),
        (
            "licence id",
            Box::new(|d| {
                let readme = std::fs::read_to_string(d.join("README.md"))
                    .unwrap()
                    .replace("license: mit", "license: apache-3.0");
                std::fs::write(d.join("README.md"), readme).unwrap()
            }),
            2,
            vec!["apache-3.0"],
        ),
    ];
    for (i, (name, break_it, code, needles)) in cases.iter().enumerate() {
        let dir = small_model(root, &format!("bad{i}"));
        break_it(&dir);
        let run = net.cairn(&publish_args(dir.to_str().unwrap(), &["--yes"]));
        assert_eq!(run.code, *code, "{name}: {}", run.stderr);
        for n in needles {
            assert!(run.stderr.contains(n), "{name}: stderr lacks {n:?}: {}", run.stderr);
        }
    }
    run(publish_args(root.join("nope").to_str().unwrap(), &["--yes"])).fails(2, &["does not exist"]);
    run(publish_args(ok.join("config.json").to_str().unwrap(), &["--yes"])).fails(2, &["not a directory"]);
    let with = |flag: &'static str, value: &'static str| {
        let mut a = publish_args(ok_s, &["--yes"]);
        a.extend([flag, value]);
        a
    };
    run(vec!["--account", "seller", "model", "publish", ok_s, "--price-per-call", "abc", "--yes"])
        .fails(2, &["`abc` is not a number"]);
    run(vec!["--account", "seller", "model", "publish", ok_s, "--price-per-call", "1", "--yes"])
        .fails(2, &["has no unit"]);
    run(with("--regions", "EU,MARS")).fails(2, &["MARS", "regions are"]);
    run(with("--token", "NOPE")).fails(2, &["unknown token `NOPE`", "DUSD"]);
    // A pinning node that does not answer: nothing is registered.
    run(with("--also-pin", "http://127.0.0.1:9")).fails(1, &["http://127.0.0.1:9", "nothing was registered"]);
    run(vec!["--account", "seller", "model", "publish", ok_s, "--yes"]).fails(2, &["--price-per-call"]);
    cairn_in(root, &publish_args(ok_s, &["--yes"]), &[("CAIRN_IPFS_API", "http://127.0.0.1:9")])
        .fails(1, &["Kubo at http://127.0.0.1:9", "CAIRN_IPFS_API"]);
    cairn_in(root, &publish_args(ok_s, &["--yes"]), &[("CAIRN_RPC_URL", "http://127.0.0.1:9")])
        .fails(1, &["http://127.0.0.1:9"]);
    // A deployments file of another chain.
    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(root.join("deployments/31337.json"), other.join("1.json")).unwrap();
    let mut a = publish_args(ok_s, &["--yes"]);
    let file = other.join("1.json");
    a.extend(["--deployments", file.to_str().unwrap()]);
    run(a).fails(2, &["not the one for chain 31337"]);
    // An unfunded seller: refused before anything is pinned.
    std::fs::write(root.join("pw"), "pw\n").unwrap();
    let made =
        cairn_in(root, &["--json", "--password-file", "pw", "wallet", "new", "broke2", "--dir", "keys"], &[]).json();
    let broke: alloy::primitives::Address = made["address"].as_str().unwrap().parse().unwrap();
    let key = root.join("keys/broke2");
    let k = key.to_str().unwrap();
    cairn_in(
        root,
        &[
            "--keystore",
            k,
            "--password-file",
            "pw",
            "model",
            "publish",
            ok_s,
            "--price-per-call",
            "0.0001ether",
            "--yes",
        ],
        &[],
    )
    .fails(1, &[&broke.to_checksum(None), "fund it first"]);
    std::fs::write(root.join("wrong"), "nope\n").unwrap();
    cairn_in(
        root,
        &[
            "--keystore",
            k,
            "--password-file",
            "wrong",
            "model",
            "publish",
            ok_s,
            "--price-per-call",
            "0.0001ether",
            "--yes",
        ],
        &[],
    )
    .fails(1, &["wrong password"]);
    assert_eq!(model_count(&net).await, U256::ZERO, "nothing was registered");
    // The folder that was fine all along publishes, pinned on a second node too (here the same Kubo: offline
    // test nodes cannot fetch from each other).
    let kubo_url = net.kubo.as_ref().unwrap().api_url().to_owned();
    let done = run(publish_args(ok_s, &["--yes", "--also-pin", &kubo_url])).json();
    assert_eq!(done["pinnedOn"].as_array().unwrap().len(), 2);
    assert_eq!(model_count(&net).await, U256::from(1));
}

fn truncate(path: &Path, len: usize) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..len]).unwrap();
}

fn rewrite_header(dir: &Path, header: &str, data: usize) {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, data));
    std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
}
