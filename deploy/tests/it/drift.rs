//! The drift check: the committed artifacts equal a fresh compile, and a changed source is caught.

use std::path::Path;

use cairn_deploy::{Error, artifacts};

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
fn committed_artifacts_match_and_a_changed_source_is_caught() {
    let root = cairn_testkit::repo_root();
    let committed = root.join(artifacts::ARTIFACTS_DIR);
    let built = artifacts::compile(&root).unwrap();
    artifacts::check(&committed, &built).expect("committed artifacts match the sources");

    // A scratch checkout whose DevToken gained a function.
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path();
    std::fs::copy(root.join("foundry.toml"), s.join("foundry.toml")).unwrap();
    copy_dir(&root.join("contracts/src"), &s.join("contracts/src"));
    copy_dir(&root.join("scripts"), &s.join("scripts"));
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
    let rebuilt = artifacts::compile(s).unwrap();
    let Err(Error::Drift(files)) = artifacts::check(&committed, &rebuilt) else { panic!("drift not detected") };
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].contains("DevToken.json (differs from the sources)"), "{files:?}");

    // A missing artifact is named too.
    let empty = tempfile::tempdir().unwrap();
    let Err(Error::Drift(files)) = artifacts::check(empty.path(), &built) else { panic!("missing not detected") };
    assert_eq!(files.len(), artifacts::DEPLOYABLE.len());
    assert!(files.iter().all(|f| f.ends_with("(missing)")));
}
