//! Amounts and durations as people write them, one parser for every binary and config file.
//!
//! - **Command lines, ETH** ([`parse_eth`]): a unit is required — `0.01ether`, `5gwei`, `100wei` (also
//!   `kwei`, `mwei`, `szabo`, `finney`; spaces and case ignored) — so `--pay 1` can never mean 1 wei by
//!   accident.
//! - **Command lines, ERC-20** ([`parse_token`]): without a unit the number is in token units, scaled by the
//!   token's `decimals()` (`12.5` of a 6-decimals token = 12,500,000 base units); `…wei` gives base units.
//! - **Config files** ([`Amount`], [`Secs`]): a bare number (TOML integer or string) is wei / seconds; text may
//!   carry a unit as on the command line.
//! - **Refused, never guessed**: a sign (`-0.5ether` is not 0.5 ether), more decimals than the unit has
//!   (`1.5wei` is not 1 wei), an unknown unit, a value above 2^256 − 1.
//! - **Printed** ([`format_eth`], [`format_token`]) in both forms: `0.01 ETH (10000000000000000 wei)`.
//!
//! Unit sizes are the Ethereum denominations (wei = 1, gwei = 10^9, ether = 10^18 wei; the yellow paper's
//! Appendix "Terminology").

use std::fmt;

use alloy::primitives::U256;
use serde::{Deserialize, Deserializer, de::Error as _};

/// Why an amount or duration was refused. The message quotes the input, says what was wrong and shows a
/// valid example.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` {reason}; {hint}")]
pub struct UnitsError {
    /// The rejected text.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
    /// A valid example.
    pub hint: &'static str,
}

/// 1 ether = 10^18 wei.
const ETHER_DECIMALS: u8 = 18;

const ETH_HINT: &str = "write an amount with its unit, e.g. 0.01ether, 5gwei or 100wei";
const CONFIG_HINT: &str = "write e.g. \"0.01ether\", \"5gwei\", or wei as a whole number";
const SECS_HINT: &str = "write e.g. \"90s\", \"10m\", \"36h\", \"14d\", or seconds as a whole number";

fn refuse(input: &str, reason: impl Into<String>, hint: &'static str) -> UnitsError {
    UnitsError { input: input.to_owned(), reason: reason.into(), hint }
}

/// The decimals of an ETH denomination, or `None` for an unknown name.
fn unit_decimals(unit: &str) -> Option<u8> {
    Some(match unit {
        "wei" => 0,
        "kwei" => 3,
        "mwei" => 6,
        "gwei" => 9,
        "szabo" => 12,
        "finney" => 15,
        "ether" | "eth" => ETHER_DECIMALS,
        _ => return None,
    })
}

/// Splits `" 1.5 Ether "` into (`"1.5"`, `"ether"`).
fn split_unit(text: &str) -> (String, String) {
    let t = text.trim().to_ascii_lowercase();
    let at = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    (t[..at].trim().to_owned(), t[at..].trim().to_owned())
}

/// `number` × 10^`decimals`, exactly: a non-negative decimal with at most `decimals` fractional digits
/// (trailing zeros aside).
fn scale(input: &str, number: &str, decimals: u8, unit: &str, hint: &'static str) -> Result<U256, UnitsError> {
    if number.starts_with(['-', '+']) {
        return Err(refuse(input, "has a sign; amounts are never negative", hint));
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return Err(refuse(input, "is not a number", hint));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(decimals) {
        return Err(refuse(
            input,
            format!("has more decimals than {unit} allows ({decimals}): it is not a whole number of the smallest unit"),
            hint,
        ));
    }
    let padded = format!("{whole}{frac}{}", "0".repeat(usize::from(decimals) - frac.len()));
    let padded = padded.trim_start_matches('0');
    if padded.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(padded, 10).map_err(|_| refuse(input, "is larger than 2^256 - 1", hint))
}

/// An ETH amount from a command line, in wei. A unit is required.
///
/// Errors: no unit, an unknown unit, a sign, too many decimals for the unit, overflow.
pub fn parse_eth(text: &str) -> Result<U256, UnitsError> {
    let (number, unit) = split_unit(text);
    if number.is_empty() {
        return Err(refuse(text, "is not a number", ETH_HINT));
    }
    if unit.is_empty() {
        return Err(refuse(text, "has no unit", ETH_HINT));
    }
    let decimals =
        unit_decimals(&unit).ok_or_else(|| refuse(text, format!("has an unknown unit `{unit}`"), ETH_HINT))?;
    scale(text, &number, decimals, &unit, ETH_HINT)
}

/// An ERC-20 amount from a command line, in the token's base units. Without a unit the number is in whole
/// tokens and is scaled by `decimals` (the token's `decimals()`, EIP-20); `wei` means base units.
///
/// Errors: an unknown unit, a sign, more decimals than the token has, overflow.
pub fn parse_token(text: &str, decimals: u8) -> Result<U256, UnitsError> {
    const HINT: &str = "write an amount in whole tokens, e.g. 12.5, or in base units, e.g. 12500000wei";
    let (number, unit) = split_unit(text);
    match unit.as_str() {
        "" => scale(text, &number, decimals, "this token", HINT),
        "wei" => scale(text, &number, 0, "wei", HINT),
        other => Err(refuse(text, format!("has the unit `{other}`, but token amounts take none (or `wei`)"), HINT)),
    }
}

/// A config-file amount in wei: a bare number is wei; text may carry an ETH unit.
///
/// Errors: as [`parse_eth`], except that a missing unit means wei.
pub fn parse_config_amount(text: &str) -> Result<U256, UnitsError> {
    let (number, unit) = split_unit(text);
    if number.is_empty() {
        return Err(refuse(text, "is not a number", CONFIG_HINT));
    }
    let unit = if unit.is_empty() { "wei".to_owned() } else { unit };
    let decimals =
        unit_decimals(&unit).ok_or_else(|| refuse(text, format!("has an unknown unit `{unit}`"), CONFIG_HINT))?;
    scale(text, &number, decimals, &unit, CONFIG_HINT)
}

/// A duration in seconds: `90s`, `10m`, `36h`, `14d`, or a bare number of seconds.
///
/// Errors: a sign, a fraction, an unknown suffix, overflow of `u64` seconds.
pub fn parse_secs(text: &str) -> Result<u64, UnitsError> {
    let t = text.trim();
    let (number, multiplier) = match t.char_indices().last() {
        Some((at, 's')) => (&t[..at], 1),
        Some((at, 'm')) => (&t[..at], 60),
        Some((at, 'h')) => (&t[..at], 3600),
        Some((at, 'd')) => (&t[..at], 86_400),
        _ => (t, 1),
    };
    let number = number.trim();
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse(text, "is not a whole number of seconds, minutes, hours or days", SECS_HINT));
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|v| v.checked_mul(multiplier))
        .ok_or_else(|| refuse(text, "is too long a duration (over 2^64 - 1 seconds)", SECS_HINT))
}

/// `amount` base units with `decimals` as a decimal string without trailing zeros (`12.5`, `0`, `1`).
fn decimal(amount: U256, decimals: u8) -> String {
    let digits = amount.to_string();
    let d = usize::from(decimals);
    if d == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = d + 1);
    let (whole, frac) = padded.split_at(padded.len() - d);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { whole.to_owned() } else { format!("{whole}.{frac}") }
}

/// `0.01 ETH (10000000000000000 wei)`: exact, in both units.
pub fn format_eth(wei: U256) -> String {
    format!("{} ETH ({wei} wei)", decimal(wei, ETHER_DECIMALS))
}

/// `12.5 DUSD (12500000 base units)`: exact, in both units.
pub fn format_token(amount: U256, decimals: u8, symbol: &str) -> String {
    format!("{} {symbol} ({amount} base units)", decimal(amount, decimals))
}

/// A config-file amount in wei (TOML integer = wei, or text read by [`parse_config_amount`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amount(pub U256);

/// A config-file duration in seconds (TOML integer, or text read by [`parse_secs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Secs(pub u64);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_eth(self.0))
    }
}

/// A config value written as a plain integer, or as text that `parse` reads.
fn int_or_text<'de, D: Deserializer<'de>, T>(
    d: D,
    from_int: impl FnOnce(u64) -> T,
    parse: impl FnOnce(&str) -> Result<T, UnitsError>,
) -> Result<T, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    match Raw::deserialize(d).map_err(|_| D::Error::custom("expected a whole number or a text with a unit"))? {
        Raw::Int(v) => Ok(from_int(v)),
        Raw::Text(s) => parse(&s).map_err(D::Error::custom),
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        int_or_text(d, |v| Amount(U256::from(v)), |s| parse_config_amount(s).map(Amount))
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        int_or_text(d, Secs, |s| parse_secs(s).map(Secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETHER: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn eth_amounts_need_a_unit_and_are_exact() {
        assert_eq!(parse_eth("0.01ether").unwrap(), U256::from(ETHER / 100));
        assert_eq!(parse_eth(" 1.5 Ether ").unwrap(), U256::from(ETHER * 3 / 2));
        assert_eq!(parse_eth("5gwei").unwrap(), U256::from(5_000_000_000u64));
        assert_eq!(parse_eth("100wei").unwrap(), U256::from(100));
        assert_eq!(parse_eth("1.000wei").unwrap(), U256::from(1));
        assert_eq!(parse_eth(".5ether").unwrap(), U256::from(ETHER / 2));
        assert_eq!(parse_eth("0ether").unwrap(), U256::ZERO);
        let max = U256::MAX.to_string();
        assert_eq!(parse_eth(&format!("{max}wei")).unwrap(), U256::MAX);
    }

    #[test]
    fn what_was_accepted_wrongly_before_is_refused_with_the_reason() {
        for (input, reason) in [
            ("-0.5ether", "has a sign"),
            ("+1ether", "has a sign"),
            ("1.5wei", "more decimals than wei allows (0)"),
            ("0.0000000001gwei", "more decimals than gwei allows (9)"),
            ("1", "has no unit"),
            ("1 bananas", "unknown unit `bananas`"),
            ("ether", "is not a number"),
            ("1.2.3ether", "is not a number"),
            ("1e18wei", "unknown unit `e18wei`"),
        ] {
            let err = parse_eth(input).unwrap_err();
            assert!(err.to_string().contains(reason), "{input}: {err}");
            assert!(err.to_string().contains(&format!("`{input}`")), "{input}: {err}");
        }
        let over = format!("{}0wei", U256::MAX);
        assert!(parse_eth(&over).unwrap_err().to_string().contains("larger than 2^256"));
    }

    #[test]
    fn token_amounts_scale_by_the_tokens_decimals() {
        assert_eq!(parse_token("12.5", 6).unwrap(), U256::from(12_500_000));
        assert_eq!(parse_token("12500000wei", 6).unwrap(), U256::from(12_500_000));
        assert_eq!(parse_token("7", 0).unwrap(), U256::from(7));
        assert!(parse_token("0.0000001", 6).unwrap_err().to_string().contains("more decimals than this token"));
        assert!(parse_token("1ether", 18).unwrap_err().to_string().contains("token amounts take none"));
        assert!(parse_token("-3", 6).unwrap_err().to_string().contains("has a sign"));
    }

    #[test]
    fn config_amounts_default_to_wei() {
        assert_eq!(parse_config_amount("1000").unwrap(), U256::from(1000));
        assert_eq!(parse_config_amount("0.01ether").unwrap(), U256::from(ETHER / 100));
        assert!(parse_config_amount("1.5").unwrap_err().to_string().contains("more decimals than wei"));
        #[derive(Deserialize)]
        struct C {
            a: Amount,
            b: Amount,
            t: Secs,
            u: Secs,
        }
        let c: C = serde_json::from_str(r#"{"a": 1000, "b": "2gwei", "t": 600, "u": "36h"}"#).unwrap();
        assert_eq!((c.a.0, c.b.0, c.t.0, c.u.0), (U256::from(1000), U256::from(2_000_000_000u64), 600, 36 * 3600));
        let err = serde_json::from_str::<Amount>(r#""lots""#).unwrap_err().to_string();
        assert!(err.contains("`lots` is not a number"), "{err}");
        let err = serde_json::from_str::<Amount>("-5").unwrap_err().to_string();
        assert!(err.contains("whole number"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_secs("90s").unwrap(), 90);
        assert_eq!(parse_secs("10m").unwrap(), 600);
        assert_eq!(parse_secs("14d").unwrap(), 14 * 86_400);
        assert_eq!(parse_secs(" 600 ").unwrap(), 600);
        for bad in ["-5s", "1.5h", "h", "", "10w", "99999999999999999999d"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_show_both_units_exactly() {
        assert_eq!(format_eth(U256::from(ETHER / 100)), "0.01 ETH (10000000000000000 wei)");
        assert_eq!(format_eth(U256::from(1)), "0.000000000000000001 ETH (1 wei)");
        assert_eq!(format_eth(U256::ZERO), "0 ETH (0 wei)");
        assert_eq!(format_eth(U256::from(ETHER * 3)), "3 ETH (3000000000000000000 wei)");
        assert_eq!(format_token(U256::from(12_500_000), 6, "DUSD"), "12.5 DUSD (12500000 base units)");
        assert_eq!(format_token(U256::from(7), 0, "T"), "7 T (7 base units)");
        // Round trip: what is printed parses back to the same amount.
        for wei in [U256::from(1), U256::from(ETHER / 3), U256::MAX] {
            let printed = format_eth(wei);
            let ether = printed.split(' ').next().unwrap();
            assert_eq!(parse_eth(&format!("{ether}ether")).unwrap(), wei);
        }
    }
}
