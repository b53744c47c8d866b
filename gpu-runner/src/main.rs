//! `cairn-runner`: Cairn's GPU operator. `run` is the operator service (claim, run, submit, finalize; see
//! `cairn_runner::service`); `embed` (one job input to a canonical output) and `bench` (throughput and peak
//! memory) run the inference engine on its own.

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
