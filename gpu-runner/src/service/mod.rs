//! `cairn-runner run`: the operator loop (issue #15).

pub mod config;
pub mod journal;
