//! `cairn-testkit` (dev-only): real services for integration tests, in one line each.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cairn_testkit::Error> {
//! let net = cairn_testkit::TestNet::start().await?; // anvil + Kubo (offline, temporary repo)
//! println!("{} {}", net.anvil.url(), net.kubo.api_url());
//! # Ok(()) }
//! ```
//!
//! Each service listens on a port the OS picks, so tests run in parallel, and is killed when its handle
//! drops. Binaries come from the project's `.tools/bin` (installed by `make setup`), or from the folder
//! in `CAIRN_TOOLS_BIN`; [`Postgres`] (a throwaway PostgreSQL cluster) takes the distribution's server
//! binaries (`apt-get install postgresql`), or those in `CAIRN_PG_BIN`.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cairn_primitives::FileDigests;

mod postgres;

pub use postgres::Postgres;

/// How long a service may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a service could not be started.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tool binary is not installed.
    #[error("`{tool}` not found at {}; run `make setup` (or set CAIRN_TOOLS_BIN to a folder holding it)", looked.display())]
    ToolMissing {
        /// The binary's name.
        tool: &'static str,
        /// Where it was looked for.
        looked: PathBuf,
    },
    /// The PostgreSQL server binaries are not installed.
    #[error(
        "PostgreSQL's `{tool}` not found in {}; run `apt-get install postgresql` (or `make setup` as root), \
         or set CAIRN_PG_BIN to the folder holding initdb, pg_ctl and psql",
        looked.display()
    )]
    PostgresMissing {
        /// The first binary missing.
        tool: &'static str,
        /// The folder it was looked for in.
        looked: PathBuf,
    },
    /// A process could not be run.
    #[error("cannot run {what}: {source}")]
    Spawn {
        /// What was run.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A service did not come up.
    #[error("{what} did not become ready within {after:?}: {detail}")]
    NotReady {
        /// Which service.
        what: &'static str,
        /// How long we waited.
        after: Duration,
        /// What we saw (its output, the last error).
        detail: String,
    },
    /// A command ran and failed.
    #[error("{what} failed: {detail}")]
    Failed {
        /// The command.
        what: String,
        /// Its output and exit status.
        detail: String,
    },
    /// A database name `Postgres::fresh_database` does not take.
    #[error("database name `{name}`: use 1-63 lowercase ASCII letters, digits or `_`, not starting with a digit")]
    BadDatabaseName {
        /// The name given.
        name: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How hard long suites (random rounds, reorg and kill rounds, many-input runs) work: `CAIRN_TEST_PROFILE=ci`
/// (set by `.ci/run`) runs the full count; anything else, the default, a quick count for a developer's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestProfile {
    /// A developer's `cargo test`: enough rounds to catch the common failure, in seconds.
    Quick,
    /// CI: the full count.
    Ci,
}

impl TestProfile {
    /// Reads `CAIRN_TEST_PROFILE` (`ci` or `quick`; unset means quick).
    ///
    /// Panics on another value, so a typo in CI never silently runs the quick suite.
    pub fn from_env() -> Self {
        match std::env::var("CAIRN_TEST_PROFILE").as_deref() {
            Ok("ci") => Self::Ci,
            Ok("quick") | Ok("") | Err(_) => Self::Quick,
            Ok(other) => panic!("CAIRN_TEST_PROFILE=`{other}`: expected `ci` or `quick`"),
        }
    }

    /// `quick` or `ci`, by profile.
    pub fn pick<T>(self, quick: T, ci: T) -> T {
        match self {
            Self::Quick => quick,
            Self::Ci => ci,
        }
    }
}

/// The repository root (where `Cargo.toml` of the workspace lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace root exists")
}

/// The folder holding forge, anvil, cast, solc and ipfs.
pub fn tools_bin() -> PathBuf {
    std::env::var_os("CAIRN_TOOLS_BIN").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".tools/bin"))
}

/// Path of one tool, checked to exist.
pub fn tool(name: &'static str) -> Result<PathBuf> {
    let path = tools_bin().join(name);
    if path.exists() { Ok(path) } else { Err(Error::ToolMissing { tool: name, looked: path }) }
}

/// A command of a pinned Python tool that `make setup` installs into a cached venv: `$<env_var>/bin/<bin>`,
/// else `$CAIRN_CACHE/<venv>/bin/<bin>`, else `~/.cache/cairn/<venv>/bin/<bin>`. Panics, naming `installer`
/// (the script that installs it), when it is not there.
pub fn venv_tool(env_var: &str, venv: &str, bin: &str, installer: &str) -> PathBuf {
    let dir = std::env::var_os(env_var).map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("CAIRN_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/cairn"));
        cache.join(venv)
    });
    let path = dir.join("bin").join(bin);
    assert!(
        path.is_file(),
        "{bin} is not installed at {}: run `make setup` (or {installer}); {env_var} names another venv",
        path.display()
    );
    path
}

/// The all-MiniLM-L6-v2 folder installed by `make setup`.
pub fn model_dir() -> PathBuf {
    repo_root().join(".tools/models/all-MiniLM-L6-v2")
}

/// The pinned sha256 of every model file, from `toolchain/all-MiniLM-L6-v2.sha256` (`sha256sum` format).
pub fn model_digests() -> FileDigests {
    let list = std::fs::read_to_string(repo_root().join("toolchain/all-MiniLM-L6-v2.sha256"))
        .expect("toolchain/all-MiniLM-L6-v2.sha256 is committed");
    FileDigests::parse_sha256sum(&list).expect("toolchain/all-MiniLM-L6-v2.sha256 is a valid sha256sum list")
}

/// A child process killed on drop.
#[derive(Debug)]
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running anvil (chain id 31337 unless started otherwise).
#[derive(Debug)]
pub struct Anvil {
    _child: Guard,
    url: String,
    chain_id: u64,
}

impl Anvil {
    /// Starts anvil with chain id 31337 on a free port.
    pub async fn start() -> Result<Self> {
        Self::start_with(31337, &[]).await
    }

    /// Starts anvil with `chain_id` and extra command-line arguments, on the Cancun hard fork: the one the
    /// contracts are compiled for (`evm_version` in foundry.toml), and the devnet's (`scripts/devnet.sh`).
    /// Cancun has no EIP-2935 block-hash history, so a dispute's seed lapses after 256 blocks, not 8,191; and
    /// anvil mines Cancun blocks about ten times faster than Prague ones (2,048 empty blocks: 0.65 s against
    /// 6 s here), which the tests that let seeds lapse need.
    pub async fn start_with(chain_id: u64, extra: &[&str]) -> Result<Self> {
        let bin = tool("anvil")?;
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--host", "127.0.0.1", "--chain-id", &chain_id.to_string()])
            .args(["--hardfork", "cancun"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::Spawn { what: bin.display().to_string(), source })?;
        let stdout = child.stdout.take().expect("piped");
        let guard = Guard(child);
        // anvil prints "Listening on 127.0.0.1:PORT" once bound; keep draining afterwards so it never blocks.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut seen = String::new();
            for line in BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
                if let Some(addr) = line.strip_prefix("Listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(addr.trim().to_owned()));
                    }
                } else if tx.is_some() {
                    seen.push_str(&line);
                    seen.push('\n');
                }
            }
            if let Some(tx) = tx.take() {
                let _ = tx.send(Err(seen));
            }
        });
        let addr = match tokio::time::timeout(READY_TIMEOUT, rx).await {
            Ok(Ok(Ok(addr))) => addr,
            Ok(Ok(Err(output))) => {
                return Err(not_ready("anvil", format!("exited before listening: {output}")));
            }
            _ => return Err(not_ready("anvil", "it never printed its address".into())),
        };
        let url = format!("http://{addr}");
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
        wait_until("anvil", || async {
            let response = reqwest::Client::new().post(&url).json(&body).send().await.map_err(|e| e.to_string())?;
            let value: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            let got = value["result"].as_str().and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok());
            if got == Some(chain_id) { Ok(()) } else { Err(format!("eth_chainId answered {value}")) }
        })
        .await?;
        Ok(Self { _child: guard, url, chain_id })
    }

    /// JSON-RPC URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chain id it serves.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
}

/// A running Kubo daemon: `--offline`, with a temporary repository removed on drop.
#[derive(Debug)]
pub struct Kubo {
    _child: Guard,
    api_url: String,
    repo: tempfile::TempDir,
}

impl Kubo {
    /// Initialises a temporary repo (profile `test`: loopback, random ports, no bootstrap) and starts
    /// `ipfs daemon --offline` on it.
    pub async fn start() -> Result<Self> {
        let bin = tool("ipfs")?;
        let repo = tempfile::Builder::new()
            .prefix("cairn-kubo-")
            .tempdir()
            .map_err(|source| Error::Spawn { what: "mktemp".into(), source })?;
        let init = Command::new(&bin)
            .args(["init", "--profile", "test", "--empty-repo"])
            .env("IPFS_PATH", repo.path())
            .output()
            .map_err(|source| Error::Spawn { what: format!("{} init", bin.display()), source })?;
        if !init.status.success() {
            return Err(not_ready("kubo", format!("ipfs init failed: {}", String::from_utf8_lossy(&init.stderr))));
        }
        let log = std::fs::File::create(repo.path().join("daemon.log"))
            .map_err(|source| Error::Spawn { what: "daemon log".into(), source })?;
        let child = Command::new(&bin)
            .args(["daemon", "--offline"])
            .env("IPFS_PATH", repo.path())
            .stdout(log.try_clone().map_err(|source| Error::Spawn { what: "daemon log".into(), source })?)
            .stderr(log)
            .spawn()
            .map_err(|source| Error::Spawn { what: format!("{} daemon", bin.display()), source })?;
        let guard = Guard(child);
        // The daemon writes its bound API multiaddr to $IPFS_PATH/api once it listens.
        let api_file = repo.path().join("api");
        let log_path = repo.path().join("daemon.log");
        let multiaddr = wait_until("kubo", || async {
            let text = std::fs::read_to_string(&api_file).map_err(|_| {
                format!("no api file yet; daemon log: {}", std::fs::read_to_string(&log_path).unwrap_or_default())
            })?;
            Ok(text.trim().to_owned())
        })
        .await?;
        let api_url = multiaddr_to_url(&multiaddr)
            .ok_or_else(|| not_ready("kubo", format!("cannot read API address `{multiaddr}`")))?;
        let version_url = format!("{api_url}/api/v0/version");
        wait_until("kubo", || async {
            let response = reqwest::Client::new().post(&version_url).send().await.map_err(|e| e.to_string())?;
            if response.status().is_success() { Ok(()) } else { Err(format!("version answered {}", response.status())) }
        })
        .await?;
        Ok(Self { _child: guard, api_url, repo })
    }

    /// RPC API URL, e.g. `http://127.0.0.1:43117`.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The temporary `IPFS_PATH`, for running the `ipfs` CLI against this node.
    pub fn repo(&self) -> &Path {
        self.repo.path()
    }

    /// A `Command` for the `ipfs` CLI talking to this node.
    pub fn cli(&self) -> Result<Command> {
        let mut command = Command::new(tool("ipfs")?);
        command.env("IPFS_PATH", self.repo.path());
        Ok(command)
    }
}

/// A chain and an IPFS node together.
#[derive(Debug)]
pub struct TestNet {
    /// The chain.
    pub anvil: Anvil,
    /// The IPFS node.
    pub kubo: Kubo,
}

impl TestNet {
    /// Starts both, concurrently.
    pub async fn start() -> Result<Self> {
        let (anvil, kubo) = tokio::join!(Anvil::start(), Kubo::start());
        Ok(Self { anvil: anvil?, kubo: kubo? })
    }
}

/// `/ip4/127.0.0.1/tcp/5001` → `http://127.0.0.1:5001`.
fn multiaddr_to_url(multiaddr: &str) -> Option<String> {
    let parts: Vec<&str> = multiaddr.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["ip4", host, "tcp", port, ..] => Some(format!("http://{host}:{port}")),
        ["ip6", host, "tcp", port, ..] => Some(format!("http://[{host}]:{port}")),
        _ => None,
    }
}

fn not_ready(what: &'static str, detail: String) -> Error {
    Error::NotReady { what, after: READY_TIMEOUT, detail }
}

async fn wait_until<T, F, Fut>(what: &'static str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match probe().await {
            Ok(value) => return Ok(value),
            Err(last) if start.elapsed() > READY_TIMEOUT => return Err(not_ready(what, last)),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_api_multiaddrs() {
        assert_eq!(multiaddr_to_url("/ip4/127.0.0.1/tcp/5001").as_deref(), Some("http://127.0.0.1:5001"));
        assert_eq!(multiaddr_to_url("/ip6/::1/tcp/5001").as_deref(), Some("http://[::1]:5001"));
        assert_eq!(multiaddr_to_url("/dns/localhost/tcp/5001"), None);
    }
}
