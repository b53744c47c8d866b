//! The drift check: the committed artifacts equal a fresh compile, and a changed source is caught.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use xtask::{Error, artifacts};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ sits in the repository root").to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn committed_artifacts_match_and_missing_or_stale_files_are_named() {
    let root = repo_root();
    let committed = root.join(artifacts::ARTIFACTS_DIR);
    let built = artifacts::compile(&root).unwrap();
    artifacts::check(&committed, &built).expect("committed artifacts match the sources");
    let mut names: Vec<_> = built.iter().map(|a| a.name.as_str()).collect();
    let mut listed = artifacts::DEPLOYABLE.to_vec();
    names.sort();
    listed.sort();
    assert_eq!(names, listed, "one artifact per deployable contract");

    // A missing artifact is named.
    let empty = tempfile::tempdir().unwrap();
    let Err(Error::Drift(files)) = artifacts::check(empty.path(), &built) else { panic!("missing not detected") };
    assert_eq!(files.len(), artifacts::DEPLOYABLE.len());
    assert!(files.iter().all(|f| f.ends_with("(missing)")), "{files:?}");

    // A file whose contract is not in the list (its bindings would live on) is named, and `write` removes it.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&committed, dir.path());
    std::fs::write(dir.path().join("Retired.json"), "{}").unwrap();
    let Err(Error::Drift(files)) = artifacts::check(dir.path(), &built) else { panic!("stale file not detected") };
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].contains("Retired.json (no contract in xtask's DEPLOYABLE builds it)"), "{files:?}");
    let removed = artifacts::write(dir.path(), &built).unwrap();
    assert_eq!(removed, vec![dir.path().join("Retired.json")]);
    artifacts::check(dir.path(), &built).expect("after write, the folder holds exactly the artifacts");
}

#[test]
fn check_command_fails_naming_the_artifact_of_a_changed_source() {
    let root = repo_root();
    // A scratch checkout, with the committed artifacts, whose DevToken gained a function.
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path();
    std::fs::copy(root.join("foundry.toml"), s.join("foundry.toml")).unwrap();
    copy_dir(&root.join("contracts/src"), &s.join("contracts/src"));
    copy_dir(&root.join("scripts"), &s.join("scripts"));
    copy_dir(&root.join(artifacts::ARTIFACTS_DIR), &s.join(artifacts::ARTIFACTS_DIR));
    std::os::unix::fs::symlink(root.join("node_modules"), s.join("node_modules")).unwrap();
    let token = s.join("contracts/src/devnet/DevToken.sol");
    let source = std::fs::read_to_string(&token).unwrap();
    let changed = source.replacen(
        "    /// @inheritdoc ERC20",
        "    /// @notice Added after the artifacts were committed.\n    function drifted() external pure returns (uint256) {\n        return 1;\n    }\n\n    /// @inheritdoc ERC20",
        1,
    );
    assert_ne!(changed, source);
    std::fs::write(&token, changed).unwrap();

    // The command `make lint` runs (through the `cargo xtask` alias), on the scratch checkout.
    let out =
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["artifacts", "--check", "--root"]).arg(s).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "drift not detected: {stderr}");
    let named: Vec<_> = stderr.lines().filter(|l| l.contains(".json (")).collect();
    assert_eq!(named.len(), 1, "{stderr}");
    assert!(named[0].contains("DevToken.json (differs from the sources)"), "{stderr}");
    assert!(stderr.contains("run `cargo xtask artifacts`"), "{stderr}");
}
