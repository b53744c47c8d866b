//! Subcommands, one file each.

mod bench;
mod embed;
mod run;
mod status;

use clap::{Parser, Subcommand};

/// Cairn's GPU operator: runs marketplace inference jobs with candle (`run` is the service; `embed` and
/// `bench` run the engine on local files).
#[derive(Debug, Parser)]
#[command(name = "cairn-runner", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Embed(embed::EmbedArgs),
    Bench(bench::BenchArgs),
    Run(run::RunArgs),
    Status(status::StatusArgs),
}

impl Cli {
    pub(crate) fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Embed(args) => args.run(),
            Command::Bench(args) => args.run(),
            Command::Run(args) => args.run(),
            Command::Status(args) => args.run(),
        }
    }
}
