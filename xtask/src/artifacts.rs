//! Compiling `contracts/` into the committed artifacts of `services/bindings/artifacts/`, and the drift check.
//!
//! [`DEPLOYABLE`] is the one list of contracts that get an artifact; `cairn-bindings` derives its modules
//! from the files present, so [`write`] also removes a `<Name>.json` whose contract left the list, and
//! [`check`] names it.
//!
//! Compiler settings come from `foundry.toml`'s `[profile.default]` (one definition for forge and for us):
//! `src`, `libs`, `remappings`, `evm_version`, `optimizer`, `optimizer_runs`, `bytecode_hash`, `cbor_metadata`.
//! solc is a native `solc` on PATH when its version matches `solc_version` pinned below, else the project's
//! solcjs adapter (`scripts/solc`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use foundry_compilers::{
    Project, ProjectPathsConfig,
    artifacts::{
        BytecodeHash, EvmVersion, Optimizer, Remapping, Settings, SettingsMetadata, output_selection::OutputSelection,
    },
    compilers::{
        multi::{MultiCompiler, MultiCompilerSettings},
        solc::{Solc, SolcCompiler, SolcSettings},
    },
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Error, Result};

/// The contracts a deployment creates; each gets an artifact (and so Rust bindings: `cairn-bindings` builds
/// one module per file). `DevToken` is deployed by `cairn-deploy seed` on devnets only.
///
/// Adding a contract: add its name here, run `cargo xtask artifacts`, commit the new file.
pub const DEPLOYABLE: &[&str] = &[
    "OperatorRegistry",
    "JurorPool",
    "BlockhashRandomness",
    "ReexecutionCommittee",
    "DisputeDesk",
    "ModelRegistry",
    "JobMarket",
    "DevToken",
];

/// The solc version the contracts pin (`pragma solidity 0.8.37`).
pub const SOLC_VERSION: &str = "0.8.37";

/// Where the committed artifacts live, relative to the repository root.
pub const ARTIFACTS_DIR: &str = "services/bindings/artifacts";

/// The subset of `foundry.toml`'s default profile that decides the bytecode.
#[derive(Debug, Deserialize)]
struct FoundryProfile {
    src: String,
    #[serde(default)]
    libs: Vec<String>,
    #[serde(default)]
    remappings: Vec<String>,
    evm_version: String,
    optimizer: bool,
    optimizer_runs: usize,
    bytecode_hash: String,
    cbor_metadata: bool,
}

/// The compiler and settings an artifact was built with (recorded in it and in deployments files).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompilerInfo {
    /// solc version (full, with commit).
    pub version: String,
    /// EVM version.
    pub evm_version: String,
    /// Optimizer on?
    pub optimizer: bool,
    /// Optimizer runs.
    pub optimizer_runs: usize,
    /// Metadata hash kind appended to the bytecode.
    pub bytecode_hash: String,
}

/// One compiled, deployable contract as written to `<Name>.json` (alloy's `sol!` reads `abi`/`bytecode`).
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Contract name.
    pub name: String,
    /// The artifact JSON.
    pub json: Value,
}

fn read_profile(root: &Path) -> Result<FoundryProfile> {
    let path = root.join("foundry.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let profile = doc
        .get("profile")
        .and_then(|p| p.get("default"))
        .ok_or_else(|| Error::Config(format!("{}: no [profile.default]", path.display())))?;
    profile.clone().try_into().map_err(|e| Error::Config(format!("{}: [profile.default]: {e}", path.display())))
}

/// The solc to use: a native `solc` on PATH when it is version [`SOLC_VERSION`], else `scripts/solc`.
pub fn find_solc(root: &Path) -> Result<PathBuf> {
    if let Ok(out) = Command::new("solc").arg("--version").output()
        && out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains(&format!("Version: {SOLC_VERSION}"))
    {
        return Ok(PathBuf::from("solc"));
    }
    let adapter = root.join("scripts/solc");
    if adapter.is_file() {
        return Ok(adapter);
    }
    Err(Error::Config(format!(
        "no solc {SOLC_VERSION}: neither a native `solc` of that version on PATH nor {}; run `make setup`",
        adapter.display()
    )))
}

/// Compiles the sources under `root` (a checkout: `foundry.toml`, `contracts/src`, `node_modules`) and returns
/// the artifacts of [`DEPLOYABLE`], sorted by name.
pub fn compile(root: &Path) -> Result<Vec<Artifact>> {
    let profile = read_profile(root)?;
    let solc_path = find_solc(root)?;
    let solc = Solc::new(&solc_path).map_err(|e| Error::Compile(format!("cannot use {}: {e}", solc_path.display())))?;
    // `0.8.37+commit.f401782d`, without the build platform (solcjs says Emscripten.clang, a native solc
    // Linux.g++): both produce the same bytecode, and the artifacts must not drift with the platform.
    let version = {
        let mut v = solc.version.clone();
        v.build =
            semver::BuildMetadata::new(v.build.as_str().split('.').take(2).collect::<Vec<_>>().join(".").as_str())
                .unwrap_or(semver::BuildMetadata::EMPTY);
        v.to_string()
    };
    let compiler =
        MultiCompiler::new(Some(SolcCompiler::Specific(solc)), None).map_err(|e| Error::Compile(e.to_string()))?;

    let remappings = profile
        .remappings
        .iter()
        .map(|r| r.parse::<Remapping>().map_err(|e| Error::Config(format!("remapping `{r}`: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    let src = root.join(&profile.src);
    let paths = ProjectPathsConfig::builder()
        .root(root)
        .sources(&src)
        .libs(profile.libs.iter().map(|l| root.join(l)))
        .remappings(remappings.clone())
        .build()
        .map_err(|e| Error::Compile(e.to_string()))?;

    let evm_version: EvmVersion = profile
        .evm_version
        .parse()
        .map_err(|e| Error::Config(format!("evm_version `{}`: {e}", profile.evm_version)))?;
    let bytecode_hash: BytecodeHash = profile
        .bytecode_hash
        .parse()
        .map_err(|e| Error::Config(format!("bytecode_hash `{}`: {e}", profile.bytecode_hash)))?;
    let mut settings = Settings::new(OutputSelection::default_output_selection());
    settings.evm_version = Some(evm_version);
    settings.optimizer =
        Optimizer { enabled: Some(profile.optimizer), runs: Some(profile.optimizer_runs), details: None };
    settings.metadata = Some(SettingsMetadata::new(bytecode_hash, profile.cbor_metadata));
    settings.remappings = remappings;
    let settings = MultiCompilerSettings {
        solc: SolcSettings { settings, cli_settings: Default::default() },
        vyper: Default::default(),
    };

    let project = Project::builder()
        .paths(paths)
        .settings(settings)
        .set_cached(false)
        .no_artifacts()
        .offline()
        .build(compiler)
        .map_err(|e| Error::Compile(e.to_string()))?;
    let files = sol_files(&src)?;
    let output = project.compile_files(files).map_err(|e| Error::Compile(e.to_string()))?;
    if output.has_compiler_errors() {
        return Err(Error::Compile(output.to_string()));
    }

    let info = CompilerInfo {
        version,
        evm_version: profile.evm_version.clone(),
        optimizer: profile.optimizer,
        optimizer_runs: profile.optimizer_runs,
        bytecode_hash: profile.bytecode_hash.clone(),
    };
    let mut found = BTreeMap::new();
    for (id, artifact) in output.into_artifacts() {
        if !DEPLOYABLE.contains(&id.name.as_str()) || !id.source.starts_with(&src) {
            continue;
        }
        let source = id.source.strip_prefix(root).unwrap_or(&id.source).to_string_lossy().into_owned();
        let bytecode = artifact.bytecode.as_ref().and_then(|b| b.object.as_bytes()).map(hex_0x);
        let deployed = artifact.deployed_bytecode.as_ref();
        let deployed_code = deployed.and_then(|d| d.bytecode.as_ref()).and_then(|b| b.object.as_bytes()).map(hex_0x);
        let immutables = deployed.map(|d| d.immutable_references.clone()).unwrap_or_default();
        let (Some(bytecode), Some(deployed_code), Some(abi)) = (bytecode, deployed_code, artifact.abi) else {
            return Err(Error::Compile(format!("{}: no bytecode or ABI in solc's output", id.name)));
        };
        let json = json!({
            "contractName": id.name,
            "sourceName": source,
            "compiler": info,
            "abi": abi,
            "bytecode": bytecode,
            "deployedBytecode": deployed_code,
            "immutableReferences": immutables,
        });
        found.insert(id.name.clone(), Artifact { name: id.name, json });
    }
    let missing: Vec<_> = DEPLOYABLE.iter().filter(|n| !found.contains_key(**n)).collect();
    if !missing.is_empty() {
        return Err(Error::Compile(format!("solc produced no artifact for {missing:?} under {}", src.display())));
    }
    Ok(found.into_values().collect())
}

fn hex_0x(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn sol_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sol") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The exact bytes written for an artifact (pretty JSON, trailing newline), so the drift check compares bytes.
pub fn render(artifact: &Artifact) -> String {
    let mut text = serde_json::to_string_pretty(&artifact.json).expect("JSON values always serialise");
    text.push('\n');
    text
}

/// Writes every artifact into `dir` (`<Name>.json`), replacing each file atomically, and removes the
/// `.json` files of contracts that are no longer built (their bindings would otherwise live on). Returns the
/// removed files.
pub fn write(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for artifact in artifacts {
        let path = dir.join(format!("{}.json", artifact.name));
        cairn_primitives::fs::write_atomic(&path, render(artifact).as_bytes()).map_err(|e| Error::io(&path, e))?;
    }
    let stale = stale_files(dir, artifacts)?;
    for path in &stale {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(stale)
}

/// The `.json` files in `dir` that belong to no artifact in `artifacts`, sorted.
fn stale_files(dir: &Path, artifacts: &[Artifact]) -> Result<Vec<PathBuf>> {
    let mut stale = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(stale),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { continue };
        if path.extension().is_some_and(|e| e == "json") && !artifacts.iter().any(|a| a.name == stem) {
            stale.push(path);
        }
    }
    stale.sort();
    Ok(stale)
}

/// Compares freshly compiled artifacts with the files in `dir`; [`Error::Drift`] names every file that differs,
/// is missing, or belongs to no deployable contract.
pub fn check(dir: &Path, artifacts: &[Artifact]) -> Result<()> {
    let mut drifted = Vec::new();
    for artifact in artifacts {
        let path = dir.join(format!("{}.json", artifact.name));
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == render(artifact) => {}
            Ok(_) => drifted.push(format!("{} (differs from the sources)", path.display())),
            Err(_) => drifted.push(format!("{} (missing)", path.display())),
        }
    }
    for path in stale_files(dir, artifacts)? {
        drifted.push(format!("{} (no contract in xtask's DEPLOYABLE builds it)", path.display()));
    }
    if drifted.is_empty() { Ok(()) } else { Err(Error::Drift(drifted)) }
}
