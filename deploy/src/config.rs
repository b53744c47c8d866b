//! The deploy configuration: a TOML file whose every key is optional (defaults come from the network
//! profile), documented in `deploy/config/example.toml`. Amounts take units (`"0.01ether"`, `"5gwei"`, or
//! plain wei); durations take `s`, `m`, `h`, `d` (`"36h"`) or plain seconds.

use std::path::Path;

use alloy::primitives::{Address, U256};
pub use cairn_protocol::units::{Amount, Secs};
use serde::Deserialize;

use crate::{Error, Result};

/// A chain the suite knows how to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    /// Profile name (`network = "…"` in the config).
    pub name: &'static str,
    /// Its chain id (checked against the RPC before anything is sent).
    pub chain_id: Option<u64>,
    /// Rollup family (what decides force inclusion and finality).
    pub family: Family,
    /// Least challenge window (and committee period) that keeps a censored challenger able to get in.
    pub min_window_secs: u64,
    /// Whether this is a production network (long windows are enforced).
    pub production: bool,
}

/// Rollup family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A local anvil.
    Devnet,
    /// OP Stack (Optimism, Base): sequencer force inclusion through L1 after up to ~12 h.
    OpStack,
    /// Arbitrum Nitro: delayed-inbox force inclusion after ~24 h.
    Arbitrum,
}

const HOUR: u64 = 3600;

/// Every profile. See docs/ARCHITECTURE.md ("Deploying to an L2") for the gas and finality notes.
pub const NETWORKS: &[Network] = &[
    Network { name: "devnet", chain_id: Some(31337), family: Family::Devnet, min_window_secs: 60, production: false },
    Network {
        name: "optimism",
        chain_id: Some(10),
        family: Family::OpStack,
        min_window_secs: 12 * HOUR,
        production: true,
    },
    Network {
        name: "base",
        chain_id: Some(8453),
        family: Family::OpStack,
        min_window_secs: 12 * HOUR,
        production: true,
    },
    Network {
        name: "arbitrum-one",
        chain_id: Some(42161),
        family: Family::Arbitrum,
        min_window_secs: 24 * HOUR,
        production: true,
    },
    Network {
        name: "op-sepolia",
        chain_id: Some(11155420),
        family: Family::OpStack,
        min_window_secs: 60,
        production: false,
    },
    Network {
        name: "base-sepolia",
        chain_id: Some(84532),
        family: Family::OpStack,
        min_window_secs: 60,
        production: false,
    },
    Network {
        name: "arbitrum-sepolia",
        chain_id: Some(421614),
        family: Family::Arbitrum,
        min_window_secs: 60,
        production: false,
    },
    Network { name: "custom", chain_id: None, family: Family::OpStack, min_window_secs: 60, production: false },
];

impl Network {
    /// The profile called `name`.
    pub fn by_name(name: &str) -> Result<Self> {
        NETWORKS.iter().copied().find(|n| n.name == name).ok_or_else(|| {
            let names: Vec<_> = NETWORKS.iter().map(|n| n.name).collect();
            Error::Config(format!("unknown network `{name}` (known: {})", names.join(", ")))
        })
    }
}

/// OperatorRegistry's constructor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorParams {
    /// Least stake to register as an operator.
    pub min_stake: Amount,
    /// Delay between requesting an unstake and withdrawing it.
    pub unbonding_delay: Secs,
}

/// JurorPool's constructor (juror stake, drawn in whole seats).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurorParams {
    /// Juror stake locked per seat drawn, fixed for the pool's life (0.01 to 1000 ETH).
    pub seat_size: Amount,
    /// How long a deposit waits before it may enter the draw; above the market's claim timeout + challenge
    /// window, so stake added after a job was submitted cannot sit on its jury.
    pub maturity: Secs,
    /// Delay between a withdrawal leaving the draw and its payout.
    pub withdrawal_delay: Secs,
}

/// ReexecutionCommittee's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeParams {
    /// Seats drawn per dispute (odd).
    pub jurors: u8,
    /// Arbitration fee, shared by the majority.
    pub fee: Amount,
    /// Commit phase length.
    pub commit_period: Secs,
    /// Reveal phase length.
    pub reveal_period: Secs,
    /// Paid out of the fee to whoever draws the jurors (at most the fee).
    pub keeper_reward: Amount,
    /// Slashed per seat whose juror does not reveal (at most `jurors.seat_size`).
    pub non_reveal_penalty: Amount,
    /// Free seats an audit's draw must leave for challenges (challenges have priority over audits; at most 1000).
    pub audit_reserve_seats: u16,
    /// How long anyone may appeal a round's ruling to a larger jury (3, 7, 15 seats) for a rising fee; "0" makes
    /// the first round final, otherwise 60 s to 7 days (production default: the force-inclusion delay, like the
    /// commit period, so a censored party can still appeal).
    pub appeal_period: Secs,
    /// Slashed per seat that revealed against the final ruling (at most `non_reveal_penalty`, so at most
    /// `jurors.seat_size`): a wrong vote must cost
    /// more than re-running the job (docs/ARCHITECTURE.md, "Jurors pay for being wrong, absent or lazy").
    pub coherence_penalty: Amount,
    /// The treasury's canary key: it registers and reveals the known answers of canary disputes, against which
    /// the seats of those disputes are judged (docs/ARCHITECTURE.md, "As built (step 8): canaries"). None (the
    /// default) leaves canaries off; governance can set it later with `setCanaryKey`.
    #[serde(default)]
    pub canary_key: Option<Address>,
}

impl CommitteeParams {
    /// The constructor's `Params` struct (amounts in wei, periods in seconds).
    pub fn onchain(&self) -> cairn_bindings::reexecution_committee::IReexecutionCommittee::Params {
        cairn_bindings::reexecution_committee::IReexecutionCommittee::Params {
            jurors: self.jurors,
            fee: self.fee.0,
            commitPeriod: self.commit_period.0,
            revealPeriod: self.reveal_period.0,
            keeperReward: self.keeper_reward.0,
            nonRevealPenalty: self.non_reveal_penalty.0,
            auditReserve: self.audit_reserve_seats,
            appealPeriod: self.appeal_period.0,
            coherencePenalty: self.coherence_penalty.0,
        }
    }
}

/// JobMarket's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketParams {
    /// Protocol fee in basis points (≤ 1000).
    pub fee_bps: u16,
    /// ETH-job bond as basis points of the payment.
    pub bond_bps: u16,
    /// Share of the bond taken when a claim times out, and (interface v2) when the operator or its signer key
    /// hands the job back early with `releaseClaim`: one parameter for both.
    pub claim_penalty_bps: u16,
    /// Share of a losing challenger's bond that is burned.
    pub burn_bps: u16,
    /// How long a claimer has to submit.
    pub claim_timeout: Secs,
    /// Challenge window after a submission.
    pub challenge_window: Secs,
    /// Longest job deadline a buyer may set.
    pub max_deadline: Secs,
    /// Least ETH bond per claim.
    pub bond_floor: Amount,
    /// Challenger's bond.
    pub challenge_bond: Amount,
    /// Least operator fee on ETH jobs.
    pub eth_min_operator_fee: Amount,
}

/// DisputeDesk's random audits (issue #12 step 6).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Safety factor s in basis points: each job is audited with probability s × F / (F + burn × bond), F the
    /// operator fee (12,500 = 1.25 × the rate at which garbage breaks even; below 10,000 garbage pays, refused on
    /// production networks; 0 turns the formula off). At most 50,000.
    pub safety_bps: u16,
    /// Least audit probability in basis points (at most 10,000: every job).
    pub min_rate_bps: u16,
    /// ETH the deployer puts into the audit pool, which advances audits' arbitration fees until the jobs'
    /// premiums refill it.
    pub pool_grant: Amount,
}

impl AuditParams {
    /// The constructor's `AuditParams` struct.
    pub fn onchain(&self) -> cairn_bindings::dispute_desk::IDisputeDesk::AuditParams {
        cairn_bindings::dispute_desk::IDisputeDesk::AuditParams {
            safetyBps: self.safety_bps,
            minRateBps: self.min_rate_bps,
        }
    }
}

/// An ERC-20 accepted for jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSetting {
    /// The token.
    pub address: Address,
    /// Wei of bond per token unit, scaled by 1e18.
    pub bond_rate: Amount,
    /// Least operator fee in token units.
    pub min_operator_fee: Amount,
}

/// The whole file.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// The network profile.
    pub network: Network,
    /// Final owner of every contract (default: the deployer). Another address must `acceptOwnership`.
    pub owner: Option<Address>,
    /// Fee recipient (default: the owner).
    pub treasury: Option<Address>,
    /// An existing `IRandomness` for the committee (default: deploy `BlockhashRandomness`). Required on
    /// Arbitrum production networks, whose `blockhash` is not secure.
    pub randomness: Option<Address>,
    /// OperatorRegistry.
    pub operators: OperatorParams,
    /// JurorPool.
    pub jurors: JurorParams,
    /// ReexecutionCommittee.
    pub committee: CommitteeParams,
    /// JobMarket.
    pub market: MarketParams,
    /// DisputeDesk's audits.
    pub audits: AuditParams,
    /// Accepted ERC-20 tokens.
    pub tokens: Vec<TokenSetting>,
}

/// `JurorPool.MIN_SEAT_SIZE` and `MAX_SEAT_SIZE` (0.01 ETH and 1000 ETH), in wei.
pub fn seat_size_bounds() -> (U256, U256) {
    let finney = U256::from(10u64).pow(U256::from(15));
    (finney * U256::from(10u64), finney * U256::from(1_000_000u64))
}

/// `JurorPool.MAX_DELAY` (90 days): the longest maturity and withdrawal delay, in seconds.
pub const MAX_JUROR_DELAY: u64 = 90 * 24 * HOUR;

/// `[committee] fee` on production networks (devnet: 0.03 ETH); `IncentivesTableProduction` in
/// contracts/test/Incentives.t.sol holds the same figure.
pub const PRODUCTION_COMMITTEE_FEE: &str = "0.01ether";

/// Defaults of a profile, as TOML (so the file and the defaults parse through the same code).
fn defaults_toml(network: &Network) -> String {
    // The devnet's deployer is an anvil account: it grants the audit pool 1 ETH; a production treasury funds it
    // deliberately (`DisputeDesk.fundAuditPool`).
    let grant = if network.production { "0" } else { "1ether" };
    // Challenges keep 2k seats free from audits in production (10 juries of 3); the devnet's five seeded verifiers
    // hold 20 seats, of which audits leave 3.
    let reserve = if network.production { 30 } else { 3 };
    // The committee fee is the jurors' whole income, so it sets how much juror stake the market can keep: about
    // disputes a year × (fee − keeper reward) / the stakers' capital rate (docs/ARCHITECTURE.md, "production
    // committee fee"). 0.01 ETH sustains ~3,300 ETH at 100 disputes and audits a day while each job's audit
    // premium (rate × fee) stays a third of the devnet's 0.03; governance moves it with the volume.
    // BENCHMARKS.md's production incentive table (contracts/test/Incentives.t.sol, `IncentivesTableProduction`)
    // runs every role through these parameters.
    let fee = if network.production { PRODUCTION_COMMITTEE_FEE } else { "0.03ether" };
    let (claim, window, commit, unbond) = if network.production {
        let w = (network.min_window_secs * 3 / 2).max(36 * HOUR);
        ("30m".to_string(), format!("{w}"), format!("{}", network.min_window_secs), "14d".to_string())
    } else {
        ("10m".to_string(), "1h".to_string(), "10m".to_string(), "1d".to_string())
    };
    format!(
        r#"
[operators]
min_stake = "1ether"
unbonding_delay = "{unbond}"

[jurors]
seat_size = "0.5ether"
withdrawal_delay = "{unbond}"

[committee]
jurors = 3
fee = "{fee}"
commit_period = "{commit}"
reveal_period = "{commit}"
keeper_reward = "0.001ether"
non_reveal_penalty = "0.1ether"
audit_reserve_seats = {reserve}
appeal_period = "{commit}"
coherence_penalty = "0.05ether"

[market]
fee_bps = 500
bond_bps = 40000
claim_penalty_bps = 1000
burn_bps = 5000
claim_timeout = "{claim}"
challenge_window = "{window}"
max_deadline = "7d"
bond_floor = "0.25ether"
challenge_bond = "0.05ether"
eth_min_operator_fee = "1000000000000"

[audits]
safety_bps = 12500
min_rate_bps = 0
pool_grant = "{grant}"
"#
    )
}

/// `jurors.maturity` when the file leaves it out: the market's claim timeout + challenge window, plus a second,
/// rounded up to the hour, plus 12 h on production networks (devnet: 2 h; base: 49 h). It follows the
/// market's windows, so lengthening them never leaves the default maturity too short.
pub fn default_maturity(network: &Network, market: &MarketParams) -> Secs {
    let exposure = market.claim_timeout.0 + market.challenge_window.0 + 1;
    let margin = if network.production { 12 * HOUR } else { 0 };
    Secs(exposure.div_ceil(HOUR) * HOUR + margin)
}

/// `[jurors]` as written: `maturity` may be left to [`default_maturity`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct JurorFile {
    seat_size: Amount,
    maturity: Option<Secs>,
    withdrawal_delay: Secs,
}

impl DeployConfig {
    /// The defaults of `network`.
    pub fn defaults(network: &str) -> Result<Self> {
        Self::from_toml(&format!("network = \"{network}\"\n"))
    }

    /// The same configuration with random audits off (`audits.safety_bps` and `min_rate_bps` 0: every result is
    /// cleared at once). Audits draw from block hashes, so with them on a job's path through the market is
    /// random; tests that follow one job's path deploy with this and turn audits on where they test them
    /// (`DisputeDesk.setAuditParams`).
    pub fn with_audits_off(mut self) -> Self {
        self.audits.safety_bps = 0;
        self.audits.min_rate_bps = 0;
        self
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Parses TOML; missing keys take the network profile's defaults, unknown keys are refused.
    pub fn from_toml(text: &str) -> Result<Self> {
        let user: toml::Table = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        let name = match user.get("network") {
            None => "devnet",
            Some(toml::Value::String(s)) => s.as_str(),
            Some(other) => return Err(Error::Config(format!("network: expected a string, found {other}"))),
        };
        let network = Network::by_name(name)?;
        let mut merged: toml::Table = toml::from_str(&defaults_toml(&network)).expect("defaults are valid TOML");
        for (key, value) in user {
            match (merged.get_mut(&key), value) {
                (Some(toml::Value::Table(base)), toml::Value::Table(over)) => base.extend(over),
                (_, value) => {
                    merged.insert(key, value);
                }
            }
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[allow(dead_code)]
            network: Option<String>,
            owner: Option<Address>,
            treasury: Option<Address>,
            randomness: Option<Address>,
            operators: OperatorParams,
            jurors: JurorFile,
            committee: CommitteeParams,
            market: MarketParams,
            audits: AuditParams,
            #[serde(default)]
            tokens: Vec<TokenSetting>,
        }
        let f: File =
            toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
        let config = Self {
            network,
            owner: f.owner,
            treasury: f.treasury,
            randomness: f.randomness,
            operators: f.operators,
            jurors: JurorParams {
                seat_size: f.jurors.seat_size,
                maturity: f.jurors.maturity.unwrap_or_else(|| default_maturity(&network, &f.market)),
                withdrawal_delay: f.jurors.withdrawal_delay,
            },
            committee: f.committee,
            market: f.market,
            audits: f.audits,
            tokens: f.tokens,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks what the contracts would refuse, and the network's force-inclusion floor, before anything is
    /// sent.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let m = &self.market;
        if m.fee_bps > 1000 {
            problems.push(format!("market.fee_bps = {} (at most 1000, i.e. 10%)", m.fee_bps));
        }
        // JobMarket.MAX_BOND_BPS: a bond up to 5× the payment (disputes v2 defaults to 4×).
        if m.bond_bps > 50_000 {
            problems.push(format!("market.bond_bps = {} (at most 50000, i.e. 5× the payment)", m.bond_bps));
        }
        for (k, v) in [("claim_penalty_bps", m.claim_penalty_bps), ("burn_bps", m.burn_bps)] {
            if v > 10_000 {
                problems.push(format!("market.{k} = {v} (at most 10000)"));
            }
        }
        // DisputeDesk._setAuditParams: safetyBps ≤ 50,000, minRateBps ≤ 10,000. Below a safety factor of 1 a
        // garbage runner's expected profit is positive when nobody challenges (issue #12, finding 3).
        let a = &self.audits;
        if a.safety_bps > 50_000 {
            problems.push(format!("audits.safety_bps = {} (at most 50000, i.e. 5× the break-even rate)", a.safety_bps));
        }
        if a.min_rate_bps > 10_000 {
            problems.push(format!("audits.min_rate_bps = {} (at most 10000: every job)", a.min_rate_bps));
        }
        if self.network.production && a.safety_bps < 10_000 {
            problems.push(format!(
                "audits.safety_bps = {} (at least 10000 on a production network: below it, garbage nobody \
                 challenges pays on average)",
                a.safety_bps
            ));
        }
        let c = &self.committee;
        if c.audit_reserve_seats > 1000 {
            problems.push(format!("committee.audit_reserve_seats = {} (at most 1000)", c.audit_reserve_seats));
        }
        if c.jurors == 0 || c.jurors.is_multiple_of(2) || c.jurors > 15 {
            problems.push(format!("committee.jurors = {} (odd, 1 to 15)", c.jurors));
        }
        // JurorPool's constructor: 0.01 ETH ≤ seatSize ≤ 1000 ETH (a zero seat would give jurors of zero
        // weight); ReexecutionCommittee._setParams: nonRevealPenalty ≤ seatSize (the penalty comes out of the
        // silent seat's own lock), coherencePenalty ≤ nonRevealPenalty (silence never cheaper than a wrong vote)
        // and keeperReward ≤ fee (it is paid out of the fee).
        let j = &self.jurors;
        let (min_seat, max_seat) = seat_size_bounds();
        if j.seat_size.0 < min_seat || j.seat_size.0 > max_seat {
            problems.push(format!(
                "jurors.seat_size = {} (JurorPool requires {} to {})",
                j.seat_size,
                Amount(min_seat),
                Amount(max_seat)
            ));
        }
        if c.non_reveal_penalty.0 > j.seat_size.0 {
            problems.push(format!(
                "committee.non_reveal_penalty = {} (at most jurors.seat_size, {}: it is slashed from the silent seat)",
                c.non_reveal_penalty, j.seat_size
            ));
        }
        if c.coherence_penalty.0 > c.non_reveal_penalty.0 {
            problems.push(format!(
                "committee.coherence_penalty = {} (at most committee.non_reveal_penalty, {}: silence must never cost \
                 less than a wrong vote, or a losing juror goes silent to force a redraw)",
                c.coherence_penalty, c.non_reveal_penalty
            ));
        }
        let appeal = c.appeal_period.0;
        if appeal != 0 && !(60..=7 * 24 * HOUR).contains(&appeal) {
            problems.push(format!(
                "committee.appeal_period = {appeal}s (0 to make the first round final, or 60 s to 7 days)"
            ));
        }
        if c.keeper_reward.0 > c.fee.0 {
            problems.push(format!(
                "committee.keeper_reward = {} (at most committee.fee, {}: it is paid out of the fee)",
                c.keeper_reward, c.fee
            ));
        }
        for (k, v) in [("jurors.maturity", j.maturity.0), ("jurors.withdrawal_delay", j.withdrawal_delay.0)] {
            if v > MAX_JUROR_DELAY {
                problems.push(format!("{k} = {v}s (JurorPool allows at most {MAX_JUROR_DELAY}s, 90 days)"));
            }
        }
        // Issue #12, finding 2: stake deposited after a job was submitted must not sit on its jury. A dispute's
        // stake cutoff is at most claim timeout + challenge window after the job was claimed (a challenge opens
        // inside the window; an audit evaluated later is drawn as of the window's end), so a deposit younger than
        // that at the cutoff must still be maturing. The contracts do not re-check this when governance later
        // moves the windows or `maturity`: that is governance's to keep.
        let exposure = m.claim_timeout.0 + m.challenge_window.0;
        if j.maturity.0 <= exposure {
            problems.push(format!(
                "jurors.maturity = {}s (must exceed market.claim_timeout + market.challenge_window = {exposure}s, \
                 or stake added after a job was submitted could sit on its jury)",
                j.maturity.0
            ));
        }
        // JobMarket.setTokenConfig: a rate of at most 1e36, and a listed token's rate never returns to 0
        // (`TokenRateRequired`); a token listed with 0 would take no job at all.
        let max_rate = U256::from(10u8).pow(U256::from(36u8));
        for (i, t) in self.tokens.iter().enumerate() {
            if t.bond_rate.0.is_zero() || t.bond_rate.0 > max_rate {
                problems.push(format!(
                    "tokens[{i}].bond_rate = {} (1 to 1e36 wei of bond per token unit, scaled by 1e18; to stop new \
                     jobs in a token keep its rate and set min_operator_fee to 2^256 - 1)",
                    t.bond_rate.0
                ));
            }
        }
        let floor = self.network.min_window_secs;
        for (k, v) in [
            ("market.challenge_window", m.challenge_window.0),
            ("committee.commit_period", c.commit_period.0),
            ("committee.reveal_period", c.reveal_period.0),
            ("committee.appeal_period", c.appeal_period.0),
        ] {
            // An appeal period of 0 turns appeals off; any other must let a censored party in.
            if v < floor && !(k == "committee.appeal_period" && v == 0) {
                problems.push(format!(
                    "{k} = {v}s is below {floor}s, the force-inclusion delay of {} (a censored challenger could not get in)",
                    self.network.name
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(format!("invalid values:\n  - {}", problems.join("\n  - "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let c = DeployConfig::from_toml("[market]\nfee_bps = 250\nchallenge_window = \"2h\"\n").unwrap();
        assert_eq!(c.network.name, "devnet");
        assert_eq!(c.market.fee_bps, 250);
        assert_eq!(c.market.challenge_window, Secs(7200));
        assert_eq!(c.market.bond_floor.0, U256::from(25u64) * U256::from(10u64).pow(U256::from(16)));
        assert_eq!(c.market.bond_bps, 40_000);
        assert_eq!(c.committee.jurors, 3);
    }

    /// The production fee is the one the production incentive table was computed with.
    #[test]
    fn production_profiles_use_the_fee_of_the_production_incentive_table() {
        let table =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/test/Incentives.t.sol"))
                .unwrap();
        assert!(
            table.contains("uint256 internal constant PRODUCTION_FEE = 0.01 ether;"),
            "Incentives.t.sol's PRODUCTION_FEE must equal PRODUCTION_COMMITTEE_FEE"
        );
        let wei = U256::from(10u64).pow(U256::from(16));
        for network in ["base", "optimism", "arbitrum-one"] {
            assert_eq!(DeployConfig::defaults(network).unwrap().committee.fee.0, wei, "{network}");
        }
        assert_eq!(DeployConfig::defaults("devnet").unwrap().committee.fee.0, U256::from(3u64) * wei);
    }

    #[test]
    fn production_profiles_keep_windows_above_force_inclusion() {
        let arb = DeployConfig::defaults("arbitrum-one").unwrap();
        assert!(arb.market.challenge_window.0 >= 24 * HOUR);
        let err = DeployConfig::from_toml("network = \"base\"\n[market]\nchallenge_window = \"1h\"\n").unwrap_err();
        assert!(err.to_string().contains("force-inclusion delay of base"), "{err}");
    }

    #[test]
    fn every_shipped_config_parses_and_matches_its_profile() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let c = DeployConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
            let stem = path.file_stem().unwrap().to_str().unwrap();
            if stem != "example" {
                assert_eq!(c.network.name, stem, "{} names another network", path.display());
            }
            seen += 1;
        }
        assert!(seen >= 4);
        // The example documents the devnet defaults: it must equal them.
        let example = DeployConfig::load(&dir.join("example.toml")).unwrap();
        let defaults = DeployConfig::defaults("devnet").unwrap();
        assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn seat_size_is_held_to_the_pool_bounds() {
        // The bounds are the contract's (0.01 ETH to 1000 ETH, both inclusive).
        for ok in ["0.01ether", "1000ether"] {
            DeployConfig::from_toml(&format!(
                "[jurors]\nseat_size = \"{ok}\"\n[committee]\nnon_reveal_penalty = 0\ncoherence_penalty = 0\n"
            ))
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["0", "0.009999999999999999ether", "1000.000000000000000001ether"] {
            let err = DeployConfig::from_toml(&format!(
                "[jurors]\nseat_size = \"{bad}\"\n[committee]\nnon_reveal_penalty = 0\ncoherence_penalty = 0\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("jurors.seat_size = ")
                    && err.contains("JurorPool requires 0.01 ETH (10000000000000000 wei) to 1000 ETH"),
                "{bad}: {err}"
            );
        }
        // The penalty is slashed from the silent seat: it cannot exceed it (the default penalty is 0.1 ETH).
        let err = DeployConfig::from_toml("[jurors]\nseat_size = \"0.05ether\"\n").unwrap_err().to_string();
        assert!(err.contains("committee.non_reveal_penalty = 0.1 ETH") && !err.contains("seat_size ="), "{err}");
        // The coherence penalty is at most the non-reveal penalty (ν ≥ ψ), so at most the seat too.
        let err = DeployConfig::from_toml("[committee]\ncoherence_penalty = \"0.6ether\"\n").unwrap_err().to_string();
        assert!(
            err.contains("committee.coherence_penalty = 0.6 ETH")
                && err.contains("(at most committee.non_reveal_penalty, 0.1 ETH"),
            "{err}"
        );
        DeployConfig::from_toml("[committee]\ncoherence_penalty = \"0.1ether\"\n").expect("ψ = ν is allowed");
        // An appeal period is 0 (appeals off) or 60 s to 7 days, and on a production network at least its
        // force-inclusion delay.
        for ok in ["0", "60", "7d"] {
            DeployConfig::from_toml(&format!("[committee]\nappeal_period = \"{ok}\"\n"))
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["59", "604801"] {
            let err =
                DeployConfig::from_toml(&format!("[committee]\nappeal_period = \"{bad}\"\n")).unwrap_err().to_string();
            assert!(
                err.contains(&format!("committee.appeal_period = {bad}s (0 to make the first round final")),
                "{err}"
            );
        }
        let err = DeployConfig::from_toml("network = \"base\"\n[committee]\nappeal_period = \"1h\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("committee.appeal_period = 3600s is below 43200s"), "{err}");
        DeployConfig::from_toml("network = \"base\"\n[committee]\nappeal_period = \"0\"\n").unwrap();
        // The keeper reward comes out of the fee.
        let err = DeployConfig::from_toml("[committee]\nkeeper_reward = \"0.031ether\"\n").unwrap_err().to_string();
        assert!(err.contains("committee.keeper_reward = 0.031 ETH"), "{err}");
        // Every profile's default lies within the bounds.
        for n in NETWORKS {
            DeployConfig::defaults(n.name).unwrap_or_else(|e| panic!("{}: {e}", n.name));
        }
    }

    #[test]
    fn maturity_outlasts_the_window_in_which_a_job_can_be_disputed() {
        // devnet: claim timeout 10 min + challenge window 1 h = 4,200 s.
        let err = DeployConfig::from_toml("[jurors]\nmaturity = 4200\n").unwrap_err().to_string();
        assert!(
            err.contains("jurors.maturity = 4200s (must exceed market.claim_timeout + market.challenge_window = 4200s"),
            "{err}"
        );
        DeployConfig::from_toml("[jurors]\nmaturity = 4201\n").unwrap();
        let err = DeployConfig::from_toml("[jurors]\nmaturity = \"91d\"\nwithdrawal_delay = \"91d\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("jurors.maturity = 7862400s (JurorPool allows at most")
                && err.contains("jurors.withdrawal_delay = 7862400s"),
            "{err}"
        );
        for n in NETWORKS {
            let c = DeployConfig::defaults(n.name).unwrap();
            assert!(c.jurors.maturity.0 > c.market.claim_timeout.0 + c.market.challenge_window.0, "{}", n.name);
        }
        assert_eq!(DeployConfig::defaults("devnet").unwrap().jurors.maturity, Secs(2 * HOUR));
        assert_eq!(DeployConfig::defaults("base").unwrap().jurors.maturity, Secs(49 * HOUR));
        // Left out, it follows the market's windows.
        let c = DeployConfig::from_toml("[market]\nchallenge_window = \"3h\"\n").unwrap();
        assert_eq!(c.jurors.maturity, Secs(4 * HOUR));
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            DeployConfig::from_toml("[market]\nfee_bps = 5000\n[committee]\njurors = 4\n").unwrap_err().to_string();
        assert!(err.contains("market.fee_bps = 5000") && err.contains("committee.jurors = 4"), "{err}");
        let err = DeployConfig::from_toml("[market]\nbond_floor = \"lots\"\n").unwrap_err().to_string();
        assert!(err.contains("`lots` is not a number"), "{err}");
        let err = DeployConfig::from_toml("[market]\nbond_floor = \"-0.5ether\"\n").unwrap_err().to_string();
        assert!(err.contains("has a sign"), "{err}");
        let err = DeployConfig::from_toml("[market]\nfees = 1\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `fees`"), "{err}");
        let token = "[[tokens]]\naddress = \"0x00000000000000000000000000000000000000aa\"\nmin_operator_fee = 7\n";
        let err = DeployConfig::from_toml(&format!("{token}bond_rate = 0\n")).unwrap_err().to_string();
        assert!(err.contains("tokens[0].bond_rate = 0"), "{err}");
        let err = DeployConfig::from_toml(&format!("{token}bond_rate = \"1000000000000000000000000000000000001\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tokens[0].bond_rate = 1000000000000000000000000000000000001"), "{err}");
        assert!(
            DeployConfig::from_toml(&format!("{token}bond_rate = \"1000000000000000000000000000000000000\"\n")).is_ok()
        );
        let err = DeployConfig::from_toml("network = \"mainnet\"\n").unwrap_err().to_string();
        assert!(err.contains("unknown network `mainnet`"), "{err}");
    }
}
