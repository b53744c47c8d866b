//! `cairn-runner run`: the operator service.

use std::path::PathBuf;

use anyhow::Context as _;
use cairn_runner::service::{config::RunnerConfig, runner::Runner};

/// Run the operator service: watch for jobs, claim those worth taking, run them, submit signed receipts and
/// finalize them after the challenge window.
///
/// Everything comes from the config file (`deploy/runner.example.toml` documents every key and default). The
/// daemon holds only the operator's hot signer key (`[operator] signer`, default the env variable
/// CAIRN_RUNNER_KEY): register and stake the operator and set this key as its signer first, with the owner's
/// key. State (the crash journal, outputs in flight, the model cache) lives in `[storage] state_dir`; a
/// restart, even after `kill -9`, resumes every job where it stopped without claiming or submitting twice.
///
/// SIGTERM or Ctrl-C drains: no new claims, the claimed jobs are finished and submitted (or released when
/// they fail), then the process exits; jobs waiting out their challenge window are finalized after the next
/// start.
///
/// Logs go to stderr (CAIRN_LOG sets the filter, e.g. `CAIRN_LOG=cairn_runner=debug`).
///
/// Examples:
///   CAIRN_RUNNER_KEY=0x… cairn-runner run --config runner.toml
///   cairn-runner run --config /etc/cairn/runner.toml --log-format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct RunArgs {
    /// The runner's TOML config.
    #[arg(long, value_name = "FILE", env = "CAIRN_RUNNER_CONFIG")]
    config: PathBuf,
    /// Log lines as text or as one JSON object per line.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl RunArgs {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "info".into());
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
        match self.log_format {
            LogFormat::Json => builder.json().init(),
            LogFormat::Text => builder.init(),
        }
        let config = RunnerConfig::load(&self.config)?;
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(async move {
            // Listening before the (slower) start: a SIGTERM during it drains at once instead of killing.
            let shutdown = shutdown_signal()?;
            let runner = Runner::start(config).await?;
            runner.run(shutdown).await
        })
    }
}

/// A future that completes on SIGTERM or SIGINT (Ctrl-C); on Unix the handlers are installed when this
/// returns.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut term, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            // A second signal stops at once: the journal resumes every job on the next start.
            tokio::spawn(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
                eprintln!("second signal: exiting now without draining; the next start resumes from the journal");
                std::process::exit(130);
            });
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested: draining (a second signal exits at once)");
    })
}
