//! `cairn-indexer`: follows a Cairn deployment and serves its history over HTTP. See `--help`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use cairn_chain::{Chain, ChainOptions, Deployments};
use cairn_indexer::{
    api::{
        self, ApiOptions, AppState,
        site::{WebApp, WebConfig},
    },
    decode::{Decoder, INDEXED_CONTRACTS},
    follower::{Follower, FollowerOptions},
    metrics::Metrics,
    store::Store,
};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The auditors' record of Cairn's market: every model, licence, job, operator and dispute, from the chain's
/// events alone (no key needed), through reorgs and crashes, served over HTTP.
#[derive(Debug, Parser)]
#[command(
    name = "cairn-indexer",
    version,
    after_help = "Examples:
  # Follow the devnet (make devnet does this for you) and serve on :8088
  cairn-indexer run --rpc-url http://127.0.0.1:8545 --deployments deployments/31337.json

  # PostgreSQL instead of the embedded SQLite file
  cairn-indexer run --db postgres://cairn@127.0.0.1:5432/cairn --listen 0.0.0.0:8080

  # Rebuild every projection from the stored raw events
  cairn-indexer reindex --db sqlite://.devnet/indexer.db --deployments deployments/31337.json"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "CAIRN_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Follow the chain and serve the API (one process writes; others on the same PostgreSQL only serve).
    #[command(after_help = "Examples:
  cairn-indexer run --rpc-url http://127.0.0.1:8545 --deployments deployments/31337.json
  cairn-indexer run --rpc-url ws://127.0.0.1:8545 --db sqlite://indexer.db --listen 127.0.0.1:8080

The API (read-only): GET /models, /models/{id}, /jobs, /jobs/{id}, /operators, /operators/{addr},
/disputes, /disputes/{id}, /params, /accounts/{addr}/trail, /did/{did}, /stats, /health, /metrics; lists take
cursor, limit and format=csv; the OpenAPI document is at /openapi.json. With --app-dir, the buyers' web app is at
/app/ (build it with `make web`).")]
    Run(Box<RunArgs>),
    /// Rebuild every projection from the raw events already stored (no RPC needed).
    #[command(after_help = "Examples:
  cairn-indexer reindex --db sqlite://.devnet/indexer.db --deployments deployments/31337.json")]
    Reindex(StoreArgs),
    /// Delete everything stored (after a chain reset or a redeploy).
    #[command(after_help = "Examples:
  cairn-indexer reset --db sqlite://.devnet/indexer.db --yes")]
    Reset {
        /// Database URL.
        #[arg(long, env = "CAIRN_INDEXER_DB", default_value = DEFAULT_DB)]
        db: String,
        /// Confirm: everything stored is deleted.
        #[arg(long)]
        yes: bool,
    },
}

const DEFAULT_DB: &str = "sqlite://cairn-indexer.db";
/// Chain ids of local devnets (anvil and Hardhat use 31337, Ganache and geth `--dev` 1337): the chains that get
/// shorter (`evm_revert`), so `--behind-grace-secs` defaults to 60 on them.
const DEVNET_CHAIN_IDS: [u64; 2] = [31337, 1337];

#[derive(Debug, Args)]
struct StoreArgs {
    /// Database URL: sqlite://PATH (created when missing) or postgres://USER[:PASS]@HOST:PORT/DB.
    #[arg(long, env = "CAIRN_INDEXER_DB", default_value = DEFAULT_DB)]
    db: String,
    /// The deployments file (`cairn-deploy` writes deployments/<chainId>.json).
    #[arg(long, env = "CAIRN_DEPLOYMENTS")]
    deployments: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// JSON-RPC URL (http(s):// polls for new blocks; ws(s):// subscribes to them).
    #[arg(long, env = "CAIRN_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Address the API listens on.
    #[arg(long, env = "CAIRN_INDEXER_LISTEN", default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// Kubo RPC URL, for model manifests shown by /models/{id} (fetched with size and time limits, cached).
    #[arg(long, env = "CAIRN_IPFS_URL", default_value = "http://127.0.0.1:5001")]
    ipfs_url: String,
    /// Recent block headers kept to find a reorg's fork point.
    #[arg(long, default_value_t = 64)]
    reorg_window: u64,
    /// Confirmations after which a row is final (the node's `finalized` block counts too, where served).
    #[arg(long, default_value_t = 64)]
    finality_depth: u64,
    /// How often to poll for new blocks over HTTP, milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_interval_ms: u64,
    /// How long to wait, seconds, for a node that lacks the last indexed block (behind its peers, a load
    /// balancer's lagging backend, a restarted node syncing) before taking it as a chain that got shorter and
    /// rolling back to the node's head. Default: 60 on a devnet (chain id 31337 or 1337, where `evm_revert`
    /// shortens the chain), as long as it takes elsewhere (real chains replace blocks, they never get shorter).
    #[arg(long)]
    behind_grace_secs: Option<u64>,
    /// API requests per second per client IP.
    #[arg(long, default_value_t = 50)]
    rate_limit: u32,
    /// The API's public base URL (e.g. https://indexer.example), for links in DID documents; default
    /// http://<the request's Host>.
    #[arg(long, env = "CAIRN_INDEXER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Serve the buyers' web app from this folder (`web/dist`, built by `make web`) at /app/, with
    /// /app/config.json telling it the chain, the contracts, the relay and the IPFS gateway.
    #[arg(long, env = "CAIRN_APP_DIR")]
    app_dir: Option<PathBuf>,
    /// The JSON-RPC URL the web app's browsers use (reads, and the chain offered to wallets); default --rpc-url.
    #[arg(long, env = "CAIRN_APP_RPC_URL")]
    app_rpc_url: Option<String>,
    /// A runner's relay the web app uploads inputs to and posts gasless requests through (`[relay] listen` of
    /// `cairn-runner`, e.g. http://127.0.0.1:8090); without it the app can browse and audit but not submit jobs.
    #[arg(long, env = "CAIRN_APP_RELAY_URL")]
    app_relay_url: Option<String>,
    /// The IPFS HTTP gateway the web app fetches outputs and inputs from (Kubo's gateway serves CORS).
    #[arg(long, env = "CAIRN_APP_GATEWAY_URL", default_value = "http://127.0.0.1:8080")]
    app_gateway_url: String,
}

/// mimalloc: see indexer/Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The deployments file: the one named, else `deployments/<chainId>.json` for the node's chain.
async fn load_deployments(path: Option<&Path>, rpc_url: Option<&str>) -> anyhow::Result<Deployments> {
    let path = match (path, rpc_url) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(url)) => {
            let chain = Chain::connect_read_only(url, ChainOptions::default()).await?;
            Deployments::path(Path::new("deployments"), chain.chain_id())
        }
        (None, None) => anyhow::bail!("--deployments is required (e.g. --deployments deployments/31337.json)"),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("deployments file {}: {e} (deploy first: `make devnet`)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("deployments file {}: {e}", path.display()))
}

fn sqlite_path(db: &str) -> Option<PathBuf> {
    let rest = db.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Reset { db, yes } => {
            if !yes {
                anyhow::bail!("`reset` deletes everything stored in {db}: add --yes to confirm");
            }
            let store = Store::open(&db).await?;
            store.reset().await?;
            eprintln!("reset {}: every row deleted", store.url());
            Ok(())
        }
        Command::Reindex(args) => {
            let deployments = load_deployments(args.deployments.as_deref(), None).await?;
            let store = Store::open(&args.db).await?;
            let Some(_lock) = store.try_writer_lock(sqlite_path(&args.db).as_deref()).await? else {
                anyhow::bail!("another cairn-indexer writes to {}: stop it before reindexing", store.url());
            };
            let decoder = decoder_for(&deployments);
            let n = cairn_indexer::reindex(&store, &decoder, deployments.chain_id, &Metrics::new()).await?;
            eprintln!("reindexed {n} events into {}", store.url());
            Ok(())
        }
        Command::Run(args) => serve(*args).await,
    }
}

fn decoder_for(deployments: &Deployments) -> Decoder {
    Decoder::new(
        deployments
            .contracts
            .iter()
            .filter(|(name, _)| INDEXED_CONTRACTS.contains(&name.as_str()))
            .map(|(name, d)| (name.clone(), d.address)),
    )
}

async fn serve(args: RunArgs) -> anyhow::Result<()> {
    let deployments = load_deployments(args.store.deployments.as_deref(), Some(&args.rpc_url)).await?;
    let store = Store::open(&args.store.db).await?;
    let metrics = Arc::new(Metrics::new());
    let chain = Chain::connect_read_only(&args.rpc_url, ChainOptions::default()).await?;
    let ipfs = cairn_ipfs::KuboClient::new(&args.ipfs_url).ok();
    let state = AppState {
        store: store.clone(),
        metrics: metrics.clone(),
        chain_id: deployments.chain_id,
        deployments: Arc::new(deployments.clone()),
        provider: Some(chain.provider().clone()),
        ipfs,
        options: ApiOptions {
            finality_depth: args.finality_depth,
            rate_per_second: args.rate_limit,
            public_url: args.public_url.clone(),
            web_app: args.app_dir.clone().map(|dir| WebApp {
                dir,
                config: WebConfig::new(
                    &deployments,
                    args.app_rpc_url.clone().unwrap_or_else(|| args.rpc_url.clone()),
                    args.app_relay_url.clone(),
                    args.app_gateway_url.clone(),
                ),
            }),
            ..ApiOptions::default()
        },
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (choose another with --listen)", args.listen))?;
    tracing::info!(listen = %args.listen, db = store.url(), rpc = %args.rpc_url, "serving");
    let server = axum::serve(listener, api::app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal());
    let server = tokio::spawn(async move { server.await });

    let opts = FollowerOptions {
        reorg_window: args.reorg_window,
        finality_depth: args.finality_depth,
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(10)),
        behind_grace: args
            .behind_grace_secs
            .or(DEVNET_CHAIN_IDS.contains(&deployments.chain_id).then_some(60))
            .map(Duration::from_secs),
        ..FollowerOptions::default()
    };
    let lock_path = sqlite_path(&args.store.db);
    // One writer: wait for the lock while serving the API from what others write.
    let lock = loop {
        if let Some(lock) = store.try_writer_lock(lock_path.as_deref()).await? {
            break lock;
        }
        metrics.set_role(0);
        tracing::info!("another cairn-indexer writes to {}; serving only, will take over if it stops", store.url());
        tokio::select! {
            () = shutdown_signal() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    };
    metrics.set_role(1);
    let follower = Follower::new(store, &args.rpc_url, &deployments, opts, metrics.clone()).await?;
    let result = follower.run(shutdown_signal()).await;
    drop(lock);
    if let Err(e) = result {
        metrics.set_role(-1);
        return Err(e.into());
    }
    server.abort();
    Ok(())
}
