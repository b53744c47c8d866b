//! Publish cost: sha256 + Kubo add of a generated 512 MiB file through `cairn-ipfs`, beside the plain
//! `ipfs add --cid-version=1 --raw-leaves` of the same file against the same daemon, and our sha256
//! throughput beside `sha256sum`. Writes a Markdown section to `$CAIRN_BENCH_OUT` (or stdout).
//!
//! Run with `make bench` (or `cargo bench -p cairn-ipfs --bench publish`). `CAIRN_BENCH_MIB` sets the
//! file size (default 512), `CAIRN_BENCH_TRIALS` the repetitions (default 5; the median is reported).

use std::{
    io::Write,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use cairn_ipfs::{AddOptions, KuboClient, Sha256Digest};
use cairn_testkit::Kubo;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn generate(path: &Path, mib: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create bench file"));
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        file.write_all(&block).expect("write bench file");
    }
    file.flush().expect("flush bench file");
}

fn our_sha256(path: &Path) -> String {
    Sha256Digest::of_file(path).expect("hash the bench file").0.to_hex()
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("run command");
    assert!(out.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Unpins and garbage-collects, so the next add stores every block again.
fn reset(kubo: &Kubo, cid: &str) {
    run(kubo.cli().expect("ipfs").args(["pin", "rm", cid]));
    run(kubo.cli().expect("ipfs").args(["repo", "gc", "--quiet"]));
}

#[tokio::main]
async fn main() {
    let mib = env_usize("CAIRN_BENCH_MIB", 512);
    let trials = env_usize("CAIRN_BENCH_TRIALS", 5);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("weights.bin");
    eprintln!("publish bench: generating a {mib} MiB file");
    generate(&path, mib);
    let bytes = (mib as f64) * 1024.0 * 1024.0;
    let mbps = |d: Duration| bytes / 1e6 / d.as_secs_f64();

    // sha256 throughput (page cache warm after generation; one warm-up read each).
    let reference_digest = run(Command::new("sha256sum").arg(&path));
    let reference_digest = reference_digest.split_whitespace().next().expect("digest").to_owned();
    assert_eq!(our_sha256(&path), reference_digest, "our sha256 disagrees with sha256sum");
    let (mut ours_hash, mut theirs_hash) = (Vec::new(), Vec::new());
    for trial in 0..trials {
        eprintln!("publish bench: sha256 trial {}/{trials}", trial + 1);
        let start = Instant::now();
        our_sha256(&path);
        ours_hash.push(start.elapsed());
        let start = Instant::now();
        run(Command::new("sha256sum").arg(&path));
        theirs_hash.push(start.elapsed());
    }

    // Kubo add: the CLI against the daemon, then ours (sha256 + add in one streamed pass).
    let kubo = Kubo::start().await.expect("start Kubo (run `make setup`)");
    let client = KuboClient::new(kubo.api_url()).expect("client");
    let (mut ours_add, mut theirs_add) = (Vec::new(), Vec::new());
    for trial in 0..trials {
        eprintln!("publish bench: add trial {}/{trials}", trial + 1);
        let start = Instant::now();
        let cli_cid = run(kubo.cli().expect("ipfs").args(["add", "-Q", "--cid-version=1", "--raw-leaves"]).arg(&path));
        theirs_add.push(start.elapsed());
        let cli_cid = cli_cid.trim().to_owned();
        reset(&kubo, &cli_cid);

        let start = Instant::now();
        let added = client.add_file(&path, AddOptions::default()).await.expect("add through cairn-ipfs");
        ours_add.push(start.elapsed());
        assert_eq!(added.cid.as_str(), cli_cid, "same CID as the CLI");
        assert_eq!(added.sha256.to_hex(), reference_digest, "same sha256 as sha256sum");
        reset(&kubo, &cli_cid);
    }

    let (oh, th, oa, ta) = (median(ours_hash), median(theirs_hash), median(ours_add), median(theirs_add));
    let section = format!(
        "## Publish cost (`cairn-ipfs`, issue #2)\n\n\
         A generated {mib} MiB file, median of {trials} trials, page cache warm. Kubo {kubo_version}, offline, \
         garbage-collected between adds so every add stores every block.\n\n\
         | measure | cairn | reference | ratio | goal |\n|---|---|---|---|---|\n\
         | sha256 + `add` (CIDv1, raw leaves) vs `ipfs add --cid-version=1 --raw-leaves` | {oa:.2?} | {ta:.2?} | {ra:.2}× time | ≤ 1.2× |\n\
         | sha256 throughput vs `sha256sum` | {ohm:.0} MB/s | {thm:.0} MB/s | {rh:.2}× speed | ≥ 0.8× |\n\n\
         Our add streams the file once and hashes it on the way (1 MiB reads), so sha256 costs no extra pass; \
         `sha2` uses the CPU's SHA extensions where present.\n",
        kubo_version = client.version().await.map(|v| v.version).unwrap_or_default(),
        ra = oa.as_secs_f64() / ta.as_secs_f64(),
        ohm = mbps(oh),
        thm = mbps(th),
        rh = mbps(oh) / mbps(th),
    );
    match std::env::var_os("CAIRN_BENCH_OUT") {
        Some(out) => std::fs::write(out, &section).expect("write bench section"),
        None => print!("{section}"),
    }
}
