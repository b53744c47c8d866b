//! The operator reputation score: a number from 0 to 1000 computed from the operator's verified outcomes on
//! chain (jobs completed unchallenged, challenges upheld, disputes lost, claim timeouts, slashes), its age
//! and its stake.
//!
//! It is computed from the current operator row when asked (never stored), so a reorg that rolls the
//! operator's counters back recomputes the score with no extra work. The formula ([`FORMULA`]) is served in
//! the OpenAPI document's description and written in `docs/ARCHITECTURE.md`.

use alloy::primitives::U256;
use serde::Serialize;
use utoipa::ToSchema;

use crate::entity::Operator;

/// The formula, as served in the API's description and written in `docs/ARCHITECTURE.md`.
pub const FORMULA: &str = "score = round(1000 × reliability × 0.5^slashes × (0.5 + 0.25 × ageFactor + 0.25 × stakeFactor)), \
where reliability = (completed + upheld + 1) / (completed + upheld + 3 × disputesLost + claimTimeouts + 2) \
(a Laplace-smoothed success ratio: a new operator starts at 0.5, a lost dispute weighs three times a claim \
timeout), ageFactor = min(1, age in days / 90) with age = newest indexed block's time − registeredAt, and \
stakeFactor = min(1, stake / 10 ETH). Challenges still open count neither way; released claims are not \
penalised (the operator paid the claim penalty and handed the job back in time). Range 0–1000.";

/// Age (days) at which the age factor reaches 1.
pub const FULL_AGE_DAYS: f64 = 90.0;
/// Stake (ETH) at which the stake factor reaches 1.
pub const FULL_STAKE_ETH: f64 = 10.0;
/// Weight of a lost dispute against one claim timeout.
pub const DISPUTE_LOST_WEIGHT: f64 = 3.0;

/// An operator's score and the terms it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reputation {
    /// The score, 0–1000 (see [`FORMULA`]).
    pub score: u32,
    /// Laplace-smoothed success ratio, 0–1.
    pub reliability: f64,
    /// 0.5 to the power of the slashes.
    pub slash_factor: f64,
    /// min(1, age in days / 90).
    pub age_factor: f64,
    /// min(1, stake / 10 ETH).
    pub stake_factor: f64,
    /// Age at the newest indexed block, days.
    pub age_days: f64,
}

/// The score of `op` at chain time `now` (seconds since the epoch; the newest indexed block's timestamp, so
/// that the same database gives the same score).
pub fn score(op: &Operator, now: u64) -> Reputation {
    let good = (op.completed + op.upheld) as f64;
    let bad = DISPUTE_LOST_WEIGHT * op.disputes_lost as f64 + op.claim_timeouts as f64;
    let reliability = (good + 1.0) / (good + bad + 2.0);
    let slash_factor = 0.5f64.powi(i32::try_from(op.slashes).unwrap_or(i32::MAX));
    let age_days = now.saturating_sub(op.registered_at) as f64 / 86_400.0;
    let age_factor = (age_days / FULL_AGE_DAYS).min(1.0);
    let stake_eth = wei_to_eth(&op.stake);
    let stake_factor = (stake_eth / FULL_STAKE_ETH).min(1.0);
    let raw = 1000.0 * reliability * slash_factor * (0.5 + 0.25 * age_factor + 0.25 * stake_factor);
    Reputation {
        score: raw.round().clamp(0.0, 1000.0) as u32,
        reliability,
        slash_factor,
        age_factor,
        stake_factor,
        age_days,
    }
}

/// A decimal wei string as ETH (0 when unparsable).
fn wei_to_eth(wei: &str) -> f64 {
    let w: U256 = wei.parse().unwrap_or_default();
    let gwei = w / U256::from(1_000_000_000u64);
    u128::try_from(gwei).map_or(f64::MAX, |g| g as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(stake: &str) -> Operator {
        Operator { stake: stake.into(), registered_at: 1_000, ..Default::default() }
    }

    #[test]
    fn a_new_operator_starts_at_half_reliability() {
        let r = score(&op("0"), 1_000);
        assert_eq!(r.reliability, 0.5);
        assert_eq!(r.score, 250); // 1000 × 0.5 × 0.5
    }

    #[test]
    fn outcomes_age_and_stake_move_the_score() {
        let mut o = op("10000000000000000000"); // 10 ETH
        let day = 86_400;
        let fresh = score(&o, 1_000).score;
        assert_eq!(fresh, 375); // 1000 × 0.5 × (0.5 + 0.25)
        let old = score(&o, 1_000 + 90 * day).score;
        assert_eq!(old, 500);
        o.completed = 8;
        let good = score(&o, 1_000 + 90 * day);
        assert_eq!(good.reliability, 0.9);
        assert_eq!(good.score, 900);
        o.disputes_lost = 1;
        o.slashes = 1;
        let bad = score(&o, 1_000 + 90 * day);
        assert_eq!(bad.reliability, 9.0 / 13.0);
        assert_eq!(bad.score, (1000.0f64 * 9.0 / 13.0 * 0.5).round() as u32);
        o.claim_timeouts = 2;
        assert!(score(&o, 1_000 + 90 * day).score < bad.score);
    }
}
