//! `cairn model publish` end to end (issue #13): the real binary against a fresh anvil (suite deployed and
//! seeded) and a fresh offline Kubo per trial, publishing (a) a copy of the MiniLM folder and (b) a folder with
//! a generated safetensors file (pseudo-random, so no block dedupes; 1 GiB by default) beside MiniLM's small
//! files and card. The binary's `CAIRN_TIMINGS=1` line splits each publish into prepare / add (the one
//! streaming hash+add pass) / sign (model signature, bundle and manifest pinned) / chain (registration until
//! the receipt). Reference, same trial, same daemon, same folder: `ipfs add -r --hidden --cid-version=1
//! --raw-leaves` through the Kubo CLI (`--hidden` because publish adds `.gitattributes`; the root CIDs are
//! checked equal), garbage-collected before the publish so both store every block.
//!
//! Run with `CAIRN_BENCH_ONLY=publish make bench` or `cargo bench -p cairn-cli --bench publish`.
//! `CAIRN_BENCH_TRIALS` (default 5) and `CAIRN_BENCH_BIG_TRIALS` (default 3) set the repetitions,
//! `CAIRN_BENCH_BIG_MIB` the generated file's size (default 1024); medians are reported. Writes a Markdown
//! table to `$CAIRN_BENCH_OUT` (or stdout).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use alloy::signers::local::PrivateKeySigner;
use cairn_chain::{Chain, ChainOptions};
use cairn_deploy::{
    config::DeployConfig,
    deploy::{Mode, Options},
};

/// anvil's public test account 0 (the deployer).
const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// A devnet laid out as `make devnet` leaves it (as the CLI's integration tests build it).
struct Devnet {
    _anvil: cairn_testkit::Anvil,
    kubo: cairn_testkit::Kubo,
    root: tempfile::TempDir,
}

impl Devnet {
    async fn start() -> Self {
        let kubo = cairn_testkit::Kubo::start().await.expect("start Kubo (run `make setup` first)");
        let anvil = cairn_testkit::Anvil::start().await.expect("start anvil");
        let key: PrivateKeySigner = ANVIL_KEY_0.parse().expect("key");
        let deployer = Chain::connect(anvil.url(), key, ChainOptions::default()).await.expect("connect");
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("deployments");
        let options = Options { dir: dir.clone(), mode: Mode::New, root: cairn_testkit::repo_root() };
        let config = DeployConfig::defaults("devnet").expect("devnet config");
        let mut deployments =
            cairn_deploy::deploy::deploy(&deployer, &config, &options, &|_| {}).await.expect("deploy the suite");
        let actors = cairn_deploy::seed::seed(&deployer, &mut deployments, &|_| {}).await.expect("seed");
        deployments.save(&dir).expect("save deployments");
        std::fs::create_dir_all(root.path().join(".devnet")).expect("mkdir");
        std::fs::write(root.path().join(".devnet/accounts.json"), serde_json::to_vec_pretty(&actors).expect("json"))
            .expect("write accounts");
        let state = serde_json::json!({ "chain_id": 31337, "anvil_url": anvil.url(), "kubo_url": kubo.api_url() });
        std::fs::write(root.path().join(".devnet/state.json"), state.to_string()).expect("write state");
        Self { _anvil: anvil, kubo, root }
    }

    fn ipfs(&self, args: &[&str]) -> String {
        let mut command = self.kubo.cli().expect("ipfs");
        let out = command.args(args).output().expect("run ipfs");
        assert!(out.status.success(), "ipfs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
    }

    /// `ipfs add -r` of `dir`, timed. Returns the root CID and seconds.
    fn reference_add(&self, dir: &Path) -> (String, f64) {
        let d = dir.to_str().expect("utf-8 path");
        let start = Instant::now();
        let cid = self.ipfs(&["add", "-r", "-Q", "--hidden", "--cid-version=1", "--raw-leaves", d]);
        (cid, start.elapsed().as_secs_f64())
    }

    /// Unpins `cid` and garbage-collects, so the next add stores every block again.
    fn forget(&self, cid: &str) {
        self.ipfs(&["pin", "rm", cid]);
        self.ipfs(&["repo", "gc", "--quiet"]);
    }

    /// `cairn model publish dir` with `CAIRN_TIMINGS=1`; the root CID, the phases and the wall time.
    fn publish(&self, dir: &Path) -> (String, serde_json::Value, f64) {
        let home = self.root.path().join(".bench-home");
        std::fs::create_dir_all(&home).expect("mkdir home");
        let d = dir.to_str().expect("utf-8 path");
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--json", "--account", "seller", "model", "publish", d, "--price-per-call", "0.0001ether", "--yes"])
            .current_dir(self.root.path())
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var_os("PATH").expect("PATH"))
            .env("CAIRN_TIMINGS", "1")
            .output()
            .expect("run cairn");
        let wall = start.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "cairn model publish failed: {stderr}");
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("publish --json");
        let line = stderr.lines().find_map(|l| l.strip_prefix("cairn-timings ")).expect("a cairn-timings line");
        let timings: serde_json::Value = serde_json::from_str(line).expect("timings JSON");
        (shown["rootCid"].as_str().expect("rootCid").to_owned(), timings, wall)
    }
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target, &[]);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// MiniLM's small files and card beside a `total`-byte safetensors file of one U8 tensor holding
/// xorshift bytes.
fn big_model(dir: &Path, total: u64) {
    copy_dir(&cairn_testkit::model_dir(), dir, &["model.safetensors"]);
    // The header names the data length, which depends on the header's length: both have fixed width here.
    let header_len = format!(r#"{{"w":{{"dtype":"U8","shape":[{0:012}],"data_offsets":[0,{0:012}]}}}}"#, 0).len();
    let data = total - 8 - header_len as u64;
    let header = format!(r#"{{"w":{{"dtype":"U8","shape":[{data}],"data_offsets":[0,{data}]}}}}"#);
    let header = format!("{header:<header_len$}"); // trailing spaces are allowed padding
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("model.safetensors")).expect("create"));
    file.write_all(&(header.len() as u64).to_le_bytes()).expect("write");
    file.write_all(header.as_bytes()).expect("write");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = data;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
    file.flush().expect("flush");
}

/// One folder's measurements over the trials.
#[derive(Default)]
struct Case {
    reference: Vec<f64>,
    phases: Vec<serde_json::Value>,
    wall: Vec<f64>,
}

impl Case {
    fn phase(&self, name: &str) -> Vec<f64> {
        self.phases.iter().map(|p| p[name].as_f64().expect("phase")).collect()
    }

    fn row(&self, label: &str, bytes: u64) -> String {
        let add = self.phase("add");
        let ratios: Vec<f64> = add.iter().zip(&self.reference).map(|(a, r)| a / r).collect();
        let totals: Vec<f64> = self.wall.iter().zip(&self.reference).map(|(w, r)| w / r).collect();
        let s = |xs: Vec<f64>| format!("{:.2} s", median(xs));
        format!(
            "| {label} ({:.0} MiB) | {} | {} | {} | **{:.2}×** | {} | {} | {} | {:.2}× |",
            bytes as f64 / f64::from(1 << 20),
            self.reference.len(),
            s(self.reference.clone()),
            s(add),
            median(ratios),
            s(self.phase("sign")),
            s(self.phase("chain")),
            s(self.wall.clone()),
            median(totals),
        )
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            if e.file_type().expect("type").is_dir() { dir_bytes(&e.path()) } else { e.metadata().expect("meta").len() }
        })
        .sum()
}

/// One trial of one folder. An untimed add first (a fresh Kubo creates its datastore's shard folders on the
/// first add, which would slow whichever add came first); then the reference and the publish, in an order
/// that alternates over the trials, each starting from a garbage-collected repo.
fn measure(net: &Devnet, dir: &Path, trial: usize, case: &mut Case) {
    let _ = std::fs::remove_file(dir.join("model.sig")); // written by the previous trial's publish
    let (warm_cid, _) = net.reference_add(dir);
    net.forget(&warm_cid);
    let ((reference_cid, reference), (root_cid, phases, wall)) = if trial.is_multiple_of(2) {
        let reference = net.reference_add(dir);
        net.forget(&reference.0);
        (reference, net.publish(dir))
    } else {
        let _ = std::fs::remove_file(dir.join("model.sig"));
        let published = net.publish(dir);
        std::fs::remove_file(dir.join("model.sig")).expect("publish wrote model.sig");
        net.forget(&published.0);
        (net.reference_add(dir), published)
    };
    assert_eq!(root_cid, reference_cid, "publish and `ipfs add -r --hidden` added the same folder");
    eprintln!("publish bench:   {}: ipfs add {reference:.2} s, publish {phases} (wall {wall:.2} s)", dir.display());
    case.reference.push(reference);
    case.phases.push(phases);
    case.wall.push(wall);
}

#[tokio::main]
async fn main() {
    let trials = env_usize("CAIRN_BENCH_TRIALS", 5);
    let big_trials = env_usize("CAIRN_BENCH_BIG_TRIALS", 3).min(trials);
    let big_mib = env_usize("CAIRN_BENCH_BIG_MIB", 1024) as u64;
    let scratch = tempfile::tempdir().expect("tempdir");
    let big = scratch.path().join("big");
    if big_trials > 0 {
        eprintln!("publish bench: generating a {big_mib} MiB safetensors file");
        big_model(&big, big_mib << 20);
    }
    let (mut minilm, mut generated) = (Case::default(), Case::default());
    let mut kubo_version = String::new();
    for trial in 0..trials {
        eprintln!("publish bench: trial {}/{trials}: fresh anvil + Kubo, suite deployed and seeded", trial + 1);
        let net = Devnet::start().await;
        kubo_version = net.ipfs(&["version", "--number"]);
        let copy = net.root.path().join("all-MiniLM-L6-v2");
        copy_dir(&cairn_testkit::model_dir(), &copy, &[]);
        measure(&net, &copy, trial, &mut minilm);
        if trial < big_trials {
            measure(&net, &big, trial, &mut generated);
        }
    }
    let minilm_bytes = dir_bytes(&cairn_testkit::model_dir());
    let mut rows = vec![minilm.row("MiniLM folder", minilm_bytes)];
    if big_trials > 0 {
        let _ = std::fs::remove_file(big.join("model.sig"));
        rows.push(generated.row("generated safetensors + MiniLM's small files", dir_bytes(&big)));
    }
    let section = format!(
        "## Publish end to end (`cairn model publish`, issue #13)\n\n\
         The release binary against a fresh anvil (suite deployed and seeded) and a fresh offline Kubo \
         {kubo_version} per trial; medians over the trials, each ratio the median of the per-trial ratios. \
         Reference in the same trial on the same daemon: `ipfs add -r --hidden --cid-version=1 --raw-leaves` of \
         the same folder through the Kubo CLI (same root CID, checked), garbage-collected before the publish so \
         both store every block (after one untimed add, the order alternating over the trials). Phases from the binary's `CAIRN_TIMINGS=1` line: *add* is the one streaming \
         pass that hashes (sha256) and adds every file; *sign* signs the folder (OpenSSF Model Signing) and pins \
         the bundle and the manifest; *chain* is the registration until its receipt; *total* is the process's \
         wall time (start-up, checks and chain reads included). Goal: add ≤ 1.15× `ipfs add`.\n\n\
         | folder | trials | `ipfs add -r` | publish: add | add ratio | sign + pin | chain | total | total ratio |\n\
         |---|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    match std::env::var_os("CAIRN_BENCH_OUT") {
        Some(out) => std::fs::write(PathBuf::from(out), &section).expect("write bench section"),
        None => print!("{section}"),
    }
}
