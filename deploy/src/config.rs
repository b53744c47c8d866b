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
    /// Least stake to opt in as a verifier.
    pub min_verifier_stake: Amount,
    /// Delay between requesting an unstake and withdrawing it.
    pub unbonding_delay: Secs,
}

/// ReexecutionCommittee's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeParams {
    /// Verifiers drawn per dispute (odd).
    pub jurors: u8,
    /// Arbitration fee, shared by the majority.
    pub fee: Amount,
    /// Commit phase length.
    pub commit_period: Secs,
    /// Reveal phase length.
    pub reveal_period: Secs,
    /// Stake locked per juror until the reveal deadline.
    pub juror_lock: Amount,
    /// Slashed from a juror that does not reveal.
    pub non_reveal_penalty: Amount,
}

impl CommitteeParams {
    /// The constructor's `Params` struct (amounts in wei, periods in seconds).
    pub fn onchain(&self) -> cairn_bindings::reexecution_committee::IReexecutionCommittee::Params {
        cairn_bindings::reexecution_committee::IReexecutionCommittee::Params {
            jurors: self.jurors,
            fee: self.fee.0,
            commitPeriod: self.commit_period.0,
            revealPeriod: self.reveal_period.0,
            jurorLock: self.juror_lock.0,
            nonRevealPenalty: self.non_reveal_penalty.0,
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
    /// ReexecutionCommittee.
    pub committee: CommitteeParams,
    /// JobMarket.
    pub market: MarketParams,
    /// Accepted ERC-20 tokens.
    pub tokens: Vec<TokenSetting>,
}

/// `ReexecutionCommittee.MIN_JUROR_LOCK` and `MAX_JUROR_LOCK` (0.01 ETH and 1000 ETH), in wei.
pub fn juror_lock_bounds() -> (U256, U256) {
    let finney = U256::from(10u64).pow(U256::from(15));
    (finney * U256::from(10u64), finney * U256::from(1_000_000u64))
}

/// Defaults of a profile, as TOML (so the file and the defaults parse through the same code).
fn defaults_toml(network: &Network) -> String {
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
min_verifier_stake = "1ether"
unbonding_delay = "{unbond}"

[committee]
jurors = 3
fee = "0.03ether"
commit_period = "{commit}"
reveal_period = "{commit}"
juror_lock = "0.5ether"
non_reveal_penalty = "0.1ether"

[market]
fee_bps = 500
bond_bps = 2000
claim_penalty_bps = 1000
burn_bps = 5000
claim_timeout = "{claim}"
challenge_window = "{window}"
max_deadline = "7d"
bond_floor = "0.01ether"
challenge_bond = "0.05ether"
eth_min_operator_fee = "1000000000000"
"#
    )
}

impl DeployConfig {
    /// The defaults of `network`.
    pub fn defaults(network: &str) -> Result<Self> {
        Self::from_toml(&format!("network = \"{network}\"\n"))
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
            committee: CommitteeParams,
            market: MarketParams,
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
            committee: f.committee,
            market: f.market,
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
        for (k, v) in [("bond_bps", m.bond_bps), ("claim_penalty_bps", m.claim_penalty_bps), ("burn_bps", m.burn_bps)] {
            if v > 10_000 {
                problems.push(format!("market.{k} = {v} (at most 10000)"));
            }
        }
        let c = &self.committee;
        if c.jurors == 0 || c.jurors.is_multiple_of(2) || c.jurors > 15 {
            problems.push(format!("committee.jurors = {} (odd, 1 to 15)", c.jurors));
        }
        // ReexecutionCommittee._setParams: 0.01 ETH ≤ jurorLock ≤ 1000 ETH (a lock of 0 would let a silent
        // juror walk away free), nonRevealPenalty ≤ jurorLock (the penalty comes out of that lock only).
        let (min_lock, max_lock) = juror_lock_bounds();
        if c.juror_lock.0 < min_lock || c.juror_lock.0 > max_lock {
            problems.push(format!(
                "committee.juror_lock = {} (ReexecutionCommittee requires {} to {})",
                c.juror_lock,
                Amount(min_lock),
                Amount(max_lock)
            ));
        }
        if c.non_reveal_penalty.0 > c.juror_lock.0 {
            problems.push(format!(
                "committee.non_reveal_penalty = {} (at most committee.juror_lock, {}: it is slashed from that lock)",
                c.non_reveal_penalty, c.juror_lock
            ));
        }
        let floor = self.network.min_window_secs;
        for (k, v) in [
            ("market.challenge_window", m.challenge_window.0),
            ("committee.commit_period", c.commit_period.0),
            ("committee.reveal_period", c.reveal_period.0),
        ] {
            if v < floor {
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
        assert_eq!(c.market.bond_floor.0, U256::from(10u64).pow(U256::from(16)));
        assert_eq!(c.committee.jurors, 3);
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
    fn juror_lock_is_held_to_the_committee_bounds() {
        // The bounds are the contract's (0.01 ETH to 1000 ETH, both inclusive).
        for ok in ["0.01ether", "1000ether"] {
            let c = DeployConfig::from_toml(&format!("[committee]\njuror_lock = \"{ok}\"\nnon_reveal_penalty = 0\n"))
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(c.committee.juror_lock.0, c.committee.onchain().jurorLock);
        }
        for bad in ["0", "0.009999999999999999ether", "1000.000000000000000001ether"] {
            let err =
                DeployConfig::from_toml(&format!("[committee]\njuror_lock = \"{bad}\"\nnon_reveal_penalty = 0\n"))
                    .unwrap_err()
                    .to_string();
            assert!(
                err.contains("committee.juror_lock = ")
                    && err.contains("ReexecutionCommittee requires 0.01 ETH (10000000000000000 wei) to 1000 ETH"),
                "{bad}: {err}"
            );
        }
        // The penalty is slashed from the lock: it cannot exceed it (the default penalty is 0.1 ETH).
        let err = DeployConfig::from_toml("[committee]\njuror_lock = \"0.05ether\"\n").unwrap_err().to_string();
        assert!(err.contains("committee.non_reveal_penalty = 0.1 ETH") && !err.contains("juror_lock ="), "{err}");
        // Every profile's default lies within the bounds.
        for n in NETWORKS {
            DeployConfig::defaults(n.name).unwrap_or_else(|e| panic!("{}: {e}", n.name));
        }
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
        let err = DeployConfig::from_toml("network = \"mainnet\"\n").unwrap_err().to_string();
        assert!(err.contains("unknown network `mainnet`"), "{err}");
    }
}
