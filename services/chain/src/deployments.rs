//! `deployments/<chainId>.json`: where the suite lives on a chain and how it was built.
//!
//! Only complete deployments live under that name. While `cairn-deploy deploy` runs, it records each step in
//! `deployments/<chainId>.partial.json` (marked `"complete": false`) and writes `<chainId>.json` last, so a
//! reader of `<chainId>.json` never sees a half-deployed suite.
//!
//! The file records the interface version the suite speaks (`interfaceVersion`; a file without it is a
//! version 1 deployment). [`Deployments::load`] refuses any version but [`INTERFACE_VERSION`] with
//! [`Error::DeploymentsVersion`], before anything else in the file is read, and the field refuses other
//! versions when the type is deserialised any other way too.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::{Error, INTERFACE_VERSION, Result};

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// Its address.
    pub address: Address,
    /// The block of its creation.
    pub block: u64,
    /// The creating transaction.
    pub tx: B256,
}

/// A deployment of the suite on one chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployments {
    /// The chain.
    pub chain_id: u64,
    /// The version of Cairn's contract interfaces the suite speaks: always [`INTERFACE_VERSION`] once loaded
    /// (another one is refused, and so is a file without it, which is a version 1 deployment).
    #[serde(deserialize_with = "spoken_version")]
    pub interface_version: u16,
    /// The first block of the deployment (indexers start here).
    pub deployment_block: u64,
    /// Who deployed (and initially owns) the contracts.
    pub deployer: Address,
    /// The owner the contracts were handed to.
    pub owner: Address,
    /// `git rev-parse HEAD` of the sources, with `-dirty` when they had uncommitted changes.
    pub git_commit: String,
    /// Compiler and settings, as recorded in the artifacts.
    pub compiler: serde_json::Value,
    /// The contracts by name.
    pub contracts: BTreeMap<String, Deployed>,
}

/// Deserialises `interfaceVersion`, refusing any version this client does not speak (whatever the path that
/// reads the file; [`Deployments::load`] checks first, with a typed error).
fn spoken_version<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u16, D::Error> {
    let v = u16::deserialize(d)?;
    if v == INTERFACE_VERSION {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "a deployment of Cairn interface version {v}, but this client speaks interface version \
             {INTERFACE_VERSION}; redeploy with `cairn-deploy deploy --force` or use a matching client"
        )))
    }
}

impl Deployments {
    /// `dir/<chainId>.json`.
    pub fn path(dir: &Path, chain_id: u64) -> PathBuf {
        dir.join(format!("{chain_id}.json"))
    }

    /// Reads the deployments of `chain_id` from `dir`. Refused: a file of another interface version than
    /// [`INTERFACE_VERSION`] ([`Error::DeploymentsVersion`]; no `interfaceVersion` means version 1), and a file
    /// marked `"complete": false` (an interrupted deployment's record, renamed or copied here).
    pub fn load(dir: &Path, chain_id: u64) -> Result<Self> {
        let path = Self::path(dir, chain_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NoDeployments { path, chain_id }),
            Err(e) => return Err(Error::BadDeployments { path, detail: e.to_string() }),
        };
        let bad = |e: serde_json::Error| Error::BadDeployments { path: path.clone(), detail: e.to_string() };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
        // The version first: the rest of a file of another version may not even have this version's shape.
        match value.get("interfaceVersion") {
            None => return Err(Error::DeploymentsVersion { path, found: None }),
            Some(v) => match v.as_u64().and_then(|v| u16::try_from(v).ok()) {
                Some(INTERFACE_VERSION) => {}
                Some(other) => return Err(Error::DeploymentsVersion { path, found: Some(other) }),
                None => {
                    return Err(Error::BadDeployments {
                        path,
                        detail: format!("`interfaceVersion` is {v}, not a version number (0 to 65535)"),
                    });
                }
            },
        }
        if value.get("complete") == Some(&serde_json::Value::Bool(false)) {
            return Err(Error::BadDeployments {
                path,
                detail: "it records an interrupted deployment (`\"complete\": false`), not a usable suite; finish it \
                         with `cairn-deploy deploy --resume`"
                    .into(),
            });
        }
        let d: Self = serde_json::from_value(value).map_err(bad)?;
        if d.chain_id != chain_id {
            return Err(Error::BadDeployments {
                path,
                detail: format!("it describes chain {}, not chain {chain_id}; rename or regenerate it", d.chain_id),
            });
        }
        Ok(d)
    }

    /// Writes `dir/<chainId>.json` (creating `dir`) atomically and durably with
    /// [`cairn_primitives::fs::write_atomic`]: a uniquely named temporary file beside it, fsynced, renamed over
    /// it, the directory fsynced. A crash or a concurrent writer leaves the old file or a new one, never half.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = Self::path(dir, self.chain_id);
        let bad = |e: std::io::Error| Error::BadDeployments { path: path.clone(), detail: e.to_string() };
        std::fs::create_dir_all(dir).map_err(bad)?;
        let mut text = serde_json::to_string_pretty(self).expect("deployments always serialise");
        text.push('\n');
        cairn_primitives::fs::write_atomic(&path, text.as_bytes()).map_err(bad)?;
        Ok(path)
    }

    /// The address of `name`.
    pub fn address(&self, name: &str) -> Result<Address> {
        self.contracts.get(name).map(|d| d.address).ok_or_else(|| Error::BadDeployments {
            path: PathBuf::from(format!("deployments/{}.json", self.chain_id)),
            detail: format!("no `{name}` in it; redeploy with `cairn-deploy deploy`"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Deployments {
        let deployed = Deployed { address: Address::with_last_byte(1), block: 7, tx: B256::with_last_byte(2) };
        Deployments {
            chain_id: 31337,
            interface_version: INTERFACE_VERSION,
            deployment_block: 7,
            deployer: Address::with_last_byte(3),
            owner: Address::with_last_byte(4),
            git_commit: "abc".into(),
            compiler: serde_json::json!({"version": "0.8.37"}),
            contracts: BTreeMap::from([("JobMarket".to_string(), deployed)]),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        n.sort();
        n
    }

    #[test]
    fn save_round_trips_and_leaves_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = sample();
        let path = d.save(&dir.path().join("deployments")).unwrap();
        assert_eq!(path, dir.path().join("deployments/31337.json"));
        assert_eq!(Deployments::load(&dir.path().join("deployments"), 31337).unwrap(), d);
        assert_eq!(names(&dir.path().join("deployments")), ["31337.json"]);
    }

    /// The old `save` wrote through one fixed name (`.31337.json.tmp`): whatever held that name (a crashed
    /// writer's leftover, another writer) broke or raced every save. Temporary names are unique now.
    #[test]
    fn a_leftover_at_the_old_temporary_name_does_not_block_saving() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".31337.json.tmp")).unwrap();
        sample().save(dir.path()).unwrap();
        assert_eq!(Deployments::load(dir.path(), 31337).unwrap(), sample());
    }

    #[test]
    fn an_interrupted_deployment_is_not_loaded_as_a_suite() {
        let dir = tempfile::tempdir().unwrap();
        let mut value = serde_json::to_value(sample()).unwrap();
        value["complete"] = false.into();
        std::fs::write(Deployments::path(dir.path(), 31337), value.to_string()).unwrap();
        let err = Deployments::load(dir.path(), 31337).unwrap_err().to_string();
        assert!(err.contains("interrupted deployment") && err.contains("--resume"), "{err}");
        // A complete file may say so, and older files without the key load as before.
        value["complete"] = true.into();
        std::fs::write(Deployments::path(dir.path(), 31337), value.to_string()).unwrap();
        assert_eq!(Deployments::load(dir.path(), 31337).unwrap(), sample());
    }

    #[test]
    fn the_file_records_the_interface_version() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(value["interfaceVersion"], INTERFACE_VERSION);
    }

    /// A v1 file (no `interfaceVersion`) and a file of any other version are refused by name, before the rest
    /// of the file is looked at, with what was found, what this client speaks and what to do.
    #[test]
    fn another_interface_version_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = Deployments::path(dir.path(), 31337);
        let write = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut value = serde_json::to_value(sample()).unwrap();
            edit(&mut value);
            std::fs::write(&path, value.to_string()).unwrap();
        };

        write(&|v| {
            v.as_object_mut().unwrap().remove("interfaceVersion");
        });
        let err = Deployments::load(dir.path(), 31337).unwrap_err();
        assert!(matches!(err, Error::DeploymentsVersion { found: None, .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "deployments file {}: it records a deployment of Cairn interface version 1 (it has no \
                 `interfaceVersion`: it was written before interface versions were recorded), but this client \
                 speaks interface version {INTERFACE_VERSION}; redeploy the contracts for version {INTERFACE_VERSION} \
                 with `cairn-deploy deploy --force --rpc-url …` (locally: `make devnet`), or use a Cairn client that \
                 speaks interface version 1",
                path.display()
            )
        );

        for found in (1..=INTERFACE_VERSION + 1).filter(|v| *v != INTERFACE_VERSION) {
            // The rest of the file in another shape: the version is what is reported.
            write(&|v| {
                v["interfaceVersion"] = found.into();
                v["contracts"] = "another layout".into();
            });
            let err = Deployments::load(dir.path(), 31337).unwrap_err();
            assert!(matches!(err, Error::DeploymentsVersion { found: Some(f), .. } if f == found), "{err}");
            let text = err.to_string();
            assert!(
                text.contains(&format!(
                    "a deployment of Cairn interface version {found}, but this client speaks interface version \
                     {INTERFACE_VERSION}"
                )) && text.contains("make devnet")
                    && text.contains(&format!("speaks interface version {found}")),
                "{text}"
            );
        }

        write(&|v| v["interfaceVersion"] = "2".into());
        let err = Deployments::load(dir.path(), 31337).unwrap_err().to_string();
        assert!(err.contains("`interfaceVersion` is \"2\", not a version number"), "{err}");

        // Deserialised without `load`, the field still refuses another version.
        let mut value = serde_json::to_value(sample()).unwrap();
        value["interfaceVersion"] = 1.into();
        let err = serde_json::from_value::<Deployments>(value).unwrap_err().to_string();
        assert!(
            err.contains(&format!("interface version 1, but this client speaks interface version {INTERFACE_VERSION}")),
            "{err}"
        );
    }
}
