//! Generates one `sol!` module per artifact in `artifacts/` and the `ARTIFACTS` table, so the list of
//! contracts lives in one place (xtask's `DEPLOYABLE`, which decides the files written there).

use std::{fmt::Write as _, path::Path};

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("artifacts");
    // A directory: cargo re-runs this script when any file in it is added, removed or changed.
    println!("cargo::rerun-if-changed=artifacts");

    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask artifacts`", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            assert!(
                stem.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && stem.chars().all(|c| c.is_ascii_alphanumeric()),
                "{}: expected `<ContractName>.json` (a Solidity contract name in UpperCamelCase), as \
                 `cargo xtask artifacts` writes; remove or rename the file",
                path.display()
            );
            stem
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "{}: no artifacts; run `cargo xtask artifacts`", dir.display());

    let mut out = String::new();
    for name in &names {
        let module = snake_case(name);
        writeln!(
            out,
            "/// `{name}`: the `sol!` expansion of `artifacts/{name}.json`.\n\
             pub mod {module} {{\n    alloy::sol!(#[sol(rpc, all_derives)] {name}, \"artifacts/{name}.json\");\n}}\n\
             pub use {module}::{name};\n"
        )
        .expect("writing to a String");
    }
    out.push_str("/// Every committed artifact, sorted by name.\npub const ARTIFACTS: &[ArtifactText] = &[\n");
    for name in &names {
        writeln!(
            out,
            "    ArtifactText {{ name: \"{name}\", json: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \
             \"/artifacts/{name}.json\")) }},"
        )
        .expect("writing to a String");
    }
    out.push_str("];\n");

    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("contracts.rs");
    std::fs::write(&target, out).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
}

/// `ReexecutionCommittee` → `reexecution_committee`, `ERC20Token` → `erc20_token`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}
