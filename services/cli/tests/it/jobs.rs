//! The buyers' commands through the binary against anvil and Kubo: submit (inputs checked before paying, a
//! rerun that finds the open job), status, result (the output checked against the receipt), challenge,
//! appeal, cancel, finalize; every refusal moves nothing.

use alloy::{
    primitives::{Address, B256, U256, utils::parse_ether},
    providers::Provider as _,
};
use cairn_bindings::{JobMarket, job_market::IJobMarket};
use cairn_deploy::seed::devnet_signer_key;
use cairn_ipfs::{AddOptions, KuboClient};
use cairn_protocol::{JobReceipt, output::Embeddings, typed};

use crate::{Devnet, buyer, seller};

/// Moves the chain's clock `secs` forward and mines a block.
async fn advance(net: &Devnet, secs: u64) {
    let p = net.deployer.provider();
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(secs),)).await.unwrap();
    p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
}

/// `operator-0`'s hot key claims `job` and submits `output` (pinned on the devnet's Kubo) with a signed
/// receipt claiming `claimed_digest` (the output's own sha256 unless a test lies); returns the CID.
async fn serve(net: &Devnet, job: U256, output: &[u8], claimed_digest: Option<B256>) -> String {
    let key = devnet_signer_key("operator-0");
    let chain =
        cairn_chain::Chain::connect(net.anvil.url(), key.clone(), cairn_chain::ChainOptions::default()).await.unwrap();
    let jm = JobMarket::new(net.address("JobMarket"), chain.provider());
    let operator = cairn_deploy::seed::devnet_key("operator-0").address();
    chain.send("claim", jm.claim(job, operator).into_transaction_request()).await.unwrap();
    let kubo = KuboClient::new(net.kubo.as_ref().unwrap().api_url()).unwrap();
    let added = kubo.add_bytes("out.safetensors", output.to_vec(), AddOptions::default()).await.unwrap();
    let terms = jm.getTerms(job).call().await.unwrap();
    let receipt = JobReceipt {
        jobId: job,
        weightsDigest: terms.weightsDigest,
        inputDigest: terms.inputDigest,
        runtime: terms.runtime,
        outputDigest: claimed_digest.unwrap_or(B256::from(added.sha256.0)),
        outputCid: added.cid.to_string(),
        runnerBuild: cairn_protocol::runtime::runner_build("test"),
        energyMillijoules: 7,
    };
    let domain = typed::domain(net.deployer.chain_id(), net.address("JobMarket"));
    let signature = typed::sign(&key, &receipt, &domain).await.unwrap();
    chain
        .send("submitResult", jm.submitResult(job, receipt, signature.as_bytes().into()).into_transaction_request())
        .await
        .unwrap();
    added.cid.to_string()
}

#[tokio::test]
async fn a_buyer_submits_follows_fetches_and_finalizes_a_job_and_bad_requests_move_nothing() {
    let net = Devnet::with_kubo().await;
    let id = net.register(&seller(), Address::ZERO, (U256::ZERO, 0)).await.to_string();
    let jm = JobMarket::new(net.address("JobMarket"), net.deployer.provider());
    let dir = net.root.path();
    std::fs::write(dir.join("sentences.txt"), "The cat sat on the mat.\n\nA dog barked at night.\n").unwrap();
    let before = net.deployer.balance(buyer().address()).await.unwrap();
    let submit = |input: &str, extra: &[&str]| {
        let mut args = vec!["--json", "--account", "buyer", "job", "submit", "--model", &id, "--input", input];
        args.extend_from_slice(extra);
        args.push("--yes");
        net.cairn(&args)
    };

    // Bad inputs and requests: refused with what is wrong, nothing pinned or paid.
    for (name, body, needle) in [
        ("numbers.json", "[1, 2]", "item 0 is a number"),
        ("empty.json", "[]", "the list is empty"),
        ("broken.json", "[\"a\",", "not JSON"),
        ("blank.txt", "\n  \n", "no sentence"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
        submit(name, &["--pay", "0.001ether"]).fails(2, &[needle]);
    }
    let many: Vec<String> = (0..4097).map(|i| format!("s{i}")).collect();
    std::fs::write(dir.join("many.json"), serde_json::to_vec(&many).unwrap()).unwrap();
    submit("many.json", &["--pay", "0.001ether"]).fails(2, &["4097 items, more than the limit of 4096"]);
    submit("missing.txt", &["--pay", "0.001ether"]).fails(1, &["reading the input"]);
    net.cairn(&[
        "--account",
        "buyer",
        "job",
        "submit",
        "--model",
        "99",
        "--input",
        "sentences.txt",
        "--pay",
        "1ether",
        "--yes",
    ])
    .fails(1, &["model 99 does not exist"]);
    // The price per call is 1,000 wei; the protocol fee is a share of the payment, so 1,000 wei is too little.
    submit("sentences.txt", &["--pay", "1000wei"]).fails(1, &["is below what this job needs"]);
    submit("sentences.txt", &["--pay", "0.001ether", "--max-price-per-call", "999wei"])
        .fails(1, &["above your --max-price-per-call"]);
    submit("sentences.txt", &["--pay", "0.001ether", "--regions", "JP"]).fails(2, &["none of --regions JP"]);
    submit("sentences.txt", &["--pay", "0.001ether", "--version", "2"]).fails(1, &["is at version 1"]);
    submit("sentences.txt", &["--pay", "0.001ether", "--gasless", "http://127.0.0.1:9"])
        .fails(2, &["--gasless is for ERC-20 models"]);
    submit("sentences.txt", &["--pay", "100000ether"]).fails(1, &["above the largest bond the market allows"]);
    // A token being wound down (minimum operator fee 2^256 - 1) is refused before anything is pinned or sent
    // (the CLI's sum saturates: U256's `+` would wrap and let the request through to a revert).
    let eth = jm.tokenConfig(Address::ZERO).call().await.unwrap();
    let set_floor = |fee: U256| {
        let config = IJobMarket::TokenConfig { bondRate: eth.bondRate, minOperatorFee: fee };
        jm.setTokenConfig(Address::ZERO, config).into_transaction_request()
    };
    net.deployer.send("wind ETH down", set_floor(U256::MAX)).await.unwrap();
    submit("sentences.txt", &["--pay", "0.001ether"])
        .fails(1, &["takes no new jobs paid in", "winding the token down"]);
    net.deployer.send("take ETH jobs again", set_floor(eth.minOperatorFee)).await.unwrap();
    let unfunded = &format!("0x{}", "11".repeat(32)); // no ETH on anvil
    crate::cairn_in(
        dir,
        &["job", "submit", "--model", &id, "--input", "sentences.txt", "--pay", "0.001ether", "--yes"],
        &[("CAIRN_PRIVATE_KEY", unfunded)],
    )
    .fails(1, &["less than --pay"]);
    // Text that starts like JSON is read as JSON (and said so), or as lines with --text.
    std::fs::write(dir.join("quote.txt"), "\"Hello,\" she said.\nBye.\n").unwrap();
    submit("quote.txt", &["--pay", "0.001ether"]).fails(2, &["--text reads it as one sentence per line"]);
    assert_eq!(jm.jobCount().call().await.unwrap(), U256::ZERO, "no job was created");
    assert_eq!(net.deployer.balance(buyer().address()).await.unwrap(), before, "nothing was paid");

    // A licence-gated model is refused without a licence.
    let gated = net.register(&seller(), Address::ZERO, (parse_ether("0.01").unwrap(), 86_400)).await.to_string();
    net.cairn(&[
        "--account",
        "buyer",
        "job",
        "submit",
        "--model",
        &gated,
        "--input",
        "sentences.txt",
        "--pay",
        "0.001ether",
        "--yes",
    ])
    .fails(1, &["holds no licence", "cairn license buy"]);

    // A deprecated model takes no jobs.
    let old = net.register(&seller(), Address::ZERO, (U256::ZERO, 0)).await.to_string();
    net.cairn(&["--account", "seller", "model", "deprecate", &old, "--yes"]).succeeds();
    net.cairn(&[
        "--account",
        "buyer",
        "job",
        "submit",
        "--model",
        &old,
        "--input",
        "sentences.txt",
        "--pay",
        "0.001ether",
        "--yes",
    ])
    .fails(1, &["is deprecated"]);

    // The job: the text file becomes a JSON list, pinned; its digest goes on chain.
    let submitted = submit("sentences.txt", &["--pay", "0.001ether", "--regions", "EU,JP"]).json();
    assert_eq!(submitted["new"], true);
    let job = U256::from_str_radix(submitted["jobId"].as_str().unwrap(), 10).unwrap();
    let json = br#"["The cat sat on the mat.","A dog barked at night."]"#;
    let terms = jm.getTerms(job).call().await.unwrap();
    assert_eq!(terms.inputDigest, B256::from(cairn_primitives::Sha256Digest::of(json).0));
    assert_eq!(terms.payment, parse_ether("0.001").unwrap());
    assert_eq!(submitted["terms"]["regions"], serde_json::json!(["EU"]));
    let kubo = KuboClient::new(net.kubo.as_ref().unwrap().api_url()).unwrap();
    let cid: cairn_ipfs::Cid = submitted["inputCid"].as_str().unwrap().parse().unwrap();
    assert!(kubo.is_pinned(&cid).await.unwrap(), "the input is pinned");
    assert!(submitted["warnings"].to_string().contains("public"), "{submitted}");
    assert!(submitted["warnings"].to_string().contains("not served in JP"), "{submitted}");

    // A rerun (after a crash, say) finds the open job instead of paying twice; --again pays.
    let again = submit("sentences.txt", &["--pay", "0.001ether", "--regions", "EU"]).json();
    assert_eq!((again["new"].as_bool(), again["jobId"].as_str()), (Some(false), submitted["jobId"].as_str()));
    assert_eq!(jm.jobCount().call().await.unwrap(), U256::from(1));

    let job_arg = job.to_string();
    net.cairn(&["job", "status", "99"]).fails(1, &["job 99 does not exist"]);
    net.cairn(&["--account", "buyer", "job", "cancel", "99", "--yes"]).fails(1, &["job 99 does not exist"]);
    let status = net.cairn(&["--json", "job", "status", &job_arg]).json();
    assert_eq!(status["state"], "Requested");
    net.cairn(&["job", "result", &job_arg]).fails(1, &["has no result yet", "Requested"]);
    net.cairn(&["--account", "buyer", "job", "cancel", &job_arg, "--yes"]).fails(2, &["may still be claimed"]);
    net.cairn(&["--account", "seller", "job", "cancel", &job_arg, "--yes"]).fails(1, &["only its buyer"]);

    // An operator serves it with a real canonical output; the buyer fetches and checks it.
    let output = Embeddings { rows: 2, dim: 3, data: vec![0.6, 0.8, 0.0, 0.0, 0.6, 0.8] }.to_safetensors();
    serve(&net, job, &output, None).await;
    let status = net.cairn(&["--json", "job", "status", &job_arg]).json();
    assert_eq!(status["state"], "Submitted");
    assert!(status["challengeSecondsLeft"].as_u64().unwrap() > 0);
    let npy = dir.join("out.npy");
    let result =
        net.cairn(&["--json", "job", "result", &job_arg, "--out", npy.to_str().unwrap(), "--format", "npy"]).json();
    assert_eq!(result["shape"], serde_json::json!([2, 3]));
    assert_eq!(
        result["signer"].as_str().unwrap().to_lowercase(),
        format!("{:#x}", devnet_signer_key("operator-0").address())
    );
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    net.cairn(&["job", "result", &job_arg, "--out", npy.to_str().unwrap()]).fails(2, &["exists; pass --force"]);
    let st = dir.join("out.safetensors");
    let run = net.cairn(&["job", "result", &job_arg, "--out", st.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("2 rows × 3"), "{}", run.stdout);
    assert_eq!(std::fs::read(&st).unwrap(), output, "the canonical bytes as fetched");
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["job", "result", &job_arg, "--out", "-"])
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir.join(".test-home"))
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.stdout, output, "--out - writes the bytes to stdout");
    // --spot-check: a count of at least 1 and a model folder that exists; this job's model is a synthetic listing
    // whose manifest is on no IPFS node, which is said before anything runs (`make demo` spot-checks a real job).
    net.cairn(&["job", "result", &job_arg, "--spot-check", "0", "--model-dir", "."]).fails(2, &["--spot-check"]);
    net.cairn(&["job", "result", &job_arg, "--spot-check", "2"]).fails(2, &["--model-dir"]);
    net.cairn(&["job", "result", &job_arg, "--spot-check", "2", "--model-dir", "nowhere"])
        .fails(2, &["--model-dir nowhere is not a folder", "cairn model pull"]);
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    net.cairn(&["job", "result", &job_arg, "--spot-check", "2", "--model-dir", "empty"])
        .fails(1, &["fetching the manifest bafkreimanifest"]);

    // Finalize only after the window; then the escrow is split.
    net.cairn(&["--account", "buyer", "job", "finalize", &job_arg, "--yes"]).fails(2, &["window is open"]);
    let window = jm.params().call().await.unwrap().challengeWindow;
    advance(&net, window).await;
    net.cairn(&["--account", "buyer", "job", "challenge", &job_arg, "--yes"])
        .fails(1, &["challenge window of job", "closed"]);
    net.cairn(&["--json", "--account", "buyer", "job", "finalize", &job_arg, "--yes"]).json();
    assert_eq!(net.cairn(&["--json", "job", "status", &job_arg]).json()["state"], "Finalized");
}

/// The committee's current round of `dispute` is drawn (anyone may), every juror drawn (the devnet's verifiers)
/// commits and reveals `vote`, and the round is resolved.
async fn rule_round(net: &Devnet, dispute: U256, vote: u8) {
    let p = net.deployer.provider();
    p.raw_request::<_, serde_json::Value>("anvil_mine".into(), (U256::from(2),)).await.unwrap();
    let committee = cairn_bindings::ReexecutionCommittee::new(net.address("ReexecutionCommittee"), p);
    net.deployer.send("draw", committee.draw(dispute).into_transaction_request()).await.unwrap();
    let round = committee.disputeInfo(dispute).call().await.unwrap().round;
    let jurors = committee.jurorsIn(dispute, round).call().await.unwrap();
    let salt = B256::repeat_byte(5);
    let mut chains = Vec::new();
    for juror in &jurors {
        let key = (0..5)
            .map(|i| cairn_deploy::seed::devnet_key(&format!("verifier-{i}")))
            .find(|k| k.address() == *juror)
            .expect("the jurors are the devnet's verifiers");
        chains.push(
            cairn_chain::Chain::connect(net.anvil.url(), key, cairn_chain::ChainOptions::default()).await.unwrap(),
        );
    }
    for (juror, chain) in jurors.iter().zip(&chains) {
        let c = cairn_bindings::ReexecutionCommittee::new(net.address("ReexecutionCommittee"), chain.provider());
        let commitment = typed::commitment(dispute, round, *juror, U256::from(vote), salt);
        chain.send("commit", c.commit(dispute, *juror, commitment).into_transaction_request()).await.unwrap();
    }
    for (juror, chain) in jurors.iter().zip(&chains) {
        let c = cairn_bindings::ReexecutionCommittee::new(net.address("ReexecutionCommittee"), chain.provider());
        chain
            .send("reveal", c.reveal(dispute, *juror, U256::from(vote), salt).into_transaction_request())
            .await
            .unwrap();
    }
    net.deployer.send("resolve", committee.resolve(dispute).into_transaction_request()).await.unwrap();
}

#[tokio::test]
async fn a_wrong_output_is_refused_challenged_and_an_unclaimed_job_cancelled_and_refunded() {
    let net = Devnet::with_kubo().await;
    let id = net.register(&seller(), Address::ZERO, (U256::ZERO, 0)).await.to_string();
    let jm = JobMarket::new(net.address("JobMarket"), net.deployer.provider());
    std::fs::write(net.root.path().join("in.json"), r#"["one", "two"]"#).unwrap();
    let submit = |deadline: &str| {
        net.cairn(&[
            "--json",
            "--account",
            "buyer",
            "job",
            "submit",
            "--model",
            &id,
            "--input",
            "in.json",
            "--pay",
            "0.001ether",
            "--deadline",
            deadline,
            "--again",
            "--yes",
        ])
        .json()["jobId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = submit("1h");
    let second = submit("10m");
    assert_ne!(first, second, "--again pays for a second job");

    // The operator's receipt claims a digest the pinned bytes do not have.
    let output = Embeddings { rows: 2, dim: 2, data: vec![1.0, 0.0, 0.0, 1.0] }.to_safetensors();
    let job = U256::from_str_radix(&first, 10).unwrap();
    serve(&net, job, &output, Some(B256::repeat_byte(7))).await;
    net.cairn(&["job", "result", &first]).fails(1, &["does not match its receipt's sha256", "cairn job challenge"]);

    // The buyer challenges with evidence; the dispute is open and the evidence recorded.
    std::fs::write(net.root.path().join("why.txt"), "the output does not hash to the receipt").unwrap();
    let challenged = net
        .cairn(&["--json", "--account", "buyer", "job", "challenge", &first, "--evidence", "why.txt", "--yes"])
        .json();
    assert_eq!(challenged["action"], "challenged");
    assert!(challenged["evidenceUri"].as_str().unwrap().starts_with("ipfs://"));
    assert_eq!(challenged["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(jm.getProgress(job).call().await.unwrap().state, cairn_bindings::enums::job_state::DISPUTED);
    net.cairn(&["--account", "buyer", "job", "challenge", &first, "--yes"]).fails(1, &["already challenged"]);
    // More evidence from the same challenger costs no second bond.
    let more = net
        .cairn(&["--json", "--account", "buyer", "job", "challenge", &first, "--evidence", "why.txt", "--yes"])
        .json();
    assert_eq!((more["action"].as_str(), more["paid"].is_null()), (Some("evidence"), true));

    // Appeals: refused before the round rules; once it rules (the devnet's jurors uphold the result), the buyer
    // appeals it to a jury of 7 for the committee's appealCost; a second appeal of the same round is refused.
    let dispute = jm.getProgress(job).call().await.unwrap().disputeId;
    net.cairn(&["--account", "buyer", "job", "appeal", &first, "--yes"]).fails(
        1,
        &[&format!("dispute {dispute} (job {first}) is Created in round 0"), "only once its round has ruled"],
    );
    rule_round(&net, dispute, 1).await;
    let status = net.cairn(&["--json", "job", "status", &first]).json();
    let committee =
        cairn_bindings::ReexecutionCommittee::new(net.address("ReexecutionCommittee"), net.deployer.provider());
    let cost = committee.appealCost(dispute).call().await.unwrap();
    assert_eq!(
        (status["dispute"]["phase"].as_str(), status["dispute"]["ruling"].as_u64()),
        (Some("Appealable"), Some(1)),
        "{status}"
    );
    assert_eq!(status["dispute"]["appealCost"]["raw"], cost.to_string());
    let before = net.deployer.provider().get_balance(buyer().address()).await.unwrap();
    let appealed = net.cairn(&["--json", "--account", "buyer", "job", "appeal", &first, "--yes"]).json();
    assert_eq!(
        (appealed["action"].as_str(), appealed["paid"]["raw"].as_str()),
        (Some("appealed"), Some(cost.to_string().as_str()))
    );
    let after = net.deployer.provider().get_balance(buyer().address()).await.unwrap();
    assert!(before - after >= cost, "the buyer paid the appeal");
    let info = committee.disputeInfo(dispute).call().await.unwrap();
    assert_eq!((info.round, info.seats, info.phase), (1, 7, cairn_bindings::enums::phase::CREATED));
    net.cairn(&["--account", "buyer", "job", "appeal", &first, "--yes"]).fails(1, &["is Created in round 1"]);
    assert_eq!(net.deployer.provider().get_balance(buyer().address()).await.unwrap(), after, "nothing paid twice");

    // Nobody claims the second job: after its deadline the buyer cancels and is credited the payment.
    advance(&net, 601).await;
    let cancelled = net.cairn(&["--json", "--account", "buyer", "job", "cancel", &second, "--yes"]).json();
    assert_eq!(cancelled["paid"]["raw"], parse_ether("0.001").unwrap().to_string());
    assert_eq!(jm.balanceOf(buyer().address(), Address::ZERO).call().await.unwrap(), parse_ether("0.001").unwrap());
}
