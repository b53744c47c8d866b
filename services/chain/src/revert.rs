//! Revert data → the contracts' custom errors, readable (`JobMarket: ClaimWindowClosed(jobId 7, closedAt
//! 1732540000)`) and typed (`revert.typed::<JobMarket::JobMarketErrors>()`). The error ABIs come from the
//! committed artifacts, so every error any Cairn contract (or OpenZeppelin code inside it) can raise decodes.

use std::{collections::HashMap, fmt, sync::OnceLock};

use alloy::{
    dyn_abi::{DynSolValue, JsonAbiExt},
    json_abi::Error as AbiError,
    primitives::{Bytes, U256},
    sol_types::{Panic, Revert, SolError, SolInterface},
};

/// A decoded revert.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRevert {
    /// The contract whose ABI declares the error (the called contract when it declares it).
    pub contract: Option<String>,
    /// The error's name (`Error` for `require` strings, `Panic` for assertions, `unknown` when no ABI knows
    /// the selector).
    pub name: String,
    /// `(parameter name, value)` pairs, values already formatted.
    pub args: Vec<(String, String)>,
    /// The raw revert data.
    pub data: Bytes,
}

type Catalogue = HashMap<[u8; 4], Vec<(&'static str, AbiError)>>;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut map: Catalogue = HashMap::new();
        for text in cairn_bindings::ARTIFACTS {
            let artifact = text.parse();
            for error in artifact.abi.errors() {
                map.entry(error.selector().0).or_default().push((text.name, error.clone()));
            }
        }
        map
    })
}

fn show(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::FixedBytes(w, size) => format!("0x{}", alloy::primitives::hex::encode(&w[..*size])),
        DynSolValue::Bytes(b) => format!("0x{}", alloy::primitives::hex::encode(b)),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

impl DecodedRevert {
    /// Decodes `data`; `called` names the contract that was called (it wins when several declare the error).
    pub fn decode(data: &[u8], called: Option<&str>) -> Self {
        let raw = Bytes::copy_from_slice(data);
        let unknown = |name: &str| Self {
            contract: called.map(str::to_string),
            name: name.into(),
            args: vec![],
            data: raw.clone(),
        };
        if data.is_empty() {
            return unknown("revert without data");
        }
        if let Ok(r) = Revert::abi_decode(data) {
            return Self {
                name: "Error".into(),
                args: vec![("reason".into(), format!("{:?}", r.reason))],
                ..unknown("")
            };
        }
        if let Ok(p) = Panic::abi_decode(data) {
            let code = U256::from(p.code);
            let what = p.kind().map(|k| format!("{code:#x} ({k})")).unwrap_or_else(|| format!("{code:#x}"));
            return Self { name: "Panic".into(), args: vec![("code".into(), what)], ..unknown("") };
        }
        let Some(selector) = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
            return unknown("unknown");
        };
        let Some(candidates) = catalogue().get(&selector) else { return unknown("unknown") };
        let (contract, error) = candidates.iter().find(|(c, _)| Some(*c) == called).unwrap_or(&candidates[0]);
        let args = match error.abi_decode_input(&data[4..]) {
            Ok(values) => error.inputs.iter().zip(&values).map(|(p, v)| (p.name.clone(), show(v))).collect(),
            Err(_) => vec![("data".into(), format!("{raw}"))],
        };
        Self { contract: Some((*contract).to_string()), name: error.name.clone(), args, data: raw }
    }

    /// The error as one of a contract's typed error enums, e.g. `JobMarket::JobMarketErrors`.
    pub fn typed<E: SolInterface>(&self) -> Option<E> {
        E::abi_decode(&self.data).ok()
    }
}

impl fmt::Display for DecodedRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.contract {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}(", self.name)?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if name.is_empty() { write!(f, "{value}")? } else { write!(f, "{name} {value}")? }
        }
        f.write_str(")")?;
        if self.name == "unknown" {
            write!(f, " data {}", self.data)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolError;
    use cairn_bindings::JobMarket;

    #[test]
    fn custom_errors_decode_with_names_and_values() {
        let data = JobMarket::UnknownJob { jobId: U256::from(7) }.abi_encode();
        let r = DecodedRevert::decode(&data, Some("JobMarket"));
        assert_eq!(r.to_string(), "JobMarket: UnknownJob(jobId 7)");
        assert!(
            matches!(r.typed::<JobMarket::JobMarketErrors>(), Some(JobMarket::JobMarketErrors::UnknownJob(e)) if e.jobId == U256::from(7))
        );
    }

    #[test]
    fn require_strings_panics_and_unknown_data() {
        let data = Revert::from("nope").abi_encode();
        assert_eq!(DecodedRevert::decode(&data, None).to_string(), "Error(reason \"nope\")");
        let data = Panic { code: U256::from(0x11) }.abi_encode();
        assert!(DecodedRevert::decode(&data, None).to_string().starts_with("Panic(code 0x11"));
        let r = DecodedRevert::decode(&[1, 2, 3, 4, 5], Some("JobMarket"));
        assert_eq!(r.to_string(), "JobMarket: unknown() data 0x0102030405");
    }
}
