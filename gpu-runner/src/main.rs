//! `cairn-runner`: Cairn's GPU operator. Today its subcommands run the inference engine on its own:
//! `embed` (one job input to a canonical output) and `bench` (throughput and peak memory); the on-chain
//! operator loop comes later.

mod cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cmd::Cli::parse();
    match cli.run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
