//! Keystores that the real `cast` reads and writes.

use std::process::Command;

use crate::{cairn_in, cast};

fn cast_out(args: &[&str]) -> String {
    let out = Command::new(cast()).args(args).output().unwrap();
    assert!(out.status.success(), "cast {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn cast_reads_what_cairn_writes_and_cairn_reads_what_cast_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pw"), "correct horse\n").unwrap();
    let keys = d.join("keys");
    let k = keys.to_str().unwrap();

    // cairn → cast
    let made = cairn_in(d, &["--json", "--password-file", "pw", "wallet", "new", "seller", "--dir", k], &[]).json();
    let address = made["address"].as_str().unwrap().to_owned();
    let file = keys.join("seller");
    let via_cast =
        cast_out(&["wallet", "address", "--keystore", file.to_str().unwrap(), "--password", "correct horse"]);
    assert_eq!(via_cast.to_lowercase(), address.to_lowercase());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Never overwritten.
    cairn_in(d, &["--password-file", "pw", "wallet", "new", "seller", "--dir", k], &[]).fails(1, &["exists"]);

    // cast → cairn: cast's own keystore, decrypted by cairn with the password file.
    let cast_dir = d.join("cast");
    std::fs::create_dir_all(&cast_dir).unwrap();
    let created = cast_out(&["wallet", "new", cast_dir.to_str().unwrap(), "--unsafe-password", "correct horse"]);
    let cast_file = std::fs::read_dir(&cast_dir).unwrap().next().unwrap().unwrap().path();
    let shown = cairn_in(
        d,
        &["--json", "--keystore", cast_file.to_str().unwrap(), "--password-file", "pw", "wallet", "address"],
        &[],
    )
    .json();
    let addr = shown["address"].as_str().unwrap().to_lowercase();
    assert!(created.to_lowercase().contains(&addr), "cast printed {created}, cairn decrypted {addr}");
    std::fs::write(d.join("wrong"), "nope\n").unwrap();
    cairn_in(d, &["--keystore", cast_file.to_str().unwrap(), "--password-file", "wrong", "wallet", "address"], &[])
        .fails(1, &["wrong password"]);

    // import: a known key gives its known address; list shows both files of the folder.
    let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    let imported = cairn_in(
        d,
        &["--json", "--password-file", "pw", "wallet", "import", "anvil0", "--dir", k, "--private-key-env", "K"],
        &[("K", key)],
    )
    .json();
    assert_eq!(imported["address"].as_str().unwrap().to_lowercase(), "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    let list = cairn_in(d, &["--json", "wallet", "list", "--dir", k], &[]).json();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["anvil0", "seller"]);
    cairn_in(
        d,
        &["--password-file", "pw", "wallet", "import", "x", "--dir", k, "--private-key-env", "K"],
        &[("K", "0x12")],
    )
    .fails(2, &["not a secp256k1 private key"]);
}
