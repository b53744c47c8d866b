//! Logs → named fields, through the ABIs that cairn-bindings commits (`services/bindings/artifacts/`): an
//! event added to a contract is decoded and stored (and shows in account trails) with no indexer change.
//! Projections decode the same logs again into the bindings' typed `sol!` enums (`project.rs`).

use std::{collections::HashMap, sync::Arc};

use alloy::{
    dyn_abi::{DynSolEvent, DynSolValue, Specifier},
    json_abi::{Event, EventParam, Param},
    primitives::{Address, B256, LogData},
};
use serde_json::{Map, Value, json};

/// The Cairn contracts whose logs are indexed (the names in a deployments file). The devnet's `DevToken` and
/// the randomness library are not: ERC-20 transfers are not market events.
pub const INDEXED_CONTRACTS: &[&str] =
    &["DisputeDesk", "JobMarket", "JurorPool", "ModelRegistry", "OperatorRegistry", "ReexecutionCommittee"];

/// A decoded log: the event's name and its fields as JSON (addresses and hashes 0x-hex, integers as decimal
/// strings, structs as objects with their component names), and the addresses that appear in it by role.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Event name, e.g. `JobRequested`.
    pub event: String,
    /// Fields by name.
    pub fields: Value,
    /// The accounts it names: see [`Accounts`].
    pub accounts: Accounts,
}

/// `(roles, address)` for every address an event names, in first-appearance order: the roles are the names
/// of the address-typed fields that hold it (nested ones `outer.inner`, array elements `name[i]`), joined by
/// commas when one address fills several (a buyer that is also `terms.buyer`). The zero address is no
/// account (it stands for ETH, or for "none") and is left out.
pub type Accounts = Vec<(String, Address)>;

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

/// An event of a committed ABI with its types resolved once (resolving the ABI's type strings on every log
/// cost more than decoding it).
#[derive(Debug, Clone)]
struct Known {
    abi: Event,
    resolved: DynSolEvent,
}

/// Decodes the logs of one deployment.
#[derive(Debug, Clone)]
pub struct Decoder {
    contracts: HashMap<Address, String>,
    events: HashMap<(String, B256), Arc<Known>>,
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
                let resolved = match event.resolve() {
                    Ok(r) => r,
                    Err(e) => {
                        // Its logs will be stored as undecodable and reported; `every_committed_event_resolves`
                        // keeps this from happening to Cairn's own ABIs.
                        tracing::warn!(contract = %name, event = %event.name, error = %e, "event type does not resolve");
                        continue;
                    }
                };
                events.insert((name.clone(), event.selector()), Arc::new(Known { abi: event.clone(), resolved }));
            }
            names.insert(address, name);
        }
        Self { contracts: names, events }
    }

    /// A decoder by contract name only, for logs stored with their contract's name (the API's trails): every
    /// indexed contract's ABI, no addresses.
    pub fn by_name() -> Self {
        let mut d = Self::new(INDEXED_CONTRACTS.iter().map(|n| ((*n).to_string(), Address::ZERO)));
        d.contracts.clear();
        d
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

    fn known(&self, contract: &str, data: &LogData) -> Result<&Known, Undecodable> {
        let topic0 = data.topics().first().copied();
        topic0.and_then(|t| self.events.get(&(contract.to_string(), t))).map(|k| &**k).ok_or_else(|| {
            Undecodable::UnknownTopic {
                contract: contract.to_string(),
                topic: topic0.map_or_else(|| "none".to_string(), |t| t.to_string()),
            }
        })
    }

    fn values(&self, contract: &str, data: &LogData) -> Result<(&Known, Vec<DynSolValue>), Undecodable> {
        let known = self.known(contract, data)?;
        let decoded = known.resolved.decode_log_data(data).map_err(|e| Undecodable::BadData {
            contract: contract.to_string(),
            event: known.abi.name.clone(),
            detail: e.to_string(),
        })?;
        let (mut indexed, mut body) = (decoded.indexed.into_iter(), decoded.body.into_iter());
        let values = known
            .abi
            .inputs
            .iter()
            .map_while(|input| if input.indexed { indexed.next() } else { body.next() })
            .collect();
        Ok((known, values))
    }

    /// Decodes one log of `address`.
    pub fn decode(&self, address: Address, data: &LogData) -> Result<Decoded, Undecodable> {
        let contract = self.contracts.get(&address).ok_or(Undecodable::UnknownContract(address))?;
        self.decode_named(contract, data)
    }

    /// Decodes one log stored with its contract's name.
    pub fn decode_named(&self, contract: &str, data: &LogData) -> Result<Decoded, Undecodable> {
        let (known, values) = self.values(contract, data)?;
        let mut fields = Map::new();
        let mut accounts = Vec::new();
        for (input, value) in known.abi.inputs.iter().zip(&values) {
            let hashed = input.indexed && is_hashed(input);
            fields.insert(input.name.clone(), to_json(value, &input.components, hashed));
            walk(value, &input.components, &input.name, hashed, &mut accounts);
        }
        Ok(Decoded { event: known.abi.name.clone(), fields: Value::Object(fields), accounts })
    }

    /// What the follower keeps of a log of `address`: its event's name and the accounts it names, checked to
    /// decode (no JSON is built: the API decodes stored logs when it serves them).
    pub fn accounts(&self, address: Address, data: &LogData) -> Result<(&str, Accounts), Undecodable> {
        let contract = self.contracts.get(&address).ok_or(Undecodable::UnknownContract(address))?;
        let (known, values) = self.values(contract, data)?;
        let mut accounts = Vec::new();
        for (input, value) in known.abi.inputs.iter().zip(&values) {
            walk(value, &input.components, &input.name, input.indexed && is_hashed(input), &mut accounts);
        }
        Ok((&known.abi.name, accounts))
    }
}

/// A log as the `events` table stores it (topics a JSON array of 0x-hex words, data 0x-hex) back as alloy's
/// `LogData`; `None` when either does not parse.
pub fn stored_log(topics: &str, data: &str) -> Option<LogData> {
    let topics: Vec<String> = serde_json::from_str(topics).ok()?;
    let topics = topics.iter().map(|t| t.parse().ok()).collect::<Option<Vec<B256>>>()?;
    Some(LogData::new_unchecked(topics, data.parse().ok()?))
}

/// `0x` and 40 lowercase hex digits: the form every stored address takes (EIP-55 checksumming, a keccak per
/// address, would be undone by lowercasing).
pub fn lower_hex(a: &Address) -> String {
    format!("{a:#x}")
}

/// Indexed dynamic values (strings, bytes, arrays, structs) are stored as their keccak256 topic.
fn is_hashed(p: &EventParam) -> bool {
    let t = p.ty.as_str();
    t == "string" || t == "bytes" || t.ends_with(']') || t.starts_with("tuple")
}

/// Collects the addresses in `v` by role into `out` (see [`Accounts`]).
fn walk(v: &DynSolValue, components: &[Param], path: &str, hashed: bool, out: &mut Accounts) {
    if hashed {
        return;
    }
    match v {
        DynSolValue::Address(a) if !a.is_zero() => match out.iter_mut().find(|(_, x)| x == a) {
            Some((roles, _)) => {
                roles.push(',');
                roles.push_str(path);
            }
            None => out.push((path.to_string(), *a)),
        },
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            for (i, x) in items.iter().enumerate() {
                walk(x, components, &format!("{path}[{i}]"), false, out);
            }
        }
        DynSolValue::Tuple(items) | DynSolValue::CustomStruct { tuple: items, .. } => {
            for (i, x) in items.iter().enumerate() {
                let (name, sub) = field(v, components, i);
                walk(x, sub, &format!("{path}.{name}"), false, out);
            }
        }
        _ => {}
    }
}

/// The name and sub-components of field `i` of a tuple or struct value: from the ABI's components, else the
/// struct's own property names, else the index.
fn field<'a>(v: &DynSolValue, components: &'a [Param], i: usize) -> (String, &'a [Param]) {
    if let Some(c) = components.get(i) {
        return (c.name.clone(), &c.components[..]);
    }
    let name = match v {
        DynSolValue::CustomStruct { prop_names, .. } => prop_names.get(i).cloned(),
        _ => None,
    };
    (name.unwrap_or_else(|| i.to_string()), &[][..])
}

/// JSON for a decoded value: 0x-hex for addresses, fixed bytes and bytes; decimal strings for integers (a
/// uint256 does not fit a JSON number); objects for tuples, keyed by the ABI's component names.
fn to_json(v: &DynSolValue, components: &[Param], hashed: bool) -> Value {
    if hashed && let DynSolValue::FixedBytes(w, _) = v {
        return json!({ "topic": w.to_string() });
    }
    match v {
        DynSolValue::Address(a) => Value::String(lower_hex(a)),
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(w, size) => Value::String(format!("0x{}", hex::encode(&w[..*size]))),
        DynSolValue::Bytes(b) => Value::String(format!("0x{}", hex::encode(b))),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Function(f) => Value::String(f.to_string()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            Value::Array(items.iter().map(|x| to_json(x, components, false)).collect())
        }
        // A struct-typed parameter decodes as `CustomStruct` (alloy's EIP-712 support names its fields) or as a
        // bare `Tuple`: both become an object keyed by the field names.
        DynSolValue::Tuple(items) | DynSolValue::CustomStruct { tuple: items, .. } => {
            let mut m = Map::new();
            for (i, x) in items.iter().enumerate() {
                let (name, sub) = field(v, components, i);
                m.insert(name, to_json(x, sub, false));
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
    fn every_committed_event_resolves() {
        for name in INDEXED_CONTRACTS {
            let artifact = cairn_bindings::artifact(name).expect("a committed artifact");
            for event in artifact.abi.events() {
                assert!(event.resolve().is_ok(), "{name}.{} does not resolve", event.name);
            }
        }
    }

    #[test]
    fn walks_nested_fixed_arrays_and_tuples() {
        let (x, y) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let value = DynSolValue::Tuple(vec![DynSolValue::FixedArray(vec![
            DynSolValue::Address(x),
            DynSolValue::Address(Address::ZERO),
            DynSolValue::Address(y),
        ])]);
        let components =
            vec![Param { ty: "address[3]".into(), name: "signers".into(), components: vec![], internal_type: None }];
        let mut out = Vec::new();
        walk(&value, &components, "terms", false, &mut out);
        assert_eq!(out, vec![("terms.signers[0]".to_string(), x), ("terms.signers[2]".to_string(), y)]);
        let mut hashed = Vec::new();
        walk(&value, &components, "terms", true, &mut hashed);
        assert!(hashed.is_empty(), "an indexed struct is only its topic");
    }

    #[test]
    fn struct_fields_are_objects_and_their_addresses_are_accounts() {
        let (d, market) = decoder();
        let seller = address!("0x00000000000000000000000000000000000000ee");
        let terms = cairn_bindings::job_market::IJobMarket::JobTerms { seller, ..Default::default() };
        let ev = JobMarket::JobRequested {
            jobId: U256::from(1),
            buyer: address!("0x00000000000000000000000000000000000000bb"),
            modelId: U256::from(2),
            terms,
            inputCid: "bafy".into(),
        };
        let decoded = d.decode(market, &ev.encode_log_data()).unwrap();
        assert_eq!(decoded.fields["terms"]["seller"], lower_hex(&seller), "{}", decoded.fields);
        assert!(
            decoded.accounts.iter().any(|(role, a)| *a == seller && role.contains("terms.seller")),
            "{:?}",
            decoded.accounts
        );
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
