//! Logs → named fields, through the ABIs that cairn-bindings commits (`services/bindings/artifacts/`): an
//! event added to a contract is decoded and stored (and shows in account trails) with no indexer change.
//! Projections decode the same logs again into the bindings' typed `sol!` enums (`project.rs`).

use std::collections::HashMap;

use alloy::{
    dyn_abi::{DynSolValue, EventExt},
    json_abi::{Event, EventParam, Param},
    primitives::{Address, B256, LogData},
};
use serde_json::{Map, Value, json};

/// The Cairn contracts whose logs are indexed (the names in a deployments file). The devnet's `DevToken` and
/// the randomness library are not: ERC-20 transfers are not market events.
pub const INDEXED_CONTRACTS: &[&str] = &["JobMarket", "ModelRegistry", "OperatorRegistry", "ReexecutionCommittee"];

/// A decoded log: the event's name and its fields as JSON (addresses and hashes 0x-hex, integers as decimal
/// strings, structs as objects with their component names), and the addresses that appear in it by role.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Event name, e.g. `JobRequested`.
    pub event: String,
    /// Fields by name.
    pub fields: Value,
    /// `(role, address)` for every address-typed field, nested ones named `outer.inner`.
    pub accounts: Vec<(String, Address)>,
}

/// Why a log could not be decoded (stored raw with this reason, counted and reported on `/health`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undecodable {
    /// The emitter is none of the deployment's contracts.
    #[error("log from {0}, which is not a Cairn contract of this deployment")]
    UnknownContract(Address),
    /// The contract's ABI has no event with this topic.
    #[error("{contract} has no event with topic0 {topic}")]
    UnknownTopic {
        /// The contract.
        contract: String,
        /// topic0, or "none" for an anonymous log.
        topic: String,
    },
    /// The topic is known but the data does not decode.
    #[error("{contract}.{event}: {detail}")]
    BadData {
        /// The contract.
        contract: String,
        /// The event.
        event: String,
        /// alloy's error.
        detail: String,
    },
}

/// Decodes the logs of one deployment.
#[derive(Debug, Clone)]
pub struct Decoder {
    contracts: HashMap<Address, String>,
    events: HashMap<(String, B256), Event>,
}

impl Decoder {
    /// A decoder for `contracts` (`name → address`, as in a deployments file); names without a committed
    /// artifact are ignored.
    pub fn new(contracts: impl IntoIterator<Item = (String, Address)>) -> Self {
        let mut names = HashMap::new();
        let mut events = HashMap::new();
        for (name, address) in contracts {
            let Some(artifact) = cairn_bindings::artifact(&name) else { continue };
            for event in artifact.abi.events() {
                events.insert((name.clone(), event.selector()), event.clone());
            }
            names.insert(address, name);
        }
        Self { contracts: names, events }
    }

    /// The addresses indexed, for `eth_getLogs`.
    pub fn addresses(&self) -> Vec<Address> {
        let mut v: Vec<Address> = self.contracts.keys().copied().collect();
        v.sort();
        v
    }

    /// The contract name at `address`.
    pub fn contract(&self, address: &Address) -> Option<&str> {
        self.contracts.get(address).map(String::as_str)
    }

    /// Decodes one log of `address`.
    pub fn decode(&self, address: Address, data: &LogData) -> Result<Decoded, Undecodable> {
        let contract = self.contracts.get(&address).ok_or(Undecodable::UnknownContract(address))?;
        let topic0 = data.topics().first().copied();
        let event =
            topic0.and_then(|t| self.events.get(&(contract.clone(), t))).ok_or_else(|| Undecodable::UnknownTopic {
                contract: contract.clone(),
                topic: topic0.map_or_else(|| "none".to_string(), |t| t.to_string()),
            })?;
        let decoded = event.decode_log(data).map_err(|e| Undecodable::BadData {
            contract: contract.clone(),
            event: event.name.clone(),
            detail: e.to_string(),
        })?;
        let (mut indexed, mut body) = (decoded.indexed.into_iter(), decoded.body.into_iter());
        let mut fields = Map::new();
        let mut accounts = Vec::new();
        for input in &event.inputs {
            let value = if input.indexed { indexed.next() } else { body.next() };
            let Some(value) = value else { continue };
            let json =
                to_json(&value, &input.components, &input.name, &mut accounts, input.indexed && is_hashed(input));
            fields.insert(input.name.clone(), json);
        }
        Ok(Decoded { event: event.name.clone(), fields: Value::Object(fields), accounts })
    }
}

/// Indexed dynamic values (strings, bytes, arrays, structs) are stored as their keccak256 topic.
fn is_hashed(p: &EventParam) -> bool {
    let t = p.ty.as_str();
    t == "string" || t == "bytes" || t.ends_with(']') || t.starts_with("tuple")
}

/// JSON for a decoded value: 0x-hex for addresses, fixed bytes and bytes; decimal strings for integers (a
/// uint256 does not fit a JSON number); objects for tuples, keyed by the ABI's component names.
fn to_json(
    v: &DynSolValue,
    components: &[Param],
    path: &str,
    accounts: &mut Vec<(String, Address)>,
    hashed: bool,
) -> Value {
    if hashed && let DynSolValue::FixedBytes(w, _) = v {
        return json!({ "topic": w.to_string() });
    }
    match v {
        DynSolValue::Address(a) => {
            accounts.push((path.to_string(), *a));
            Value::String(a.to_string().to_lowercase())
        }
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(w, size) => Value::String(format!("0x{}", hex::encode(&w[..*size]))),
        DynSolValue::Bytes(b) => Value::String(format!("0x{}", hex::encode(b))),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Function(f) => Value::String(f.to_string()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_json(x, components, &format!("{path}[{i}]"), accounts, false))
                .collect(),
        ),
        DynSolValue::Tuple(items) => {
            let mut m = Map::new();
            for (i, x) in items.iter().enumerate() {
                let (name, sub) =
                    components.get(i).map_or_else(|| (i.to_string(), &[][..]), |c| (c.name.clone(), &c.components[..]));
                m.insert(name.clone(), to_json(x, sub, &format!("{path}.{name}"), accounts, false));
            }
            Value::Object(m)
        }
        #[allow(unreachable_patterns)]
        other => Value::String(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use alloy::{
        primitives::{U256, address},
        sol_types::SolEvent,
    };
    use cairn_bindings::JobMarket;

    use super::*;

    fn decoder() -> (Decoder, Address) {
        let market = address!("0x00000000000000000000000000000000000000aa");
        (Decoder::new([("JobMarket".to_string(), market), ("DevToken".into(), Address::ZERO)]), market)
    }

    #[test]
    fn decodes_through_the_committed_abi() {
        let (d, market) = decoder();
        let operator = address!("0x00000000000000000000000000000000000000bb");
        let ev = JobMarket::JobClaimed { jobId: U256::from(7), operator, bond: U256::from(5), submitBy: 99 };
        let out = d.decode(market, &ev.encode_log_data()).unwrap();
        assert_eq!(out.event, "JobClaimed");
        assert_eq!(
            out.fields,
            json!({"jobId": "7", "operator": operator.to_string().to_lowercase(), "bond": "5", "submitBy": "99"})
        );
        assert_eq!(out.accounts, vec![("operator".to_string(), operator)]);
    }

    #[test]
    fn names_what_it_cannot_decode() {
        let (d, market) = decoder();
        let other = address!("0x00000000000000000000000000000000000000cc");
        let ev = JobMarket::JobClaimed { jobId: U256::from(7), operator: other, bond: U256::ZERO, submitBy: 1 };
        assert_eq!(d.decode(other, &ev.encode_log_data()), Err(Undecodable::UnknownContract(other)));
        let unknown = LogData::new_unchecked(vec![B256::repeat_byte(1)], Default::default());
        assert!(matches!(d.decode(market, &unknown), Err(Undecodable::UnknownTopic { .. })));
        let mut short = ev.encode_log_data();
        short.data = Default::default();
        assert!(matches!(d.decode(market, &short), Err(Undecodable::BadData { .. })), "{:?}", d.decode(market, &short));
    }
}
