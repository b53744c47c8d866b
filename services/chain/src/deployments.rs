//! `deployments/<chainId>.json`: where the suite lives on a chain and how it was built.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

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

impl Deployments {
    /// `dir/<chainId>.json`.
    pub fn path(dir: &Path, chain_id: u64) -> PathBuf {
        dir.join(format!("{chain_id}.json"))
    }

    /// Reads the deployments of `chain_id` from `dir`.
    pub fn load(dir: &Path, chain_id: u64) -> Result<Self> {
        let path = Self::path(dir, chain_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NoDeployments { path, chain_id }),
            Err(e) => return Err(Error::BadDeployments { path, detail: e.to_string() }),
        };
        let d: Self = serde_json::from_str(&text)
            .map_err(|e| Error::BadDeployments { path: path.clone(), detail: e.to_string() })?;
        if d.chain_id != chain_id {
            return Err(Error::BadDeployments {
                path,
                detail: format!("it describes chain {}, not chain {chain_id}; rename or regenerate it", d.chain_id),
            });
        }
        Ok(d)
    }

    /// Writes `dir/<chainId>.json` atomically (a crash leaves the old file or the new one, never half).
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = Self::path(dir, self.chain_id);
        let bad = |e: std::io::Error| Error::BadDeployments { path: path.clone(), detail: e.to_string() };
        std::fs::create_dir_all(dir).map_err(bad)?;
        let tmp = dir.join(format!(".{}.json.tmp", self.chain_id));
        let mut text = serde_json::to_string_pretty(self).expect("deployments always serialise");
        text.push('\n');
        std::fs::write(&tmp, text).map_err(bad)?;
        std::fs::rename(&tmp, &path).map_err(bad)?;
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
