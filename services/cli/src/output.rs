//! Printing: human text on stdout, or one JSON document with `--json`; progress and prompts on stderr, so
//! stdout stays parseable. Amounts print in both forms (`0.01 ETH (10000000000000000 wei)`; in JSON
//! `{"raw": "10000000000000000", "human": "0.01", "symbol": "ETH", …}`).

use std::{future::Future, io::IsTerminal, time::Duration};

use alloy::primitives::{Address, U256};
use anyhow::bail;
use cairn_protocol::units::{format_eth, format_token};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// How results are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Text when `json` is false.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints `value` as pretty JSON, or `human(value)` as text.
    ///
    /// Errors: `value` cannot be serialised (a bug).
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
        let text = if self.json { serde_json::to_string_pretty(value)? } else { human(value).trim_end().to_owned() };
        write_stdout(&format!("{text}\n"))
    }
}

/// Writes `text` to stdout. A reader that went away (`cairn … | head`) ends the output quietly, as for any Unix
/// tool, instead of a panic.
///
/// Errors: stdout fails otherwise.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

impl Output {
    /// A line of progress on stderr (suppressed with `--json`, whose stdout must stay one document).
    pub fn note(&self, line: &str) {
        if !self.json {
            eprintln!("{line}");
        }
    }

    /// Runs `work` under a spinner labelled `label` (on stderr, only on a terminal and without `--json`).
    pub async fn spin<F: Future>(&self, label: &str, work: F) -> F::Output {
        let bar = if !self.json && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"));
            bar.set_message(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            None
        };
        let result = work.await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        result
    }

    /// A progress bar over `total` bytes with rate and ETA (on stderr; `None` with `--json` or off a terminal).
    pub fn bytes_bar(&self, total: u64, label: &str) -> Option<ProgressBar> {
        if self.json || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(label.to_owned());
        Some(bar)
    }

    /// Asks "Proceed? [y/N]" on the terminal after `summary` (already printed). `yes` skips the question.
    ///
    /// Errors: the answer is not yes (nothing was sent); no terminal to ask on and no `--yes`.
    pub fn confirm(&self, yes: bool, summary: &str) -> anyhow::Result<()> {
        eprintln!("{}", summary.trim_end());
        if yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            bail!(crate::UsageError(
                "this command sends a transaction and needs a confirmation, but there is no terminal to ask on; \
                 pass --yes to confirm in scripts"
                    .into()
            ));
        }
        eprint!("Proceed? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            bail!("cancelled: nothing was sent")
        }
    }
}

/// A payment token: ETH (the zero address) or an ERC-20.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// address(0) for ETH.
    pub address: Address,
    /// `ETH`, or the token's `symbol()`.
    pub symbol: String,
    /// 18 for ETH, else the token's `decimals()` (EIP-20).
    pub decimals: u8,
}

impl TokenInfo {
    /// Ether.
    pub fn eth() -> Self {
        Self { address: Address::ZERO, symbol: "ETH".into(), decimals: 18 }
    }

    /// Whether this is ETH.
    pub fn is_eth(&self) -> bool {
        self.address == Address::ZERO
    }

    /// `amount` in both forms.
    pub fn format(&self, amount: U256) -> String {
        if self.is_eth() { format_eth(amount) } else { format_token(amount, self.decimals, &self.symbol) }
    }

    /// `amount` as a JSON-friendly value.
    pub fn amount(&self, amount: U256) -> AmountView {
        AmountView {
            raw: amount.to_string(),
            human: self.format(amount),
            symbol: self.symbol.clone(),
            token: self.address,
            decimals: self.decimals,
        }
    }

    /// Parses an amount written for this token: ETH needs a unit (`0.01ether`); an ERC-20 amount without a
    /// unit is in whole tokens, `…wei` in base units.
    ///
    /// Errors: the parser's message (what was wrong, an example).
    pub fn parse(&self, text: &str) -> anyhow::Result<U256> {
        let parsed = if self.is_eth() {
            cairn_protocol::units::parse_eth(text)
        } else {
            cairn_protocol::units::parse_token(text, self.decimals)
        };
        parsed.map_err(|e| crate::UsageError(e.to_string()).into())
    }
}

/// An amount as `--json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmountView {
    /// Base units (wei for ETH), as a decimal string.
    pub raw: String,
    /// Human form with the unit and the raw value.
    pub human: String,
    /// The token's symbol.
    pub symbol: String,
    /// The token (address(0): ETH).
    pub token: Address,
    /// The token's decimals.
    pub decimals: u8,
}
