//! `cairn-runner run`: the operator service (issue #15).
//!
//! - [`config`]: `runner.toml` (documented in `deploy/runner.example.toml`).
//! - [`l1fee`]: the L1 data fee of an OP Stack L2 (`GasPriceOracle`), netted from a job's fee with its gas.
//! - [`journal`]: the SQLite crash journal, one row per job, written before each step that depends on it.
//! - [`models`]: model versions fetched verified into the content-addressed cache and loaded once.
//! - [`metrics`]: `/health` and `/metrics` (Prometheus).
//! - [`watch`]: watcher mode, re-executing a keyed random sample of other operators' results.
//! - [`verify`]: verifier mode: votes as a drawn juror (commit, reveal, resolve, journaled) and keeper draws.
//! - [`canary`]: the treasury's canaries (`[canary]`): known-answer disputes, their commitments and decoys.
//! - [`relay`]: the gasless relay (inputs pinned for browsers, buyer-signed job requests posted).
//! - [`runner`]: the loop: scan, consider, claim, run, pin, submit, finalize; resume after a crash; drain.

pub mod canary;
pub mod config;
pub mod journal;
pub mod l1fee;
pub mod metrics;
pub mod models;
pub mod relay;
pub mod runner;
pub mod verify;
pub mod watch;
