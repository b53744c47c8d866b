//! `cargo xtask <command>`: repository chores. Run `cargo xtask <command> --help` for each command's examples.

mod cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    match cmd::Cli::parse().run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
